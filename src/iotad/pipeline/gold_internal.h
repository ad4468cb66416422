#pragma once
// Internal to gold (pipeline/gold*.cpp), shaped like a DuckDB operator:
// - the plan (gold_plan.h): immutable, from the config and options, read by every thread;
// - the global state (GoldState): silver's hours and metrics, the devices, the series and their
//   baselines, the online flags by hour, the outputs; shared, filled in fixed phases, each phase
//   finished before the next reads it (baselines: gold_baselines.cpp);
// - a local state per thread (ScoreContext): its DuckDB session, summary accumulators and outputs;
//   a worker touches only its own and reads the global state (scoring: gold_score.cpp);
// - a combine step in a fixed order (thread by thread) and a finalize step, the commit (gold.cpp).
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "iotad/clean/string_dict.h"
#include "iotad/core/hash.h"
#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/detect/batch_detectors.h"
#include "iotad/detect/registry.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"
#include "iotad/pipeline/gold.h"
#include "iotad/pipeline/gold_plan.h"
#include "iotad/pipeline/replay.h"

namespace iotad::pipeline::gold_internal {

using detect::MomentStats;
using detect::RobustBaseline;
using detect::RobustZScoreDetector;
using detect::ZScoreBaseline;
using detect::QuietBand;
using detect::ZScoreDetector;

/// One row of the anomalies table (lake::kAnomalyColumns says what each field means, and its unit).
/// NaN is "absent": the writer stores NULL.
/// One row of the anomalies table (lake::kAnomalyColumns says what each field means, and its unit).
/// NaN is "absent": the writer stores NULL.
struct AnomalyRow {
  TimestampUs ts = 0;
  uint32_t device = 0;
  uint32_t location = 0;  // index into strings, 0 = NULL
  uint32_t metric = 0;
  double value = NAN;
  double mean = NAN, std = NAN;  // baseline_mean, baseline_std
  int64_t n = 0;
  double z = NAN, threshold = NAN;
  uint32_t detector = 0;  // index into the detector list
  std::string explanation;
  int32_t version = 1;
  double score = 0.0;  // calibrated, in [0, 1)
  double expected = NAN, expected_lo = NAN, expected_hi = NAN;
  std::string_view rule;  // static text
  double statistic = NAN;
  std::string_view statistic_name;  // static text; empty = NULL
  double gap_seconds = NAN, timeout_seconds = NAN;
};

/// An anomaly found by replaying a series through an online detector, waiting for its hour's
/// writer (which interns the location in its own dictionary).
struct PendingAnomaly {
  AnomalyRow row;
  std::string location;
};

struct SummaryCell {
  MomentStats stats;
  int64_t anomalies = 0;
};

/// A device's rows in the hour being scored (NULL cells included) and its last location.
struct DeviceHour {
  int64_t rows = 0;
  uint32_t location = 0;  // index into the thread's strings, 0 = NULL
};

/// A device's metric with at least one value in silver (or a metric no device has a value of).
struct GoldSeries {
  uint32_t device, metric;
};

/// The series of a device and metric that has none (no value of the metric).
inline constexpr uint32_t kNoSeries = UINT32_MAX;
inline constexpr uint32_t kNoDevice = UINT32_MAX;

/// The global state: filled in fixed phases (metrics; pass 1 the devices, series and moments;
/// robust baselines; online flags; batch plan), then read-only while the hours are scored; the
/// outputs are combined into it in thread order at the end.
struct GoldState {
  std::vector<std::pair<TimestampUs, std::vector<std::string>>> hours;  // silver's keys by hour
  std::vector<TimestampUs> hour_starts;  // sorted
  std::vector<std::string> metrics;
  std::deque<std::string> device_names;  // stable addresses: device_index keys point into them
  std::unordered_map<std::string_view, uint32_t> device_index;
  std::vector<GoldSeries> series;  // the (device, metric) pairs with values, and empty columns' pairs
  std::unordered_map<uint64_t, uint32_t> series_index;  // device * metrics + metric -> series
  std::vector<std::vector<uint32_t>> device_series;     // per device, by metric
  int64_t total_rows = 0;  // silver's rows
  std::vector<ZScoreBaseline> zbase;  // per series
  std::vector<RobustBaseline> rbase;  // per series
  std::vector<uint8_t> batch_use;  // [series * detectors + k]: the series runs batch detector k
  std::vector<detect::BatchSettings> batch_settings;  // [series * detectors + k], when the plan's batch_params
  std::map<TimestampUs, std::vector<PendingAnomaly>> online;  // flags of online detectors, by hour
  std::set<std::string> existing;  // gold's files in the snapshot and on disk
  // Outputs, combined from the threads in thread order.
  std::set<std::string> produced;
  std::vector<std::pair<std::string, std::string>> moves;

