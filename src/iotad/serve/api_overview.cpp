// /api/overview/*: the four fleet views and the totals, from gold (`anomalies`), gold_summary and
// silver, reading only the hour partitions of the request's range (LakeState::FilesIn).
//
// Every hourly layer is partitioned by its rows' event hour, so for a range of whole hours the
// file list alone is the time filter; a range with a partial hour adds an event_time condition
// (gold_summary is hourly: its figures cover the hours the range touches).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <simdjson.h>

#include "iotad/serve/api_internal.h"
#include "iotad/serve/run_records.h"
#include "iotad/serve/api_sql.h"
#include "iotad/serve/summary_cache.h"

namespace iotad::serve {
namespace {

struct View {
  Filters filters;
  Range range;
  bool aligned = true;  // from and to on hour boundaries
};

Result<View> ReadRequest(Context& ctx, bool finish = true) {
  View r;
  IOTAD_ASSIGN_OR_RETURN(r.filters, ctx.params().ReadFilters());
  if (finish) IOTAD_TRY(ctx.params().Finish());
  r.range = ctx.ResolveRange(r.filters);
  r.aligned = r.range.from % kMicrosPerHour == 0 && r.range.to % kMicrosPerHour == 0;
  return r;
}

/// gold_summary rows of the request (detector does not apply: the summary is per hour and metric).
sql::Where SummaryWhere(const View& r, bool with_metric = true) {
  sql::Where w;
  if (!r.aligned) w.Between("hour_start", HourStart(r.range.from), r.range.to);
  if (with_metric) w.In("metric", r.filters.metrics);
  w.In("location", r.filters.locations);
  w.In("device_id", r.filters.devices);
  return w;
}

/// anomalies rows of the request (every filter).
sql::Where AnomalyWhere(const View& r) {
  sql::Where w;
  if (!r.aligned) w.Between("event_time", r.range.from, r.range.to);
  w.In("metric", r.filters.metrics);
  w.In("location", r.filters.locations);
  w.In("device_id", r.filters.devices);
  w.In("detector", r.filters.detectors);
  return w;
}


// ---- gold_summary from decoded partitions (summary_cache.h) -------------------------------------

/// Which rows of the parts a request's filters select (ids resolved after the parts are loaded).
struct SummaryMatch {
  TimestampUs from = 0, to = 0;  // hour_start range
  std::vector<char> metric, location, device;  // empty: no filter; else indexed by id
  bool none = false;              // a filter none of whose values the lake holds

  bool operator()(const SummaryPart& p, size_t i) const {
    if (p.hour[i] < from || p.hour[i] >= to) return false;
    if (!metric.empty() && (p.metric[i] >= metric.size() || !metric[p.metric[i]])) return false;
    if (!device.empty() && (p.device[i] >= device.size() || !device[p.device[i]])) return false;
    if (!location.empty() && (p.location[i] < 0 || static_cast<size_t>(p.location[i]) >= location.size() ||
                              !location[static_cast<size_t>(p.location[i])])) {
      return false;
    }
    return true;
  }
};

SummaryMatch MakeMatch(SummaryStore& store, const View& r, bool with_metric = true) {
  SummaryMatch m;
  m.from = HourStart(r.range.from);
  m.to = r.range.to;
  auto ids = [&](const NameIds& names, const std::vector<std::string>& values, std::vector<char>& out) {
    if (values.empty()) return;
    out.assign(names.size() + 1, 0);
    bool any = false;
    for (const auto& v : values) {
      const int64_t id = names.Find(v);
      if (id >= 0 && static_cast<size_t>(id) < out.size()) {
        out[static_cast<size_t>(id)] = 1;
        any = true;
      }
    }
    if (!any) m.none = true;
  };
  if (with_metric) ids(store.metrics, r.filters.metrics, m.metric);
  ids(store.locations, r.filters.locations, m.location);
  ids(store.devices, r.filters.devices, m.device);
  return m;
}

using Parts = std::vector<std::shared_ptr<const SummaryPart>>;

/// The decoded parts of `files` (nullopt: over the memory budget, use SQL). Counts the files.
Result<std::optional<Parts>> LoadParts(Context& ctx, const std::vector<const HourFile*>& files) {
  IOTAD_ASSIGN_OR_RETURN(auto parts, SummaryStoreOf(ctx.api()).Parts(ctx, files));
  if (parts) ctx.AddFilesRead(static_cast<int64_t>(files.size()));
  return parts;
}

int64_t CountDevices(SummaryStore& store, const Parts& parts, const SummaryMatch& match) {
  if (match.none) return 0;
  std::vector<char> seen(store.devices.size() + 1, 0);
  int64_t n = 0;
  for (const auto& p : parts) {
    for (size_t i = 0; i < p->size(); ++i) {
      if (p->device[i] < seen.size() && !seen[p->device[i]] && match(*p, i)) {
        seen[p->device[i]] = 1;
        ++n;
      }
    }
  }
  return n;
}

Result<int64_t> QueryCount(Context& ctx, const std::string& q, const std::vector<lake::DuckParam>& params,
                           int64_t files) {
  IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(q, params, files));
  int64_t n = 0;
  IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
    n = sql::Int(c, 0, row).value_or(0);
    return Status::Ok();
  }));
  return n;
}

