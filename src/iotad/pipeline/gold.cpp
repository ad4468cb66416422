#include "iotad/pipeline/gold.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <unordered_map>

#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/json.h"
#include "iotad/detect/batch_detectors.h"
#include "iotad/lake/parquet_writer.h"

namespace iotad::pipeline {
namespace {

using detect::MomentStats;
using detect::RobustBaseline;
using detect::RobustZScoreDetector;
using detect::ZScoreBaseline;
using detect::ZScoreDetector;

constexpr std::string_view kHourColumns[] = {"year", "month", "day", "hour"};

struct AnomalyRow {
  TimestampUs ts;
  uint32_t device;
  uint32_t location;  // index into strings, 0 = NULL
  uint32_t metric;
  double value;
  double mean, std;
  int64_t n;
  double z, threshold;
  uint32_t detector;  // index into the detector list
  std::string explanation;
};

struct SummaryCell {
  MomentStats stats;
  int64_t rows = 0;  // rows of the device in the hour (including NULL cells)
  int64_t anomalies = 0;
  uint32_t location = 0;
};

/// Strings referenced by index from output rows (device ids, locations).
struct Strings {
  std::vector<std::string> values{""};
  std::unordered_map<std::string, uint32_t> index;
  uint32_t Intern(std::string_view s) {
    if (s.empty()) return 0;
    auto it = index.find(std::string(s));
    if (it != index.end()) return it->second;
    values.emplace_back(s);
    index.emplace(values.back(), static_cast<uint32_t>(values.size() - 1));
    return static_cast<uint32_t>(values.size() - 1);
  }
};

void HashField(ContentHasher& h, const void* p, size_t n) { h.Update(std::string_view(static_cast<const char*>(p), n)); }
void HashString(ContentHasher& h, std::string_view s) {
  const uint64_t n = s.size();
  HashField(h, &n, sizeof n);
  h.Update(s);
}

class GoldRunner {
 public:
  GoldRunner(lake::Lake& lake, lake::DuckSession& session, std::vector<std::string> detectors, std::string run_id)
      : lake_(lake),
        session_(session),
        detectors_(std::move(detectors)),
        run_id_(std::move(run_id)),
        zscore_(lake.config().gold.zscore_threshold, lake.config().gold.min_points),
        robust_(lake.config().gold.robust_threshold, lake.config().gold.min_points) {
    for (const auto& d : detectors_) {
      is_zscore_.push_back(d == ZScoreDetector::kName);
      if (d == ZScoreDetector::kName) use_zscore_ = true;
      if (d == RobustZScoreDetector::kName) use_robust_ = true;
    }
  }

  Status Run(const std::vector<std::string>& silver_paths,
             const std::map<TimestampUs, std::vector<std::string>>& hours, GoldReport& report) {
    IOTAD_TRY(DiscoverMetrics(silver_paths));
    const auto t0 = std::chrono::steady_clock::now();
    if (use_zscore_) IOTAD_TRY(FitZScore(hours));
    if (use_robust_) IOTAD_TRY(FitRobust());
    report.baseline_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report.series = static_cast<int64_t>(devices_.values.size() - 1) * static_cast<int64_t>(metrics_.size());
    return Status::Ok();
  }

