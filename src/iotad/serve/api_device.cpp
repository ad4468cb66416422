// /api/devices, /api/device, /api/device/series, /api/device/quarantine. Silver and gold_summary
// are sorted by device within each file, so `device_id = ?` reads one row group per file.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "iotad/serve/api_internal.h"
#include "iotad/serve/api_sql.h"
#include "iotad/serve/summary_cache.h"

namespace iotad::serve {
namespace {

constexpr TimestampUs kAll = INT64_MAX / 4;

std::vector<const HourFile*> AllFiles(const LakeState& st, std::string_view layer) {
  return st.FilesIn(layer, -kAll, kAll);
}

Result<Response> Devices(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(auto q, ctx.params().One("q"));
  IOTAD_ASSIGN_OR_RETURN(int64_t limit, ctx.params().Int("limit", 50, 1, 500));
  IOTAD_TRY(ctx.params().Finish());
  const auto summary = AllFiles(ctx.state(), "gold_summary");
  const auto gold = AllFiles(ctx.state(), "gold");
  JsonWriter json;
  json.BeginObject().Key("devices").BeginArray();
  if (!summary.empty()) {
    sql::Where w;
    if (q) w.Add("starts_with(device_id, ?)", {*q});
    std::vector<lake::DuckParam> params = w.params;
    params.emplace_back(limit);
    const std::string sql = fmt::format(
        "WITH d AS (SELECT device_id, arg_max(location, hour_start) AS location FROM {gs} WHERE {w} GROUP BY device_id "
        "ORDER BY device_id LIMIT ?), a AS (SELECT device_id, count(*)::BIGINT AS n FROM {an} "
        "WHERE device_id IN (SELECT device_id FROM d) GROUP BY device_id) "
        "SELECT d.device_id, d.location, coalesce(a.n, 0)::BIGINT FROM d LEFT JOIN a USING (device_id) "
        "ORDER BY d.device_id",
        fmt::arg("gs", ctx.ReadParquet("gold_summary", summary)), fmt::arg("w", w.Sql()),
        fmt::arg("an", ctx.ReadParquet("gold", gold)));
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(sql, params, static_cast<int64_t>(summary.size() + gold.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      json.BeginObject();
      json.Key("device_id").String(c.Strings(0)[row]);
      json.Key("location");
      sql::OptString(json, sql::Str(c, 1, row));
      json.Key("anomalies").Int(sql::Int(c, 2, row).value_or(0));
      json.EndObject();
      return Status::Ok();
    }));
  }
  json.EndArray();
  ctx.WriteMeta(json, std::nullopt);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

/// Per metric of one device over all its hours (gold_summary), pooled.
struct MetricStats {
  std::string metric;
  int64_t n = 0;
  std::optional<double> mean, std;
  TimestampUs first_hour = 0, last_hour = 0;
};

Result<std::vector<MetricStats>> DeviceMetrics(Context& ctx, const std::string& id) {
  const auto summary = AllFiles(ctx.state(), "gold_summary");
  std::vector<MetricStats> out;
  if (summary.empty()) return out;
  SummaryStore& store = SummaryStoreOf(ctx.api());
  IOTAD_ASSIGN_OR_RETURN(auto parts, store.Parts(ctx, summary));
  if (parts) {
    // From the decoded summary partitions (summary_cache.h).
    ctx.AddFilesRead(static_cast<int64_t>(summary.size()));
    const int64_t device = store.devices.Find(id);
    if (device < 0) return out;
    struct Acc {
      int64_t n = 0;
      long double sx = 0, sxx = 0;
      TimestampUs first = INT64_MAX, last = INT64_MIN;
    };
    std::map<uint32_t, Acc> by_id;
    for (const auto& p : *parts) {
      for (size_t i = 0; i < p->size(); ++i) {
        if (p->device[i] != static_cast<uint32_t>(device)) continue;
        Acc& a = by_id[p->metric[i]];
        a.n += p->rows[i];
        if (!std::isnan(p->mean[i])) {
          const long double sd = std::isnan(p->std[i]) ? 0.0L : static_cast<long double>(p->std[i]);
          a.sx += static_cast<long double>(p->mean[i]) * p->rows[i];
          a.sxx += static_cast<long double>(p->rows[i] - 1) * sd * sd +
                   static_cast<long double>(p->rows[i]) * p->mean[i] * p->mean[i];
        }
        a.first = std::min(a.first, p->hour[i]);
        a.last = std::max(a.last, p->hour[i]);
      }
    }
    for (const auto& [metric, a] : by_id) {
      MetricStats m;
      m.metric = store.metrics.Name(metric);
      m.n = a.n;
      const long double n = static_cast<long double>(a.n);
      if (a.n > 0) m.mean = static_cast<double>(a.sx / n);
      if (a.n > 1) m.std = static_cast<double>(std::sqrt(std::max(0.0L, (a.sxx - a.sx * a.sx / n) / (n - 1))));
      m.first_hour = a.first;
      m.last_hour = a.last;
      out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const MetricStats& a, const MetricStats& b) { return a.metric < b.metric; });
    return out;
  }
  const std::string sql = fmt::format(
      "SELECT metric, sum(rows)::BIGINT AS n, sum(CASE WHEN mean IS NULL THEN 0 ELSE mean * rows END) AS sx, "
      "sum(CASE WHEN mean IS NULL THEN 0 ELSE (rows - 1) * coalesce(std, 0) * coalesce(std, 0) + rows * mean * mean "
      "END) AS sxx, min(epoch_us(hour_start))::BIGINT, max(epoch_us(hour_start))::BIGINT "
      "FROM {} WHERE device_id = ? GROUP BY metric ORDER BY metric",
      ctx.ReadParquet("gold_summary", summary));
  IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(sql, {id}, static_cast<int64_t>(summary.size())));
  IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
    MetricStats m;
    m.metric = std::string(c.Strings(0)[row]);
    m.n = sql::Int(c, 1, row).value_or(0);
    const double sx = sql::Dbl(c, 2, row).value_or(0), sxx = sql::Dbl(c, 3, row).value_or(0);
    if (m.n > 0) m.mean = sx / static_cast<double>(m.n);
    if (m.n > 1) m.std = std::sqrt(std::max(0.0, (sxx - sx * sx / static_cast<double>(m.n)) / static_cast<double>(m.n - 1)));
    m.first_hour = sql::Int(c, 4, row).value_or(0);
    m.last_hour = sql::Int(c, 5, row).value_or(0);
    out.push_back(std::move(m));
    return Status::Ok();
  }));
  return out;
}