/// Silver rows in range matching location/device; with metrics, rows where one of them has a value.
/// Readings over whole hours without a device filter and with at most one metric: sums of the
/// silver files' counts per location (computed once per file), no scan. nullopt: not applicable.
Result<std::optional<int64_t>> ReadingsFromCounts(Context& ctx, const View& r,
                                                  const std::vector<const HourFile*>& files) {
  SummaryStore& names = SummaryStoreOf(ctx.api());
  if (!r.aligned || !r.filters.devices.empty() || r.filters.metrics.size() > 1 || names.max_rows <= 0) {
    return std::optional<int64_t>();
  }
  IOTAD_ASSIGN_OR_RETURN(auto parts, SilverCountStoreOf(ctx.api()).Parts(ctx, names, files));
  if (!parts) return std::optional<int64_t>();
  ctx.AddFilesRead(static_cast<int64_t>(files.size()));
  std::set<int32_t> locations;
  for (const auto& l : r.filters.locations) {
    const int64_t id = names.locations.Find(l);
    if (id >= 0) locations.insert(static_cast<int32_t>(id));
  }
  if (!r.filters.locations.empty() && locations.empty()) return std::optional<int64_t>(0);
  int64_t metric = -1;
  if (!r.filters.metrics.empty()) {
    metric = names.metrics.Find(r.filters.metrics.front());
    if (metric < 0) return std::optional<int64_t>(0);
  }
  int64_t n = 0;
  for (const auto& p : *parts) {
    for (const auto& g : p->groups) {
      if (!locations.empty() && locations.count(g.location) == 0) continue;
      if (metric < 0) {
        n += g.rows;
      } else if (auto it = g.metric_rows.find(static_cast<uint32_t>(metric)); it != g.metric_rows.end()) {
        n += it->second;
      }
    }
  }
  return std::optional<int64_t>(n);
}

Result<int64_t> Readings(Context& ctx, const View& r) {
  const auto files = ctx.state().FilesIn("silver", r.range.from, r.range.to);
  if (files.empty()) return 0;
  IOTAD_ASSIGN_OR_RETURN(auto counted, ReadingsFromCounts(ctx, r, files));
  if (counted) return *counted;
  const std::string silver = ctx.ReadParquet("silver", files);
  sql::Where w;
  if (!r.aligned) w.Between("event_time", r.range.from, r.range.to);
  w.In("device_id", r.filters.devices);
  const auto& dims = ctx.state().config.silver.dimension_columns;
  if (!r.filters.locations.empty()) {
    if (std::find(dims.begin(), dims.end(), "location") == dims.end()) return 0;
    w.In("location", r.filters.locations);
  }
  if (!r.filters.metrics.empty()) {
    // A metric names a silver column: only names the files hold reach the SQL (quoted), never
    // the parameter's text itself.
    IOTAD_ASSIGN_OR_RETURN(auto probe, ctx.Query(fmt::format("SELECT * FROM {} LIMIT 0", silver), {}));
    std::string any;
    for (size_t i = 0; i < probe.ColumnCount(); ++i) {
      const std::string name = probe.ColumnName(i);
      if (std::find(r.filters.metrics.begin(), r.filters.metrics.end(), name) == r.filters.metrics.end()) continue;
      if (name == "event_time" || name == "device_id" || name == "year" || name == "month" || name == "day" ||
          name == "hour" || std::find(dims.begin(), dims.end(), name) != dims.end()) {
        continue;
      }
      any += any.empty() ? "" : " OR ";
      any += lake::SqlIdent(name) + " IS NOT NULL";
    }
    if (any.empty()) return 0;
    w.Add(any);
  }
  return QueryCount(ctx, fmt::format("SELECT count(*)::BIGINT FROM {} WHERE {}", silver, w.Sql()), w.params,
                    static_cast<int64_t>(files.size()));
}

