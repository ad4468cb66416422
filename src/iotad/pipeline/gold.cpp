#include "iotad/pipeline/gold.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <atomic>
#include <deque>
#include <functional>
#include <set>
#include <unordered_map>

#include "iotad/clean/string_dict.h"
#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/json.h"
#include "iotad/core/thread.h"
#include "iotad/detect/batch_detectors.h"
#include "iotad/detect/detector.h"
#include "iotad/detect/multivariate.h"
#include "iotad/detect/registry.h"
#include "iotad/lake/parquet_writer.h"
#include "iotad/lake/schema.h"
#include "iotad/lake/snapshot.h"
#include "iotad/pipeline/gold_plan.h"
#include "iotad/pipeline/replay.h"
#include "iotad/pipeline/verify.h"

namespace iotad::pipeline {
namespace {

using detect::MomentStats;
using detect::RobustBaseline;
using detect::RobustZScoreDetector;
using detect::ZScoreBaseline;
using detect::ZScoreDetector;

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

void HashField(ContentHasher& h, const void* p, size_t n) { h.Update(std::string_view(static_cast<const char*>(p), n)); }
void HashString(ContentHasher& h, std::string_view s) {
  const uint64_t n = s.size();
  HashField(h, &n, sizeof n);
  h.Update(s);
}

/// What one scoring thread owns: its DuckDB session, its summary accumulators and its outputs.
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

/// Runs gold on two threads. Pass 1 (baselines) splits the hours into two fixed halves whose
/// Welford statistics merge in order (exact, so the result is the same on every run and machine);
/// pass 2 scores hours independently: an hour's outputs do not depend on which thread wrote them.
class GoldRunner {
 public:
  static constexpr int kThreads = 2;

  GoldRunner(lake::Lake& lake, const GoldPlan& plan, std::string run_id)
      : lake_(lake), plan_(plan), run_id_(std::move(run_id)) {}

  Status Run(const std::map<TimestampUs, std::vector<std::string>>& hour_map, const std::vector<std::string>& all_paths,
             GoldReport& report) {
    hours_.assign(hour_map.begin(), hour_map.end());
    for (const auto& [h, keys] : hours_) hour_starts_.push_back(h);
    for (int t = 0; t < kThreads; ++t) {
      contexts_.emplace_back();
      contexts_.back().index = t;
      IOTAD_ASSIGN_OR_RETURN(contexts_.back().session, lake_.OpenSession(/*with_views=*/false));
      // Each thread is one scan at a time; more DuckDB workers would only contend.
      IOTAD_TRY(contexts_.back().session->Exec("SET threads = 1"));
      // Gold reads each silver file many times (passes, column batches): DuckDB's file cache
      // would keep every range read, which on silver with thousands of metric columns was most of
      // gold's memory (the OS page cache serves the re-reads anyway).
      IOTAD_TRY(contexts_.back().session->Exec("SET enable_external_file_cache = false"));
    }
    IOTAD_TRY(DiscoverMetrics(all_paths));
    const auto t0 = std::chrono::steady_clock::now();
    IOTAD_TRY(FitMoments());  // also finds the devices and series
    if (plan_.use_robust) IOTAD_TRY(FitRobust(all_paths));
    if (plan_.use_online) IOTAD_TRY(ReplayOnline(all_paths));
    report.baseline_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report.series = static_cast<int64_t>(series_.size());
    if (!plan_.all_named || plan_.batch_params) IOTAD_TRY(PlanBatchDetectors());
    // Pass 2: hours handed out one by one.
    std::atomic<size_t> next{0};
    IOTAD_TRY(OnThreads([&](ScoreContext& ctx) -> Status {
      for (size_t i = next++; i < hours_.size(); i = next++) {
        IOTAD_TRY(ScoreHour(ctx, hours_[i].first, hours_[i].second));
      }
      return Status::Ok();
    }));
    for (auto& ctx : contexts_) {
      moves_.insert(moves_.end(), ctx.moves.begin(), ctx.moves.end());
      produced_.insert(ctx.produced.begin(), ctx.produced.end());
      report.rows_scanned += ctx.report.rows_scanned;
      report.values_scored += ctx.report.values_scored;
      report.summary_rows += ctx.report.summary_rows;
      report.files_written += ctx.report.files_written;
      report.files_unchanged += ctx.report.files_unchanged;
      for (const auto& [d, n] : ctx.report.anomalies) report.anomalies[d] += n;
    }
    return Status::Ok();
  }

  std::vector<std::pair<std::string, std::string>>& moves() { return moves_; }
  std::set<std::string>& produced() { return produced_; }
  void SetExisting(std::set<std::string> existing) { existing_ = std::move(existing); }

 private:
  /// Runs `fn` once per context, on its own thread; the first error wins. A thread the OS
  /// refuses is an error too (after the started ones have finished), never std::terminate.
  Status OnThreads(const std::function<Status(ScoreContext&)>& fn) {
    std::vector<Status> results(contexts_.size());
    Status started;
    {
      std::vector<std::jthread> threads;  // joined when this block ends, whatever happens
      for (size_t t = 0; t < contexts_.size() && started.ok(); ++t) {
        auto thread = StartThread("gold scoring", [&, t] { results[t] = fn(contexts_[t]); });
        if (thread.ok()) threads.push_back(std::move(*thread));
        else started = thread.status().WithContext("gold: ");
      }
    }
    IOTAD_TRY(started);
    for (auto& st : results) IOTAD_TRY(st);
    return Status::Ok();
  }

