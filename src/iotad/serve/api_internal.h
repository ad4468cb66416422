#pragma once
// Inside the API: the per-snapshot state every handler reads, the request context, and the route
// table each api_*.cpp file fills. Handlers are plain functions; they never see cpp-httplib.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/alert/store.h"
#include "iotad/alert/types.h"
#include "iotad/config/config.h"
#include "iotad/core/json.h"
#include "iotad/core/metrics.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"
#include "iotad/serve/api.h"
#include "iotad/serve/params.h"

namespace iotad::serve {

/// One live file of an hourly layer (from the snapshot: no listing).
struct HourFile {
  TimestampUs hour = 0;   // start of its UTC hour (from year=/month=/day=/hour=, or bronze dt=/hour=)
  std::string key;        // lake key
  std::string path;       // what DuckDB reads (Lake::ReadPaths)
  int64_t bytes = 0;
};

/// Everything a request reads, built once per (lake commit, alert log head) and shared read-only
/// by every request on it. Immutable once built.
struct LakeState {
  int64_t lake_seq = 0;   // the applied commit the snapshot is at
  int64_t alert_seq = 0;  // the alert log's head
  config::LakeConfig config;
  /// Live files of silver, gold (`anomalies`), gold_summary and bronze, each sorted by hour then
  /// key; quarantine files (not hourly) with hour 0.
  std::map<std::string, std::vector<HourFile>, std::less<>> layers;
  /// First and last hour with data (gold_summary, else silver); nullopt for an empty lake.
  std::optional<TimestampUs> first_hour, last_hour;
  alert::AlertState alerts;  // folded alert log
  std::shared_ptr<const lake::Snapshot> snapshot;  // the committed state it was built from

  /// Files of `layer` whose hour lies in [from, to): the partition pruning of every query.
  std::vector<const HourFile*> FilesIn(std::string_view layer, TimestampUs from, TimestampUs to) const;
};

/// Resolved time range of a request (to exclusive).
struct Range {
  TimestampUs from = 0, to = 0;
};

/// One request being answered: its state, parameters, a DuckDB connection on demand, and what
/// goes into `meta`.
class Context {
 public:
  Context(Api::Impl& api, std::shared_ptr<const LakeState> state, const Request& request);
  ~Context();

  const LakeState& state() const { return *state_; }
  /// The API's own parts (root, options, the lake under `mu`), for handlers that need more than
  /// the state (run records, the alert log).
  Api::Impl& api() const { return api_; }
  const Request& request() const { return request_; }
  Params& params() { return params_; }

  /// The request's filters' range resolved against the lake (docs/API.md: absent -> the lake's
  /// data hours, clamped to the last 7 days of data).
  Range ResolveRange(const Filters& filters) const;

  /// Runs `sql` with `params` bound (never pasted), within the request's time limit (504 on
  /// overrun) and the row cap. `files` is added to meta.files.
  Result<lake::DuckResult> Query(std::string_view sql, const std::vector<lake::DuckParam>& params, int64_t files = 0);
  /// Counts files read without a query (answers from decoded partitions kept in memory).
  void AddFilesRead(int64_t files) { files_read_ += files; }

  /// `read_parquet([...], hive_partitioning = true, hive_types = ...)` over exactly `files` (our
  /// own snapshot paths, quoted), or an empty relation with the layer's columns when none. The
  /// one way a handler names Parquet files in SQL.
  std::string ReadParquet(std::string_view layer, const std::vector<const HourFile*>& files) const;

  /// Appends `"meta": {...}` (lake_seq, alert_seq, from, to, files, ms, cached) to an open object.
  void WriteMeta(JsonWriter& json, const std::optional<Range>& range) const;

  /// Commits alert-log changes (the write role's actions); refreshes the API's state after.
  Result<int64_t> CommitAlertChanges(const alert::Changes& changes);

  const Clock& clock() const;

 private:
  Api::Impl& api_;
  std::shared_ptr<const LakeState> state_;
  const Request& request_;
  Params params_;
  std::unique_ptr<lake::DuckSession> session_;
  int64_t files_read_ = 0;
  TimestampUs started_steady_us_ = 0;
};

/// A route's handler: builds the whole answer (status 200 JSON, or an error via ErrorResponse;
/// a Status error is mapped: kInvalidArgument 400, kNotFound 404, timeouts 504, others 503).
using Handler = std::function<Result<Response>(Context&)>;

struct Route {
  std::string method;  // "GET" or "POST"
  std::string path;    // exact path: "/api/overview/totals"
  Handler handler;
  bool cacheable = false;     // GET answers depend only on (state, parameters): cache per snapshot
  bool write = false;         // needs Role::kWrite (403 otherwise)
  std::string_view summary;   // one line, for logs
};

class Router {
 public:
  void Add(Route route);
  const Route* Find(std::string_view method, std::string_view path, bool* path_exists) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Each file registers its own routes (api.cpp calls them in this order).
void RegisterMetaRoutes(Router& router);      // api_meta.cpp: /healthz, /api/version, /api/filters
void RegisterOverviewRoutes(Router& router);  // api_overview.cpp: /api/overview/*
void RegisterDeviceRoutes(Router& router);    // api_device.cpp: /api/devices, /api/device*
void RegisterAlertRoutes(Router& router);     // api_alerts.cpp: /api/alerts*, /api/silences*, /api/device/alerts
void RegisterPipelineRoutes(Router& router);  // api_pipeline.cpp: /api/pipeline/*
void RegisterMetricsRoutes(Router& router);   // api_metrics.cpp: /metrics, /api/openapi.json

/// JSON of one alert as docs/API.md's ALERT (api_alerts.cpp; the device page uses it too).
void WriteAlertJson(JsonWriter& json, const LakeState& state, const alert::Alert& alert, TimestampUs now_us);

/// The lake's metrics (/metrics), rebuilt from the run records and the alert log of `state`,
/// followed by the server's HTTP metrics in `http` (api_metrics.cpp).
Result<std::string> MetricsText(Context& ctx, const metrics::Registry& http);

/// What Api::Impl holds (api.cpp). Handlers reach it only through Context.
struct Api::Impl {
  std::filesystem::path root;
  ApiOptions options;
  const Clock* clock = nullptr;
  Router router;
  metrics::Registry http_metrics;

  std::mutex mu;  // guards lake, alert_log, state, cache
  std::unique_ptr<lake::Lake> lake;
  std::shared_ptr<const LakeState> state;
  std::unique_ptr<lake::DuckSession> db;  // the shared database; each request Connect()s
  // ... refresh bookkeeping and the answer cache live in api.cpp
  struct Cache;
  std::unique_ptr<Cache> cache;
  TimestampUs last_refresh_steady_us = 0;
};

}  // namespace iotad::serve