  /// Scores one hour's silver files and stages its outputs (when they changed).
  Status ScoreHour(TimestampUs hour, const std::vector<std::string>& keys, GoldReport& report) {
    std::vector<std::string> paths;
    for (const auto& k : keys) paths.push_back(lake_.store().ReadPath(k));
    IOTAD_ASSIGN_OR_RETURN(auto result, session_.Query(fmt::format(
                                            "SELECT * FROM read_parquet({}, union_by_name = true)",
                                            lake::SqlList(paths))));
    const size_t ncols = result.ColumnCount();
    int ts_col = -1, dev_col = -1, loc_col = -1;
    std::vector<int> metric_col(metrics_.size(), -1);
    for (size_t c = 0; c < ncols; ++c) {
      const std::string name = result.ColumnName(c);
      if (name == "event_time") ts_col = static_cast<int>(c);
      else if (name == "device_id") dev_col = static_cast<int>(c);
      else if (name == "location") loc_col = static_cast<int>(c);
      for (size_t m = 0; m < metrics_.size(); ++m) {
        if (metrics_[m] == name) metric_col[m] = static_cast<int>(c);
      }
    }
    if (ts_col < 0 || dev_col < 0) {
      return Error(Errc::kCorrupt, "gold: silver hour {} lacks event_time or device_id", FormatTimestamp(hour));
    }
    const size_t nm = metrics_.size();
    std::vector<AnomalyRow> anomalies;
    std::string last_device, last_location;
    uint32_t dev = 0, last_location_id = 0;
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
      if (!chunk) break;
      const size_t n = chunk.size();
      const auto* ts = chunk.Data<int64_t>(static_cast<size_t>(ts_col));
      const auto* devs = chunk.Data<duckdb_string_t>(static_cast<size_t>(dev_col));
      const auto* locs = loc_col >= 0 ? chunk.Data<duckdb_string_t>(static_cast<size_t>(loc_col)) : nullptr;
      const uint64_t* loc_valid = loc_col >= 0 ? chunk.Validity(static_cast<size_t>(loc_col)) : nullptr;
      std::vector<const double*> vals(nm, nullptr);
      std::vector<const uint64_t*> valid(nm, nullptr);
      for (size_t m = 0; m < nm; ++m) {
        if (metric_col[m] < 0) continue;
        vals[m] = chunk.Data<double>(static_cast<size_t>(metric_col[m]));
        valid[m] = chunk.Validity(static_cast<size_t>(metric_col[m]));
      }
      report.rows_scanned += static_cast<int64_t>(n);
      for (size_t r = 0; r < n; ++r) {
        const std::string_view d = lake::DuckChunk::StringAt(devs, r);
        if (d != last_device) {
          last_device.assign(d);
          dev = devices_.Intern(d);
          if (dev * nm + nm > cells_.size()) cells_.resize((dev + 1) * nm);
          if (use_zscore_ && dev * nm + nm > zbase_.size()) zbase_.resize((dev + 1) * nm);
          if (use_robust_ && dev * nm + nm > rbase_.size()) rbase_.resize((dev + 1) * nm);
        }
        uint32_t loc = 0;
        if (locs != nullptr && lake::DuckChunk::IsValid(loc_valid, r)) {
          const std::string_view l = lake::DuckChunk::StringAt(locs, r);
          if (l != last_location) {
            last_location.assign(l);
            last_location_id = locations_.Intern(l);
          }
          loc = last_location_id;
        }
        for (size_t m = 0; m < nm; ++m) {
          SummaryCell& cell = cells_[dev * nm + m];
          if (cell.rows == 0) touched_.push_back(static_cast<uint32_t>(dev * nm + m));
          ++cell.rows;
          if (loc != 0) cell.location = loc;
          if (vals[m] == nullptr || !lake::DuckChunk::IsValid(valid[m], r)) continue;
          const double x = vals[m][r];
          cell.stats.Add(x);
          ++report.values_scored;
          for (uint32_t k = 0; k < detectors_.size(); ++k) {
            detect::Verdict v;
            double mean, sd;
            int64_t cnt;
            std::string why;
            if (is_zscore_[k]) {
              const ZScoreBaseline& b = zbase_[dev * nm + m];
              v = zscore_.Score(b, x);
              if (!v.flagged) continue;
              mean = b.mean, sd = b.std, cnt = b.n;
              why = zscore_.Explain(metrics_[m], x, b, v);
            } else {
              const RobustBaseline& b = rbase_[dev * nm + m];
              v = robust_.Score(b, x);
              if (!v.flagged) continue;
              // Explanation columns: the robust baseline as center and scale (MAD / 0.6745 is
              // the std a normal distribution with that MAD would have).
              mean = b.median, sd = b.mad / RobustZScoreDetector::kConsistency, cnt = b.n;
              why = robust_.Explain(metrics_[m], x, b, v);
            }
            if (k == 0) ++cell.anomalies;
            ++report.anomalies[detectors_[k]];
            anomalies.push_back({ts[r], dev, loc, static_cast<uint32_t>(m), x, mean, sd, cnt, v.z,
                                 k < thresholds_.size() ? thresholds_[k] : 0.0, k, std::move(why)});
          }
        }
      }
    }
    IOTAD_TRY(WriteAnomalies(hour, anomalies, report));
    IOTAD_TRY(WriteSummary(hour, report));
    return Status::Ok();
  }