  class AnomalySource final : public lake::ChunkSource {
   public:
    AnomalySource(const GoldRunner& g, const ScoreContext& ctx, const std::vector<AnomalyRow>& rows)
        : g_(g), ctx_(ctx), rows_(rows) {}
    const std::vector<lake::ColumnSpec>& columns() const override {
      static const auto kColumns = AnomalyColumns();
      return kColumns;
    }
    size_t Fill(lake::ChunkFiller& out) override {
      const size_t n = std::min(lake::ChunkFiller::Capacity(), rows_.size() - pos_);
      using C = lake::AnomalyCol;
      for (size_t r = 0; r < n; ++r) {
        const AnomalyRow& a = rows_[pos_ + r];
        out.Column<int64_t>(C::kEventTime)[r] = a.ts;
        out.SetString(C::kDeviceId, r, g_.device_names_[a.device]);
        if (a.location == 0) out.SetNull(C::kLocation, r);
        else out.SetString(C::kLocation, r, ctx_.locations.Get(a.location));
        out.SetString(C::kMetric, r, g_.metrics_[a.metric]);
        out.SetDouble(C::kValue, r, a.value);
        out.SetDouble(C::kBaselineMean, r, a.mean);
        out.SetDouble(C::kBaselineStd, r, a.std);
        out.Column<int64_t>(C::kBaselineN)[r] = a.n;
        out.SetDouble(C::kZ, r, a.z);
        out.SetDouble(C::kThreshold, r, a.threshold);
        out.SetString(C::kDetector, r, g_.plan_.detectors[a.detector]);
        out.Column<int32_t>(C::kDetectorVersion)[r] = a.version;
        out.SetString(C::kExplanation, r, a.explanation);
        out.SetDouble(C::kScore, r, a.score);
        out.SetDouble(C::kExpected, r, a.expected);
        out.SetDouble(C::kExpectedLo, r, a.expected_lo);
        out.SetDouble(C::kExpectedHi, r, a.expected_hi);
        out.SetString(C::kRule, r, a.rule);
        out.SetDouble(C::kStatistic, r, a.statistic);
        if (a.statistic_name.empty()) out.SetNull(C::kStatisticName, r);
        else out.SetString(C::kStatisticName, r, a.statistic_name);
        out.SetDouble(C::kGapSeconds, r, a.gap_seconds);
        out.SetDouble(C::kTimeoutSeconds, r, a.timeout_seconds);
      }
      pos_ += n;
      return n;
    }

   private:
    const GoldRunner& g_;
    const ScoreContext& ctx_;
    const std::vector<AnomalyRow>& rows_;
    size_t pos_ = 0;
  };

  class SummarySource final : public lake::ChunkSource {
   public:
    SummarySource(const GoldRunner& g, const ScoreContext& ctx, TimestampUs hour) : g_(g), ctx_(ctx), hour_(hour) {}
    const std::vector<lake::ColumnSpec>& columns() const override {
      static const auto kColumns = SummaryColumns();
      return kColumns;
    }
    size_t Fill(lake::ChunkFiller& out) override {
      const size_t n = std::min(lake::ChunkFiller::Capacity(), ctx_.touched.size() - pos_);
      using C = lake::SummaryCol;
      for (size_t r = 0; r < n; ++r) {
        const uint32_t idx = ctx_.touched[pos_ + r];
        const SummaryCell& c = ctx_.cells[idx];
        const Series& se = g_.series_[idx];
        const uint32_t location = ctx_.device_hours[se.device].location;
        out.Column<int64_t>(C::kHourStart)[r] = hour_;
        out.SetString(C::kDeviceId, r, g_.device_names_[se.device]);
        if (location == 0) out.SetNull(C::kLocation, r);
        else out.SetString(C::kLocation, r, ctx_.locations.Get(location));
        out.SetString(C::kMetric, r, g_.metrics_[se.metric]);
        out.Column<int64_t>(C::kRows)[r] = c.stats.n;
        out.Column<int64_t>(C::kAnomalies)[r] = c.anomalies;
        const bool any = c.stats.n > 0;
        out.SetDouble(C::kMean, r, any ? c.stats.mean : NAN);
        out.SetDouble(C::kStd, r, any ? c.stats.SampleStd() : NAN);
        out.SetDouble(C::kMin, r, any ? c.stats.min : NAN);
        out.SetDouble(C::kMax, r, any ? c.stats.max : NAN);
      }
      pos_ += n;
      return n;
    }

   private:
    const GoldRunner& g_;
    const ScoreContext& ctx_;
    TimestampUs hour_;
    size_t pos_ = 0;
  };

  static std::vector<lake::ColumnSpec> AnomalyColumns() { return lake::ColumnSpecs(lake::kAnomalyColumns); }
  static std::vector<lake::ColumnSpec> SummaryColumns() { return lake::ColumnSpecs(lake::kGoldSummaryColumns); }

  Status DiscoverMetrics(const std::vector<std::string>& all_paths) {
    IOTAD_ASSIGN_OR_RETURN(metrics_, SilverMetrics(*contexts_[0].session, all_paths));
    return Status::Ok();
  }

  /// Column positions of one query's result over the metrics [begin, end): a metric missing from
  /// every file read is -1.
  using Layout = SilverColumns;

  /// The metric column batches a query reads (one when silver has few metrics).
  std::vector<std::pair<size_t, size_t>> ColumnBatches() const {
    std::vector<std::pair<size_t, size_t>> batches;
    for (size_t b = 0; b == 0 || b < metrics_.size(); b += kSilverColumnBatch) {
      batches.emplace_back(b, std::min(metrics_.size(), b + kSilverColumnBatch));
    }
    return batches;
  }

  /// Calls fn(first, end, device) for each run of rows of one device in a chunk (silver files
  /// are sorted by device).
  template <typename Fn>
  static void DeviceRuns(const duckdb_string_t* devs, size_t n, Fn&& fn) {
    size_t start = 0;
    while (start < n) {
      const std::string_view d = lake::DuckChunk::StringAt(devs, start);
      size_t end = start + 1;
      while (end < n && lake::DuckChunk::StringAt(devs, end) == d) ++end;
      fn(start, end, d);
      start = end;
    }
  }

