// Gold's baselines: the phases that fill the global state before the hours are scored (silver's
// metrics, pass 1's devices, series and moments, the robust baselines, the online detectors'
// flags, the batch plan of each series).
#include <algorithm>
#include <atomic>
#include <tuple>

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
  const size_t per_thread = (state_.hours.size() + contexts_.size() - 1) / contexts_.size();
  const auto batches = ColumnBatches(state_.metrics.size());
  std::atomic<size_t> next_context{0};
  IOTAD_TRY(OnThreads([&](ScoreContext& ctx) -> Status {
    const size_t t = next_context++;
    Partial& part = partials[t];
    std::vector<uint32_t> run_dev;
    for (size_t i = t * per_thread; i < std::min(state_.hours.size(), (t + 1) * per_thread); ++i) {
      const std::string files = lake::SqlList(lake_.ReadPaths(state_.hours[i].second));
      for (const auto& [begin, end] : batches) {
        IOTAD_ASSIGN_OR_RETURN(auto result, ctx.session->Query(fmt::format(
                                                "SELECT {} FROM read_parquet({}, union_by_name = true)",
                                                SilverProjection(state_.metrics, begin, end), files)));
        const SilverColumns layout = FindSilverColumns(result, state_.metrics, begin, end);
        if (layout.device < 0) return Error(Errc::kCorrupt, "gold: a silver file lacks device_id");
        while (true) {
          IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
          if (!chunk) break;
          const lake::DuckStrings devs = chunk.Strings(static_cast<size_t>(layout.device));
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

/// median and MAD per series (exact, from DuckDB's median), kRobustColumns metrics per query
/// so no query's aggregate row grows with the number of metrics (thousands of median states in
/// one row crashed DuckDB). Median needs every value of a series in memory, so above
/// gold.max_baseline_points cells in a batch the devices go in hash buckets.
constexpr size_t kRobustColumns = 256;
Status GoldRunner::FitRobust(const std::vector<std::string>& all_paths) {
  if (state_.metrics.empty()) return Status::Ok();
  lake::DuckSession& session = *contexts_[0].session;
  IOTAD_TRY(session.Exec("SET threads = 2"));
  const std::string silver = fmt::format("read_parquet({}, union_by_name = true)", lake::SqlList(all_paths));
  std::vector<int64_t> values(state_.metrics.size(), 0);
  for (size_t i = 0; i < state_.series.size(); ++i) values[state_.series[i].metric] += state_.zbase[i].n;
  const int64_t budget = plan_.max_baseline_points;
  const bool sparse = state_.metrics.size() > kRobustColumns;
  for (size_t begin = 0; begin < state_.metrics.size(); begin += kRobustColumns) {
    std::vector<uint32_t> ms;  // the batch's metrics with values
    int64_t batch_values = 0;
    for (size_t m = begin; m < std::min(state_.metrics.size(), begin + kRobustColumns); ++m) {
      if (values[m] == 0) continue;
      ms.push_back(static_cast<uint32_t>(m));
      batch_values += values[m];
    }
    if (ms.empty()) continue;
    std::string sel, any, med, mad;
    for (size_t j = 0; j < ms.size(); ++j) {
      const auto q = lake::SqlIdent(state_.metrics[ms[j]]);
      sel += fmt::format(", {}", q);
      any += fmt::format("{}{} IS NOT NULL", j == 0 ? "" : " OR ", q);
      med += fmt::format(", median({0}) AS med_{1}, count({0}) AS n_{1}", q, j);
      mad += fmt::format(", any_value(med.med_{1}), median(abs(s.{0} - med.med_{1})), any_value(med.n_{1})", q, j);
    }
    // With many sparse metrics only the rows with a value in the batch are read into it.
    const int64_t rows = sparse ? std::min(state_.total_rows, batch_values) : state_.total_rows;
    const int64_t points = rows * static_cast<int64_t>(sparse ? ms.size() : state_.metrics.size());
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
        const lake::DuckStrings devs = chunk.Strings(0);
        for (size_t r = 0; r < chunk.size(); ++r) {
          const uint32_t dev = state_.DeviceIndex(devs[r]);
          for (size_t j = 0; j < ms.size(); ++j) {
            const uint32_t id = state_.SeriesOf(dev, ms[j]);
            if (id == kNoSeries) continue;  // no value of this metric: n = 0 either way
            RobustBaseline& rb = state_.rbase[id];
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

/// Replays every series through the online detectors, one device at a time in time order
/// (ReplaySilver's buckets, the same path as `iotad eval --lake`), the buckets shared out over
/// both threads, each with its own session; the flags are then filed under their hours in bucket
/// order, so the outcome does not depend on which thread ran which bucket.
Status GoldRunner::ReplayOnline(const std::vector<std::string>& all_paths) {
  std::vector<std::string> names;  // the online detectors, in the order of plan_.detectors
  std::vector<uint32_t> index;     // their positions in plan_.detectors
  for (uint32_t k = 0; k < plan_.detectors.size(); ++k) {
    if (plan_.kinds[k] != DetectorKind::kOnline) continue;
    names.push_back(plan_.detectors[k]);
    index.push_back(k);
  }
  const SeriesPlanFn plan = PlanFromResolver(plan_.resolve, state_.metrics, names, plan_.all_named);
  // Two buckets sort at once: each gets half the memory budget.
  IOTAD_ASSIGN_OR_RETURN(int64_t buckets,
                         ReplayBucketCount(*contexts_[0].session, all_paths, state_.metrics.size(),
                                           std::max<int64_t>(1, plan_.max_baseline_points / kThreads)));
  buckets = std::max<int64_t>(buckets, kThreads);
  // The end of the data (silver is partitioned by event_time: its last hour holds it), with
  // which every series is ticked at its end: a device silent since is flagged.
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs end_us,
                         SilverEnd(*contexts_[0].session, state_.hours.empty() ? std::vector<std::string>{}
                                                                         : lake_.ReadPaths(state_.hours.back().second)));
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
                    *ctx.session, all_paths, state_.metrics, names, plan,
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
    for (const auto& d : bucket.devices) ids.push_back(state_.DeviceIndex(d));
    for (const Flag& f : bucket.flags) {
      AddOnline(ids[f.device], f.metric, index[f.detector], f.ts, f.value, f.score, f.version, f.location);
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
