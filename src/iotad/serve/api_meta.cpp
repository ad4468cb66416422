// /healthz, /api/version, /api/filters.
#include <algorithm>

#include "iotad/serve/api_internal.h"
#include "iotad/serve/api_sql.h"
#include "iotad/serve/summary_cache.h"

namespace iotad::serve {
namespace {

Result<Response> Healthz(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  JsonWriter json;
  json.BeginObject().Key("status").String("ok").Key("lake_seq").Int(ctx.state().lake_seq).EndObject();
  return sql::JsonResponse(json.Take());
}

Result<Response> Version(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  JsonWriter json;
  json.BeginObject().Key("lake_seq").Int(ctx.state().lake_seq).Key("alert_seq").Int(ctx.state().alert_seq).EndObject();
  Response r = sql::JsonResponse(json.Take());
  r.headers["Cache-Control"] = "no-store";
  return r;
}

Result<Response> FiltersHandler(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  const LakeState& st = ctx.state();
  const auto summary = st.FilesIn("gold_summary", INT64_MIN / 2, INT64_MAX / 2);
  const auto gold = st.FilesIn("gold", INT64_MIN / 2, INT64_MAX / 2);
  const std::string gs = ctx.ReadParquet("gold_summary", summary);
  std::vector<std::string> lists[3];
  int64_t devices = 0;
  SummaryStore& store = SummaryStoreOf(ctx.api());
  IOTAD_ASSIGN_OR_RETURN(auto parts, store.Parts(ctx, summary));
  if (parts) {
    // Metrics, locations and devices from the decoded summary partitions; detectors from gold.
    ctx.AddFilesRead(static_cast<int64_t>(summary.size()));
    std::vector<char> metric(store.metrics.size() + 1, 0), location(store.locations.size() + 1, 0),
        device(store.devices.size() + 1, 0);
    for (const auto& p : *parts) {
      for (size_t i = 0; i < p->size(); ++i) {
        if (p->metric[i] < metric.size()) metric[p->metric[i]] = 1;
        if (p->location[i] >= 0 && static_cast<size_t>(p->location[i]) < location.size()) {
          location[static_cast<size_t>(p->location[i])] = 1;
        }
        if (p->device[i] < device.size() && !device[p->device[i]]) {
          device[p->device[i]] = 1;
          ++devices;
        }
      }
    }
    for (uint32_t id = 0; id < metric.size(); ++id) {
      if (metric[id]) lists[0].push_back(store.metrics.Name(id));
    }
    for (uint32_t id = 0; id < location.size(); ++id) {
      if (location[id]) lists[1].push_back(store.locations.Name(id));
    }
    std::sort(lists[0].begin(), lists[0].end());
    std::sort(lists[1].begin(), lists[1].end());
    if (!gold.empty()) {
      IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(fmt::format("SELECT DISTINCT detector FROM {} ORDER BY 1",
                                                                ctx.ReadParquet("gold", gold)),
                                                    {}, static_cast<int64_t>(gold.size())));
      IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
        if (auto v = sql::Str(c, 0, row)) lists[2].push_back(std::move(*v));
        return Status::Ok();
      }));
    }
  } else if (!summary.empty() || !gold.empty()) {
    const std::string q = fmt::format(
        "SELECT kind, value FROM (SELECT DISTINCT 0 AS kind, metric AS value FROM {gs} "
        "UNION ALL SELECT DISTINCT 1, location FROM {gs} WHERE location IS NOT NULL "
        "UNION ALL SELECT DISTINCT 2, detector FROM {an}) ORDER BY kind, value",
        fmt::arg("gs", gs), fmt::arg("an", ctx.ReadParquet("gold", gold)));
    IOTAD_ASSIGN_OR_RETURN(auto result, ctx.Query(q, {}, static_cast<int64_t>(summary.size() + gold.size())));
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      const int32_t kind = c.Data<int32_t>(0)[row];
      if (auto v = sql::Str(c, 1, row); v && kind >= 0 && kind < 3) lists[kind].push_back(std::move(*v));
      return Status::Ok();
    }));
    IOTAD_ASSIGN_OR_RETURN(auto count, ctx.Query(fmt::format("SELECT count(DISTINCT device_id)::BIGINT FROM {}", gs), {}));
    IOTAD_TRY(sql::ForEachRow(count, [&](const lake::DuckChunk& c, size_t row) -> Status {
      devices = sql::Int(c, 0, row).value_or(0);
      return Status::Ok();
    }));
  }
  JsonWriter json;
  json.BeginObject();
  const char* names[3] = {"metrics", "locations", "detectors"};
  for (int i = 0; i < 3; ++i) {
    json.Key(names[i]).BeginArray();
    for (const auto& v : lists[i]) json.String(v);
    json.EndArray();
  }
  json.Key("devices").Int(devices);
  json.Key("first_hour");
  st.first_hour ? json.Timestamp(*st.first_hour) : json.Null();
  json.Key("last_hour");
  st.last_hour ? json.Timestamp(*st.last_hour) : json.Null();
  ctx.WriteMeta(json, std::nullopt);
  json.EndObject();
  return sql::JsonResponse(json.Take());
}

}  // namespace

void RegisterMetaRoutes(Router& router) {
  router.Add({"GET", "/healthz", Healthz, false, false, "health"});
  router.Add({"GET", "/api/version", Version, false, false, "lake and alert log heads"});
  router.Add({"GET", "/api/filters", FiltersHandler, true, false, "what the filters can hold"});
}

}  // namespace iotad::serve