/// The arrival hour of a quarantined row's bronze file (`bronze/dt=2024-01-05/hour=5/...`), epoch us.
constexpr std::string_view kArrivalUs =
    "epoch_us(TRY_CAST(regexp_extract(source_file, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) AS DATE)::TIMESTAMP) + "
    "TRY_CAST(regexp_extract(source_file, '/hour=([0-9]+)', 1) AS BIGINT) * 3600000000";

Status WriteLastRun(Context& ctx, JsonWriter& json) {
  json.Key("last_run");
  // The run that started last (run_records.h orders by started_at: ids sort to the second only).
  std::shared_ptr<const std::string> newest;
  {
    Api::Impl& api = ctx.api();
    std::lock_guard lock(api.mu);
    IOTAD_ASSIGN_OR_RETURN(auto texts, RunRecordTexts(api.lake->store()));
    if (!texts.empty()) newest = texts.back();
  }
  const std::string text = newest ? *newest : std::string();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (text.empty() || parser.parse(text).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    json.Null();
    return Status::Ok();
  }
  auto str = [&](const char* key) {
    std::string_view v;
    json.Key(key);
    doc[key].get_string().get(v) == simdjson::SUCCESS ? json.String(v) : json.Null();
  };
  json.BeginObject();
  str("run_id");
  str("command");
  str("status");
  str("started_at");
  str("finished_at");
  double seconds = 0;
  json.Key("seconds");
  doc["seconds"].get_double().get(seconds) == simdjson::SUCCESS ? json.Double(seconds) : json.Null();
  str("message");
  json.EndObject();
  return Status::Ok();
}

