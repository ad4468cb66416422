#include "iotad/pipeline/replay.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>

#include "iotad/detect/multivariate.h"
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

/// One device's detectors over the metrics [begin, end) of a column batch: per metric the series
/// detectors of its plan, made at the series' first value, plus the device-wide Mahalanobis check
/// (first batch only: its metrics are the lake's first kMaxMetrics) when a plan asks for it.
struct DeviceDetectors {
  struct PerMetric {
    bool made = false;
    std::vector<std::pair<uint32_t, std::unique_ptr<detect::SeriesDetector>>> detectors;
  };
  std::vector<PerMetric> per_metric;  // index m - begin
  std::optional<detect::MahalanobisDetector> mahalanobis;
  uint32_t mahalanobis_index = 0;
  int mahalanobis_metrics = 0;
  std::string device;

  Status Reset(std::string_view d, size_t begin, size_t end, size_t metrics,
               const std::vector<std::string>& names, const SeriesPlanFn& plan) {
    device.assign(d);
    for (auto& pm : per_metric) {
      pm.made = false;
      pm.detectors.clear();
    }
    per_metric.resize(end - begin);
    mahalanobis.reset();
    const bool wants_mahalanobis =
        begin == 0 && metrics >= 2 &&
        std::find(names.begin(), names.end(), detect::MahalanobisDetector::kName) != names.end();
    if (!wants_mahalanobis) return Status::Ok();
    for (size_t m = 0; m < metrics; ++m) {
      const SeriesPlan p = plan(device, m);
      for (uint32_t k : p.detectors) {
        if (names[k] != detect::MahalanobisDetector::kName) continue;
        mahalanobis_metrics =
            static_cast<int>(std::min<size_t>(metrics, detect::MahalanobisDetector::kMaxMetrics));
        IOTAD_ASSIGN_OR_RETURN(auto made,
                               detect::MahalanobisDetector::Make(mahalanobis_metrics, p.options));
        mahalanobis.emplace(std::move(made));
        mahalanobis_index = k;
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  /// The series detectors of metric `m` (index `j` in the batch), made on first use.
  Result<PerMetric*> Series(size_t j, size_t m, const std::vector<std::string>& names,
                            const SeriesPlanFn& plan) {
    PerMetric& pm = per_metric[j];
    if (pm.made) return &pm;
    pm.made = true;
    const SeriesPlan p = plan(device, m);
    for (uint32_t k : p.detectors) {
      if (names[k] == detect::MahalanobisDetector::kName) continue;
      detect::DetectorOptions options = p.options;
      const std::string prefix = names[k] + ".";
      for (const auto& [key, value] : p.params) {
        if (key.starts_with(prefix)) options.params.emplace_back(key.substr(prefix.size()), value);
      }
      auto det = detect::MakeSeriesDetector(names[k], options);
      if (!det.ok()) return det.status().WithContext("config [[detect.rule]] params: ");
      pm.detectors.emplace_back(k, std::move(*det));
    }
    return &pm;
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
  // One column batch is sorted at a time.
  const int64_t width = static_cast<int64_t>(std::clamp<size_t>(metrics, 1, kSilverColumnBatch));
  const int64_t points = rows * width;
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
  const std::string where =
      buckets > 1 ? fmt::format(" WHERE hash(device_id) % {} = {}", buckets, bucket) : "";
  DeviceDetectors dets;
  std::vector<double> row;
  std::vector<const double*> vals;
  std::vector<const uint64_t*> valid;
  std::string_view location;
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
      const auto* devs = chunk.Data<duckdb_string_t>(static_cast<size_t>(layout.device));
      const auto* locs = layout.location >= 0
                             ? chunk.Data<duckdb_string_t>(static_cast<size_t>(layout.location))
                             : nullptr;
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
      for (size_t r = 0; r < n; ++r) {
        const std::string_view d = lake::DuckChunk::StringAt(devs, r);
        if (first_batch) {
          stats.first_us = std::min(stats.first_us, ts[r]);
          stats.last_us = std::max(stats.last_us, ts[r]);
        }
        if (!any_device || d != dets.device) {  // a new device: fresh detectors
          any_device = true;
          if (first_batch) ++stats.devices;
          IOTAD_TRY(dets.Reset(d, begin, end, nm, detector_names, plan));
          if (on_device) on_device(dets.device);
        }
        location = locs != nullptr && lake::DuckChunk::IsValid(loc_valid, r)
                       ? lake::DuckChunk::StringAt(locs, r)
                       : std::string_view();
        for (size_t j = 0; j < width; ++j) {
          const bool has = vals[j] != nullptr && lake::DuckChunk::IsValid(valid[j], r);
          row[j] = has ? vals[j][r] : NAN;
          if (!has) continue;
          const double x = row[j];
          ++stats.values;
          IOTAD_ASSIGN_OR_RETURN(auto* pm, dets.Series(j, begin + j, detector_names, plan));
          for (auto& [k, det] : pm->detectors) {
            const detect::Score s = det->Update(ts[r], x);
            if (!s.flag) continue;
            ++stats.flags;
            on_flag(ReplayPoint{dets.device, location, static_cast<uint32_t>(begin + j), k, ts[r],
                                x, s, det->version()});
          }
        }
        if (dets.mahalanobis) {
          const detect::Score s = dets.mahalanobis->Update(
              ts[r], std::span<const double>(row.data(), dets.mahalanobis_metrics));
          if (s.flag) {
            ++stats.flags;
            const auto m = static_cast<uint32_t>(dets.mahalanobis->top_metric());
            on_flag(ReplayPoint{dets.device, location, m, dets.mahalanobis_index, ts[r], row[m], s,
                                detect::MahalanobisDetector::kVersion});
          }
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
