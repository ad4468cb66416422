#include "iotad/pipeline/replay.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "iotad/detect/multivariate.h"

namespace iotad::pipeline {
namespace {

constexpr std::string_view kHourColumns[] = {"year", "month", "day", "hour"};

}  // namespace

Result<std::map<TimestampUs, std::vector<std::string>>> ListSilverHours(lake::Lake& lake) {
  IOTAD_ASSIGN_OR_RETURN(auto files, lake.store().List(lake::kSilverPrefix));
  std::map<TimestampUs, std::vector<std::string>> hours;
  for (const auto& o : files) {
    if (!o.key.ends_with(".parquet")) continue;
    if (auto h = lake::HourFromKey(o.key)) hours[*h].push_back(o.key);
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
    const auto* names = chunk.Data<duckdb_string_t>(0);
    const auto* types = chunk.Data<duckdb_string_t>(1);
    for (size_t r = 0; r < chunk.size(); ++r) {
      const std::string_view name = lake::DuckChunk::StringAt(names, r);
      if (lake::DuckChunk::StringAt(types, r) != "DOUBLE") continue;
      if (std::find(std::begin(kHourColumns), std::end(kHourColumns), name) !=
          std::end(kHourColumns))
        continue;
      metrics.emplace_back(name);
    }
  }
  return metrics;
}

SilverColumns FindSilverColumns(lake::DuckResult& result, const std::vector<std::string>& metrics) {
  SilverColumns l;
  l.metric.assign(metrics.size(), -1);
  for (size_t c = 0; c < result.ColumnCount(); ++c) {
    const std::string name = result.ColumnName(c);
    if (name == "event_time")
      l.ts = static_cast<int>(c);
    else if (name == "device_id")
      l.device = static_cast<int>(c);
    else if (name == "location")
      l.location = static_cast<int>(c);
    for (size_t m = 0; m < metrics.size(); ++m) {
      if (metrics[m] == name) l.metric[m] = static_cast<int>(c);
    }
  }
  return l;
}

Result<int> ReplayDetectorVersion(std::string_view name) {
  if (name == detect::MahalanobisDetector::kName) return detect::MahalanobisDetector::kVersion;
  auto made = detect::MakeSeriesDetector(name, detect::DetectorOptions{});
  if (!made.ok()) {
    return Error(Errc::kInvalidArgument, "unknown detector '{}' (known: {}, {})", name,
                 fmt::join(detect::SeriesDetectorNames(), ", "),
                 detect::MahalanobisDetector::kName);
  }
  return (*made)->version();
}

SeriesPlanFn PlanFromConfig(const config::LakeConfig& config, std::vector<std::string> metrics,
                            std::vector<std::string> names, bool all_named, double fa_override) {
  return [&config, metrics = std::move(metrics), names = std::move(names), all_named, fa_override](
             std::string_view device, size_t metric) {
    const config::SeriesSettings s = config::ResolveSeries(config, device, metrics[metric]);
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

namespace {

/// One device's detectors: per metric the series detectors of its plan, plus the device-wide
/// Mahalanobis check when a plan asks for it.
struct DeviceDetectors {
  std::vector<std::vector<std::pair<uint32_t, std::unique_ptr<detect::SeriesDetector>>>> per_metric;
  std::optional<detect::MahalanobisDetector> mahalanobis;
  uint32_t mahalanobis_index = 0;
  int mahalanobis_metrics = 0;

  Status Reset(std::string_view device, size_t metrics, const std::vector<std::string>& names,
               const SeriesPlanFn& plan) {
    per_metric.clear();
    per_metric.resize(metrics);
    mahalanobis.reset();
    for (size_t m = 0; m < metrics; ++m) {
      const SeriesPlan p = plan(device, m);
      for (uint32_t k : p.detectors) {
        if (names[k] == detect::MahalanobisDetector::kName) {
          if (mahalanobis || metrics < 2) continue;
          mahalanobis_metrics =
              static_cast<int>(std::min<size_t>(metrics, detect::MahalanobisDetector::kMaxMetrics));
          IOTAD_ASSIGN_OR_RETURN(auto made,
                                 detect::MahalanobisDetector::Make(mahalanobis_metrics, p.options));
          mahalanobis.emplace(std::move(made));
          mahalanobis_index = k;
          continue;
        }
        detect::DetectorOptions options = p.options;
        const std::string prefix = names[k] + ".";
        for (const auto& [key, value] : p.params) {
          if (key.starts_with(prefix))
            options.params.emplace_back(key.substr(prefix.size()), value);
        }
        auto det = detect::MakeSeriesDetector(names[k], options);
        if (!det.ok()) return det.status().WithContext("config [[detect.rule]] params: ");
        per_metric[m].emplace_back(k, std::move(*det));
      }
    }
    return Status::Ok();
  }
};

}  // namespace

Result<int64_t> ReplayBucketCount(lake::DuckSession& session,
                                  const std::vector<std::string>& silver_paths, size_t metrics,
                                  int64_t max_points_per_pass) {
  if (silver_paths.empty() || max_points_per_pass <= 0) return int64_t{1};
  IOTAD_ASSIGN_OR_RETURN(
      const int64_t rows,
      session.QueryInt(fmt::format("SELECT count(*) FROM read_parquet({}, union_by_name = true)",
                                   lake::SqlList(silver_paths))));
  const int64_t points = rows * static_cast<int64_t>(std::max<size_t>(metrics, 1));
  return std::max<int64_t>(1, (points + max_points_per_pass - 1) / max_points_per_pass);
}

Result<ReplayStats> ReplaySilverBucket(lake::DuckSession& session,
                                       const std::vector<std::string>& silver_paths,
                                       const std::vector<std::string>& metrics,
                                       const std::vector<std::string>& detector_names,
                                       const SeriesPlanFn& plan, const ReplayFlagFn& on_flag,
                                       const ReplayDeviceFn& on_device, int64_t bucket,
                                       int64_t buckets) {
  ReplayStats stats;
  if (silver_paths.empty()) return stats;
  const size_t nm = metrics.size();
  const std::string silver =
      fmt::format("read_parquet({}, union_by_name = true)", lake::SqlList(silver_paths));
  DeviceDetectors dets;
  std::vector<double> row(nm);
  std::vector<const double*> vals(nm);
  std::vector<const uint64_t*> valid(nm);
  std::string device;
  std::string_view location;
  const std::string where =
      buckets > 1 ? fmt::format(" WHERE hash(device_id) % {} = {}", buckets, bucket) : "";
  IOTAD_ASSIGN_OR_RETURN(
      auto result, session.Stream(fmt::format("SELECT * FROM {}{} ORDER BY device_id, event_time",
                                              silver, where)));
  const SilverColumns layout = FindSilverColumns(result, metrics);
  if (layout.ts < 0 || layout.device < 0) {
    return Error(Errc::kCorrupt, "replay: silver lacks the event_time or device_id column");
  }
  while (true) {
    IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
    if (!chunk) break;
    const size_t n = chunk.size();
    const auto* ts = chunk.Data<int64_t>(static_cast<size_t>(layout.ts));
    const auto* devs = chunk.Data<duckdb_string_t>(static_cast<size_t>(layout.device));
    const auto* locs = layout.location >= 0
                           ? chunk.Data<duckdb_string_t>(static_cast<size_t>(layout.location))
                           : nullptr;
    const uint64_t* loc_valid =
        layout.location >= 0 ? chunk.Validity(static_cast<size_t>(layout.location)) : nullptr;
    for (size_t m = 0; m < nm; ++m) {
      const bool present = layout.metric[m] >= 0;
      vals[m] = present ? chunk.Data<double>(static_cast<size_t>(layout.metric[m])) : nullptr;
      valid[m] = present ? chunk.Validity(static_cast<size_t>(layout.metric[m])) : nullptr;
    }
    if (stats.rows == 0 && n > 0) stats.first_us = stats.last_us = ts[0];
    stats.rows += static_cast<int64_t>(n);
    for (size_t r = 0; r < n; ++r) {
      stats.first_us = std::min(stats.first_us, ts[r]);
      stats.last_us = std::max(stats.last_us, ts[r]);
      const std::string_view d = lake::DuckChunk::StringAt(devs, r);
      if (stats.devices == 0 || d != device) {  // a new device: fresh detectors
        device.assign(d);
        ++stats.devices;
        if (on_device) on_device(device);
        IOTAD_TRY(dets.Reset(device, nm, detector_names, plan));
      }
      location = locs != nullptr && lake::DuckChunk::IsValid(loc_valid, r)
                     ? lake::DuckChunk::StringAt(locs, r)
                     : std::string_view();
      for (size_t m = 0; m < nm; ++m) {
        const bool has = vals[m] != nullptr && lake::DuckChunk::IsValid(valid[m], r);
        row[m] = has ? vals[m][r] : NAN;
        if (!has) continue;
        const double x = row[m];
        ++stats.values;
        for (auto& [k, det] : dets.per_metric[m]) {
          const detect::Score s = det->Update(ts[r], x);
          if (!s.flag) continue;
          ++stats.flags;
          on_flag(ReplayPoint{device, location, static_cast<uint32_t>(m), k, ts[r], x, s,
                              det->version()});
        }
      }
      if (dets.mahalanobis) {
        const detect::Score s = dets.mahalanobis->Update(
            ts[r], std::span<const double>(row.data(), dets.mahalanobis_metrics));
        if (s.flag) {
          ++stats.flags;
          const auto m = static_cast<uint32_t>(dets.mahalanobis->top_metric());
          on_flag(ReplayPoint{device, location, m, dets.mahalanobis_index, ts[r], row[m], s,
                              detect::MahalanobisDetector::kVersion});
        }
      }
    }
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
  ReplayStats stats;
  for (int64_t b = 0; b < buckets; ++b) {
    IOTAD_ASSIGN_OR_RETURN(
        auto part, ReplaySilverBucket(session, silver_paths, metrics, detector_names, plan, on_flag,
                                      on_device, b, buckets));
    stats.Merge(part);
  }
  return stats;
}

}  // namespace iotad::pipeline