Status NotFound(const std::string& id) {
  std::string shown = id.substr(0, 80);
  return Error(Errc::kNotFound, "no device '{}' in the lake", shown);
}

Result<Response> Device(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(std::string id, ctx.params().Required("id"));
  IOTAD_TRY(ctx.params().Finish());
  IOTAD_ASSIGN_OR_RETURN(auto metrics, DeviceMetrics(ctx, id));
  if (metrics.empty()) return NotFound(id);
  const auto summary = AllFiles(ctx.state(), "gold_summary");
  const auto silver = AllFiles(ctx.state(), "silver");
  const auto gold = AllFiles(ctx.state(), "gold");
  std::vector<std::optional<std::string>> locations;
  int64_t readings = 0, anomalies = 0;
  {
    const std::string sql = fmt::format(
        "SELECT 0, location, NULL::BIGINT FROM (SELECT DISTINCT location FROM {gs} WHERE device_id = ?) "
        "UNION ALL SELECT 1, NULL, (SELECT count(*) FROM {sv} WHERE device_id = ?)::BIGINT "
        "UNION ALL SELECT 2, NULL, (SELECT count(*) FROM {an} WHERE device_id = ?)::BIGINT ORDER BY 1, 2 NULLS LAST",
        fmt::arg("gs", ctx.ReadParquet("gold_summary", summary)), fmt::arg("sv", ctx.ReadParquet("silver", silver)),
        fmt::arg("an", ctx.ReadParquet("gold", gold)));
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(sql, {id, id, id},
                                                  static_cast<int64_t>(summary.size() + silver.size() + gold.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      const int32_t kind = c.Data<int32_t>(0)[row];
      if (kind == 0) locations.push_back(sql::Str(c, 1, row));
      if (kind == 1) readings = sql::Int(c, 2, row).value_or(0);
      if (kind == 2) anomalies = sql::Int(c, 2, row).value_or(0);
      return Status::Ok();
    }));
  }
  TimestampUs first = metrics.front().first_hour, last = metrics.front().last_hour;
  for (const auto& m : metrics) {
    first = std::min(first, m.first_hour);
    last = std::max(last, m.last_hour);
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("device_id").String(id);
  json.Key("locations").BeginArray();
  for (const auto& l : locations) sql::OptString(json, l);
  json.EndArray().Key("metrics").BeginArray();
  for (const auto& m : metrics) json.String(m.metric);
  json.EndArray();
  json.Key("first_hour").Timestamp(first);
  json.Key("last_hour").Timestamp(last);
  json.Key("readings").Int(readings);
  json.Key("anomalies").Int(anomalies);
  ctx.WriteMeta(json, std::nullopt);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

struct AnomalyRow {
  TimestampUs us = 0;
  std::string metric;
  std::optional<double> value, expected, lo, hi, mean, std, z, threshold, statistic;
  double score = 0;
  int64_t baseline_n = 0;
  std::optional<std::string> statistic_name;
  std::string detector, rule, explanation;
};

/// Indices of `values` kept when `points` must be cut to about `max_points`: per equal time
/// bucket the first, the smallest and the largest, plus every index in `keep`.
std::vector<size_t> Downsample(const std::vector<TimestampUs>& times, const std::vector<std::optional<double>>& values,
                               size_t max_points, const std::set<TimestampUs>& keep) {
  std::vector<size_t> out;
  const size_t buckets = std::max<size_t>(1, (max_points - std::min(max_points - 1, keep.size())) / 3);
  const TimestampUs t0 = times.front(), span = times.back() - times.front() + 1;
  size_t i = 0;
  while (i < times.size()) {
    const size_t b = static_cast<size_t>(static_cast<__int128>(times[i] - t0) * buckets / span);
    size_t j = i, lo = SIZE_MAX, hi = SIZE_MAX;
    for (; j < times.size() && static_cast<size_t>(static_cast<__int128>(times[j] - t0) * buckets / span) == b; ++j) {
      if (values[j]) {
        if (lo == SIZE_MAX || *values[j] < *values[lo]) lo = j;
        if (hi == SIZE_MAX || *values[j] > *values[hi]) hi = j;
      }
      if (keep.count(times[j]) != 0) out.push_back(j);
    }
    out.push_back(i);
    if (lo != SIZE_MAX) out.push_back(lo);
    if (hi != SIZE_MAX) out.push_back(hi);
    i = j;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<Response> Series(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(std::string id, ctx.params().Required("id"));
  IOTAD_ASSIGN_OR_RETURN(auto from, ctx.params().Time("from"));
  IOTAD_ASSIGN_OR_RETURN(auto to, ctx.params().Time("to"));
  IOTAD_ASSIGN_OR_RETURN(auto wanted, ctx.params().List("metric"));
  IOTAD_ASSIGN_OR_RETURN(int64_t max_points, ctx.params().Int("max_points", 5000, 10, 20000));
  IOTAD_TRY(ctx.params().Finish());
  if (from && to && *from >= *to) return Error(Errc::kInvalidArgument, "parameter 'from' must be before 'to'");
  if (from && to && *to - *from > kMaxRangeDays * kMicrosPerDay) {
    return Error(Errc::kInvalidArgument, "parameters 'from' and 'to' may be at most {} days apart", kMaxRangeDays);
  }
  IOTAD_ASSIGN_OR_RETURN(auto metrics, DeviceMetrics(ctx, id));
  if (metrics.empty()) return NotFound(id);
  if (!wanted.empty()) {
    std::erase_if(metrics, [&](const MetricStats& m) {
      return std::find(wanted.begin(), wanted.end(), m.metric) == wanted.end();
    });
  }
  TimestampUs last = 0;
  for (const auto& m : metrics) last = std::max(last, m.last_hour);
  Range range;
  range.to = to.value_or(from ? std::min(*from + kMicrosPerDay, last + kMicrosPerHour) : last + kMicrosPerHour);
  range.from = from.value_or(range.to - kMicrosPerDay);
  if (range.from >= range.to) range.to = range.from + kMicrosPerHour;
  if (range.to - range.from > kMaxRangeDays * kMicrosPerDay) range.from = range.to - kMaxRangeDays * kMicrosPerDay;
  const bool aligned = range.from % kMicrosPerHour == 0 && range.to % kMicrosPerHour == 0;

  // Readings: the silver columns of the device's metrics (names from the lake, quoted).
  const auto silver = ctx.state().FilesIn("silver", range.from, range.to);
  std::vector<std::string> columns;
  std::vector<TimestampUs> times;
  std::vector<std::vector<std::optional<double>>> values;
  if (!silver.empty() && !metrics.empty()) {
    const std::string from_sql = ctx.ReadParquet("silver", silver);
    IOTAD_ASSIGN_OR_RETURN(auto probe, ctx.Query(fmt::format("SELECT * FROM {} LIMIT 0", from_sql), {}));
    std::set<std::string> present;
    for (size_t i = 0; i < probe.ColumnCount(); ++i) present.insert(probe.ColumnName(i));
    std::string select;
    for (const auto& m : metrics) {
      if (present.count(m.metric) == 0 || m.metric == "event_time" || m.metric == "device_id") continue;
      columns.push_back(m.metric);
      select += ", TRY_CAST(" + lake::SqlIdent(m.metric) + " AS DOUBLE)";
    }
    values.resize(columns.size());
    if (!columns.empty()) {
      sql::Where w;
      w.Add("device_id = ?", {id});
      if (!aligned) w.Between("event_time", range.from, range.to);
      IOTAD_ASSIGN_OR_RETURN(auto result,
                             ctx.Query(fmt::format("SELECT epoch_us(event_time)::BIGINT{} FROM {} WHERE {} ORDER BY 1",
                                                   select, from_sql, w.Sql()),
                                       w.params, static_cast<int64_t>(silver.size())));
      IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
        times.push_back(sql::Int(c, 0, row).value_or(0));
        for (size_t k = 0; k < columns.size(); ++k) values[k].push_back(sql::Dbl(c, k + 1, row));
        return Status::Ok();
      }));
    }
  }
  // Anomalies with what their detector expected.
  const auto gold = ctx.state().FilesIn("gold", range.from, range.to);
  std::map<std::string, std::vector<AnomalyRow>> anomalies;
  if (!gold.empty() && !metrics.empty()) {
    sql::Where w;
    w.Add("device_id = ?", {id});
    if (!aligned) w.Between("event_time", range.from, range.to);
    std::vector<std::string> names;
    for (const auto& m : metrics) names.push_back(m.metric);
    w.In("metric", names);
    const std::string sql = fmt::format(
        "SELECT epoch_us(event_time)::BIGINT, metric, value, expected, expected_lo, expected_hi, baseline_mean, "
        "baseline_std, baseline_n::BIGINT, z, score, threshold, statistic, statistic_name, detector, rule, explanation "
        "FROM {} WHERE {} ORDER BY 1, detector",
        ctx.ReadParquet("gold", gold), w.Sql());
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(sql, w.params, static_cast<int64_t>(gold.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      AnomalyRow a;
      a.us = sql::Int(c, 0, row).value_or(0);
      a.metric = std::string(c.Strings(1)[row]);
      a.value = sql::Dbl(c, 2, row);
      a.expected = sql::Dbl(c, 3, row);
      a.lo = sql::Dbl(c, 4, row);
      a.hi = sql::Dbl(c, 5, row);
      a.mean = sql::Dbl(c, 6, row);
      a.std = sql::Dbl(c, 7, row);
      a.baseline_n = sql::Int(c, 8, row).value_or(0);
      a.z = sql::Dbl(c, 9, row);
      a.score = sql::Dbl(c, 10, row).value_or(0);
      a.threshold = sql::Dbl(c, 11, row);
      a.statistic = sql::Dbl(c, 12, row);
      a.statistic_name = sql::Str(c, 13, row);
      a.detector = sql::Str(c, 14, row).value_or("");
      a.rule = sql::Str(c, 15, row).value_or("");
      a.explanation = sql::Str(c, 16, row).value_or("");
      anomalies[a.metric].push_back(std::move(a));
      return Status::Ok();
    }));
  }
  const auto& gold_config = ctx.state().config.gold;
  const bool zscore =
      std::find(gold_config.detectors.begin(), gold_config.detectors.end(), "zscore") != gold_config.detectors.end();

  JsonWriter json;
  json.BeginObject();
  json.Key("device_id").String(id);
  json.Key("metrics").BeginArray();
  for (const auto& m : metrics) {
    json.BeginObject();
    json.Key("metric").String(m.metric);
    const auto col = std::find(columns.begin(), columns.end(), m.metric);
    const auto& list = anomalies[m.metric];
    bool downsampled = false;
    json.Key("points").BeginArray();
    if (col != columns.end() && !times.empty()) {
      const auto& v = values[static_cast<size_t>(col - columns.begin())];
      auto point = [&](size_t i) {
        json.BeginArray().Int(times[i] / 1000);
        sql::OptDouble(json, v[i]);
        json.EndArray();
      };
      if (times.size() > static_cast<size_t>(max_points)) {
        std::set<TimestampUs> keep;
        for (const auto& a : list) keep.insert(a.us);
        downsampled = true;
        for (size_t i : Downsample(times, v, static_cast<size_t>(max_points), keep)) point(i);
      } else {
        for (size_t i = 0; i < times.size(); ++i) point(i);
      }
    }
    json.EndArray();
    json.Key("downsampled").Bool(downsampled);
    json.Key("band");
    if (zscore && m.mean && m.std) {
      const double thr = gold_config.zscore_threshold;
      json.BeginObject();
      json.Key("lo").Double(*m.mean - thr * *m.std);
      json.Key("hi").Double(*m.mean + thr * *m.std);
      json.Key("mean").Double(*m.mean);
      json.Key("std").Double(*m.std);
      json.Key("threshold").Double(thr);
      json.Key("n").Int(m.n);
      json.Key("detector").String("zscore");
      json.Key("source").String("gold_summary");
      json.EndObject();
    } else {
      json.Null();
    }
    json.Key("anomalies").BeginArray();
    for (const auto& a : list) {
      json.BeginObject();
      json.Key("event_time").Timestamp(a.us);
      json.Key("ms").Int(a.us / 1000);
      json.Key("value");
      sql::OptDouble(json, a.value);
      json.Key("expected");
      sql::OptDouble(json, a.expected);
      json.Key("expected_lo");
      sql::OptDouble(json, a.lo);
      json.Key("expected_hi");
      sql::OptDouble(json, a.hi);
      json.Key("baseline_mean");
      sql::OptDouble(json, a.mean);
      json.Key("baseline_std");
      sql::OptDouble(json, a.std);
      json.Key("baseline_n").Int(a.baseline_n);
      json.Key("z");
      sql::OptDouble(json, a.z);
      json.Key("score").Double(a.score);
      json.Key("threshold");
      sql::OptDouble(json, a.threshold);
      json.Key("statistic");
      sql::OptDouble(json, a.statistic);
      json.Key("statistic_name");
      sql::OptString(json, a.statistic_name);
      json.Key("detector").String(a.detector);
      json.Key("rule").String(a.rule);
      json.Key("explanation").String(a.explanation);
      json.EndObject();
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  ctx.WriteMeta(json, range);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

/// The arrival hour of a quarantined row's bronze file, epoch us (as in api_overview.cpp).
constexpr std::string_view kArrivalUs =
    "epoch_us(TRY_CAST(regexp_extract(source_file, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) AS DATE)::TIMESTAMP) + "
    "TRY_CAST(regexp_extract(source_file, '/hour=([0-9]+)', 1) AS BIGINT) * 3600000000";

/// Whether `raw` holds `id` as a whole field: bounded by the line's ends, a CSV separator
/// (, ; tab) or a quote (a quoted CSV cell, a JSON string value).
bool NamesDeviceAsField(std::string_view raw, std::string_view id) {
  auto is_bound = [](char c) { return c == ',' || c == ';' || c == '\t' || c == '"'; };
  for (size_t at = raw.find(id); at != std::string_view::npos; at = raw.find(id, at + 1)) {
    const bool left = at == 0 || is_bound(raw[at - 1]);
    const size_t end = at + id.size();
    const bool right = end == raw.size() || is_bound(raw[end]) || raw[end] == '\r';
    if (left && right) return true;
  }
  return false;
}

Result<Response> Quarantine(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(std::string id, ctx.params().Required("id"));
  IOTAD_ASSIGN_OR_RETURN(auto from, ctx.params().Time("from"));
  IOTAD_ASSIGN_OR_RETURN(auto to, ctx.params().Time("to"));
  IOTAD_ASSIGN_OR_RETURN(int64_t limit, ctx.params().Int("limit", 100, 1, 1000));
  IOTAD_TRY(ctx.params().Finish());
  if (from && to && *from >= *to) return Error(Errc::kInvalidArgument, "parameter 'from' must be before 'to'");
  std::vector<const HourFile*> files;
  if (auto it = ctx.state().layers.find("quarantine"); it != ctx.state().layers.end()) {
    for (const auto& f : it->second) files.push_back(&f);
  }
  std::optional<Range> range;
  JsonWriter json;
  json.BeginObject().Key("rows").BeginArray();
  if (!files.empty()) {
    sql::Where w;
    // Lines that hold the id anywhere (bound, then checked as a whole field in C++: CSV cells
    // split on , ; or tab, JSON string values between quotes; an id may hold spaces or colons).
    w.Add("contains(raw, ?)", {id});
    if (from) w.Add(fmt::format("({}) >= ?", kArrivalUs), {*from});
    if (to) w.Add(fmt::format("({}) < ?", kArrivalUs), {*to});
    if (from || to) range = Range{from.value_or(0), to.value_or(0)};
    const std::vector<lake::DuckParam> params = w.params;
    const std::string sql = fmt::format(
        "SELECT reason, column_name, detail, source_file, line::BIGINT, raw FROM {} WHERE {} "
        "ORDER BY source_file, line",
        ctx.ReadParquet("quarantine", files), w.Sql());
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(sql, params, static_cast<int64_t>(files.size())));
    int64_t written = 0;
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      if (written >= limit || !NamesDeviceAsField(sql::Str(c, 5, row).value_or(""), id)) return Status::Ok();
      ++written;
      json.BeginObject();
      json.Key("reason");
      sql::OptString(json, sql::Str(c, 0, row));
      json.Key("column_name");
      sql::OptString(json, sql::Str(c, 1, row));
      json.Key("detail");
      sql::OptString(json, sql::Str(c, 2, row));
      json.Key("source_file");
      sql::OptString(json, sql::Str(c, 3, row));
      json.Key("line").Int(sql::Int(c, 4, row).value_or(0));
      json.Key("raw");
      sql::OptString(json, sql::Str(c, 5, row));
      json.EndObject();
      return Status::Ok();
    }));
  }
  json.EndArray();
  ctx.WriteMeta(json, range && from && to ? range : std::nullopt);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

}  // namespace

void RegisterDeviceRoutes(Router& router) {
  router.Add({"GET", "/api/devices", Devices, true, false, "devices by id prefix"});
  router.Add({"GET", "/api/device", Device, true, false, "one device"});
  router.Add({"GET", "/api/device/series", Series, true, false, "one device's readings and anomalies"});
  router.Add({"GET", "/api/device/quarantine", Quarantine, true, false, "one device's quarantined rows"});
}

}  // namespace iotad::serve
