// Gold's baselines: the phases that fill the global state before the hours are scored (silver's
// metrics, pass 1's devices, series and moments, the robust baselines, the online detectors'
// flags, the batch plan of each series).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <tuple>
#include <unordered_map>

#include "iotad/detect/detector.h"
#include "iotad/detect/multivariate.h"
#include "iotad/detect/registry.h"
#include "iotad/pipeline/gold_internal.h"

namespace iotad::pipeline::gold_internal {
namespace {

/// How an online detector's explanation maps to the anomaly columns: the name of its statistic,
/// and which of center/scale and lo/hi are in the metric's unit (else those columns are NULL).
struct OnlineColumns {
  std::string_view statistic;  // statistic_name
  bool z;         // the statistic is a standard score: also the z column
  bool baseline;  // center and scale are a level and a spread in the metric's unit
  bool band;      // lo and hi are values in the metric's unit
};

OnlineColumns OnlineColumnsOf(std::string_view detector) {
  // The member of the ensemble (or the single detector) that drove the score.
  constexpr std::string_view kZType[] = {"running_zscore", "window_z", "mad", "ewma", "seasonal", "rate"};
  for (auto d : kZType) {
    if (detector == d) return {"z", true, true, true};
  }
  if (detector == "cusum") return {"cusum_sigma", false, true, true};
  if (detector == "volatility") return {"variance_ratio", false, true, true};
  if (detector == detect::MahalanobisDetector::kName) return {"mahalanobis_d2", false, true, true};
  if (detector == "novelty") return {"novelty_excess", false, false, true};
  if (detector == "range") return {"range_excess", false, false, true};
  // flatline: scale is the chance of a repeat and hi the longest usual run, not values.
  if (detector == "flatline") return {"run_length", false, false, false};
  if (detector == "silent") return {"gap_seconds", false, false, false};
  return {{}, false, false, false};  // unknown: no column is guessed
}

}  // namespace

uint32_t GoldState::FindDevice(std::string_view d) const {
  auto it = device_index.find(d);
  return it == device_index.end() ? kNoDevice : it->second;
}

uint32_t GoldState::DeviceIndex(std::string_view d) {
  auto it = device_index.find(std::string(d));
  if (it != device_index.end()) return it->second;
  const auto dev = static_cast<uint32_t>(device_names.size());
  device_names.emplace_back(d);
  device_index.emplace(device_names.back(), dev);
  device_series.emplace_back();
  return dev;
}

uint32_t GoldState::AddSeries(uint32_t dev, uint32_t m) {
  const uint64_t key = static_cast<uint64_t>(dev) * metrics.size() + m;
  auto [it, fresh] = series_index.try_emplace(key, static_cast<uint32_t>(series.size()));
  if (fresh) {
    series.push_back({dev, m});
    device_series[dev].push_back(it->second);
  }
  return it->second;
}

Status GoldRunner::DiscoverMetrics(const std::vector<std::string>& all_paths) {
  IOTAD_ASSIGN_OR_RETURN(state_.metrics, SilverMetrics(*contexts_[0].session, all_paths));
  return Status::Ok();
}

/// Each thread streams its fixed share of silver's hours (thread t: the t-th half, in hour order),
/// column batch by column batch; fn(t, chunk, layout, first metric of the batch) per chunk. The
/// baselines need device_id and the metrics only: event_time and location are not decoded.
Status GoldRunner::ScanHalves(const ChunkFn& fn) {
  const size_t per_thread = (state_.hours.size() + contexts_.size() - 1) / contexts_.size();
  const auto batches = ColumnBatches(state_.metrics.size());
  std::atomic<size_t> next_context{0};
  return OnThreads([&](ScoreContext& ctx) -> Status {
    const size_t t = next_context++;
    for (size_t i = t * per_thread; i < std::min(state_.hours.size(), (t + 1) * per_thread); ++i) {
      const std::vector<std::string> files = lake_.ReadPaths(state_.hours[i].second);
      for (const auto& [begin, end] : batches) {
        IOTAD_ASSIGN_OR_RETURN(auto stream, lake::ScanSilverFiles(*ctx.session, files,
                                                                  SilverColumnNames(state_.metrics, begin, end,
                                                                                    /*time_and_location=*/false)));
        lake::ChunkStream& result = *stream;
        IOTAD_ASSIGN_OR_RETURN(const SilverColumns layout, FindSilverColumns(result, files, state_.metrics, begin, end));
        if (layout.device < 0) return Error(Errc::kCorrupt, "gold: a silver file lacks device_id");
        while (true) {
          IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
          if (!chunk) break;
          IOTAD_TRY(fn(t, chunk, layout, begin));
        }
      }
    }
    return Status::Ok();
  });
}

/// Pass 1: finds the devices and the series (a device's metrics with at least one value) and
/// fits mean and sample std per series. Welford in a fixed order, not a parallel SQL aggregate
/// (whose sums depend on thread timing): each half of the hours in order on its own thread, the
/// two halves merged exactly (Chan et al.), first half first. Memory grows with the series
/// that have values, not with devices x metrics.
Status GoldRunner::FitMoments() {
  const size_t nm = state_.metrics.size();
  struct Partial {
    clean::StringDict devices;
    std::unordered_map<uint64_t, uint32_t> index;  // local device * metrics + metric -> slot
    std::vector<uint64_t> keys;
    std::vector<MomentStats> stats;
    int64_t rows = 0;
  };
  std::vector<Partial> partials(contexts_.size());
  IOTAD_TRY(ScanHalves([&](size_t t, const lake::DuckChunk& chunk, const SilverColumns& layout, size_t begin) -> Status {
    Partial& part = partials[t];
    const lake::DuckStrings devs = chunk.Strings(static_cast<size_t>(layout.device));
    if (begin == 0) part.rows += static_cast<int64_t>(chunk.size());
    std::vector<DeviceRun> runs;
    DeviceRuns(devs, chunk.size(), [&](size_t a, size_t b, std::string_view d) {
      runs.emplace_back(a, b, part.devices.Intern(d));
    });
    // A slot per series, numbered as the values come.
    return AddRunMoments(
        chunk, layout.metric, runs,
        [&](size_t i, size_t j, size_t) -> Result<uint32_t> {
          const uint64_t key = static_cast<uint64_t>(std::get<2>(runs[i])) * nm + begin + j;
          auto [it, fresh] = part.index.try_emplace(key, static_cast<uint32_t>(part.stats.size()));
          if (fresh) {
            part.keys.push_back(key);
            part.stats.emplace_back();
          }
          return it->second;
        },
        [&](uint32_t s) { return &part.stats[s]; });
  }));
  std::vector<MomentStats> merged;
  for (auto& part : partials) {
    state_.total_rows += part.rows;
    std::vector<uint32_t> global(part.devices.size());
    for (uint32_t id = 1; id < part.devices.size(); ++id) global[id] = state_.DeviceIndex(part.devices.Get(id));
    for (size_t slot = 0; slot < part.keys.size(); ++slot) {
      const auto dev = global[part.keys[slot] / nm];
      const auto m = static_cast<uint32_t>(part.keys[slot] % nm);
      const uint32_t id = state_.AddSeries(dev, m);
      if (merged.size() < state_.series.size()) merged.resize(state_.series.size());
      merged[id].Merge(part.stats[slot]);
    }
  }
  // A metric no device has a value of (a column of empty cells) keeps a summary row per device
  // and hour, as every metric did when silver had few: an hour of a device is never missing.
  std::vector<uint8_t> has_values(nm, 0);
  for (const GoldSeries& se : state_.series) has_values[se.metric] = 1;
  for (uint32_t m = 0; m < nm; ++m) {
    if (has_values[m]) continue;
    for (uint32_t dev = 0; dev < state_.device_names.size(); ++dev) state_.AddSeries(dev, m);
  }
  merged.resize(state_.series.size());
  for (auto& list : state_.device_series) std::sort(list.begin(), list.end(), [&](uint32_t a, uint32_t b) {
    return state_.series[a].metric < state_.series[b].metric;
  });
  state_.zbase.resize(state_.series.size());
  state_.rbase.resize(state_.series.size());
  for (size_t i = 0; i < merged.size(); ++i) {
    state_.zbase[i] = ZScoreBaseline{merged[i].n, merged[i].n > 0 ? merged[i].mean : 0.0, merged[i].SampleStd()};
  }
  return Status::Ok();
}

namespace {

/// DuckDB's median of `v` (reordered): the middle value, or for an even count the two middle
/// values interpolated as quantile_cont does (lo + (hi - lo) * 0.5), so the baselines are bit for
/// bit what `median()` gave.
double ExactMedian(std::span<double> v) {
  const size_t n = v.size();
  const double rn = static_cast<double>(n - 1) * 0.5;
  const auto lo_i = static_cast<size_t>(std::floor(rn));
  const auto hi_i = static_cast<size_t>(std::ceil(rn));
  if (hi_i == lo_i) return detect::SelectKth(v, lo_i);
  double hi;  // the next rank's value
  const double lo = detect::SelectKth(v, lo_i, &hi);
  return lo + (hi - lo) * (rn - static_cast<double>(lo_i));
}

/// A run of one series' values in a spill file: this header, then `count` doubles. A device's
/// rows come in runs (silver is in device order), so a value costs 8 bytes, not 16 with its
/// series beside it, and is read back into its place with the rest of its run.
struct SpillRun {
  uint32_t series;
  uint32_t count;
};
static_assert(sizeof(SpillRun) == sizeof(double));

}  // namespace

/// median and MAD per series, exact. A median needs every value of its series at once, so one
/// pass over silver (each thread half of the hours, in order) sends each value to its bucket's
/// spill file: the series in order, a bucket holding at most half of gold.max_baseline_points
/// values (two buckets are worked at once), so memory does not grow with silver. Then the threads
/// take the buckets in turn, read each back (thread 0's file, then thread 1's: a fixed order) and
/// select the median and the MAD of each of its series. Silver is read once, whatever its size.
Status GoldRunner::FitRobust() {
  const size_t ns = state_.series.size();
  if (ns == 0) return Status::Ok();
  const int64_t per_bucket = std::max<int64_t>(1, plan_.max_baseline_points / kThreads);
  std::vector<uint32_t> bucket_of(ns);
  std::vector<int64_t> offset(ns);  // the series' first slot in its bucket
  std::vector<int64_t> bucket_values;
  std::vector<uint32_t> bucket_first;  // a bucket's series are consecutive: its first
  for (size_t i = 0; i < ns; ++i) {
    const int64_t n = state_.zbase[i].n;
    if (bucket_values.empty() || (bucket_values.back() > 0 && bucket_values.back() + n > per_bucket)) {
      bucket_values.push_back(0);
      bucket_first.push_back(static_cast<uint32_t>(i));
    }
    bucket_of[i] = static_cast<uint32_t>(bucket_values.size() - 1);
    offset[i] = bucket_values.back();
    bucket_values.back() += n;
  }
  const size_t buckets = bucket_values.size();
  IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
  auto spill_path = [&](size_t thread, size_t bucket) {
    return scratch / fmt::format("gold-{}-t{}-robust-{}", run_id_, thread, bucket);
  };
  struct SpillFiles {
    std::vector<std::FILE*> files;
    ~SpillFiles() {
      for (std::FILE* f : files) {
        if (f != nullptr) std::fclose(f);
      }
    }
  };
  std::vector<SpillFiles> spills(contexts_.size());
  // Removed on every way out: they are scratch.
  struct Cleanup {
    std::function<void()> fn;
    ~Cleanup() { fn(); }
  } cleanup{[&] {
    spills.clear();
    std::error_code ec;
    for (size_t t = 0; t < contexts_.size(); ++t) {
      for (size_t b = 0; b < buckets; ++b) std::filesystem::remove(spill_path(t, b), ec);
    }
  }};
  // Per thread, per bucket: SpillRun headers and values, as 8-byte words.
  std::vector<std::vector<std::vector<double>>> pending(contexts_.size());
  for (size_t t = 0; t < contexts_.size(); ++t) {
    spills[t].files.assign(buckets, nullptr);
    pending[t].resize(buckets);
  }
  auto flush = [&](size_t t, size_t b) -> Status {
    SpillFiles& out = spills[t];
    auto& buf = pending[t][b];
    if (buf.empty()) return Status::Ok();
    if (out.files[b] == nullptr) {
      out.files[b] = std::fopen(spill_path(t, b).c_str(), "wb");
      if (out.files[b] == nullptr) {
        return Error(Errc::kIo, "gold: cannot write the scratch file {}", spill_path(t, b).string());
      }
    }
    if (std::fwrite(buf.data(), sizeof(double), buf.size(), out.files[b]) != buf.size()) {
      return Error(Errc::kIo, "gold: cannot write the scratch file {} (disk full?)", spill_path(t, b).string());
    }
    buf.clear();
    return Status::Ok();
  };
  std::vector<std::vector<std::tuple<size_t, size_t, uint32_t>>> runs(contexts_.size());
  IOTAD_TRY(ScanHalves([&](size_t t, const lake::DuckChunk& chunk, const SilverColumns& layout, size_t begin) -> Status {
    const lake::DuckStrings devs = chunk.Strings(static_cast<size_t>(layout.device));
    runs[t].clear();
    DeviceRuns(devs, chunk.size(), [&](size_t a, size_t b, std::string_view d) {
      runs[t].emplace_back(a, b, state_.FindDevice(d));
    });
    for (size_t j = 0; j < layout.metric.size(); ++j) {
      if (layout.metric[j] < 0) continue;
      const double* v = chunk.Data<double>(static_cast<size_t>(layout.metric[j]));
      const uint64_t* valid = chunk.Validity(static_cast<size_t>(layout.metric[j]));
      for (const auto& [a, b, dev] : runs[t]) {
        const uint32_t id = dev == kNoDevice ? kNoSeries : state_.SeriesOf(dev, begin + j);
        if (id == kNoSeries) continue;  // pass 1 saw every value: cannot happen
        const uint32_t bucket = bucket_of[id];
        auto& buf = pending[t][bucket];
        const size_t head = buf.size();
        buf.push_back(0.0);  // the run's SpillRun, once its count is known
        ValidRows(valid, a, b, [&](size_t r) { buf.push_back(v[r]); });
        const SpillRun run{id, static_cast<uint32_t>(buf.size() - head - 1)};
        if (run.count == 0) {
          buf.pop_back();
          continue;
        }
        std::memcpy(&buf[head], &run, sizeof run);
        if (buf.size() >= 16384) IOTAD_TRY(flush(t, bucket));
      }
    }
    return Status::Ok();
  }));
  for (size_t t = 0; t < contexts_.size(); ++t) {
    for (size_t b = 0; b < buckets; ++b) IOTAD_TRY(flush(t, b));
    for (std::FILE*& f : spills[t].files) {
      const bool failed = f != nullptr && std::fclose(f) != 0;
      f = nullptr;
      if (failed) return Error(Errc::kIo, "gold: cannot write a scratch file of the robust baselines (disk full?)");
    }
  }
  // Each bucket: its values by series, then each series' median and MAD.
  std::atomic<size_t> next_bucket{0};
  IOTAD_TRY(OnThreads([&](ScoreContext&) -> Status {
    // Not zeroed: every slot is read back from the spill before it is used (each series' runs
    // fill exactly its n slots, checked below).
    std::unique_ptr<double[]> values(new double[static_cast<size_t>(
        std::max<int64_t>(1, *std::max_element(bucket_values.begin(), bucket_values.end())))]);
    std::vector<char> stdio_buffer(size_t{1} << 20);
    for (size_t b = next_bucket++; b < buckets; b = next_bucket++) {
      const uint32_t first = bucket_first[b];
      const uint32_t last = b + 1 < buckets ? bucket_first[b + 1] : static_cast<uint32_t>(ns);
      std::vector<int64_t> at(offset.begin() + first, offset.begin() + last);  // per series: its next slot
      for (size_t t = 0; t < contexts_.size(); ++t) {
        std::FILE* f = std::fopen(spill_path(t, b).c_str(), "rb");
        if (f == nullptr) continue;  // this thread had no value of the bucket
        std::setvbuf(f, stdio_buffer.data(), _IOFBF, stdio_buffer.size());
        SpillRun run;
        bool too_many = false, short_read = false;
        while (std::fread(&run, sizeof run, 1, f) == 1) {
          // Each run goes straight to its series' next free slots.
          if (run.series < first || run.series >= last ||
              at[run.series - first] + run.count > offset[run.series] + state_.zbase[run.series].n) {
            too_many = true;
            break;
          }
          if (std::fread(values.get() + at[run.series - first], sizeof(double), run.count, f) != run.count) {
            short_read = true;
            break;
          }
          at[run.series - first] += run.count;
        }
        const bool failed = short_read || std::ferror(f) != 0;
        std::fclose(f);
        if (too_many) return Error(Errc::kInternal, "gold: a series has more values than pass 1 counted");
        if (failed) return Error(Errc::kIo, "gold: cannot read a scratch file of the robust baselines");
      }
      for (uint32_t id = first; id < last; ++id) {
        const int64_t n = state_.zbase[id].n;
        if (n == 0) continue;  // a column without values: no baseline
        if (at[id - first] != offset[id] + n) {
          return Error(Errc::kInternal, "gold: a series has fewer values than pass 1 counted");
        }
        std::span<double> v(values.get() + offset[id], static_cast<size_t>(n));
        RobustBaseline& rb = state_.rbase[id];
        rb.median = ExactMedian(v);
        for (double& x : v) x = std::fabs(x - rb.median);
        rb.mad = ExactMedian(v);
        rb.n = n;
      }
    }
    return Status::Ok();
  }));
  return Status::Ok();
}

/// Which series run which batch detectors, from the config's [[detect.rule]]s (pass 2 reads
/// it from both threads, so it is filled before).
/// With `params = {"zscore.threshold" = ...}` in a rule, also each series' batch thresholds.
Status GoldRunner::PlanBatchDetectors() {
  const size_t nd = plan_.detectors.size();
  state_.batch_use.assign(state_.series.size() * nd, 0);
  if (plan_.batch_params) state_.batch_settings.assign(state_.series.size() * nd, {});
  for (size_t i = 0; i < state_.series.size(); ++i) {
    if (state_.zbase[i].n == 0) continue;  // no value to score
    const auto settings = plan_.resolve(state_.device_names[state_.series[i].device], state_.metrics[state_.series[i].metric]);
    for (size_t k = 0; k < nd; ++k) {
      state_.batch_use[i * nd + k] =
          std::find(settings.detectors.begin(), settings.detectors.end(), plan_.detectors[k]) != settings.detectors.end();
      if (!plan_.batch_params || plan_.kinds[k] == DetectorKind::kOnline) continue;
      std::vector<std::pair<std::string, double>> params;
      const std::string prefix = plan_.detectors[k] + ".";
      for (const auto& [key, value] : settings.params) {
        if (key.starts_with(prefix)) params.emplace_back(key.substr(prefix.size()), value);
      }
      auto resolved = detect::ResolveBatchSettings(
          *detect::FindDetector(plan_.detectors[k]),
          plan_.kinds[k] == DetectorKind::kZScore ? plan_.zscore_threshold : plan_.robust_threshold, plan_.min_points,
          params);
      if (!resolved.ok()) return resolved.status().WithContext("config [[detect.rule]] params: ");
      state_.batch_settings[i * nd + k] = *resolved;
    }
  }
  return Status::Ok();
}

/// Replays every series through the online detectors, each device in time order (ReplaySilver's
/// buckets, the same path as `iotad eval --lake`): one thread reads silver, a lane per thread
/// scores its share of the devices; the flags are then filed under their hours bucket by bucket
/// and lane by lane, so the outcome does not depend on the threads' timing.
Status GoldRunner::ReplayOnline(const std::vector<std::string>& all_paths) {
  std::vector<std::string> names;  // the online detectors, in the order of plan_.detectors
  std::vector<uint32_t> index;     // their positions in plan_.detectors
  for (uint32_t k = 0; k < plan_.detectors.size(); ++k) {
    if (plan_.kinds[k] != DetectorKind::kOnline) continue;
    names.push_back(plan_.detectors[k]);
    index.push_back(k);
  }
  const SeriesPlanFn plan = PlanFromResolver(plan_.resolve, state_.metrics, names, plan_.all_named);
  // A bucket's devices are replayed side by side, their detectors' state held at once, and each
  // bucket is a read of silver: as few buckets as the memory budget allows. One thread reads,
  // the devices are dealt to a lane per thread that scores them.
  const int64_t buckets = ReplayBuckets(static_cast<int64_t>(state_.series.size()), ReplayBytesPerSeries(names),
                                        ReplayStateBudget(plan_.max_baseline_points));
  // The end of the data (silver is partitioned by event_time: its last hour holds it), with
  // which every series is ticked at its end: a device silent since is flagged.
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs end_us,
                         SilverEnd(*contexts_[0].session, state_.hours.empty() ? std::vector<std::string>{}
                                                                         : lake_.ReadPaths(state_.hours.back().second)));
  struct Flag {
    uint32_t device;
    uint32_t metric, detector;
    TimestampUs ts;
    double value;
    detect::Score score;
    int version;
    std::string location;
  };
  // The buckets are ranges of the sorted device names: silver's files are in device order, so a
  // bucket decodes only the row groups that hold its devices (hash buckets each read all of silver).
  std::vector<lake::ScanRange> ranges;
  if (buckets > 1) {
    std::vector<std::string_view> names_sorted(state_.device_names.begin(), state_.device_names.end());
    std::sort(names_sorted.begin(), names_sorted.end());
    const size_t nd = names_sorted.size();
    for (int64_t b = 0; b < buckets; ++b) {
      const size_t first = nd * static_cast<size_t>(b) / static_cast<size_t>(buckets);
      const size_t last = nd * static_cast<size_t>(b + 1) / static_cast<size_t>(buckets);
      if (first == last) continue;
      ranges.push_back({"device_id", std::string(names_sorted[first]), std::string(names_sorted[last - 1])});
    }
  }
  for (int64_t b = 0; b < std::max<int64_t>(1, static_cast<int64_t>(ranges.size())); ++b) {
    std::vector<std::vector<Flag>> got(kThreads);  // per lane
    std::vector<Status> unknown(kThreads);
    std::vector<ReplayLane> lanes;
    for (size_t l = 0; l < got.size(); ++l) {
      lanes.push_back(ReplayLane{[this, &out = got[l], &bad = unknown[l]](const ReplayPoint& p) {
        const uint32_t device = state_.FindDevice(p.device_id);  // pass 1 saw every device
        if (device == kNoDevice) {
          if (bad.ok()) bad = Error(Errc::kCorrupt, "gold: device '{}' appeared in silver while gold was running", p.device_id);
          return;
        }
        out.push_back({device, p.metric, p.detector, p.ts, p.value, p.score, p.version, std::string(p.location)});
      }, {}});
    }
    IOTAD_TRY(ReplaySilverBucket(*contexts_[0].session, all_paths, state_.metrics, names, plan, lanes, b, buckets, end_us,
                                 ranges.empty() ? nullptr : &ranges[static_cast<size_t>(b)])
                  .status());
    for (const Status& st : unknown) IOTAD_TRY(st);
    for (const auto& flags : got) {  // lane by lane: the outcome does not depend on the threads' timing
      for (const Flag& f : flags) {
        AddOnline(f.device, f.metric, index[f.detector], f.ts, f.value, f.score, f.version, f.location);
      }
    }
  }
  return Status::Ok();
}