  /// Calls fn(r) for each row of [start, end) whose cell is valid, skipping empty validity words
  /// (sparse metrics are mostly NULL).
  template <typename Fn>
  static void ValidRows(const uint64_t* valid, size_t start, size_t end, Fn&& fn) {
    for (size_t r = start; r < end;) {
      if (valid != nullptr && (r & 63) == 0 && r + 64 <= end && valid[r >> 6] == 0) {
        r += 64;
        continue;
      }
      if (lake::DuckChunk::IsValid(valid, r)) fn(r);
      ++r;
    }
  }

  /// Pass 1: finds the devices and the series (a device's metrics with at least one value) and
  /// fits mean and sample std per series. Welford in a fixed order, not a parallel SQL aggregate
  /// (whose sums depend on thread timing): each half of the hours in order on its own thread, the
  /// two halves merged exactly (Chan et al.), first half first. Memory grows with the series
  /// that have values, not with devices x metrics.
  Status FitMoments() {
    const size_t nm = metrics_.size();
    struct Partial {
      clean::StringDict devices;
      std::unordered_map<uint64_t, uint32_t> index;  // local device * metrics + metric -> slot
      std::vector<uint64_t> keys;
      std::vector<MomentStats> stats;
      int64_t rows = 0;
    };
    std::vector<Partial> partials(contexts_.size());
    const size_t per_thread = (hours_.size() + contexts_.size() - 1) / contexts_.size();
    const auto batches = ColumnBatches();
    std::atomic<size_t> next_context{0};
    IOTAD_TRY(OnThreads([&](ScoreContext& ctx) -> Status {
      const size_t t = next_context++;
      Partial& part = partials[t];
      std::vector<uint32_t> run_dev;
      for (size_t i = t * per_thread; i < std::min(hours_.size(), (t + 1) * per_thread); ++i) {
        const std::string files = lake::SqlList(lake_.ReadPaths(hours_[i].second));
        for (const auto& [begin, end] : batches) {
          IOTAD_ASSIGN_OR_RETURN(auto result, ctx.session->Query(fmt::format(
                                                  "SELECT {} FROM read_parquet({}, union_by_name = true)",
                                                  SilverProjection(metrics_, begin, end), files)));
          const Layout layout = FindSilverColumns(result, metrics_, begin, end);
          if (layout.device < 0) return Error(Errc::kCorrupt, "gold: a silver file lacks device_id");
          while (true) {
            IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
            if (!chunk) break;
            const auto* devs = chunk.Data<duckdb_string_t>(static_cast<size_t>(layout.device));
            if (begin == 0) part.rows += static_cast<int64_t>(chunk.size());
            std::vector<std::tuple<size_t, size_t, uint32_t>> runs;
            DeviceRuns(devs, chunk.size(), [&](size_t a, size_t b, std::string_view d) {
              runs.emplace_back(a, b, part.devices.Intern(d));
            });
            for (size_t j = 0; j < layout.metric.size(); ++j) {
              if (layout.metric[j] < 0) continue;
              const double* v = chunk.Data<double>(static_cast<size_t>(layout.metric[j]));
              const uint64_t* valid = chunk.Validity(static_cast<size_t>(layout.metric[j]));
              for (const auto& [a, b, dev] : runs) {
                MomentStats* st = nullptr;
                ValidRows(valid, a, b, [&](size_t r) {
                  if (st == nullptr) {
                    const uint64_t key = static_cast<uint64_t>(dev) * nm + begin + j;
                    auto [it, fresh] = part.index.try_emplace(key, static_cast<uint32_t>(part.stats.size()));
                    if (fresh) {
                      part.keys.push_back(key);
                      part.stats.emplace_back();
                    }
                    st = &part.stats[it->second];
                  }
                  st->Add(v[r]);
                });
              }
            }
          }
        }
      }
      return Status::Ok();
    }));
    std::vector<MomentStats> merged;
    for (auto& part : partials) {
      total_rows_ += part.rows;
      std::vector<uint32_t> global(part.devices.size());
      for (uint32_t id = 1; id < part.devices.size(); ++id) global[id] = DeviceIndex(part.devices.Get(id));
      for (size_t slot = 0; slot < part.keys.size(); ++slot) {
        const auto dev = global[part.keys[slot] / nm];
        const auto m = static_cast<uint32_t>(part.keys[slot] % nm);
        const uint32_t id = AddSeries(dev, m);
        if (merged.size() < series_.size()) merged.resize(series_.size());
        merged[id].Merge(part.stats[slot]);
      }
    }
    // A metric no device has a value of (a column of empty cells) keeps a summary row per device
    // and hour, as every metric did when silver had few: an hour of a device is never missing.
    std::vector<uint8_t> has_values(nm, 0);
    for (const Series& se : series_) has_values[se.metric] = 1;
    for (uint32_t m = 0; m < nm; ++m) {
      if (has_values[m]) continue;
      for (uint32_t dev = 0; dev < device_names_.size(); ++dev) AddSeries(dev, m);
    }
    merged.resize(series_.size());
    for (auto& list : device_series_) std::sort(list.begin(), list.end(), [&](uint32_t a, uint32_t b) {
      return series_[a].metric < series_[b].metric;
    });
    zbase_.resize(series_.size());
    rbase_.resize(series_.size());
    for (size_t i = 0; i < merged.size(); ++i) {
      zbase_[i] = ZScoreBaseline{merged[i].n, merged[i].n > 0 ? merged[i].mean : 0.0, merged[i].SampleStd()};
    }
    return Status::Ok();
  }

