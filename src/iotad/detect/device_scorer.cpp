#include "iotad/detect/device_scorer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "iotad/core/hash.h"

namespace iotad::detect {
namespace {

constexpr char kMagic[8] = {'i', 'o', 't', 'a', 'd', 'D', 'S', 'C'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint8_t kNoMahalanobis = 0, kMahalanobisNone = 1, kMahalanobisState = 2;

template <typename T>
void Put(std::string& out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void PutString(std::string& out, std::string_view s) {
  Put(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}
/// A length-prefixed block: the length is filled in once `fill` has appended the block.
template <typename Fill>
void PutBlock(std::string& out, Fill&& fill) {
  const size_t at = out.size();
  Put(out, uint32_t{0});
  fill(out);
  const auto len = static_cast<uint32_t>(out.size() - at - sizeof(uint32_t));
  std::memcpy(out.data() + at, &len, sizeof len);
}

/// Reads a checkpoint front to back; any read past the end makes ok() false.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in), size_(in.size()) {}
  template <typename T>
  T Get() {
    T v{};
    if (in_.size() < sizeof v) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  std::string_view Bytes(size_t n) {
    if (in_.size() < n) {
      ok_ = false;
      return {};
    }
    const std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  std::string_view String() { return Bytes(Get<uint32_t>()); }
  std::string_view Block() { return Bytes(Get<uint32_t>()); }
  bool ok() const { return ok_; }
  bool empty() const { return in_.empty(); }
  size_t offset() const { return size_ - in_.size(); }

 private:
  std::string_view in_;
  size_t size_;
  bool ok_ = true;
};

Status Truncated(const Reader& r) {
  return Error(Errc::kCorrupt, "checkpoint: the device scorer checkpoint ends early (at byte {})", r.offset());
}

uint64_t Checksum(std::string_view body) { return HashBytes(body, 0xC0FFEE).lo; }

}  // namespace

Result<DeviceScorer> DeviceScorer::Make(std::vector<std::string> metrics, std::vector<std::string> detector_names,
                                        SeriesPlanFn plan) {
  std::vector<int> versions;
  for (const auto& name : detector_names) {
    if (name == MahalanobisDetector::kName) {
      versions.push_back(MahalanobisDetector::kVersion);
      continue;
    }
    auto made = MakeSeriesDetector(name, DetectorOptions{});
    if (!made.ok()) {
      return Error(Errc::kInvalidArgument, "unknown detector '{}' (known: {}, {})", name,
                   fmt::join(SeriesDetectorNames(), ", "), MahalanobisDetector::kName);
    }
    versions.push_back((*made)->version());
  }
  return DeviceScorer(std::move(metrics), std::move(detector_names), std::move(versions), std::move(plan));
}

DeviceScorer::DeviceScorer(std::vector<std::string> metrics, std::vector<std::string> names, std::vector<int> versions,
                           SeriesPlanFn plan)
    : metrics_(std::move(metrics)), names_(std::move(names)), versions_(std::move(versions)), plan_(std::move(plan)) {
  for (uint32_t k = 0; k < names_.size(); ++k) {
    if (names_[k] == MahalanobisDetector::kName && metrics_.size() >= 2 && !mahalanobis_index_) {
      mahalanobis_index_ = k;
      mahalanobis_metrics_ = static_cast<int>(std::min<size_t>(metrics_.size(), MahalanobisDetector::kMaxMetrics));
    }
  }
}

DeviceScorer::~DeviceScorer() = default;

// By hand: the cached device must leave with the devices (a moved-from scorer is empty).
DeviceScorer::DeviceScorer(DeviceScorer&& other) noexcept
    : metrics_(std::move(other.metrics_)),
      names_(std::move(other.names_)),
      versions_(std::move(other.versions_)),
      mahalanobis_index_(other.mahalanobis_index_),
      mahalanobis_metrics_(other.mahalanobis_metrics_),
      plan_(std::move(other.plan_)),
      devices_(std::move(other.devices_)),
      last_(std::exchange(other.last_, nullptr)) {}

DeviceScorer& DeviceScorer::operator=(DeviceScorer&& other) noexcept {
  if (this == &other) return *this;
  metrics_ = std::move(other.metrics_);
  names_ = std::move(other.names_);
  versions_ = std::move(other.versions_);
  mahalanobis_index_ = other.mahalanobis_index_;
  mahalanobis_metrics_ = other.mahalanobis_metrics_;
  plan_ = std::move(other.plan_);
  devices_ = std::move(other.devices_);
  last_ = std::exchange(other.last_, nullptr);
  return *this;
}

DeviceScorer::Device& DeviceScorer::DeviceFor(std::string_view device_id) {
  if (last_ != nullptr && last_->first == device_id) return last_->second;
  auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    it = devices_.emplace(std::string(device_id), Device{}).first;
    it->second.series.resize(metrics_.size());
  }
  last_ = &*it;
  return it->second;
}

Result<DeviceScorer::Series*> DeviceScorer::SeriesFor(std::string_view device_id, Device& device, size_t metric) {
  Series& s = device.series[metric];
  if (s.made) return &s;
  s.made = true;
  const SeriesPlan p = plan_(device_id, metric);
  for (uint32_t k : p.detectors) {
    if (mahalanobis_index_ && k == *mahalanobis_index_) continue;
    if (k >= names_.size()) {
      return Error(Errc::kInternal, "device scorer: the plan names detector {} of {}", k, names_.size());
    }
    if (names_[k] == MahalanobisDetector::kName) continue;  // fewer than two metrics: nothing to do
    DetectorOptions options = p.options;
    const std::string prefix = names_[k] + ".";
    for (const auto& [key, value] : p.params) {
      if (key.starts_with(prefix)) options.params.emplace_back(key.substr(prefix.size()), value);
    }
    IOTAD_ASSIGN_OR_RETURN(auto det, MakeSeriesDetector(names_[k], options));
    s.detectors.emplace_back(k, std::move(det));
  }
  return &s;
}

Status DeviceScorer::PlanMahalanobis(std::string_view device_id, Device& device) {
  device.mahalanobis_planned = true;
  for (size_t m = 0; m < metrics_.size(); ++m) {
    const SeriesPlan p = plan_(device_id, m);
    if (std::find(p.detectors.begin(), p.detectors.end(), *mahalanobis_index_) == p.detectors.end()) continue;
    IOTAD_ASSIGN_OR_RETURN(auto made, MahalanobisDetector::Make(mahalanobis_metrics_, p.options));
    device.mahalanobis.emplace(std::move(made));
    break;
  }
  return Status::Ok();
}

Status DeviceScorer::Feed(std::string_view device_id, int64_t ts_us, std::span<const double> values,
                          const DeviceFlagFn& on_flag, size_t first_metric) {
  Device& dev = DeviceFor(device_id);
  const std::string_view id = last_->first;
  const size_t width = first_metric < metrics_.size() ? std::min(values.size(), metrics_.size() - first_metric) : 0;
  for (size_t j = 0; j < width; ++j) {
    const double x = values[j];
    if (std::isnan(x)) continue;
    const size_t m = first_metric + j;
    Series* s = &dev.series[m];
    if (!s->made) {
      IOTAD_ASSIGN_OR_RETURN(s, SeriesFor(id, dev, m));
    }
    for (auto& [k, det] : s->detectors) {
      const Score score = det->Update(ts_us, x);
      if (!score.flag) continue;
      on_flag(DeviceFlag{id, static_cast<uint32_t>(m), k, ts_us, x, score, det->version()});
    }
  }
  if (first_metric != 0 || !mahalanobis_index_) return Status::Ok();
  if (!dev.mahalanobis_planned) IOTAD_TRY(PlanMahalanobis(id, dev));
  if (!dev.mahalanobis) return Status::Ok();
  const Score score =
      dev.mahalanobis->Update(ts_us, values.first(std::min<size_t>(values.size(), mahalanobis_metrics_)));
  if (score.flag) {
    const auto m = static_cast<uint32_t>(dev.mahalanobis->top_metric());
    on_flag(DeviceFlag{id, m, *mahalanobis_index_, ts_us, values[m], score, MahalanobisDetector::kVersion});
  }
  return Status::Ok();
}

void DeviceScorer::TickOne(std::string_view device_id, Device& device, int64_t now_us, const DeviceFlagFn& on_flag) {
  for (size_t m = 0; m < device.series.size(); ++m) {
    for (auto& [k, det] : device.series[m].detectors) {
      const Score score = det->Tick(now_us);
      if (!score.flag) continue;
      on_flag(DeviceFlag{device_id, static_cast<uint32_t>(m), k, now_us, NAN, score, det->version()});
    }
  }
}

void DeviceScorer::Tick(int64_t now_us, const DeviceFlagFn& on_flag) {
  for (auto& [id, device] : devices_) TickOne(id, device, now_us, on_flag);
}

void DeviceScorer::TickDevice(std::string_view device_id, int64_t now_us, const DeviceFlagFn& on_flag) {
  auto it = devices_.find(device_id);
  if (it != devices_.end()) TickOne(it->first, it->second, now_us, on_flag);
}

void DeviceScorer::Forget(std::string_view device_id) {
  auto it = devices_.find(device_id);
  if (it == devices_.end()) return;
  if (last_ == &*it) last_ = nullptr;
  devices_.erase(it);
}

std::string DeviceScorer::Save() const {
  std::string out(kMagic, sizeof kMagic);
  Put(out, kFormatVersion);
  Put(out, static_cast<uint32_t>(metrics_.size()));
  for (const auto& m : metrics_) PutString(out, m);
  Put(out, static_cast<uint32_t>(names_.size()));
  for (size_t k = 0; k < names_.size(); ++k) {
    PutString(out, names_[k]);
    Put(out, static_cast<int32_t>(versions_[k]));
  }
  Put(out, static_cast<uint64_t>(devices_.size()));
  for (const auto& entry : devices_) {
    // Named references, not structured bindings: clang 14 (the fuzz build) cannot capture those.
    const auto& id = entry.first;
    const auto& device = entry.second;
    PutString(out, id);
    const uint8_t mahalanobis = !device.mahalanobis_planned ? kNoMahalanobis
                                : device.mahalanobis        ? kMahalanobisState
                                                            : kMahalanobisNone;
    Put(out, mahalanobis);
    if (device.mahalanobis) PutBlock(out, [&](std::string& o) { device.mahalanobis->SaveState(o); });
    uint32_t made = 0;
    for (const Series& s : device.series) made += s.made ? 1 : 0;
    Put(out, made);
    for (size_t m = 0; m < device.series.size(); ++m) {
      const Series& s = device.series[m];
      if (!s.made) continue;
      Put(out, static_cast<uint32_t>(m));
      Put(out, static_cast<uint32_t>(s.detectors.size()));
      for (const auto& member : s.detectors) {
        Put(out, member.first);
        const auto& det = member.second;
        PutBlock(out, [&](std::string& o) { det->SaveState(o); });
      }
    }
  }
  Put(out, Checksum(out));
  return out;
}

Status DeviceScorer::Restore(std::string_view checkpoint) {
  constexpr size_t kHeader = sizeof kMagic + sizeof(uint32_t);
  if (checkpoint.size() < kHeader + sizeof(uint64_t) ||
      std::memcmp(checkpoint.data(), kMagic, sizeof kMagic) != 0) {
    return Error(Errc::kCorrupt, "checkpoint: not a device scorer checkpoint (no '{}' header)",
                 std::string_view(kMagic, sizeof kMagic));
  }
  uint32_t format = 0;
  std::memcpy(&format, checkpoint.data() + sizeof kMagic, sizeof format);
  if (format != kFormatVersion) {
    return Error(Errc::kConflict, "checkpoint: format version {} is not the one this build reads ({})", format,
                 kFormatVersion);
  }
  const std::string_view body = checkpoint.substr(0, checkpoint.size() - sizeof(uint64_t));
  uint64_t sum = 0;
  std::memcpy(&sum, checkpoint.data() + body.size(), sizeof sum);
  if (sum != Checksum(body)) {
    return Error(Errc::kCorrupt, "checkpoint: the checksum does not match: the checkpoint is damaged");
  }
  Reader r(body.substr(kHeader));
  const auto metric_count = r.Get<uint32_t>();
  std::vector<std::string_view> metrics;
  for (uint32_t i = 0; i < metric_count && r.ok(); ++i) metrics.push_back(r.String());
  if (!r.ok()) return Truncated(r);
  if (!std::equal(metrics.begin(), metrics.end(), metrics_.begin(), metrics_.end())) {
    return Error(Errc::kConflict, "checkpoint: it was saved over the metrics [{}], this scorer has [{}]",
                 fmt::join(metrics, ", "), fmt::join(metrics_, ", "));
  }
  const auto name_count = r.Get<uint32_t>();
  std::vector<std::pair<std::string_view, int>> detectors;
  for (uint32_t i = 0; i < name_count && r.ok(); ++i) {
    const std::string_view name = r.String();
    detectors.emplace_back(name, r.Get<int32_t>());
  }
  if (!r.ok()) return Truncated(r);
  for (size_t k = 0; k < std::max(detectors.size(), names_.size()); ++k) {
    if (k >= detectors.size() || k >= names_.size() || detectors[k].first != names_[k]) {
      std::vector<std::string_view> saved;
      for (const auto& d : detectors) saved.push_back(d.first);
      return Error(Errc::kConflict, "checkpoint: it was saved by the detectors [{}], this scorer runs [{}]",
                   fmt::join(saved, ", "), fmt::join(names_, ", "));
    }
    if (detectors[k].second != versions_[k]) {
      return Error(Errc::kConflict,
                   "checkpoint: detector {} was version {} when saved and is version {} in this build, so its "
                   "state cannot be resumed",
                   names_[k], detectors[k].second, versions_[k]);
    }
  }
  DeviceMap devices;
  IOTAD_TRY(RestoreDevices(r.Bytes(body.size() - kHeader - r.offset()), devices));
  devices_ = std::move(devices);
  last_ = nullptr;
  return Status::Ok();
}

Status DeviceScorer::RestoreDevices(std::string_view in, DeviceMap& out) {
  Reader r(in);
  const auto device_count = r.Get<uint64_t>();
  for (uint64_t i = 0; i < device_count; ++i) {
    const std::string_view id = r.String();
    if (!r.ok()) return Truncated(r);
    auto [it, fresh] = out.emplace(std::string(id), Device{});
    if (!fresh) return Error(Errc::kCorrupt, "checkpoint: device '{}' appears twice", id);
    Device& device = it->second;
    device.series.resize(metrics_.size());
    const auto mahalanobis = r.Get<uint8_t>();
    if (mahalanobis != kNoMahalanobis) {
      if (!mahalanobis_index_) return Error(Errc::kCorrupt, "checkpoint: device '{}' has a mahalanobis state", id);
      IOTAD_TRY(PlanMahalanobis(id, device));
      if (device.mahalanobis.has_value() != (mahalanobis == kMahalanobisState)) {
        return Error(Errc::kConflict, "checkpoint: device '{}' {} mahalanobis when saved, and the plan now says "
                     "otherwise", id, mahalanobis == kMahalanobisState ? "ran" : "did not run");
      }
      if (device.mahalanobis) {
        std::string_view state = r.Block();
        if (!r.ok()) return Truncated(r);
        IOTAD_TRY(device.mahalanobis->RestoreState(state));
        if (!state.empty()) {
          return Error(Errc::kCorrupt, "checkpoint: the mahalanobis state of device '{}' has {} bytes too many", id,
                       state.size());
        }
      }
    }
    const auto series_count = r.Get<uint32_t>();
    for (uint32_t s = 0; s < series_count && r.ok(); ++s) {
      const auto m = r.Get<uint32_t>();
      const auto n = r.Get<uint32_t>();
      if (!r.ok()) break;
      if (m >= metrics_.size() || device.series[m].made) {
        return Error(Errc::kCorrupt, "checkpoint: device '{}' has a bad or repeated series (metric {})", id, m);
      }
      IOTAD_ASSIGN_OR_RETURN(Series * series, SeriesFor(id, device, m));
      std::vector<uint32_t> saved;
      std::vector<std::string_view> states;
      for (uint32_t d = 0; d < n && r.ok(); ++d) {
        saved.push_back(r.Get<uint32_t>());
        states.push_back(r.Block());
      }
      if (!r.ok()) break;
      std::vector<uint32_t> planned;
      for (const auto& [k, det] : series->detectors) planned.push_back(k);
      if (saved != planned) {
        auto names = [&](const std::vector<uint32_t>& ks) {
          std::vector<std::string_view> out_names;
          for (uint32_t k : ks) out_names.push_back(k < names_.size() ? std::string_view(names_[k]) : "?");
          return fmt::format("{}", fmt::join(out_names, ", "));
        };
        return Error(Errc::kConflict, "checkpoint: series {}/{} ran [{}] when saved and its plan now runs [{}]", id,
                     metrics_[m], names(saved), names(planned));
      }
      for (size_t d = 0; d < states.size(); ++d) {
        auto& det = series->detectors[d].second;
        IOTAD_TRY(det->RestoreState(states[d]));
        if (!states[d].empty()) {
          return Error(Errc::kCorrupt, "checkpoint: the state of detector {} on {}/{} has {} bytes too many",
                       det->name(), id, metrics_[m], states[d].size());
        }
      }
    }
    if (!r.ok()) return Truncated(r);
  }
  if (!r.ok()) return Truncated(r);
  if (!r.empty()) return Error(Errc::kCorrupt, "checkpoint: {} bytes follow the last device", in.size() - r.offset());
  return Status::Ok();
}

}  // namespace iotad::detect