void GoldRunner::AddOnline(uint32_t dev, uint32_t metric, uint32_t k, TimestampUs ts, double x, const detect::Score& s,
               int /*version*/, std::string_view location) {
  const detect::Explanation& w = s.why;
  const OnlineColumns cols = OnlineColumnsOf(w.detector);
  AnomalyRow a;
  a.ts = s.at_us;
  a.device = dev;
  a.metric = metric;
  a.value = x;
  a.n = w.n;
  a.detector = k;
  a.explanation = fmt::format("{} {}", state_.metrics[metric], detect::Describe(s, x));
  a.version = plan_.versions[k];  // the registry's (the detector's own, unless a test overrides it)
  a.score = s.score;
  a.rule = w.rule;
  // Each column keeps its one meaning and unit: what an explanation field means depends on the
  // detector, so only the fields that fit a column go there.
  if (cols.baseline) {
    a.mean = w.center;
    a.std = w.scale;
  }
  if (cols.z) a.z = w.stat;
  a.expected = w.expected;
  if (cols.band) {
    a.expected_lo = w.lo;
    a.expected_hi = w.hi;
  }
  if (!cols.statistic.empty()) {
    a.statistic = w.stat;
    a.statistic_name = cols.statistic;
  }
  if (w.detector == "silent") {
    a.gap_seconds = w.stat;
    a.timeout_seconds = w.scale;
  }
  // A silence is filed under the hour it began, if silver has that hour; else under the hour of
  // the point that ended it.
  TimestampUs hour = HourStart(s.at_us);
  if (!std::binary_search(state_.hour_starts.begin(), state_.hour_starts.end(), hour)) hour = HourStart(ts);
  state_.online[hour].push_back({std::move(a), std::string(location)});
}

}  // namespace iotad::pipeline::gold_internal