  /// Index of a device (pass 1 sees every device of silver).
  uint32_t DeviceIndex(std::string_view d) {
    auto it = device_index_.find(std::string(d));
    if (it != device_index_.end()) return it->second;
    const auto dev = static_cast<uint32_t>(device_names_.size());
    device_names_.emplace_back(d);
    device_index_.emplace(device_names_.back(), dev);
    device_series_.emplace_back();
    return dev;
  }

  /// The series of a device and metric, added when new.
  uint32_t AddSeries(uint32_t dev, uint32_t m) {
    const uint64_t key = static_cast<uint64_t>(dev) * metrics_.size() + m;
    auto [it, fresh] = series_index_.try_emplace(key, static_cast<uint32_t>(series_.size()));
    if (fresh) {
      series_.push_back({dev, m});
      device_series_[dev].push_back(it->second);
    }
    return it->second;
  }

  /// The series of a device and metric; kNoSeries when the device has no value of the metric.
  static constexpr uint32_t kNoSeries = UINT32_MAX;
  uint32_t SeriesOf(uint32_t dev, size_t m) const {
    auto it = series_index_.find(static_cast<uint64_t>(dev) * metrics_.size() + m);
    return it == series_index_.end() ? kNoSeries : it->second;
  }

  /// median and MAD per series (exact, from DuckDB's median), kRobustColumns metrics per query
  /// so no query's aggregate row grows with the number of metrics (thousands of median states in
  /// one row crashed DuckDB). Median needs every value of a series in memory, so above
  /// gold.max_baseline_points cells in a batch the devices go in hash buckets.
  static constexpr size_t kRobustColumns = 256;
  Status FitRobust(const std::vector<std::string>& all_paths) {
    if (metrics_.empty()) return Status::Ok();
    lake::DuckSession& session = *contexts_[0].session;
    IOTAD_TRY(session.Exec("SET threads = 2"));
    const std::string silver = fmt::format("read_parquet({}, union_by_name = true)", lake::SqlList(all_paths));
    std::vector<int64_t> values(metrics_.size(), 0);
    for (size_t i = 0; i < series_.size(); ++i) values[series_[i].metric] += zbase_[i].n;
    const int64_t budget = plan_.max_baseline_points;
    const bool sparse = metrics_.size() > kRobustColumns;
    for (size_t begin = 0; begin < metrics_.size(); begin += kRobustColumns) {
      std::vector<uint32_t> ms;  // the batch's metrics with values
      int64_t batch_values = 0;
      for (size_t m = begin; m < std::min(metrics_.size(), begin + kRobustColumns); ++m) {
        if (values[m] == 0) continue;
        ms.push_back(static_cast<uint32_t>(m));
        batch_values += values[m];
      }
      if (ms.empty()) continue;
      std::string sel, any, med, mad;
      for (size_t j = 0; j < ms.size(); ++j) {
        const auto q = lake::SqlIdent(metrics_[ms[j]]);
        sel += fmt::format(", {}", q);
        any += fmt::format("{}{} IS NOT NULL", j == 0 ? "" : " OR ", q);
        med += fmt::format(", median({0}) AS med_{1}, count({0}) AS n_{1}", q, j);
        mad += fmt::format(", any_value(med.med_{1}), median(abs(s.{0} - med.med_{1})), any_value(med.n_{1})", q, j);
      }
      // With many sparse metrics only the rows with a value in the batch are read into it.
      const int64_t rows = sparse ? std::min(total_rows_, batch_values) : total_rows_;
      const int64_t points = rows * static_cast<int64_t>(sparse ? ms.size() : metrics_.size());
      const int64_t buckets = std::max<int64_t>(1, (points + budget - 1) / budget);
      for (int64_t b = 0; b < buckets; ++b) {
        std::string where = buckets > 1 ? fmt::format("hash(device_id) % {} = {}", buckets, b) : "";
        if (sparse) where = where.empty() ? fmt::format("({})", any) : fmt::format("{} AND ({})", where, any);
        if (!where.empty()) where = " WHERE " + where;
        IOTAD_ASSIGN_OR_RETURN(auto result, session.Stream(fmt::format(
                                                "WITH s AS (SELECT device_id{0} FROM {1}{2}), "
                                                "med AS (SELECT device_id{3} FROM s GROUP BY device_id) "
                                                "SELECT s.device_id{4} FROM s JOIN med USING (device_id) "
                                                "GROUP BY s.device_id",
                                                sel, silver, where, med, mad)));
        while (true) {
          IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
          if (!chunk) break;
          const auto* devs = chunk.Data<duckdb_string_t>(0);
          for (size_t r = 0; r < chunk.size(); ++r) {
            const uint32_t dev = DeviceIndex(lake::DuckChunk::StringAt(devs, r));
            for (size_t j = 0; j < ms.size(); ++j) {
              const uint32_t id = SeriesOf(dev, ms[j]);
              if (id == kNoSeries) continue;  // no value of this metric: n = 0 either way
              RobustBaseline& rb = rbase_[id];
              const bool ok = lake::DuckChunk::IsValid(chunk.Validity(1 + 3 * j), r) &&
                              lake::DuckChunk::IsValid(chunk.Validity(2 + 3 * j), r);
              rb.median = ok ? chunk.Data<double>(1 + 3 * j)[r] : 0.0;
              rb.mad = ok ? chunk.Data<double>(2 + 3 * j)[r] : 0.0;
              rb.n = chunk.Data<int64_t>(3 + 3 * j)[r];
            }
          }
        }
      }
    }
    return session.Exec("SET threads = 1");
  }

