// Gold's scoring: each thread scores whole hours into its own local state (ScoreContext),
// reading the global state only, and writes and stages the hour's anomalies and summary files.
#include <algorithm>
#include <tuple>

#include "iotad/core/fault.h"
#include "iotad/detect/detector.h"
#include "iotad/lake/parquet_writer.h"
#include "iotad/lake/schema.h"
#include "iotad/pipeline/gold_internal.h"

namespace iotad::pipeline::gold_internal {
namespace {

class AnomalySource final : public lake::ChunkSource {
 public:
  AnomalySource(const GoldState& state, const GoldPlan& plan, const ScoreContext& ctx, const std::vector<AnomalyRow>& rows)
      : state_(state), plan_(plan), ctx_(ctx), rows_(rows) {}
  const std::vector<lake::ColumnSpec>& columns() const override {
    static const auto kColumns = lake::ColumnSpecs(lake::kAnomalyColumns);
    return kColumns;
  }
  size_t Fill(lake::ChunkFiller& out) override {
    const size_t n = std::min(lake::ChunkFiller::Capacity(), rows_.size() - pos_);
    using C = lake::AnomalyCol;
    for (size_t r = 0; r < n; ++r) {
      const AnomalyRow& a = rows_[pos_ + r];
      out.Column<int64_t>(C::kEventTime)[r] = a.ts;
      out.SetString(C::kDeviceId, r, state_.device_names[a.device]);
      if (a.location == 0) out.SetNull(C::kLocation, r);
      else out.SetString(C::kLocation, r, ctx_.locations.Get(a.location));
      out.SetString(C::kMetric, r, state_.metrics[a.metric]);
      out.SetDouble(C::kValue, r, a.value);
      out.SetDouble(C::kBaselineMean, r, a.mean);
      out.SetDouble(C::kBaselineStd, r, a.std);
      out.Column<int64_t>(C::kBaselineN)[r] = a.n;
      out.SetDouble(C::kZ, r, a.z);
      out.SetDouble(C::kThreshold, r, a.threshold);
      out.SetString(C::kDetector, r, plan_.detectors[a.detector]);
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
  const GoldState& state_;
  const GoldPlan& plan_;
  const ScoreContext& ctx_;
  const std::vector<AnomalyRow>& rows_;
  size_t pos_ = 0;
};

class SummarySource final : public lake::ChunkSource {
 public:
  SummarySource(const GoldState& state, const GoldPlan& plan, const ScoreContext& ctx, TimestampUs hour)
      : state_(state), plan_(plan), ctx_(ctx), hour_(hour) {}
  const std::vector<lake::ColumnSpec>& columns() const override {
    static const auto kColumns = lake::ColumnSpecs(lake::kGoldSummaryColumns);
    return kColumns;
  }
  size_t Fill(lake::ChunkFiller& out) override {
    const size_t n = std::min(lake::ChunkFiller::Capacity(), ctx_.touched.size() - pos_);
    using C = lake::SummaryCol;
    for (size_t r = 0; r < n; ++r) {
      const uint32_t idx = ctx_.touched[pos_ + r];
      const SummaryCell& c = ctx_.cells[idx];
      const GoldSeries& se = state_.series[idx];
      const uint32_t location = ctx_.device_hours[se.device].location;
      out.Column<int64_t>(C::kHourStart)[r] = hour_;
      out.SetString(C::kDeviceId, r, state_.device_names[se.device]);
      if (location == 0) out.SetNull(C::kLocation, r);
      else out.SetString(C::kLocation, r, ctx_.locations.Get(location));
      out.SetString(C::kMetric, r, state_.metrics[se.metric]);
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
  const GoldState& state_;
  const GoldPlan& plan_;
  const ScoreContext& ctx_;
  TimestampUs hour_;
  size_t pos_ = 0;
};

}  // namespace

/// Scores one hour's silver files and stages its outputs (when they changed). Reads the hour one
/// column batch at a time and each metric column by column, so the work is the rows, the
/// values and the series, not rows x metrics.
Status GoldRunner::ScoreHour(ScoreContext& ctx, TimestampUs hour, const std::vector<std::string>& keys) {
  const std::vector<std::string> files = lake_.ReadPaths(keys);
  if (ctx.cells.size() < state_.series.size()) ctx.cells.resize(state_.series.size());
  if (ctx.device_hours.size() < state_.device_names.size()) ctx.device_hours.resize(state_.device_names.size());
  std::vector<AnomalyRow> anomalies;
  std::string last_location;
  uint32_t last_location_id = 0;
  std::vector<uint32_t> row_loc, series_of;
  // A series' batch detectors (zscore, robust_zscore), as its thresholds make them.
  struct ActiveDetector {
    uint32_t k = 0;
    const detect::BatchSettings* own = nullptr;  // the series' own settings, if a rule set them
    bool robust = false;
    ZScoreDetector zscore{0.0, 0};
    RobustZScoreDetector robust_z{0.0, 0};
  };
  std::vector<ActiveDetector> active;
  GoldReport& report = ctx.report;
  const size_t nd = plan_.detectors.size();
  for (const auto& [begin, end] : ColumnBatches(state_.metrics.size())) {
    const bool first_batch = begin == 0;
    IOTAD_ASSIGN_OR_RETURN(auto stream, lake::ScanSilverFiles(*ctx.session, files,
                                                              SilverColumnNames(state_.metrics, begin, end)));
    lake::ChunkStream& result = *stream;
    IOTAD_ASSIGN_OR_RETURN(const SilverColumns layout, FindSilverColumns(result, files, state_.metrics, begin, end));
    if (layout.ts < 0 || layout.device < 0) {
      return Error(Errc::kCorrupt, "gold: silver hour {} lacks event_time or device_id", FormatTimestamp(hour));
    }
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
      if (!chunk) break;
      const size_t n = chunk.size();
      const SilverRows silver = SilverRowsOf(chunk, layout);
      const int64_t* ts = silver.ts;
      const lake::DuckStrings& devs = silver.devices;
      std::vector<DeviceRun> runs;
      Status unknown = Status::Ok();
      DeviceRuns(devs, n, [&](size_t a, size_t b, std::string_view d) {
        auto it = state_.device_index.find(d);
        if (it == state_.device_index.end()) {
          if (unknown.ok()) unknown = Error(Errc::kCorrupt, "gold: device '{}' appeared in silver while gold was running", d);
          return;
        }
        runs.emplace_back(a, b, it->second);
      });
      IOTAD_TRY(unknown);
      row_loc.assign(n, 0);
      for (size_t r = 0; r < n; ++r) {
        const std::string_view l = silver.LocationAt(r);
        if (l.empty()) continue;
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
      // Each run's series (a value of a series pass 1 did not see means silver changed), then
      // the hour's statistics, all metrics of a run side by side, then the batch detectors.
      const size_t ncols = layout.metric.size();
      series_of.assign(runs.size() * ncols, kNoSeries);
      IOTAD_TRY(AddRunMoments(
          chunk, layout.metric, runs,
          [&](size_t i, size_t j, size_t values) -> Result<uint32_t> {
            const uint32_t dev = std::get<2>(runs[i]);
            const uint32_t id = state_.SeriesOf(dev, begin + j);
            if (id == kNoSeries) {
              return Error(Errc::kCorrupt, "gold: silver changed while gold was running (device '{}', metric '{}')",
                           state_.device_names[dev], state_.metrics[begin + j]);
            }
            series_of[i * ncols + j] = id;
            report.values_scored += static_cast<int64_t>(values);
            return id;
          },
          [&](uint32_t id) { return &ctx.cells[id].stats; }));
      if (!plan_.use_batch) continue;
      for (size_t j = 0; j < ncols; ++j) {
        if (layout.metric[j] < 0) continue;
        const size_t m = begin + j;
        const double* vals = chunk.Data<double>(static_cast<size_t>(layout.metric[j]));
        const uint64_t* valid = chunk.Validity(static_cast<size_t>(layout.metric[j]));
        for (size_t i = 0; i < runs.size(); ++i) {
          const auto& [a, b, dev] = runs[i];
          const uint32_t id = series_of[i * ncols + j];
          if (id == kNoSeries) continue;
          SummaryCell& cell = ctx.cells[id];
          // The run's batch detectors, resolved once, not per value: most values flag nothing.
          active.clear();
          for (uint32_t k = 0; k < nd; ++k) {
            if (plan_.kinds[k] == DetectorKind::kOnline) continue;  // replayed before (ReplayOnline)
            if (!plan_.all_named && !state_.batch_use[id * nd + k]) continue;
            // The series' own threshold and warm-up when a rule's params set them.
            const detect::BatchSettings* own = state_.batch_settings.empty() ? nullptr : &state_.batch_settings[id * nd + k];
            ActiveDetector& ad = active.emplace_back();
            ad.k = k;
            ad.own = own;
            ad.robust = plan_.kinds[k] != DetectorKind::kZScore;
            ad.zscore = own != nullptr ? ZScoreDetector(own->threshold, own->min_points) : plan_.zscore;
            ad.robust_z = own != nullptr ? RobustZScoreDetector(own->threshold, own->min_points) : plan_.robust;
          }
          if (active.empty()) continue;
          const ZScoreBaseline& zb = state_.zbase[id];
          const RobustBaseline& rb = state_.rbase[id];
          // Values where none of the run's detectors can flag skip them all (most values).
          QuietBand quiet = QuietBand::All();
          for (const ActiveDetector& ad : active) quiet = quiet.And(ad.robust ? ad.robust_z.Quiet(rb) : ad.zscore.Quiet(zb));
          ValidRows(valid, a, b, [&](size_t r) {
            const double x = vals[r];
            if (quiet.Inside(x)) return;
            for (const ActiveDetector& ad : active) {
              if (!(ad.robust ? ad.robust_z.Score(rb, x) : ad.zscore.Score(zb, x)).flagged) continue;
              const uint32_t k = ad.k;
              detect::Verdict v;
              double mean, sd;
              int64_t cnt;
              std::string why;
              const double threshold = ad.own != nullptr ? ad.own->threshold : plan_.thresholds[k];
              if (!ad.robust) {
                v = ad.zscore.Score(zb, x);
                mean = zb.mean, sd = zb.std, cnt = zb.n;
                why = ad.zscore.Explain(state_.metrics[m], x, zb, v);
              } else {
                v = ad.robust_z.Score(rb, x);
                // Explanation columns: the robust baseline as center and scale (MAD / 0.6745 is
                // the std a normal distribution with that MAD would have).
                mean = rb.median, sd = rb.mad / RobustZScoreDetector::kConsistency, cnt = rb.n;
                why = ad.robust_z.Explain(state_.metrics[m], x, rb, v);
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
        }
      }
    }
  }
  if (auto it = state_.online.find(hour); it != state_.online.end()) {
    for (PendingAnomaly& p : it->second) {
      AnomalyRow& a = anomalies.emplace_back(std::move(p.row));
      a.location = p.location.empty() ? 0 : ctx.locations.Intern(p.location);
      const uint32_t id = state_.SeriesOf(a.device, a.metric);
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
std::string GoldRunner::OutputName(std::string_view layer, TimestampUs hour, ContentHasher& h) {
  HashField(h, &hour, sizeof hour);
  const CivilTime c = ToCivil(hour);
  return fmt::format("{}-{:04d}{:02d}{:02d}T{:02d}-{}.parquet", layer, c.year, c.month, c.day, c.hour,
                     h.Finish().Hex().substr(0, 20));
}

/// Where a thread writes an output before staging it: unique per run, thread and object (the
/// scratch folder is shared by every writer of the lake).
Result<std::filesystem::path> GoldRunner::ScratchFile(const ScoreContext& ctx, std::string_view name) {
  IOTAD_ASSIGN_OR_RETURN(auto scratch, lake_.store().ScratchDir());
  return scratch / fmt::format("gold-{}-t{}-{}", run_id_, ctx.index, name);
}

/// Publishes `local` under `final_key` through staging.
Status GoldRunner::Stage(ScoreContext& ctx, const std::string& final_key, const std::filesystem::path& local) {
  const std::string staged = lake::Lake::StagingPrefix(run_id_) + final_key;
  IOTAD_TRY(lake_.store().PutFile(staged, local));
  IOTAD_FAULT_POINT("gold.after_stage_file");
  ctx.moves.emplace_back(staged, final_key);
  return Status::Ok();
}

Status GoldRunner::WriteAnomalies(ScoreContext& ctx, TimestampUs hour, std::vector<AnomalyRow>& rows) {
  if (rows.empty()) return Status::Ok();
  std::sort(rows.begin(), rows.end(), [&](const AnomalyRow& a, const AnomalyRow& b) {
    const int c = state_.device_names[a.device].compare(state_.device_names[b.device]);
    if (c != 0) return c < 0;
    if (a.ts != b.ts) return a.ts < b.ts;
    if (a.metric != b.metric) return a.metric < b.metric;
    return a.detector < b.detector;
  });
  ContentHasher h;
  for (const auto& a : rows) {
    HashField(h, &a.ts, sizeof a.ts);
    HashString(h, state_.device_names[a.device]);
    HashString(h, ctx.locations.Get(a.location));
    HashString(h, state_.metrics[a.metric]);
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
  if (state_.existing.count(final_key) > 0) {
    ++ctx.report.files_unchanged;
    return Status::Ok();
  }
  IOTAD_ASSIGN_OR_RETURN(const auto local, ScratchFile(ctx, name));
  AnomalySource source(state_, plan_, ctx, rows);
  IOTAD_TRY(lake::WriteParquet(*ctx.session, source, local));
  ++ctx.report.files_written;
  return Stage(ctx, final_key, local);
}

/// The hour's summary: a row per series of each device with rows in the hour (its metrics with
/// a value somewhere in silver), by device name and metric.
Status GoldRunner::WriteSummary(ScoreContext& ctx, TimestampUs hour) {
  std::sort(ctx.touched_devices.begin(), ctx.touched_devices.end(),
            [&](uint32_t a, uint32_t b) { return state_.device_names[a] < state_.device_names[b]; });
  ctx.touched.clear();
  for (uint32_t dev : ctx.touched_devices) {
    ctx.touched.insert(ctx.touched.end(), state_.device_series[dev].begin(), state_.device_series[dev].end());
  }
  Status st = WriteSummaryFile(ctx, hour);
  for (uint32_t idx : ctx.touched) ctx.cells[idx] = SummaryCell{};
  for (uint32_t dev : ctx.touched_devices) ctx.device_hours[dev] = DeviceHour{};
  ctx.touched.clear();
  ctx.touched_devices.clear();
  return st;
}

Status GoldRunner::WriteSummaryFile(ScoreContext& ctx, TimestampUs hour) {
  if (ctx.touched.empty()) return Status::Ok();
  ContentHasher h;
  for (uint32_t idx : ctx.touched) {
    const SummaryCell& c = ctx.cells[idx];
    const DeviceHour& dh = ctx.device_hours[state_.series[idx].device];
    HashString(h, state_.device_names[state_.series[idx].device]);
    HashString(h, ctx.locations.Get(dh.location));
    HashString(h, state_.metrics[state_.series[idx].metric]);
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
  if (state_.existing.count(final_key) > 0) {
    ++ctx.report.files_unchanged;
  } else {
    IOTAD_ASSIGN_OR_RETURN(const auto local, ScratchFile(ctx, name));
    SummarySource source(state_, plan_, ctx, hour);
    IOTAD_TRY(lake::WriteParquet(*ctx.session, source, local));
    ++ctx.report.files_written;
    IOTAD_TRY(Stage(ctx, final_key, local));
  }
  return Status::Ok();
}

}  // namespace iotad::pipeline::gold_internal
