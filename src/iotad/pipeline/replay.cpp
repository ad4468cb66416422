#include "iotad/pipeline/replay.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>

#include "iotad/detect/device_scorer.h"
#include "iotad/detect/multivariate.h"
#include "iotad/detect/registry.h"
#include "iotad/lake/snapshot.h"

namespace iotad::pipeline {
namespace {

constexpr std::string_view kHourColumns[] = {"year", "month", "day", "hour"};

}  // namespace

Result<std::map<TimestampUs, std::vector<std::string>>> ListSilverHours(lake::Lake& lake) {
  // The files the lake's snapshot says are live, not a listing of silver/.
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  std::map<TimestampUs, std::vector<std::string>> hours;
  for (auto& key : snapshot->Keys(lake::kSilverPrefix, ".parquet")) {
    if (auto h = lake::HourFromKey(key)) hours[*h].push_back(std::move(key));
  }
  return hours;
}

Result<std::vector<std::string>> SilverMetrics(lake::DuckSession& session,
                                               const std::vector<std::string>& silver_paths) {
  IOTAD_ASSIGN_OR_RETURN(
      auto result,
      session.Query(fmt::format("DESCRIBE SELECT * FROM read_parquet({}, union_by_name = true)",
                                lake::SqlList(silver_paths))));
  std::vector<std::string> metrics;
  while (true) {
    IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
    if (!chunk) break;
    const lake::DuckStrings names = chunk.Strings(0);
    const lake::DuckStrings types = chunk.Strings(1);
    for (size_t r = 0; r < chunk.size(); ++r) {
      const std::string_view name = names[r];
      if (types[r] != "DOUBLE") continue;
      if (std::find(std::begin(kHourColumns), std::end(kHourColumns), name) !=
          std::end(kHourColumns))
        continue;
      metrics.emplace_back(name);
    }
  }
  return metrics;
}

std::string SilverProjection(const std::vector<std::string>& metrics, size_t begin, size_t end) {
  std::vector<std::string> names{"event_time", "device_id", "location"};
  for (size_t m = begin; m < std::min(end, metrics.size()); ++m) names.push_back(metrics[m]);
  std::string list = lake::SqlList(names);
  return fmt::format("COLUMNS(c -> list_contains({}, c))", list);
}

SilverColumns FindSilverColumns(lake::DuckResult& result, const std::vector<std::string>& metrics,
                                size_t begin, size_t end) {
  end = std::min(end, metrics.size());
  begin = std::min(begin, end);
  SilverColumns l;
  l.metric.assign(end - begin, -1);
  std::unordered_map<std::string_view, size_t> index;
  for (size_t m = begin; m < end; ++m) index.emplace(metrics[m], m - begin);
  for (size_t c = 0; c < result.ColumnCount(); ++c) {
    const std::string name = result.ColumnName(c);
    if (name == "event_time")
      l.ts = static_cast<int>(c);
    else if (name == "device_id")
      l.device = static_cast<int>(c);
    else if (name == "location")
      l.location = static_cast<int>(c);
    if (auto it = index.find(name); it != index.end()) l.metric[it->second] = static_cast<int>(c);
  }
  return l;
}

Result<int> ReplayDetectorVersion(std::string_view name) {
  // The registry: online and per-device detectors replay; a batch one is refused with a sentence.
  IOTAD_ASSIGN_OR_RETURN(const detect::DetectorSpec* d, detect::LookupDetector(name));
  if (d->kind == detect::DetectorKind::kBatch) return detect::LookupOnlineDetector(name).status();
  return detect::DetectorVersion(*d);
}

SeriesPlanFn PlanFromConfig(const config::LakeConfig& config, std::vector<std::string> metrics,
                            std::vector<std::string> names, bool all_named, double fa_override) {
  return PlanFromResolver(
      [&config](std::string_view device, std::string_view metric) { return config::ResolveSeries(config, device, metric); },
      std::move(metrics), std::move(names), all_named, fa_override);
}

SeriesPlanFn PlanFromResolver(std::function<config::SeriesSettings(std::string_view, std::string_view)> resolve,
                              std::vector<std::string> metrics, std::vector<std::string> names, bool all_named,
                              double fa_override) {
  return [resolve = std::move(resolve), metrics = std::move(metrics), names = std::move(names), all_named,
          fa_override](std::string_view device, size_t metric) {
    const config::SeriesSettings s = resolve(device, metrics[metric]);
    SeriesPlan plan;
    for (uint32_t k = 0; k < names.size(); ++k) {
      if (all_named ||
          std::find(s.detectors.begin(), s.detectors.end(), names[k]) != s.detectors.end()) {
        plan.detectors.push_back(k);
      }
    }
    plan.options.false_alarms_per_day = fa_override > 0.0 ? fa_override : s.false_alarms_per_day;
    plan.options.min_value = s.min;
    plan.options.max_value = s.max;
    plan.options.silence_us = s.silence_us;
    plan.params = s.params;
    return plan;
  };
}

Result<int64_t> ReplayBucketCount(lake::DuckSession& session,
                                  const std::vector<std::string>& silver_paths, size_t metrics,
                                  int64_t max_points_per_pass) {
  if (silver_paths.empty() || max_points_per_pass <= 0) return int64_t{1};
  IOTAD_ASSIGN_OR_RETURN(
      const int64_t rows,
      session.QueryInt(fmt::format("SELECT count(*) FROM read_parquet({}, union_by_name = true)",
                                   lake::SqlList(silver_paths))));
  // One column batch is sorted at a time.
  const int64_t width = static_cast<int64_t>(std::clamp<size_t>(metrics, 1, kSilverColumnBatch));
  const int64_t points = rows * width;
  return std::max<int64_t>(1, (points + max_points_per_pass - 1) / max_points_per_pass);
}

Result<TimestampUs> SilverEnd(lake::DuckSession& session, const std::vector<std::string>& silver_paths) {
  if (silver_paths.empty()) return TimestampUs{0};
  return session.QueryInt(
      fmt::format("SELECT epoch_us(max(event_time)) FROM read_parquet({}, union_by_name = true)",
                  lake::SqlList(silver_paths)));
}

Result<ReplayStats> ReplaySilverBucket(lake::DuckSession& session,
                                       const std::vector<std::string>& silver_paths,
                                       const std::vector<std::string>& metrics,
                                       const std::vector<std::string>& detector_names,
                                       const SeriesPlanFn& plan, const ReplayFlagFn& on_flag,
                                       const ReplayDeviceFn& on_device, int64_t bucket,
                                       int64_t buckets, TimestampUs end_us) {
  ReplayStats stats;
  if (silver_paths.empty()) return stats;
  if (end_us == kSilverEndUnknown) {
    IOTAD_ASSIGN_OR_RETURN(end_us, SilverEnd(session, silver_paths));
  }
  const size_t nm = metrics.size();
  const std::string silver =
      fmt::format("read_parquet({}, union_by_name = true)", lake::SqlList(silver_paths));
  const std::string where =
      buckets > 1 ? fmt::format(" WHERE hash(device_id) % {} = {}", buckets, bucket) : "";
  // One device at a time: its readings are fed, its series ticked with the end of the data, then
  // its state dropped, so memory holds one device whatever the fleet.
  IOTAD_ASSIGN_OR_RETURN(auto scorer, detect::DeviceScorer::Make(metrics, detector_names, plan));
  std::string_view location;      // the current row's
  std::string device;             // the device being fed
  std::string device_location;    // its last row's location, once that row's chunk is gone
  const detect::DeviceFlagFn flag = [&](const detect::DeviceFlag& f) {
    ++stats.flags;
    on_flag(ReplayPoint{f.device_id, location, f.metric, f.detector, f.ts_us, f.value, f.score,
                        f.version});
  };
  auto end_device = [&](std::string_view last_location) {
    location = last_location;
    scorer.TickDevice(device, end_us, flag);
    scorer.Forget(device);
  };
  std::vector<double> row;
  std::vector<const double*> vals;
  std::vector<const uint64_t*> valid;
  // Each series lies in one column batch, so its points reach its detectors in the same order
  // whatever the batching; rows, devices and the time range are counted on the first batch.
  for (size_t begin = 0; begin == 0 || begin < nm; begin += kSilverColumnBatch) {
    const size_t end = std::min(nm, begin + kSilverColumnBatch);
    const size_t width = end - begin;
    const bool first_batch = begin == 0;
    row.assign(width, NAN);
    vals.assign(width, nullptr);
    valid.assign(width, nullptr);
    IOTAD_ASSIGN_OR_RETURN(auto result,
                           session.Stream(fmt::format(
                               "SELECT {} FROM {}{} ORDER BY device_id, event_time",
                               SilverProjection(metrics, begin, end), silver, where)));
    const SilverColumns layout = FindSilverColumns(result, metrics, begin, end);
    if (layout.ts < 0 || layout.device < 0) {
      return Error(Errc::kCorrupt, "replay: silver lacks the event_time or device_id column");
    }
    bool any_device = false;
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
      if (!chunk) break;
      const size_t n = chunk.size();
      const auto* ts = chunk.Data<int64_t>(static_cast<size_t>(layout.ts));
      const lake::DuckStrings devs = chunk.Strings(static_cast<size_t>(layout.device));
      const lake::DuckStrings locs = layout.location >= 0
                                         ? chunk.Strings(static_cast<size_t>(layout.location))
                                         : lake::DuckStrings();
      const uint64_t* loc_valid =
          layout.location >= 0 ? chunk.Validity(static_cast<size_t>(layout.location)) : nullptr;
      for (size_t j = 0; j < width; ++j) {
        const bool present = layout.metric[j] >= 0;
        vals[j] = present ? chunk.Data<double>(static_cast<size_t>(layout.metric[j])) : nullptr;
        valid[j] = present ? chunk.Validity(static_cast<size_t>(layout.metric[j])) : nullptr;
      }
      if (first_batch) {
        if (stats.rows == 0 && n > 0) stats.first_us = stats.last_us = ts[0];
        stats.rows += static_cast<int64_t>(n);
      }
      auto location_at = [&](size_t r) {
        return locs && lake::DuckChunk::IsValid(loc_valid, r) ? locs[r] : std::string_view();
      };
      for (size_t r = 0; r < n; ++r) {
        const std::string_view d = devs[r];
        if (first_batch) {
          stats.first_us = std::min(stats.first_us, ts[r]);
          stats.last_us = std::max(stats.last_us, ts[r]);
        }
        if (!any_device || d != device) {  // a new device
          if (any_device) end_device(r > 0 ? location_at(r - 1) : std::string_view(device_location));
          any_device = true;
          if (first_batch) ++stats.devices;
          device.assign(d);
          if (on_device) on_device(device);
        }
        location = location_at(r);
        for (size_t j = 0; j < width; ++j) {
          const bool has = vals[j] != nullptr && lake::DuckChunk::IsValid(valid[j], r);
          row[j] = has ? vals[j][r] : NAN;
          stats.values += has ? 1 : 0;
        }
        const Status fed = scorer.Feed(device, ts[r], row, flag, begin);
        if (!fed.ok()) return fed.WithContext("config [[detect.rule]] params: ");
      }
      if (n > 0) device_location.assign(location_at(n - 1));
    }
    if (any_device) end_device(device_location);
  }
  return stats;
}