  std::vector<std::pair<std::string, std::string>>& moves() { return moves_; }
  std::set<std::string>& produced() { return produced_; }
  void SetExisting(std::set<std::string> existing) { existing_ = std::move(existing); }
  std::string BaselineJson() const {
    JsonWriter w;
    w.BeginObject().Key("metrics").BeginArray();
    for (const auto& m : metrics_) w.String(m);
    w.EndArray().Key("detectors").BeginArray();
    for (const auto& d : detectors_) w.String(d);
    w.EndArray().EndObject();
    return w.Take();
  }

 private:
  class AnomalySource final : public lake::ChunkSource {
   public:
    AnomalySource(const GoldRunner& g, const std::vector<AnomalyRow>& rows) : g_(g), rows_(rows) {}
    const std::vector<lake::ColumnSpec>& columns() const override {
      static const auto kColumns = AnomalyColumns();
      return kColumns;
    }
    size_t Fill(lake::ChunkFiller& out) override {
      const size_t n = std::min(lake::ChunkFiller::Capacity(), rows_.size() - pos_);
      for (size_t r = 0; r < n; ++r) {
        const AnomalyRow& a = rows_[pos_ + r];
        out.Column<int64_t>(0)[r] = a.ts;
        out.SetString(1, r, g_.devices_.values[a.device]);
        if (a.location == 0) out.SetNull(2, r);
        else out.SetString(2, r, g_.locations_.values[a.location]);
        out.SetString(3, r, g_.metrics_[a.metric]);
        out.Column<double>(4)[r] = a.value;
        out.Column<double>(5)[r] = a.mean;
        out.Column<double>(6)[r] = a.std;
        if (!std::isfinite(a.std)) out.SetNull(6, r);
        out.Column<int64_t>(7)[r] = a.n;
        out.Column<double>(8)[r] = a.z;
        out.Column<double>(9)[r] = a.threshold;
        out.SetString(10, r, g_.detectors_[a.detector]);
        out.Column<int32_t>(11)[r] = 1;
        out.SetString(12, r, a.explanation);
      }
      pos_ += n;
      return n;
    }

   private:
    const GoldRunner& g_;
    const std::vector<AnomalyRow>& rows_;
    size_t pos_ = 0;
  };

  class SummarySource final : public lake::ChunkSource {
   public:
    SummarySource(const GoldRunner& g, TimestampUs hour) : g_(g), hour_(hour) {}
    const std::vector<lake::ColumnSpec>& columns() const override {
      static const auto kColumns = SummaryColumns();
      return kColumns;
    }
    size_t Fill(lake::ChunkFiller& out) override {
      const size_t nm = g_.metrics_.size();
      const size_t n = std::min(lake::ChunkFiller::Capacity(), g_.touched_.size() - pos_);
      for (size_t r = 0; r < n; ++r) {
        const uint32_t idx = g_.touched_[pos_ + r];
        const SummaryCell& c = g_.cells_[idx];
        out.Column<int64_t>(0)[r] = hour_;
        out.SetString(1, r, g_.devices_.values[idx / nm]);
        if (c.location == 0) out.SetNull(2, r);
        else out.SetString(2, r, g_.locations_.values[c.location]);
        out.SetString(3, r, g_.metrics_[idx % nm]);
        out.Column<int64_t>(4)[r] = c.stats.n;
        out.Column<int64_t>(5)[r] = c.anomalies;
        const double values[] = {c.stats.mean, c.stats.SampleStd(), c.stats.min, c.stats.max};
        for (int k = 0; k < 4; ++k) {
          out.Column<double>(6 + k)[r] = values[k];
          if (c.stats.n == 0 || !std::isfinite(values[k])) out.SetNull(6 + k, r);
        }
      }
      pos_ += n;
      return n;
    }

   private:
    const GoldRunner& g_;
    TimestampUs hour_;
    size_t pos_ = 0;
  };

