#pragma once
// Silver replayed through the online detectors of detect/: a thin source over
// detect::DeviceScorer, fed each device's readings in time order as a live feed would deliver
// them, and ticked at the end of each device's series with the end of the data (the latest
// event_time of the silver replayed), so a device that went silent and stayed silent is flagged
// as a live scorer would flag it by then. `gold` files each flag as an anomaly row under its
// hour; `iotad eval --lake` scores the flags against the labels `iotad generate` wrote. Reads
// only: no lock, no lake state.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/config/config.h"
#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/detect/device_scorer.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"
#include "iotad/lake/silver_scan.h"

namespace iotad::pipeline {

/// Silver's Parquet files (keys) by hour, each hour's keys in key order.
Result<std::map<TimestampUs, std::vector<std::string>>> ListSilverHours(lake::Lake& lake);

/// Silver's metrics: every DOUBLE column but the hour partition columns, in the order DuckDB
/// unions the files' schemas (`silver_paths` must not be empty).
Result<std::vector<std::string>> SilverMetrics(lake::DuckSession& session,
                                               const std::vector<std::string>& silver_paths);

/// Metric columns per query over silver. Wider silver (thousands of sparse JSON keys) is read in
/// batches of this many columns, each series whole in one batch, so no query, sort or chunk grows
/// with the number of metrics.
inline constexpr size_t kSilverColumnBatch = 256;

/// Silver's key columns (event_time, device_id, location; device_id alone without
/// `time_and_location`) and the metrics [begin, end), for lake::ScanSilverFiles: those no file
/// has are left out rather than an error.
std::vector<std::string> SilverColumnNames(const std::vector<std::string>& metrics, size_t begin, size_t end,
                                           bool time_and_location = true);

/// Positions of silver's columns in a result; -1 for a column the result lacks.
struct SilverColumns {
  int ts = -1, device = -1, location = -1;
  std::vector<int> metric;  // one per metric of [begin, end)
};
/// kCorrupt, naming `files` (those `result` reads), when one is typed otherwise than silver types
/// it (event_time TIMESTAMPTZ or TIMESTAMP, device_id and location VARCHAR, the metrics DOUBLE):
/// its cells would be misread.
Result<SilverColumns> FindSilverColumns(lake::ChunkStream& result, const std::vector<std::string>& files,
                                        const std::vector<std::string>& metrics, size_t begin = 0,
                                        size_t end = SIZE_MAX);

/// A chunk of a silver result through its layout: event_time, device_id and location.
struct SilverRows {
  const int64_t* ts = nullptr;
  lake::DuckStrings devices, locations;
  const uint64_t* location_valid = nullptr;
  /// The location of row r; empty when NULL or when the result has no location column.
  std::string_view LocationAt(size_t r) const {
    return locations && lake::DuckChunk::IsValid(location_valid, r) ? locations[r] : std::string_view();
  }
};
SilverRows SilverRowsOf(const lake::DuckChunk& chunk, const SilverColumns& layout);

/// One flagged point of a replay (views valid during the callback only).
struct ReplayPoint {
  std::string_view device_id;
  std::string_view location;  // empty when NULL (end of series: the device's last location)
  uint32_t metric;            // index into the metrics given to ReplaySilver
  uint32_t detector;          // index into the detector names given to ReplaySilver
  TimestampUs ts;             // the point's time, or the end of the data for a silence found at
                              // the end of the series; score.at_us is when the anomaly happened
  double value;               // NaN for a silence found at the end of the series
  const detect::Score& score;
  int version;  // the detector's version
};

/// The detectors a replay knows: the online ones of detect/ (SeriesDetectorNames) and
/// `mahalanobis` (one per device, across its metrics). Returns the version; an unknown name is an
/// error listing the known ones.
Result<int> ReplayDetectorVersion(std::string_view name);

/// What runs on one series (detector indexes into the replay's detector names).
using SeriesPlan = detect::SeriesPlan;
using SeriesPlanFn = detect::SeriesPlanFn;

/// The plan the lake config gives ([[detect.rule]], see config::ResolveSeries): a series runs
/// those of `names` its resolved detectors include, or all of `names` when `all_named` (a
/// --detector override), with its resolved sensitivity (`fa_override` > 0 replaces it), physical
/// range and silence timeout.
SeriesPlanFn PlanFromConfig(const config::LakeConfig& config, std::vector<std::string> metrics,
                            std::vector<std::string> names, bool all_named,
                            double fa_override = 0.0);

/// The same plan from a function that resolves a series' settings (GoldPlan::resolve: gold's
/// copy of the rules, resolved without reading the lake config again).
SeriesPlanFn PlanFromResolver(std::function<config::SeriesSettings(std::string_view, std::string_view)> resolve,
                              std::vector<std::string> metrics, std::vector<std::string> names, bool all_named,
                              double fa_override = 0.0);

/// What a replay went through.
struct ReplayStats {
  int64_t devices = 0;
  int64_t rows = 0;
  int64_t values = 0;  // non-NULL metric cells, each fed to every detector
  int64_t flags = 0;
  TimestampUs first_us = 0;  // earliest and latest event_time (0 when silver is empty)
  TimestampUs last_us = 0;