  /// Which series run which batch detectors, from the config's [[detect.rule]]s (pass 2 reads
  /// it from both threads, so it is filled before).
  /// With `params = {"zscore.threshold" = ...}` in a rule, also each series' batch thresholds.
  Status PlanBatchDetectors() {
    const size_t nd = plan_.detectors.size();
    batch_use_.assign(series_.size() * nd, 0);
    if (plan_.batch_params) batch_settings_.assign(series_.size() * nd, {});
    for (size_t i = 0; i < series_.size(); ++i) {
      if (zbase_[i].n == 0) continue;  // no value to score
      const auto settings = plan_.resolve(device_names_[series_[i].device], metrics_[series_[i].metric]);
      for (size_t k = 0; k < nd; ++k) {
        batch_use_[i * nd + k] =
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
        batch_settings_[i * nd + k] = *resolved;
      }
    }
    return Status::Ok();
  }

  /// Replays every series through the online detectors, one device at a time in time order
  /// (ReplaySilver's buckets, the same path as `iotad eval --lake`), the buckets shared out over
  /// both threads, each with its own session; the flags are then filed under their hours in bucket
  /// order, so the outcome does not depend on which thread ran which bucket.
  Status ReplayOnline(const std::vector<std::string>& all_paths) {
    std::vector<std::string> names;  // the online detectors, in the order of plan_.detectors
    std::vector<uint32_t> index;     // their positions in plan_.detectors
    for (uint32_t k = 0; k < plan_.detectors.size(); ++k) {
      if (plan_.kinds[k] != DetectorKind::kOnline) continue;
      names.push_back(plan_.detectors[k]);
      index.push_back(k);
    }
    const SeriesPlanFn plan = PlanFromResolver(plan_.resolve, metrics_, names, plan_.all_named);
    // Two buckets sort at once: each gets half the memory budget.
    IOTAD_ASSIGN_OR_RETURN(int64_t buckets,
                           ReplayBucketCount(*contexts_[0].session, all_paths, metrics_.size(),
                                             std::max<int64_t>(1, plan_.max_baseline_points / kThreads)));
    buckets = std::max<int64_t>(buckets, kThreads);
    // The end of the data (silver is partitioned by event_time: its last hour holds it), with
    // which every series is ticked at its end: a device silent since is flagged.
    IOTAD_ASSIGN_OR_RETURN(const TimestampUs end_us,
                           SilverEnd(*contexts_[0].session, hours_.empty() ? std::vector<std::string>{}
                                                                           : lake_.ReadPaths(hours_.back().second)));
    struct Flag {
      size_t device;  // index into the bucket's devices
      uint32_t metric, detector;
      TimestampUs ts;
      double value;
      detect::Score score;
      int version;
      std::string location;
    };
    struct Bucket {
      std::vector<std::string> devices;
      std::vector<Flag> flags;
    };
    std::vector<Bucket> done(static_cast<size_t>(buckets));
    std::atomic<int64_t> next{0};
    IOTAD_TRY(OnThreads([&](ScoreContext& ctx) -> Status {
      for (int64_t b = next++; b < buckets; b = next++) {
        Bucket& out = done[static_cast<size_t>(b)];
        IOTAD_TRY(ReplaySilverBucket(
                      *ctx.session, all_paths, metrics_, names, plan,
                      [&](const ReplayPoint& p) {
                        out.flags.push_back({out.devices.size() - 1, p.metric, p.detector, p.ts, p.value, p.score,
                                             p.version, std::string(p.location)});
                      },
                      [&](std::string_view device) { out.devices.emplace_back(device); }, b, buckets, end_us)
                      .status());
      }
      return Status::Ok();
    }));
    for (const Bucket& bucket : done) {
      std::vector<uint32_t> ids;
      for (const auto& d : bucket.devices) ids.push_back(DeviceIndex(d));
      for (const Flag& f : bucket.flags) {
        AddOnline(ids[f.device], f.metric, index[f.detector], f.ts, f.value, f.score, f.version, f.location);
      }
    }
    return Status::Ok();
  }

  void AddOnline(uint32_t dev, uint32_t metric, uint32_t k, TimestampUs ts, double x, const detect::Score& s,
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
    a.explanation = fmt::format("{} {}", metrics_[metric], detect::Describe(s, x));
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
    if (!std::binary_search(hour_starts_.begin(), hour_starts_.end(), hour)) hour = HourStart(ts);
    online_[hour].push_back({std::move(a), std::string(location)});
  }