  static std::vector<lake::ColumnSpec> AnomalyColumns() {
    return {{"event_time", DUCKDB_TYPE_TIMESTAMP_TZ}, {"device_id", DUCKDB_TYPE_VARCHAR},
            {"location", DUCKDB_TYPE_VARCHAR},        {"metric", DUCKDB_TYPE_VARCHAR},
            {"value", DUCKDB_TYPE_DOUBLE},            {"baseline_mean", DUCKDB_TYPE_DOUBLE},
            {"baseline_std", DUCKDB_TYPE_DOUBLE},     {"baseline_n", DUCKDB_TYPE_BIGINT},
            {"z", DUCKDB_TYPE_DOUBLE},                {"threshold", DUCKDB_TYPE_DOUBLE},
            {"detector", DUCKDB_TYPE_VARCHAR},        {"detector_version", DUCKDB_TYPE_INTEGER},
            {"explanation", DUCKDB_TYPE_VARCHAR}};
  }
  static std::vector<lake::ColumnSpec> SummaryColumns() {
    return {{"hour_start", DUCKDB_TYPE_TIMESTAMP_TZ}, {"device_id", DUCKDB_TYPE_VARCHAR},
            {"location", DUCKDB_TYPE_VARCHAR},        {"metric", DUCKDB_TYPE_VARCHAR},
            {"rows", DUCKDB_TYPE_BIGINT},             {"anomalies", DUCKDB_TYPE_BIGINT},
            {"mean", DUCKDB_TYPE_DOUBLE},             {"std", DUCKDB_TYPE_DOUBLE},
            {"min", DUCKDB_TYPE_DOUBLE},              {"max", DUCKDB_TYPE_DOUBLE}};
  }

  Status DiscoverMetrics(const std::vector<std::string>& silver_paths) {
    silver_sql_ = fmt::format("read_parquet({}, union_by_name = true)", lake::SqlList(silver_paths));
    IOTAD_ASSIGN_OR_RETURN(auto result, session_.Query(fmt::format("DESCRIBE SELECT * FROM {}", silver_sql_)));
    IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
    while (chunk) {
      const auto* names = chunk.Data<duckdb_string_t>(0);
      const auto* types = chunk.Data<duckdb_string_t>(1);
      for (size_t r = 0; r < chunk.size(); ++r) {
        const std::string name(lake::DuckChunk::StringAt(names, r));
        if (lake::DuckChunk::StringAt(types, r) != "DOUBLE") continue;
        if (std::find(std::begin(kHourColumns), std::end(kHourColumns), std::string_view(name)) != std::end(kHourColumns)) continue;
        metrics_.push_back(name);
      }
      IOTAD_ASSIGN_OR_RETURN(chunk, result.Next());
    }
    for (const auto& d : detectors_) {
      thresholds_.push_back(d == ZScoreDetector::kName ? zscore_.threshold() : robust_.threshold());
    }
    return Status::Ok();
  }

  uint32_t DeviceIndex(std::string_view d) {
    const uint32_t dev = devices_.Intern(d);
    const size_t need = (dev + 1) * metrics_.size();
    if (cells_.size() < need) cells_.resize(need);
    if (use_zscore_ && zbase_.size() < need) zbase_.resize(need);
    if (use_robust_ && rbase_.size() < need) rbase_.resize(need);
    return dev;
  }

  /// mean and sample std per device and metric over all silver. Welford in a fixed order (hour by
  /// hour, file by file), not a parallel SQL aggregate: the sums of a parallel aggregate depend
  /// on thread timing, and a re-run must give the very same baselines, bit for bit.
  Status FitZScore(const std::map<TimestampUs, std::vector<std::string>>& hours) {
    if (metrics_.empty()) return Status::Ok();
    const size_t nm = metrics_.size();
    std::vector<MomentStats> stats;
    for (const auto& [hour, keys] : hours) {
      std::vector<std::string> paths;
      for (const auto& k : keys) paths.push_back(lake_.store().ReadPath(k));
      // Columns by name: a metric missing from every file of this hour reads NULL.
      IOTAD_ASSIGN_OR_RETURN(auto result, session_.Query(fmt::format(
                                              "SELECT * FROM read_parquet({}, union_by_name = true)", lake::SqlList(paths))));
      int dev_col = -1;
      std::vector<int> metric_col(nm, -1);
      for (size_t c = 0; c < result.ColumnCount(); ++c) {
        const std::string name = result.ColumnName(c);
        if (name == "device_id") dev_col = static_cast<int>(c);
        for (size_t m = 0; m < nm; ++m) {
          if (metrics_[m] == name) metric_col[m] = static_cast<int>(c);
        }
      }
      if (dev_col < 0) return Error(Errc::kCorrupt, "gold: silver hour {} lacks device_id", FormatTimestamp(hour));
      std::string last_device;
      uint32_t dev = 0;
      while (true) {
        IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
        if (!chunk) break;
        const auto* devs = chunk.Data<duckdb_string_t>(static_cast<size_t>(dev_col));
        const size_t n = chunk.size();
        // Device runs: silver files are sorted by device, so each run updates one stats row.
        size_t start = 0;
        while (start < n) {
          const std::string_view d = lake::DuckChunk::StringAt(devs, start);
          if (d != last_device) {
            last_device.assign(d);
            dev = DeviceIndex(d);
            if (stats.size() < (dev + 1) * nm) stats.resize((dev + 1) * nm);
          }
          size_t end = start + 1;
          while (end < n && lake::DuckChunk::StringAt(devs, end) == d) ++end;
          for (size_t m = 0; m < nm; ++m) {
            if (metric_col[m] < 0) continue;
            const double* v = chunk.Data<double>(static_cast<size_t>(metric_col[m]));
            const uint64_t* valid = chunk.Validity(static_cast<size_t>(metric_col[m]));
            MomentStats& st = stats[dev * nm + m];
            for (size_t r = start; r < end; ++r) {
              if (lake::DuckChunk::IsValid(valid, r)) st.Add(v[r]);
            }
          }
          start = end;
        }
      }
    }
    for (size_t i = 0; i < stats.size(); ++i) {
      zbase_[i] = ZScoreBaseline{stats[i].n, stats[i].n > 0 ? stats[i].mean : 0.0, stats[i].SampleStd()};
    }
    return Status::Ok();
  }