Result<Response> Totals(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(View r, ReadRequest(ctx));
  const LakeState& st = ctx.state();
  const auto summary = st.FilesIn("gold_summary", r.range.from, r.range.to);
  const auto gold = st.FilesIn("gold", r.range.from, r.range.to);
  std::vector<const HourFile*> quarantine;
  if (auto it = st.layers.find("quarantine"); it != st.layers.end()) {
    for (const auto& f : it->second) quarantine.push_back(&f);
  }
  // Devices from the decoded summary parts when they fit in memory, else in SQL; one statement
  // for the gold/quarantine figures.
  IOTAD_ASSIGN_OR_RETURN(auto cube, LoadParts(ctx, summary));
  const sql::Where sw = SummaryWhere(r), aw = AnomalyWhere(r);
  std::vector<lake::DuckParam> params = cube ? std::vector<lake::DuckParam>{} : sw.params;
  params.insert(params.end(), aw.params.begin(), aw.params.end());
  params.emplace_back(r.range.from);
  params.emplace_back(r.range.to);
  const std::string devices_sql =
      cube ? std::string("0")
           : fmt::format("(SELECT count(DISTINCT device_id) FROM {} WHERE {})", ctx.ReadParquet("gold_summary", summary),
                         sw.Sql());
  const std::string q = fmt::format(
      "SELECT {}::BIGINT, (SELECT count(*) FROM {} WHERE {})::BIGINT, "
      "(SELECT count(*) FROM {} WHERE column_name IS NULL AND ({}) >= ? AND ({}) < ?)::BIGINT",
      devices_sql, ctx.ReadParquet("gold", gold), aw.Sql(), ctx.ReadParquet("quarantine", quarantine), kArrivalUs,
      kArrivalUs);
  IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(q, params,
                                                static_cast<int64_t>((cube ? 0 : summary.size()) + gold.size() +
                                                                     quarantine.size())));
  int64_t devices = 0, anomalies = 0, quarantined = 0;
  IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
    devices = sql::Int(c, 0, row).value_or(0);
    anomalies = sql::Int(c, 1, row).value_or(0);
    quarantined = sql::Int(c, 2, row).value_or(0);
    return Status::Ok();
  }));
  int64_t readings = 0;
  if (cube && r.aligned && r.filters.metrics.size() == 1 && r.filters.locations.empty()) {
    // One metric over whole hours: its values are gold_summary's `rows` (no silver scan).
    SummaryStore& store = SummaryStoreOf(ctx.api());
    const SummaryMatch match = MakeMatch(store, r);
    if (!match.none) {
      for (const auto& p : *cube) {
        for (size_t i = 0; i < p->size(); ++i) {
          if (match(*p, i)) readings += p->rows[i];
        }
      }
    }
  } else {
    IOTAD_ASSIGN_OR_RETURN(readings, Readings(ctx, r));
  }
  if (cube) {
    SummaryStore& store = SummaryStoreOf(ctx.api());
    devices = CountDevices(store, *cube, MakeMatch(store, r));
  }
  int64_t open_alerts = 0;
  for (const auto& [id, a] : st.alerts.alerts) {
    if (a.status == alert::AlertStatus::kFiring && a.acked_at_us == 0) ++open_alerts;
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("devices").Int(devices);
  json.Key("readings").Int(readings);
  json.Key("anomalies").Int(anomalies);
  json.Key("quarantined").Int(quarantined);
  json.Key("open_alerts").Int(open_alerts);
  IOTAD_TRY(WriteLastRun(ctx, json));
  ctx.WriteMeta(json, r.range);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

Result<Response> OverTime(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(View r, ReadRequest(ctx, false));
  const bool short_range = r.range.to - r.range.from <= 7 * kMicrosPerDay;
  IOTAD_ASSIGN_OR_RETURN(std::string bucket, ctx.params().Choice("bucket", {"hour", "day"}, short_range ? "hour" : "day"));
  IOTAD_TRY(ctx.params().Finish());
  const int64_t width = bucket == "hour" ? kMicrosPerHour : kMicrosPerDay;
  auto floor_to = [&](TimestampUs t) { return t >= 0 ? t - t % width : t - ((t % width) + width) % width; };
  const auto gold = ctx.state().FilesIn("gold", r.range.from, r.range.to);
  std::map<TimestampUs, int64_t> counts;
  if (!gold.empty()) {
    const sql::Where w = AnomalyWhere(r);
    const std::string q = fmt::format(
        "SELECT (epoch_us(event_time) // {w}) * {w} AS b, count(*)::BIGINT FROM {from} WHERE {where} GROUP BY b",
        fmt::arg("w", width), fmt::arg("from", ctx.ReadParquet("gold", gold)), fmt::arg("where", w.Sql()));
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(q, w.params, static_cast<int64_t>(gold.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      counts[floor_to(sql::Int(c, 0, row).value_or(0))] += sql::Int(c, 1, row).value_or(0);
      return Status::Ok();
    }));
  }
  JsonWriter json;
  json.BeginObject().Key("bucket").String(bucket).Key("points").BeginArray();
  for (TimestampUs t = floor_to(r.range.from); t < r.range.to; t += width) {
    const auto it = counts.find(t);
    json.BeginObject().Key("t").Timestamp(t).Key("anomalies").Int(it == counts.end() ? 0 : it->second).EndObject();
  }
  json.EndArray();
  ctx.WriteMeta(json, r.range);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

Result<Response> ByDevice(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(View r, ReadRequest(ctx, false));
  IOTAD_ASSIGN_OR_RETURN(int64_t limit, ctx.params().Int("limit", 20, 1, 200));
  IOTAD_TRY(ctx.params().Finish());
  const auto gold = ctx.state().FilesIn("gold", r.range.from, r.range.to);
  JsonWriter json;
  json.BeginObject().Key("bars").BeginArray();
  int64_t with_anomalies = 0;
  if (!gold.empty()) {
    sql::Where w = AnomalyWhere(r);
    std::vector<lake::DuckParam> params = w.params;
    params.emplace_back(limit);
    const std::string q = fmt::format(
        "SELECT device_id, n, count(*) OVER ()::BIGINT FROM (SELECT device_id, count(*)::BIGINT AS n FROM {} WHERE {} "
        "GROUP BY device_id) ORDER BY n DESC, device_id LIMIT ?",
        ctx.ReadParquet("gold", gold), w.Sql());
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(q, params, static_cast<int64_t>(gold.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      json.BeginObject();
      json.Key("device_id").String(c.Strings(0)[row]);
      json.Key("anomalies").Int(sql::Int(c, 1, row).value_or(0));
      json.EndObject();
      with_anomalies = sql::Int(c, 2, row).value_or(0);
      return Status::Ok();
    }));
  }
  json.EndArray();
  json.Key("devices_with_anomalies").Int(with_anomalies);
  ctx.WriteMeta(json, r.range);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

Result<Response> Heatmap(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(View r, ReadRequest(ctx));
  const auto summary = ctx.state().FilesIn("gold_summary", r.range.from, r.range.to);
  struct Cell {
    std::optional<std::string> location;
    std::string metric;
    double mean = 0;
    int64_t rows = 0;
  };
  std::vector<Cell> cells;
  IOTAD_ASSIGN_OR_RETURN(auto cube, LoadParts(ctx, summary));
  if (cube) {
    SummaryStore& store = SummaryStoreOf(ctx.api());
    const SummaryMatch match = MakeMatch(store, r);
    // Flat accumulators indexed by (location id + 1, metric id): no map lookup per row.
    const size_t n_metrics = store.metrics.size() + 1, n_locations = store.locations.size() + 2;
    std::vector<long double> sx(n_metrics * n_locations, 0);
    std::vector<int64_t> rows(n_metrics * n_locations, 0);
    if (!match.none) {
      for (const auto& p : *cube) {
        for (size_t i = 0; i < p->size(); ++i) {
          if (std::isnan(p->mean[i]) || p->rows[i] <= 0 || !match(*p, i)) continue;
          const size_t at = static_cast<size_t>(p->location[i] + 1) * n_metrics + p->metric[i];
          if (at >= rows.size()) continue;
          sx[at] += static_cast<long double>(p->mean[i]) * static_cast<long double>(p->rows[i]);
          rows[at] += p->rows[i];
        }
      }
    }
    for (size_t at = 0; at < rows.size(); ++at) {
      if (rows[at] == 0) continue;
      const auto loc = static_cast<int64_t>(at / n_metrics) - 1;
      const auto metric = static_cast<uint32_t>(at % n_metrics);
      cells.push_back({loc < 0 ? std::nullopt : std::optional<std::string>(store.locations.Name(static_cast<uint32_t>(loc))),
                       store.metrics.Name(metric), static_cast<double>(sx[at] / static_cast<long double>(rows[at])),
                       rows[at]});
    }
    std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
      if (a.location.has_value() != b.location.has_value()) return a.location.has_value();
      if (a.location != b.location) return *a.location < *b.location;
      return a.metric < b.metric;
    });
  } else if (!summary.empty()) {
    sql::Where w = SummaryWhere(r);
    w.Add("mean IS NOT NULL AND rows > 0");
    const std::string q = fmt::format(
        "SELECT location, metric, (sum(mean * rows) / sum(rows))::DOUBLE, sum(rows)::BIGINT FROM {} WHERE {} "
        "GROUP BY location, metric ORDER BY location NULLS LAST, metric",
        ctx.ReadParquet("gold_summary", summary), w.Sql());
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(q, w.params, static_cast<int64_t>(summary.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      cells.push_back({sql::Str(c, 0, row), std::string(c.Strings(1)[row]), sql::Dbl(c, 2, row).value_or(0),
                       sql::Int(c, 3, row).value_or(0)});
      return Status::Ok();
    }));
  }
  std::vector<std::optional<std::string>> locations;
  std::vector<std::string> metrics;
  for (const auto& cell : cells) {
    if (locations.empty() || locations.back() != cell.location) locations.push_back(cell.location);
    if (std::find(metrics.begin(), metrics.end(), cell.metric) == metrics.end()) metrics.push_back(cell.metric);
  }
  std::sort(metrics.begin(), metrics.end());
  JsonWriter json;
  json.BeginObject().Key("locations").BeginArray();
  for (const auto& l : locations) sql::OptString(json, l);
  json.EndArray().Key("metrics").BeginArray();
  for (const auto& m : metrics) json.String(m);
  json.EndArray().Key("cells").BeginArray();
  for (const auto& cell : cells) {
    json.BeginObject();
    json.Key("location");
    sql::OptString(json, cell.location);
    json.Key("metric").String(cell.metric);
    json.Key("mean").Double(cell.mean);
    json.Key("rows").Int(cell.rows);
    json.EndObject();
  }
  json.EndArray();
  ctx.WriteMeta(json, r.range);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