  /// Scores one hour's silver files and stages its outputs (when they changed). Reads the hour one
  /// column batch at a time and each metric column by column, so the work is the rows, the
  /// values and the series, not rows x metrics.
  Status ScoreHour(ScoreContext& ctx, TimestampUs hour, const std::vector<std::string>& keys) {
    const std::string files = lake::SqlList(lake_.ReadPaths(keys));
    if (ctx.cells.size() < series_.size()) ctx.cells.resize(series_.size());
    if (ctx.device_hours.size() < device_names_.size()) ctx.device_hours.resize(device_names_.size());
    std::vector<AnomalyRow> anomalies;
    std::string last_location;
    uint32_t last_location_id = 0;
    std::vector<uint32_t> row_dev, row_loc;
    GoldReport& report = ctx.report;
    const size_t nd = plan_.detectors.size();
    for (const auto& [begin, end] : ColumnBatches()) {
      const bool first_batch = begin == 0;
      IOTAD_ASSIGN_OR_RETURN(auto result, ctx.session->Query(fmt::format(
                                              "SELECT {} FROM read_parquet({}, union_by_name = true)",
                                              SilverProjection(metrics_, begin, end), files)));
      const Layout layout = FindSilverColumns(result, metrics_, begin, end);
      if (layout.ts < 0 || layout.device < 0) {
        return Error(Errc::kCorrupt, "gold: silver hour {} lacks event_time or device_id", FormatTimestamp(hour));
      }
      while (true) {
        IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
        if (!chunk) break;
        const size_t n = chunk.size();
        const auto* ts = chunk.Data<int64_t>(static_cast<size_t>(layout.ts));
        const auto* devs = chunk.Data<duckdb_string_t>(static_cast<size_t>(layout.device));
        const auto* locs = layout.location >= 0 ? chunk.Data<duckdb_string_t>(static_cast<size_t>(layout.location)) : nullptr;
        const uint64_t* loc_valid = layout.location >= 0 ? chunk.Validity(static_cast<size_t>(layout.location)) : nullptr;
        std::vector<std::tuple<size_t, size_t, uint32_t>> runs;
        Status unknown = Status::Ok();
        DeviceRuns(devs, n, [&](size_t a, size_t b, std::string_view d) {
          auto it = device_index_.find(d);
          if (it == device_index_.end()) {
            if (unknown.ok()) unknown = Error(Errc::kCorrupt, "gold: device '{}' appeared in silver while gold was running", d);
            return;
          }
          runs.emplace_back(a, b, it->second);
        });
        IOTAD_TRY(unknown);
        row_loc.assign(n, 0);
        for (size_t r = 0; r < n; ++r) {
          if (locs == nullptr || !lake::DuckChunk::IsValid(loc_valid, r)) continue;
          const std::string_view l = lake::DuckChunk::StringAt(locs, r);
          if (l != last_location) {
            last_location.assign(l);
            last_location_id = ctx.locations.Intern(l);
          }
          row_loc[r] = last_location_id;
        }
        if (first_batch) {
          report.rows_scanned += static_cast<int64_t>(n);
          for (const auto& [a, b, dev] : runs) {
            DeviceHour& dh = ctx.device_hours[dev];
            if (dh.rows == 0) ctx.touched_devices.push_back(dev);
            dh.rows += static_cast<int64_t>(b - a);
            for (size_t r = a; r < b; ++r) {
              if (row_loc[r] != 0) dh.location = row_loc[r];
            }
          }
        }
        for (size_t j = 0; j < layout.metric.size(); ++j) {
          if (layout.metric[j] < 0) continue;
          const size_t m = begin + j;
          const double* vals = chunk.Data<double>(static_cast<size_t>(layout.metric[j]));
          const uint64_t* valid = chunk.Validity(static_cast<size_t>(layout.metric[j]));
          for (const auto& [a, b, dev] : runs) {
            uint32_t id = kNoSeries;
            Status missing = Status::Ok();
            ValidRows(valid, a, b, [&](size_t r) {
              if (id == kNoSeries) {
                id = SeriesOf(dev, m);
                if (id == kNoSeries) {
                  missing = Error(Errc::kCorrupt, "gold: silver changed while gold was running (device '{}', metric '{}')",
                                  device_names_[dev], metrics_[m]);
                  return;
                }
              }
              if (!missing.ok()) return;
              SummaryCell& cell = ctx.cells[id];
              const double x = vals[r];
              cell.stats.Add(x);
              ++report.values_scored;
              for (uint32_t k = 0; k < nd; ++k) {
                if (plan_.kinds[k] == DetectorKind::kOnline) continue;  // replayed before (ReplayOnline)
                if (!plan_.all_named && !batch_use_[id * nd + k]) continue;
                detect::Verdict v;
                double mean, sd;
                int64_t cnt;
                std::string why;
                // The series' own threshold and warm-up when a rule's params set them.
                const detect::BatchSettings* own = batch_settings_.empty() ? nullptr : &batch_settings_[id * nd + k];
                const double threshold = own != nullptr ? own->threshold : plan_.thresholds[k];
                if (plan_.kinds[k] == DetectorKind::kZScore) {
                  const ZScoreBaseline& bl = zbase_[id];
                  const ZScoreDetector det = own != nullptr ? ZScoreDetector(own->threshold, own->min_points) : plan_.zscore;
                  v = det.Score(bl, x);
                  if (!v.flagged) continue;
                  mean = bl.mean, sd = bl.std, cnt = bl.n;
                  why = det.Explain(metrics_[m], x, bl, v);
                } else {
                  const RobustBaseline& bl = rbase_[id];
                  const RobustZScoreDetector det =
                      own != nullptr ? RobustZScoreDetector(own->threshold, own->min_points) : plan_.robust;
                  v = det.Score(bl, x);
                  if (!v.flagged) continue;
                  // Explanation columns: the robust baseline as center and scale (MAD / 0.6745 is
                  // the std a normal distribution with that MAD would have).
                  mean = bl.median, sd = bl.mad / RobustZScoreDetector::kConsistency, cnt = bl.n;
                  why = det.Explain(metrics_[m], x, bl, v);
                }
                if (k == 0) ++cell.anomalies;
                ++report.anomalies[plan_.detectors[k]];
                AnomalyRow& an = anomalies.emplace_back();
                an.ts = ts[r];
                an.device = dev;
                an.location = row_loc[r];
                an.metric = static_cast<uint32_t>(m);
                an.value = x;
                an.mean = mean;
                an.std = sd;
                an.n = cnt;
                an.z = v.z;
                an.threshold = threshold;
                an.detector = k;
                an.explanation = std::move(why);
                an.version = plan_.versions[k];
                an.score = detect::ScoreFromSurprise(detect::GaussianSurprise(v.z));
                an.expected = mean;
                an.expected_lo = mean - threshold * sd;
                an.expected_hi = mean + threshold * sd;
                an.statistic = v.z;
                an.statistic_name = "z";
                an.rule = plan_.kinds[k] == DetectorKind::kZScore ? "|z| > threshold" : "robust |z| > threshold";
              }
            });
            IOTAD_TRY(missing);
          }
        }
      }
    }
    if (auto it = online_.find(hour); it != online_.end()) {
      for (PendingAnomaly& p : it->second) {
        AnomalyRow& a = anomalies.emplace_back(std::move(p.row));
        a.location = p.location.empty() ? 0 : ctx.locations.Intern(p.location);
        const uint32_t id = SeriesOf(a.device, a.metric);
        if (a.detector == 0 && id != kNoSeries && ctx.device_hours[a.device].rows > 0) ++ctx.cells[id].anomalies;
        ++report.anomalies[plan_.detectors[a.detector]];
      }
    }
    IOTAD_TRY(WriteAnomalies(ctx, hour, anomalies));
    return WriteSummary(ctx, hour);
  }