  /// median and MAD per device and metric. Median needs every value of a series in memory, so
  /// above gold.max_baseline_points the devices are split into hash buckets done one by one.
  Status FitRobust() {
    if (metrics_.empty()) return Status::Ok();
    IOTAD_ASSIGN_OR_RETURN(int64_t rows, session_.QueryInt(fmt::format("SELECT count(*) FROM {}", silver_sql_)));
    const int64_t points = rows * static_cast<int64_t>(metrics_.size());
    const int64_t buckets = std::max<int64_t>(1, (points + lake_.config().gold.max_baseline_points - 1) /
                                                     lake_.config().gold.max_baseline_points);
    const size_t nm = metrics_.size();
    std::string sel, med, mad, group;
    for (size_t m = 0; m < nm; ++m) {
      const auto q = lake::SqlIdent(metrics_[m]);
      sel += fmt::format(", {}", q);
      med += fmt::format(", median({0}) AS med_{1}, count({0}) AS n_{1}", q, m);
      mad += fmt::format(", med.med_{1}, median(abs(s.{0} - med.med_{1})), med.n_{1}", q, m);
      group += fmt::format(", med.med_{0}, med.n_{0}", m);
    }
    for (int64_t b = 0; b < buckets; ++b) {
      const std::string where = buckets > 1 ? fmt::format(" WHERE hash(device_id) % {} = {}", buckets, b) : "";
      IOTAD_ASSIGN_OR_RETURN(
          auto result,
          session_.Stream(fmt::format(
              "WITH s AS (SELECT device_id{0} FROM {1}{2}), "
              "med AS (SELECT device_id{3} FROM s GROUP BY device_id) "
              "SELECT s.device_id{4} FROM s JOIN med USING (device_id) GROUP BY s.device_id{5}",
              sel, silver_sql_, where, med, mad, group)));
      while (true) {
        IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
        if (!chunk) break;
        const auto* devs = chunk.Data<duckdb_string_t>(0);
        for (size_t r = 0; r < chunk.size(); ++r) {
          const uint32_t dev = DeviceIndex(lake::DuckChunk::StringAt(devs, r));
          for (size_t m = 0; m < nm; ++m) {
            RobustBaseline& rb = rbase_[dev * nm + m];
            const bool ok = lake::DuckChunk::IsValid(chunk.Validity(1 + 3 * m), r) &&
                            lake::DuckChunk::IsValid(chunk.Validity(2 + 3 * m), r);
            rb.median = ok ? chunk.Data<double>(1 + 3 * m)[r] : 0.0;
            rb.mad = ok ? chunk.Data<double>(2 + 3 * m)[r] : 0.0;
            rb.n = chunk.Data<int64_t>(3 + 3 * m)[r];
          }
        }
      }
    }
    return Status::Ok();
  }