Result<Response> Summary(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(View r, ReadRequest(ctx));
  const auto summary = ctx.state().FilesIn("gold_summary", r.range.from, r.range.to);
  const auto gold = ctx.state().FilesIn("gold", r.range.from, r.range.to);
  JsonWriter json;
  json.BeginObject().Key("rows").BeginArray();
  IOTAD_ASSIGN_OR_RETURN(auto cube, LoadParts(ctx, summary));
  if (cube) {
    SummaryStore& store = SummaryStoreOf(ctx.api());
    const SummaryMatch match = MakeMatch(store, r);
    struct Acc {
      std::vector<char> seen;
      int64_t devices = 0, n = 0;
      long double sx = 0, sxx = 0;
      double lo = std::nan(""), hi = std::nan("");
    };
    std::map<std::string, Acc> by_metric;
    if (!match.none) {
      std::vector<Acc> by_id(store.metrics.size() + 1);
      for (const auto& p : *cube) {
        for (size_t i = 0; i < p->size(); ++i) {
          if (p->metric[i] >= by_id.size() || !match(*p, i)) continue;
          Acc& a = by_id[p->metric[i]];
          if (a.seen.empty()) a.seen.assign(store.devices.size() + 1, 0);
          if (p->device[i] < a.seen.size() && !a.seen[p->device[i]]) {
            a.seen[p->device[i]] = 1;
            ++a.devices;
          }
          const int64_t rows = p->rows[i];
          a.n += rows;
          const double mean = p->mean[i];
          if (!std::isnan(mean)) {
            const long double sd = std::isnan(p->std[i]) ? 0.0L : static_cast<long double>(p->std[i]);
            a.sx += static_cast<long double>(mean) * rows;
            a.sxx += static_cast<long double>(rows - 1) * sd * sd + static_cast<long double>(rows) * mean * mean;
          }
          a.lo = std::fmin(a.lo, p->min[i]);
          a.hi = std::fmax(a.hi, p->max[i]);
        }
      }
      for (size_t id = 0; id < by_id.size(); ++id) {
        if (!by_id[id].seen.empty()) by_metric[store.metrics.Name(static_cast<uint32_t>(id))] = std::move(by_id[id]);
      }
    }
    std::map<std::string, int64_t> anomalies;
    if (!by_metric.empty() && !gold.empty()) {
      const sql::Where aw = AnomalyWhere(r);
      IOTAD_ASSIGN_OR_RETURN(auto result,
                             ctx.Query(fmt::format("SELECT metric, count(*)::BIGINT FROM {} WHERE {} GROUP BY metric",
                                                   ctx.ReadParquet("gold", gold), aw.Sql()),
                                       aw.params, static_cast<int64_t>(gold.size())));
      IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
        anomalies[std::string(c.Strings(0)[row])] = sql::Int(c, 1, row).value_or(0);
        return Status::Ok();
      }));
    }
    for (const auto& [metric, a] : by_metric) {
      json.BeginObject();
      json.Key("metric").String(metric);
      json.Key("devices").Int(a.devices);
      json.Key("readings").Int(a.n);
      const long double n = static_cast<long double>(a.n);
      json.Key("mean");
      sql::OptDouble(json, a.n > 0 ? std::optional<double>(static_cast<double>(a.sx / n)) : std::nullopt);
      json.Key("std");
      sql::OptDouble(json, a.n > 1 ? std::optional<double>(static_cast<double>(std::sqrt(
                                         std::max(0.0L, (a.sxx - a.sx * a.sx / n) / (n - 1)))))
                                   : std::nullopt);
      json.Key("min");
      sql::OptDouble(json, std::isnan(a.lo) ? std::nullopt : std::optional<double>(a.lo));
      json.Key("max");
      sql::OptDouble(json, std::isnan(a.hi) ? std::nullopt : std::optional<double>(a.hi));
      const auto it = anomalies.find(metric);
      json.Key("anomalies").Int(it == anomalies.end() ? 0 : it->second);
      json.EndObject();
    }
  } else if (!summary.empty()) {
    const sql::Where sw = SummaryWhere(r), aw = AnomalyWhere(r);
    std::vector<lake::DuckParam> params = sw.params;
    params.insert(params.end(), aw.params.begin(), aw.params.end());
    // Pooled over the hours: n = sum(rows), mean = sum(mean*rows)/n, and the sample variance from
    // sum over hours of (rows-1)*std^2 + rows*mean^2 (an hour with one value has no std: 0).
    const std::string q = fmt::format(
        "WITH s AS (SELECT metric, count(DISTINCT device_id)::BIGINT AS devices, sum(rows)::BIGINT AS n, "
        "sum(CASE WHEN mean IS NULL THEN 0 ELSE mean * rows END) AS sx, "
        "sum(CASE WHEN mean IS NULL THEN 0 ELSE (rows - 1) * coalesce(std, 0) * coalesce(std, 0) + rows * mean * mean "
        "END) AS sxx, min(min) AS lo, max(max) AS hi FROM {gs} WHERE {sw} GROUP BY metric), "
        "a AS (SELECT metric, count(*)::BIGINT AS n FROM {an} WHERE {aw} GROUP BY metric) "
        "SELECT s.metric, s.devices, s.n, CASE WHEN s.n > 0 THEN s.sx / s.n END, "
        "CASE WHEN s.n > 1 THEN sqrt(greatest((s.sxx - s.sx * s.sx / s.n) / (s.n - 1), 0)) END, s.lo, s.hi, "
        "coalesce(a.n, 0)::BIGINT FROM s LEFT JOIN a ON a.metric = s.metric ORDER BY s.metric",
        fmt::arg("gs", ctx.ReadParquet("gold_summary", summary)), fmt::arg("sw", sw.Sql()),
        fmt::arg("an", ctx.ReadParquet("gold", gold)), fmt::arg("aw", aw.Sql()));
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(q, params, static_cast<int64_t>(summary.size() + gold.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      json.BeginObject();
      json.Key("metric").String(c.Strings(0)[row]);
      json.Key("devices").Int(sql::Int(c, 1, row).value_or(0));
      json.Key("readings").Int(sql::Int(c, 2, row).value_or(0));
      json.Key("mean");
      sql::OptDouble(json, sql::Dbl(c, 3, row));
      json.Key("std");
      sql::OptDouble(json, sql::Dbl(c, 4, row));
      json.Key("min");
      sql::OptDouble(json, sql::Dbl(c, 5, row));
      json.Key("max");
      sql::OptDouble(json, sql::Dbl(c, 6, row));
      json.Key("anomalies").Int(sql::Int(c, 7, row).value_or(0));
      json.EndObject();
      return Status::Ok();
    }));
  }
  json.EndArray();
  ctx.WriteMeta(json, r.range);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

}  // namespace

void RegisterOverviewRoutes(Router& router) {
  router.Add({"GET", "/api/overview/totals", Totals, true, false, "totals"});
  router.Add({"GET", "/api/overview/anomalies_over_time", OverTime, true, false, "anomalies over time"});
  router.Add({"GET", "/api/overview/anomalies_by_device", ByDevice, true, false, "anomalies by device"});
  router.Add({"GET", "/api/overview/heatmap", Heatmap, true, false, "mean per location and metric"});
  router.Add({"GET", "/api/overview/summary", Summary, true, false, "summary per metric"});
}

}  // namespace iotad::serve