  /// Index of a device, added when new (pass 1 sees every device of silver).
  uint32_t DeviceIndex(std::string_view d);
  /// Index of a known device (kNoDevice if pass 1 did not see it); safe from several threads.
  uint32_t FindDevice(std::string_view d) const;
  /// The series of a device and metric, added when new.
  uint32_t AddSeries(uint32_t dev, uint32_t m);
  /// The series of a device and metric; kNoSeries when the device has no value of the metric.
  uint32_t SeriesOf(uint32_t dev, size_t m) const {
    auto it = series_index.find(static_cast<uint64_t>(dev) * metrics.size() + m);
    return it == series_index.end() ? kNoSeries : it->second;
  }
};

inline void HashField(ContentHasher& h, const void* p, size_t n) { h.Update(std::string_view(static_cast<const char*>(p), n)); }
inline void HashString(ContentHasher& h, std::string_view s) {
  const uint64_t n = s.size();
  HashField(h, &n, sizeof n);
  h.Update(s);
}

/// The local state of a thread: what one scoring thread owns: its DuckDB session, its summary accumulators and its outputs.
struct ScoreContext {
  int index = 0;  // the thread's number: part of its scratch file names
  std::unique_ptr<lake::DuckSession> session;
  clean::StringDict locations;  // ids in output rows; 0 = NULL
  std::vector<SummaryCell> cells;         // per series
  std::vector<DeviceHour> device_hours;   // per device
  std::vector<uint32_t> touched_devices;  // devices with rows in the hour
  std::vector<uint32_t> touched;          // their series, in summary order
  std::vector<std::pair<std::string, std::string>> moves;
  std::vector<std::string> produced;
  GoldReport report;  // partial counters, summed at the end
};

/// The metric column batches a query reads (one when silver has few metrics).
inline std::vector<std::pair<size_t, size_t>> ColumnBatches(size_t metrics) {
  std::vector<std::pair<size_t, size_t>> batches;
  for (size_t b = 0; b == 0 || b < metrics; b += kSilverColumnBatch) {
    batches.emplace_back(b, std::min(metrics, b + kSilverColumnBatch));
  }
  return batches;
}

/// Calls fn(first, end, device) for each run of rows of one device in a chunk (silver files
/// are sorted by device).
template <typename Fn>
inline void DeviceRuns(const lake::DuckStrings& devs, size_t n, Fn&& fn) {
  size_t start = 0;
  while (start < n) {
    size_t end = start + 1;
    while (end < n && devs.Equal(end, start)) ++end;
    fn(start, end, devs[start]);
    start = end;
  }
}

/// Calls fn(r) for each row of [start, end) whose cell is valid, skipping empty validity words
/// (sparse metrics are mostly NULL).
template <typename Fn>
inline void ValidRows(const uint64_t* valid, size_t start, size_t end, Fn&& fn) {
  for (size_t r = start; r < end;) {
    if (valid != nullptr && (r & 63) == 0 && r + 64 <= end && valid[r >> 6] == 0) {
      r += 64;
      continue;
    }
    if (lake::DuckChunk::IsValid(valid, r)) fn(r);
    ++r;
  }
}

/// One metric column of a chunk, and the statistics its rows of one device run go to (null:
/// none).
struct MomentColumn {
  const double* values = nullptr;
  const uint64_t* valid = nullptr;
  MomentStats* stats = nullptr;
};

/// AddSideBySide for K columns at once, their statistics in registers (K known at compile time
/// so the loops unroll).
template <size_t K>
inline void AddColumnGroup(const MomentColumn* cols, size_t start, size_t end) {
  MomentStats local[K];
#pragma GCC unroll 4
  for (size_t j = 0; j < K; ++j) local[j] = *cols[j].stats;
  for (size_t r = start; r < end; ++r) {
#pragma GCC unroll 4
    for (size_t j = 0; j < K; ++j) {
      if (lake::DuckChunk::IsValid(cols[j].valid, r)) local[j].Add(cols[j].values[r]);
    }
  }
#pragma GCC unroll 4
  for (size_t j = 0; j < K; ++j) *cols[j].stats = local[j];
}

/// Adds rows [start, end) of every column with statistics to them, the columns side by side.
/// Each Welford step waits on a division, so one column after the other waits on every step in
/// turn, while side by side the CPU overlaps the columns' chains. Each column's values still
/// reach its statistics in row order, so the results are the same bits.
inline void AddSideBySide(std::span<const MomentColumn> cols, size_t start, size_t end) {
  MomentColumn group[4];
  size_t k = 0;
  const auto flush = [&] {
    switch (k) {
      case 1: AddColumnGroup<1>(group, start, end); break;
      case 2: AddColumnGroup<2>(group, start, end); break;
      case 3: AddColumnGroup<3>(group, start, end); break;
      case 4: AddColumnGroup<4>(group, start, end); break;
      default: break;
    }
    k = 0;
  };
  for (const MomentColumn& c : cols) {
    if (c.stats == nullptr) continue;
    group[k++] = c;
    if (k == 4) flush();
  }
  flush();
}

/// The valid cells of rows [start, end).
inline size_t CountValid(const uint64_t* valid, size_t start, size_t end) {
  if (valid == nullptr) return end - start;
  size_t n = 0;
  for (size_t r = start; r < end; ++r) n += lake::DuckChunk::IsValid(valid, r) ? 1 : 0;
  return n;
}

/// A chunk's rows [first, end) of one device (its id in the caller's numbering).
using DeviceRun = std::tuple<size_t, size_t, uint32_t>;

/// Adds a chunk's metric values to Welford statistics, run by run. First the statistics are
/// chosen, metric column by column and run by run (the order values come in, which callers number
/// their series by): slot_of(run index, column, valid values) gives a slot (UINT32_MAX: none),
/// called only for a run with values in that column; it may fail. Then stats_at(slot) gives each
/// slot's statistics (slots may have moved memory while they were chosen), and each run's values
/// are added, all columns side by side (AddSideBySide).
template <typename SlotFn, typename StatsFn>
Status AddRunMoments(const lake::DuckChunk& chunk, const std::vector<int>& metric_columns,
                     const std::vector<DeviceRun>& runs, SlotFn&& slot_of, StatsFn&& stats_at) {
  const size_t ncols = metric_columns.size();
  std::vector<MomentColumn> cols(ncols);
  std::vector<uint32_t> slot(runs.size() * ncols, UINT32_MAX);
  for (size_t j = 0; j < ncols; ++j) {
    if (metric_columns[j] < 0) continue;
    cols[j].values = chunk.Data<double>(static_cast<size_t>(metric_columns[j]));
    cols[j].valid = chunk.Validity(static_cast<size_t>(metric_columns[j]));
    for (size_t i = 0; i < runs.size(); ++i) {
      const size_t values = CountValid(cols[j].valid, std::get<0>(runs[i]), std::get<1>(runs[i]));
      if (values == 0) continue;
      Result<uint32_t> s = slot_of(i, j, values);
      if (!s.ok()) return s.status();
      slot[i * ncols + j] = *s;
    }
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    for (size_t j = 0; j < ncols; ++j) {
      const uint32_t s = slot[i * ncols + j];
      cols[j].stats = s == UINT32_MAX ? nullptr : stats_at(s);
    }
    AddSideBySide(cols, std::get<0>(runs[i]), std::get<1>(runs[i]));
  }
  return Status::Ok();
}

/// Runs gold on two threads. Pass 1 (baselines) splits the hours into two fixed halves whose
/// Welford statistics merge in order (exact, so the result is the same on every run and machine);
/// pass 2 scores hours independently: an hour's outputs do not depend on which thread wrote them.
class GoldRunner {
 public:
  static constexpr int kThreads = 2;