  /// Publishes `local` under `final_key` via staging unless an identical file is already there.
  Status Stage(const std::string& final_key, const std::filesystem::path& local) {
    const std::string staged = lake::Lake::StagingPrefix(run_id_) + final_key;
    IOTAD_TRY(lake_.store().PutFile(staged, local));
    IOTAD_FAULT_POINT("gold.after_stage_file");
    moves_.emplace_back(staged, final_key);
    return Status::Ok();
  }

  Status WriteAnomalies(TimestampUs hour, std::vector<AnomalyRow>& rows, GoldReport& report) {
    if (rows.empty()) return Status::Ok();
    std::sort(rows.begin(), rows.end(), [&](const AnomalyRow& a, const AnomalyRow& b) {
      const int c = devices_.values[a.device].compare(devices_.values[b.device]);
      if (c != 0) return c < 0;
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.metric != b.metric) return a.metric < b.metric;
      return a.detector < b.detector;
    });
    ContentHasher h;
    for (const auto& a : rows) {
      HashField(h, &a.ts, sizeof a.ts);
      HashString(h, devices_.values[a.device]);
      HashString(h, locations_.values[a.location]);
      HashString(h, metrics_[a.metric]);
      for (double v : {a.value, a.mean, a.std, a.z, a.threshold}) HashField(h, &v, sizeof v);
      HashField(h, &a.n, sizeof a.n);
      HashString(h, detectors_[a.detector]);
      HashString(h, a.explanation);
    }
    const std::string name = fmt::format("anomalies-{}.parquet", h.Finish().Hex().substr(0, 20));
    const std::string final_key = fmt::format("{}{}/{}", lake::kGoldPrefix, lake::HourPartition(hour), name);
    produced_.insert(final_key);
    if (existing_.count(final_key) > 0) {
      ++report.files_unchanged;
      return Status::Ok();
    }
    IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
    const auto local = scratch / name;
    AnomalySource source(*this, rows);
    IOTAD_TRY(lake::WriteParquet(session_, source, local));
    ++report.files_written;
    return Stage(final_key, local);
  }

  Status WriteSummary(TimestampUs hour, GoldReport& report) {
    if (touched_.empty()) return Status::Ok();
    const size_t nm = metrics_.size();
    std::sort(touched_.begin(), touched_.end(), [&](uint32_t a, uint32_t b) {
      const int c = devices_.values[a / nm].compare(devices_.values[b / nm]);
      if (c != 0) return c < 0;
      return a % nm < b % nm;
    });
    ContentHasher h;
    for (uint32_t idx : touched_) {
      const SummaryCell& c = cells_[idx];
      HashString(h, devices_.values[idx / nm]);
      HashString(h, locations_.values[c.location]);
      HashString(h, metrics_[idx % nm]);
      const double std = c.stats.SampleStd();
      for (double v : {c.stats.mean, std, c.stats.min, c.stats.max}) HashField(h, &v, sizeof v);
      HashField(h, &c.rows, sizeof c.rows);
      HashField(h, &c.anomalies, sizeof c.anomalies);
    }
    const std::string name = fmt::format("summary-{}.parquet", h.Finish().Hex().substr(0, 20));
    const std::string final_key = fmt::format("{}{}/{}", lake::kGoldSummaryPrefix, lake::HourPartition(hour), name);
    produced_.insert(final_key);
    report.summary_rows += static_cast<int64_t>(touched_.size());
    const bool unchanged = existing_.count(final_key) > 0;
    if (!unchanged) {
      IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
      const auto local = scratch / name;
      SummarySource source(*this, hour);
      IOTAD_TRY(lake::WriteParquet(session_, source, local));
      ++report.files_written;
      IOTAD_TRY(Stage(final_key, local));
    }
    for (uint32_t idx : touched_) cells_[idx] = SummaryCell{};
    touched_.clear();
    if (unchanged) ++report.files_unchanged;
    return Status::Ok();
  }

  lake::Lake& lake_;
  lake::DuckSession& session_;
  std::vector<std::string> detectors_;
  std::vector<double> thresholds_;
  std::vector<bool> is_zscore_;  // per detector: zscore, else robust_zscore (no string compare per value)
  std::string run_id_;
  ZScoreDetector zscore_;
  RobustZScoreDetector robust_;
  bool use_zscore_ = false;
  bool use_robust_ = false;
  std::string silver_sql_;
  std::vector<std::string> metrics_;
  Strings devices_;
  Strings locations_;
  std::vector<ZScoreBaseline> zbase_;
  std::vector<RobustBaseline> rbase_;
  std::vector<SummaryCell> cells_;
  std::vector<uint32_t> touched_;
  std::set<std::string> existing_;
  std::set<std::string> produced_;
  std::vector<std::pair<std::string, std::string>> moves_;
};