  /// An output's name: its layer, its hour and its content (every column it holds), so two hours
  /// never share a name even when their rows are alike, an unchanged hour keeps its file, and a
  /// re-run writes the same name.
  static std::string OutputName(std::string_view layer, TimestampUs hour, ContentHasher& h) {
    HashField(h, &hour, sizeof hour);
    const CivilTime c = ToCivil(hour);
    return fmt::format("{}-{:04d}{:02d}{:02d}T{:02d}-{}.parquet", layer, c.year, c.month, c.day, c.hour,
                       h.Finish().Hex().substr(0, 20));
  }

  /// Where a thread writes an output before staging it: unique per run, thread and object (the
  /// scratch folder is shared by every writer of the lake).
  Result<std::filesystem::path> ScratchFile(const ScoreContext& ctx, std::string_view name) {
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    return scratch / fmt::format("gold-{}-t{}-{}", run_id_, ctx.index, name);
  }

  /// Publishes `local` under `final_key` through staging.
  Status Stage(ScoreContext& ctx, const std::string& final_key, const std::filesystem::path& local) {
    const std::string staged = lake::Lake::StagingPrefix(run_id_) + final_key;
    IOTAD_TRY(lake_.store().PutFile(staged, local));
    IOTAD_FAULT_POINT("gold.after_stage_file");
    ctx.moves.emplace_back(staged, final_key);
    return Status::Ok();
  }

  Status WriteAnomalies(ScoreContext& ctx, TimestampUs hour, std::vector<AnomalyRow>& rows) {
    if (rows.empty()) return Status::Ok();
    std::sort(rows.begin(), rows.end(), [&](const AnomalyRow& a, const AnomalyRow& b) {
      const int c = device_names_[a.device].compare(device_names_[b.device]);
      if (c != 0) return c < 0;
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.metric != b.metric) return a.metric < b.metric;
      return a.detector < b.detector;
    });
    ContentHasher h;
    for (const auto& a : rows) {
      HashField(h, &a.ts, sizeof a.ts);
      HashString(h, device_names_[a.device]);
      HashString(h, ctx.locations.Get(a.location));
      HashString(h, metrics_[a.metric]);
      for (double v : {a.value, a.mean, a.std, a.z, a.threshold}) HashField(h, &v, sizeof v);
      HashField(h, &a.n, sizeof a.n);
      HashString(h, plan_.detectors[a.detector]);
      HashField(h, &a.version, sizeof a.version);
      HashString(h, a.explanation);
      for (double v : {a.score, a.expected, a.expected_lo, a.expected_hi}) HashField(h, &v, sizeof v);
      HashString(h, a.rule);
      for (double v : {a.statistic, a.gap_seconds, a.timeout_seconds}) HashField(h, &v, sizeof v);
      HashString(h, a.statistic_name);
    }
    const std::string name = OutputName("anomalies", hour, h);
    const std::string final_key = fmt::format("{}{}/{}", lake::kGoldPrefix, lake::HourPartition(hour), name);
    ctx.produced.push_back(final_key);
    if (existing_.count(final_key) > 0) {
      ++ctx.report.files_unchanged;
      return Status::Ok();
    }
    IOTAD_ASSIGN_OR_RETURN(const auto local, ScratchFile(ctx, name));
    AnomalySource source(*this, ctx, rows);
    IOTAD_TRY(lake::WriteParquet(*ctx.session, source, local));
    ++ctx.report.files_written;
    return Stage(ctx, final_key, local);
  }

  /// The hour's summary: a row per series of each device with rows in the hour (its metrics with
  /// a value somewhere in silver), by device name and metric.
  Status WriteSummary(ScoreContext& ctx, TimestampUs hour) {
    std::sort(ctx.touched_devices.begin(), ctx.touched_devices.end(),
              [&](uint32_t a, uint32_t b) { return device_names_[a] < device_names_[b]; });
    ctx.touched.clear();
    for (uint32_t dev : ctx.touched_devices) {
      ctx.touched.insert(ctx.touched.end(), device_series_[dev].begin(), device_series_[dev].end());
    }
    Status st = WriteSummaryFile(ctx, hour);
    for (uint32_t idx : ctx.touched) ctx.cells[idx] = SummaryCell{};
    for (uint32_t dev : ctx.touched_devices) ctx.device_hours[dev] = DeviceHour{};
    ctx.touched.clear();
    ctx.touched_devices.clear();
    return st;
  }