  GoldRunner(lake::Lake& lake, const GoldPlan& plan, std::string run_id)
      : lake_(lake), plan_(plan), run_id_(std::move(run_id)) {}

  /// The phases, then the combine step (gold.cpp).
  Status Run(const std::map<TimestampUs, std::vector<std::string>>& hour_map, const std::vector<std::string>& all_paths,
             GoldReport& report);

  std::vector<std::pair<std::string, std::string>>& moves() { return state_.moves; }
  std::set<std::string>& produced() { return state_.produced; }
  void SetExisting(std::set<std::string> existing) { state_.existing = std::move(existing); }

 private:
  Status OnThreads(const std::function<Status(ScoreContext&)>& fn);
  // Baselines (gold_baselines.cpp).
  Status DiscoverMetrics(const std::vector<std::string>& all_paths);
  using ChunkFn = std::function<Status(size_t thread, const lake::DuckChunk& chunk, const SilverColumns& layout,
                                      size_t first_metric)>;
  Status ScanHalves(const ChunkFn& fn);
  Status FitMoments();
  Status FitRobust();
  Status PlanBatchDetectors();
  Status ReplayOnline(const std::vector<std::string>& all_paths);
  void AddOnline(uint32_t dev, uint32_t metric, uint32_t k, TimestampUs ts, double x, const detect::Score& s,
                 int version, std::string_view location);
  // Scoring and writing (gold_score.cpp).
  Status ScoreHour(ScoreContext& ctx, TimestampUs hour, const std::vector<std::string>& keys);
  static std::string OutputName(std::string_view layer, TimestampUs hour, ContentHasher& h);
  Result<std::filesystem::path> ScratchFile(const ScoreContext& ctx, std::string_view name);
  Status Stage(ScoreContext& ctx, const std::string& final_key, const std::filesystem::path& local);
  Status WriteAnomalies(ScoreContext& ctx, TimestampUs hour, std::vector<AnomalyRow>& rows);
  Status WriteSummary(ScoreContext& ctx, TimestampUs hour);
  Status WriteSummaryFile(ScoreContext& ctx, TimestampUs hour);

  lake::Lake& lake_;
  const GoldPlan& plan_;  // read-only: nothing below RunGold reads the config
  std::string run_id_;
  GoldState state_;
  std::deque<ScoreContext> contexts_;  // the local states, one per thread
};

}  // namespace iotad::pipeline::gold_internal