std::string Fingerprint(const config::GoldConfig& g, const std::vector<std::string>& detectors) {
  return fmt::format("zscore/v{} robust_zscore/v{} detectors={} z={} robust={} min_points={}",
                     ZScoreDetector::kVersion, RobustZScoreDetector::kVersion, fmt::join(detectors, ","),
                     g.zscore_threshold, g.robust_threshold, g.min_points);
}

}  // namespace

Result<GoldReport> RunGold(lake::Lake& lake, const GoldOptions& options, const std::string& run_id) {
  const auto t0 = std::chrono::steady_clock::now();
  GoldReport report;
  std::vector<std::string> detectors = options.detectors.empty() ? lake.config().gold.detectors : options.detectors;
  for (const auto& d : detectors) {
    if (d != ZScoreDetector::kName && d != RobustZScoreDetector::kName) {
      return Error(Errc::kInvalidArgument, "gold: unknown detector '{}' (known: zscore, robust_zscore)", d);
    }
  }
  if (detectors.empty()) return Error(Errc::kInvalidArgument, "gold: no detector chosen");
  const std::string fingerprint = Fingerprint(lake.config().gold, detectors);

  IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits());
  int64_t silver_seq = 0;
  std::string last_gold_meta;
  for (const auto& c : commits) {
    if (c.stage == "silver") silver_seq = c.seq;
    if (c.stage == "gold") last_gold_meta = c.meta_json;
  }
  const std::string state = fmt::format("\"silver_seq\":{},\"fingerprint\":\"{}\"", silver_seq, fingerprint);
  if (!options.rebuild && !last_gold_meta.empty() && last_gold_meta.find(state) != std::string::npos) {
    report.up_to_date = true;
    return report;
  }

  IOTAD_ASSIGN_OR_RETURN(auto silver_files, lake.store().List(lake::kSilverPrefix));
  std::map<TimestampUs, std::vector<std::string>> hours;
  std::vector<std::string> all_paths;
  for (const auto& o : silver_files) {
    if (o.key.size() < 8 || o.key.compare(o.key.size() - 8, 8, ".parquet") != 0) continue;
    if (auto h = lake::HourFromKey(o.key)) {
      hours[*h].push_back(o.key);
      all_paths.push_back(lake.store().ReadPath(o.key));
    }
  }
  std::set<std::string> existing;
  for (auto prefix : {lake::kGoldPrefix, lake::kGoldSummaryPrefix}) {
    IOTAD_ASSIGN_OR_RETURN(auto files, lake.store().List(prefix));
    for (const auto& o : files) existing.insert(o.key);
  }

  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(/*with_views=*/false));
  GoldRunner runner(lake, *session, detectors, run_id);
  runner.SetExisting(existing);
  if (!all_paths.empty()) {
    IOTAD_TRY(runner.Run(all_paths, hours, report));
    for (const auto& [hour, keys] : hours) IOTAD_TRY(runner.ScoreHour(hour, keys, report));
  }
  report.hours = static_cast<int64_t>(hours.size());

  lake::Commit commit;
  commit.stage = "gold";
  commit.run_id = run_id;
  commit.moves = std::move(runner.moves());
  for (const auto& key : existing) {
    if (runner.produced().count(key) == 0) commit.deletes.push_back(key);
  }
  report.files_deleted = static_cast<int64_t>(commit.deletes.size());
  JsonWriter rest;
  rest.BeginObject().Key("fingerprint").String(fingerprint).Key("rows_scanned").Int(report.rows_scanned)
      .Key("summary_rows").Int(report.summary_rows).Key("anomalies").BeginObject();
  for (const auto& [d, n] : report.anomalies) rest.Key(d).Int(n);
  rest.EndObject().EndObject();
  // {"silver_seq":N,"fingerprint":"...",...}: written so the up-to-date check can match the pair.
  commit.meta_json = fmt::format("{{\"silver_seq\":{},{}", silver_seq, rest.str().substr(1));
  IOTAD_FAULT_POINT("gold.before_commit");
  IOTAD_ASSIGN_OR_RETURN(report.commit_seq, lake.Publish(std::move(commit)));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::pipeline