  Status WriteSummaryFile(ScoreContext& ctx, TimestampUs hour) {
    if (ctx.touched.empty()) return Status::Ok();
    ContentHasher h;
    for (uint32_t idx : ctx.touched) {
      const SummaryCell& c = ctx.cells[idx];
      const DeviceHour& dh = ctx.device_hours[series_[idx].device];
      HashString(h, device_names_[series_[idx].device]);
      HashString(h, ctx.locations.Get(dh.location));
      HashString(h, metrics_[series_[idx].metric]);
      const double std = c.stats.SampleStd();
      for (double v : {c.stats.mean, std, c.stats.min, c.stats.max}) HashField(h, &v, sizeof v);
      HashField(h, &dh.rows, sizeof dh.rows);
      HashField(h, &c.stats.n, sizeof c.stats.n);
      HashField(h, &c.anomalies, sizeof c.anomalies);
    }
    const std::string name = OutputName("summary", hour, h);
    const std::string final_key = fmt::format("{}{}/{}", lake::kGoldSummaryPrefix, lake::HourPartition(hour), name);
    ctx.produced.push_back(final_key);
    ctx.report.summary_rows += static_cast<int64_t>(ctx.touched.size());
    if (existing_.count(final_key) > 0) {
      ++ctx.report.files_unchanged;
    } else {
      IOTAD_ASSIGN_OR_RETURN(const auto local, ScratchFile(ctx, name));
      SummarySource source(*this, ctx, hour);
      IOTAD_TRY(lake::WriteParquet(*ctx.session, source, local));
      ++ctx.report.files_written;
      IOTAD_TRY(Stage(ctx, final_key, local));
    }
    return Status::Ok();
  }

  lake::Lake& lake_;
  const GoldPlan& plan_;  // read-only: nothing below RunGold reads the config
  std::vector<uint8_t> batch_use_;  // [series * detectors + k]: the series runs batch detector k
  std::vector<detect::BatchSettings> batch_settings_;  // [series * detectors + k], when plan_.batch_params
  std::vector<TimestampUs> hour_starts_;  // sorted
  std::map<TimestampUs, std::vector<PendingAnomaly>> online_;  // flags of online detectors, by hour
  std::string run_id_;
  std::vector<std::pair<TimestampUs, std::vector<std::string>>> hours_;
  std::vector<std::string> metrics_;
  std::deque<std::string> device_names_;  // stable addresses: device_index_ keys point into them
  std::unordered_map<std::string_view, uint32_t> device_index_;
  struct Series {
    uint32_t device, metric;
  };
  std::vector<Series> series_;  // the (device, metric) pairs with values, and empty columns' pairs
  std::unordered_map<uint64_t, uint32_t> series_index_;  // device * metrics + metric -> series
  std::vector<std::vector<uint32_t>> device_series_;     // per device, by metric
  int64_t total_rows_ = 0;  // silver's rows
  std::vector<ZScoreBaseline> zbase_;  // per series
  std::vector<RobustBaseline> rbase_;  // per series
  std::deque<ScoreContext> contexts_;
  std::set<std::string> existing_;
  std::set<std::string> produced_;
  std::vector<std::pair<std::string, std::string>> moves_;
};

}  // namespace

Result<GoldReport> RunGold(lake::Lake& lake, const GoldOptions& options, const std::string& run_id) {
  const auto t0 = std::chrono::steady_clock::now();
  GoldReport report;
  // Everything taken from the config and the options, resolved and checked once.
  IOTAD_ASSIGN_OR_RETURN(const GoldPlan plan, MakeGoldPlan(lake.config(), options));
  const std::string& fingerprint = plan.fingerprint;

  // Silver that lost a committed file (or holds a stray one) must not pass as "up to date".
  IOTAD_TRY(CheckSilverIntact(lake).WithContext("gold: "));
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  const int64_t silver_seq = snapshot->LastSeq("silver");
  if (!options.rebuild) {
    // A gold record that does not parse is not "up to date": gold runs again.
    auto last_gold = snapshot->LastGoldMeta();
    if (last_gold.ok() && *last_gold && (*last_gold)->silver_seq == silver_seq &&
        (*last_gold)->fingerprint == fingerprint) {
      report.up_to_date = true;
      return report;
    }
  }

  IOTAD_ASSIGN_OR_RETURN(const auto hours, ListSilverHours(lake));
  std::vector<std::string> all_paths;  // in hour order (the map's), whatever the folders' spelling
  for (const auto& [h, keys] : hours) {
    for (const auto& key : keys) all_paths.push_back(lake.store().ReadPath(key));
  }
  // The files gold may keep: live in the snapshot (a stray is not gold's) and on disk (a file lost
  // by hand is written again when gold still produces it; verify names it otherwise).
  std::set<std::string> existing;
  for (auto prefix : {lake::kGoldPrefix, lake::kGoldSummaryPrefix}) {
    IOTAD_ASSIGN_OR_RETURN(auto on_disk, lake.store().List(prefix));
    for (const auto& o : on_disk) {
      if (snapshot->files().count(o.key) > 0) existing.insert(o.key);
    }
  }

  GoldRunner runner(lake, plan, run_id);
  runner.SetExisting(existing);
  if (!all_paths.empty()) IOTAD_TRY(runner.Run(hours, all_paths, report));
  report.hours = static_cast<int64_t>(hours.size());

  lake::Commit commit;
  commit.stage = "gold";
  commit.run_id = run_id;
  commit.moves = std::move(runner.moves());
  for (const auto& key : existing) {
    if (runner.produced().count(key) == 0) commit.deletes.push_back(key);
  }
  report.files_deleted = static_cast<int64_t>(commit.deletes.size());
  lake::GoldCommitMeta meta;
  meta.silver_seq = silver_seq;
  meta.fingerprint = fingerprint;
  meta.rows_scanned = report.rows_scanned;
  meta.summary_rows = report.summary_rows;
  meta.anomalies = {report.anomalies.begin(), report.anomalies.end()};
  commit.meta_json = meta.ToJson();
  IOTAD_FAULT_POINT("gold.before_commit");
  IOTAD_ASSIGN_OR_RETURN(report.commit_seq, lake.Publish(std::move(commit)));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::pipeline