void ReplayStats::Merge(const ReplayStats& o) {
  if (o.rows > 0) {
    first_us = rows > 0 ? std::min(first_us, o.first_us) : o.first_us;
    last_us = rows > 0 ? std::max(last_us, o.last_us) : o.last_us;
  }
  devices += o.devices;
  rows += o.rows;
  values += o.values;
  flags += o.flags;
}

Result<ReplayStats> ReplaySilver(lake::DuckSession& session,
                                 const std::vector<std::string>& silver_paths,
                                 const std::vector<std::string>& metrics,
                                 const std::vector<std::string>& detector_names,
                                 const SeriesPlanFn& plan, const ReplayFlagFn& on_flag,
                                 const ReplayDeviceFn& on_device, int64_t max_points_per_pass) {
  for (const auto& name : detector_names) IOTAD_TRY(ReplayDetectorVersion(name).status());
  IOTAD_ASSIGN_OR_RETURN(
      const int64_t buckets,
      ReplayBucketCount(session, silver_paths, metrics.size(), max_points_per_pass));
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs end_us, SilverEnd(session, silver_paths));
  ReplayStats stats;
  for (int64_t b = 0; b < buckets; ++b) {
    IOTAD_ASSIGN_OR_RETURN(
        auto part, ReplaySilverBucket(session, silver_paths, metrics, detector_names, plan, on_flag,
                                      on_device, b, buckets, end_us));
    stats.Merge(part);
  }
  return stats;
}

}  // namespace iotad::pipeline