  void Merge(const ReplayStats& other);
};

using ReplayFlagFn = std::function<void(const ReplayPoint&)>;
using ReplayDeviceFn = std::function<void(std::string_view device_id)>;

/// The end of the data: the latest event_time in `silver_paths` (0 when there is none). The
/// replay's batch "now": each series is ticked with it at its end.
Result<TimestampUs> SilverEnd(lake::DuckSession& session, const std::vector<std::string>& silver_paths);

/// Reads `silver_paths` hour partition by hour partition (each file is in (device, time) order;
/// an hour in several files is sorted in memory) and feeds every non-NULL value of each metric to
/// fresh detectors per device and metric, as `plan` says (`mahalanobis` gets all of a device's
/// metrics per reading), then ticks each device's series with the end of the data (SilverEnd);
/// calls `on_flag` for each flag, and `on_device` (optional) when a device is first seen (once per
/// column batch when silver has more than kSilverColumnBatch metrics: each series is in one
/// batch). Unknown detector names are an error before any row is read. The devices of a bucket
/// are fed side by side; when their detectors' state would pass the budget of
/// `max_points_per_pass` points (8 bytes each; 0 = no limit) devices are replayed in hash buckets,
/// one after the other, each a read of silver. A series' detectors are made at its first value,
/// so a device costs what its series need. A row earlier than a point its device already had (a
/// row in the wrong hour partition) is an error.
Result<ReplayStats> ReplaySilver(lake::DuckSession& session,
                                 const std::vector<std::string>& silver_paths,
                                 const std::vector<std::string>& metrics,
                                 const std::vector<std::string>& detector_names,
                                 const SeriesPlanFn& plan, const ReplayFlagFn& on_flag,
                                 const ReplayDeviceFn& on_device = {},
                                 int64_t max_points_per_pass = 0);

/// The memory a replay may give its detectors' state, from the same knob that bounds the robust
/// baselines (`gold.max_baseline_points`): as many bytes as that many points take (8 each).
inline int64_t ReplayStateBudget(int64_t max_points) { return max_points * 8; }
/// The bytes a replay holds per series: its detectors' state and the scorer's bookkeeping.
size_t ReplayBytesPerSeries(const std::vector<std::string>& detector_names);
/// How many device buckets keep the detectors' state of one bucket within `budget_bytes`.
int64_t ReplayBuckets(int64_t series, size_t bytes_per_series, int64_t budget_bytes);
/// The same for `silver_paths` (its devices times `metrics`, an upper bound of its series).
Result<int64_t> ReplayBucketCount(lake::DuckSession& session, const std::vector<std::string>& silver_paths,
                                  size_t metrics, const std::vector<std::string>& detector_names,
                                  int64_t max_points_per_pass);

/// Where a lane of a replay sends what it finds: each flag, and each device when first fed.
struct ReplayLane {
  ReplayFlagFn on_flag;
  ReplayDeviceFn on_device;  // optional
};

/// One bucket of a replay: the devices whose name hashes to `bucket` of `buckets` (all of them when
/// buckets is 1), or with `device_range` (its column "device_id") those whose name lies in its range:
/// then silver's row groups without any of them are not decoded, so buckets of sorted name
/// ranges read little more than silver once between them. The calling thread reads silver once and deals the devices to the lanes (one
/// DeviceScorer each; with several lanes, each on a thread of its own, its callbacks called from
/// that thread only). Buckets are independent, so they may also run on separate sessions.
/// The detector names are checked by the caller (ReplayDetectorVersion), once, not per bucket.
/// `end_us` is the end of the data of the whole replay (SilverEnd, computed once by the caller);
/// kSilverEndUnknown: this call computes it.
inline constexpr TimestampUs kSilverEndUnknown = INT64_MIN;
Result<ReplayStats> ReplaySilverBucket(lake::DuckSession& session,
                                       const std::vector<std::string>& silver_paths,
                                       const std::vector<std::string>& metrics,
                                       const std::vector<std::string>& detector_names,
                                       const SeriesPlanFn& plan, std::span<const ReplayLane> lanes,
                                       int64_t bucket, int64_t buckets, TimestampUs end_us = kSilverEndUnknown,
                                       const lake::ScanRange* device_range = nullptr);

}  // namespace iotad::pipeline
