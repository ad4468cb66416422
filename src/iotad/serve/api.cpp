// The API object: the route table, the per-snapshot state and its refresh, the answer cache, the
// request context (bound-parameter queries under a time limit), and the error mapping.
#include "iotad/serve/api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <set>
#include <thread>

#include "iotad/core/log.h"
#include "iotad/core/thread.h"
#include "iotad/lake/schema.h"
#include "iotad/lake/snapshot.h"
#include "iotad/serve/api_internal.h"
#include "iotad/serve/summary_cache.h"

namespace iotad::serve {
namespace {

TimestampUs SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// The hour of a bronze key `bronze/dt=2024-01-05/hour=5/...`.
std::optional<TimestampUs> BronzeHour(std::string_view key) {
  const size_t dt = key.find("dt=");
  const size_t hr = key.find("/hour=");
  if (dt == std::string_view::npos || hr == std::string_view::npos || hr < dt + 13) return std::nullopt;
  const auto day = ParseTimestamp(key.substr(dt + 3, 10));
  if (!day) return std::nullopt;
  int64_t h = 0;
  size_t i = hr + 6;
  if (i >= key.size() || key[i] < '0' || key[i] > '9') return std::nullopt;
  while (i < key.size() && key[i] >= '0' && key[i] <= '9') h = h * 10 + (key[i++] - '0');
  if (h > 23) return std::nullopt;
  return *day + h * kMicrosPerHour;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

/// Everything api.cpp keeps besides what api_internal.h shows: the alert log, the answer cache,
/// and the watchdog that interrupts queries over their time limit.
struct Api::Impl::Cache {
  std::optional<alert::AlertLog> alert_log;
  std::string last_run_key;  // newest runs/ record when the state was built
  std::map<std::string, Response, std::less<>> answers;  // of `state`
  SummaryStore summary;  // decoded gold_summary partitions (summary_cache.h)
  SilverCountStore silver_counts;  // silver files' readings per location and metric

  // The watchdog (its own mutex: a query must be interruptible while `mu` is held elsewhere).
  struct Watch {
    lake::DuckSession* session = nullptr;
    TimestampUs deadline_steady_us = 0;
  };
  std::mutex watch_mu;
  std::condition_variable watch_cv;
  std::map<const Context*, Watch> watches;
  std::set<const Context*> timed_out;
  bool stopping = false;
  std::jthread watchdog;
};

// ---- LakeState --------------------------------------------------------------------------------

std::vector<const HourFile*> LakeState::FilesIn(std::string_view layer, TimestampUs from, TimestampUs to) const {
  std::vector<const HourFile*> out;
  const auto it = layers.find(layer);
  if (it == layers.end()) return out;
  const TimestampUs first = HourStart(from);
  const auto& files = it->second;
  auto pos = std::lower_bound(files.begin(), files.end(), first,
                              [](const HourFile& f, TimestampUs h) { return f.hour < h; });
  for (; pos != files.end() && pos->hour < to; ++pos) out.push_back(&*pos);
  return out;
}

namespace {

Result<std::shared_ptr<const LakeState>> BuildState(Api::Impl& impl) {
  auto state = std::make_shared<LakeState>();
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, impl.lake->snapshot());
  state->snapshot = std::make_shared<const lake::Snapshot>(*snapshot);
  state->lake_seq = snapshot->seq();
  state->config = impl.lake->config();
  state->alerts = impl.cache->alert_log->state();
  state->alert_seq = state->alerts.seq;
  for (const auto& [key, live] : snapshot->files()) {
    const std::string_view layer = lake::LayerOf(key);
    if (layer.empty()) continue;
    HourFile f;
    f.key = key;
    f.path = impl.lake->store().ReadPath(key);
    f.bytes = live.stamp ? static_cast<int64_t>(live.stamp->size_bytes) : 0;
    if (layer == "bronze") {
      f.hour = BronzeHour(key).value_or(0);
    } else {
      if (!EndsWith(key, ".parquet")) continue;
      if (layer != "quarantine") {
        const auto hour = lake::HourFromKey(key);
        if (!hour) continue;
        f.hour = *hour;
      }
    }
    state->layers[std::string(layer)].push_back(std::move(f));
  }
  for (auto& [layer, files] : state->layers) {
    std::sort(files.begin(), files.end(),
              [](const HourFile& a, const HourFile& b) { return a.hour != b.hour ? a.hour < b.hour : a.key < b.key; });
  }
  for (const char* layer : {"gold_summary", "silver"}) {
    const auto it = state->layers.find(layer);
    if (it == state->layers.end() || it->second.empty()) continue;
    state->first_hour = it->second.front().hour;
    state->last_hour = it->second.back().hour;
    break;
  }
  return std::shared_ptr<const LakeState>(std::move(state));
}

Result<std::string> NewestRunKey(Api::Impl& impl) {
  IOTAD_ASSIGN_OR_RETURN(auto objects, impl.lake->store().List(lake::kRunsPrefix));
  // The newest key and the count: run ids sort to the second only, so a record started in the
  // same second as the newest may sort before it.
  std::string newest;
  size_t count = 0;
  for (const auto& o : objects) {
    if (!EndsWith(o.key, ".json")) continue;
    ++count;
    if (o.key > newest) newest = o.key;
  }
  return fmt::format("{}#{}", newest, count);
}

/// The current state, refreshed when `refresh_interval` passed (or `force`). Caller holds mu.
Result<std::shared_ptr<const LakeState>> CurrentState(Api::Impl& impl, bool force) {
  const TimestampUs now = SteadyUs();
  const int64_t interval_us =
      std::chrono::duration_cast<std::chrono::microseconds>(impl.options.refresh_interval).count();
  if (impl.state && !force && now - impl.last_refresh_steady_us < interval_us) return impl.state;
  impl.last_refresh_steady_us = now;
  IOTAD_ASSIGN_OR_RETURN(bool moved, impl.lake->RefreshSnapshot());
  IOTAD_TRY(impl.cache->alert_log->Refresh());
  IOTAD_ASSIGN_OR_RETURN(std::string run_key, NewestRunKey(impl));
  const bool alerts_moved = !impl.state || impl.cache->alert_log->state().seq != impl.state->alert_seq;
  if (impl.state && !moved && !alerts_moved && run_key == impl.cache->last_run_key) return impl.state;
  IOTAD_ASSIGN_OR_RETURN(impl.state, BuildState(impl));
  impl.cache->summary.Retain(*impl.state);
  impl.cache->silver_counts.Retain(*impl.state);
  impl.cache->last_run_key = std::move(run_key);
  impl.cache->answers.clear();
  return impl.state;
}

std::string CacheKey(const Request& request) {
  std::string key = request.method + " " + request.path;
  for (const auto& [k, v] : request.params) {
    key += '\n';
    key += k;
    key += '=';
    key += v;
  }
  return key;
}

Response StatusResponse(const Status& st, bool timed_out) {
  if (timed_out) return ErrorResponse(504, "the query ran over its time limit (--query-timeout)");
  switch (st.code()) {
    case Errc::kInvalidArgument: return ErrorResponse(400, st.message());
    case Errc::kNotFound: return ErrorResponse(404, st.message());
    default:
      // The cause (a DuckDB message with the lake's paths and the SQL) goes to the server's log,
      // not to the client.
      log::Warn("serve: a request failed", {{"error", st.message()}});
      return ErrorResponse(503, "the lake cannot be read right now (the cause is in the server's log)");
  }
}

}  // namespace

SummaryStore& SummaryStoreOf(Api::Impl& api) { return api.cache->summary; }
SilverCountStore& SilverCountStoreOf(Api::Impl& api) { return api.cache->silver_counts; }

// ---- Router -------------------------------------------------------------------------------------

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

const Route* Router::Find(std::string_view method, std::string_view path, bool* path_exists) const {
  const Route* found = nullptr;
  bool exists = false;
  for (const auto& r : routes_) {
    if (r.path != path) continue;
    exists = true;
    if (r.method == method) found = &r;
  }
  if (path_exists != nullptr) *path_exists = exists;
  return found;
}

// ---- Context ------------------------------------------------------------------------------------

Context::Context(Api::Impl& api, std::shared_ptr<const LakeState> state, const Request& request)
    : api_(api), state_(std::move(state)), request_(request), params_(request), started_steady_us_(SteadyUs()) {}

Context::~Context() {
  std::lock_guard lock(api_.cache->watch_mu);
  api_.cache->watches.erase(this);
  api_.cache->timed_out.erase(this);
}

const Clock& Context::clock() const { return *api_.clock; }

Range Context::ResolveRange(const Filters& filters) const {
  Range r;
  TimestampUs last_end = 0, first = 0;
  if (state_->last_hour) {
    last_end = *state_->last_hour + kMicrosPerHour;
    first = *state_->first_hour;
  } else {
    last_end = HourStart(api_.clock->NowUs()) + kMicrosPerHour;
    first = last_end - kMicrosPerHour;
  }
  r.to = filters.to.value_or(filters.from && *filters.from >= last_end ? *filters.from + kMicrosPerHour : last_end);
  r.from = filters.from.value_or(std::max(first, r.to - 7 * kMicrosPerDay));
  if (!filters.from && r.from >= r.to) r.from = r.to - kMicrosPerHour;
  if (r.to - r.from > kMaxRangeDays * kMicrosPerDay) r.from = r.to - kMaxRangeDays * kMicrosPerDay;
  return r;
}

Result<lake::DuckResult> Context::Query(std::string_view sql, const std::vector<lake::DuckParam>& params,
                                        int64_t files) {
  files_read_ += files;
  if (!session_) {
    IOTAD_ASSIGN_OR_RETURN(session_, api_.db->Connect());
  }
  auto& cache = *api_.cache;
  const int64_t timeout_us =
      std::chrono::duration_cast<std::chrono::microseconds>(api_.options.query_timeout).count();
  {
    std::lock_guard lock(cache.watch_mu);
    if (cache.timed_out.count(this) != 0) return Error(Errc::kInternal, "the request ran over its time limit");
    cache.watches[this] = {session_.get(), SteadyUs() + timeout_us};
  }
  cache.watch_cv.notify_all();
  const std::string limited = fmt::format("SELECT * FROM (\n{}\n) LIMIT {}", sql, api_.options.max_rows);
  auto result = session_->QueryParams(limited, params);
  bool timed_out = false;
  {
    std::lock_guard lock(cache.watch_mu);
    cache.watches.erase(this);
    timed_out = cache.timed_out.count(this) != 0;
  }
  if (timed_out) return Error(Errc::kInternal, "the query ran over its time limit");
  return result;
}

std::string Context::ReadParquet(std::string_view layer, const std::vector<const HourFile*>& files) const {
  const bool hourly = layer != "quarantine";
  if (files.empty()) {
    std::span<const lake::Column> columns;
    if (layer == "gold") columns = lake::kAnomalyColumns;
    if (layer == "gold_summary") columns = lake::kGoldSummaryColumns;
    if (layer == "quarantine") columns = lake::kQuarantineColumns;
    if (layer == "silver") columns = lake::kSilverColumns;
    std::string select = lake::NullSelectList(columns);
    if (hourly) select += ", " + lake::NullSelectList(lake::kHourPartitionColumns);
    return fmt::format("(SELECT * FROM (SELECT {}) WHERE false)", select);
  }
  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const HourFile* f : files) paths.push_back(f->path);
  return fmt::format("read_parquet({}, hive_partitioning = true, union_by_name = true{})", lake::SqlList(paths),
                     hourly ? ", hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER}"
                            : "");
}

void Context::WriteMeta(JsonWriter& json, const std::optional<Range>& range) const {
  json.Key("meta").BeginObject();
  json.Key("lake_seq").Int(state_->lake_seq);
  json.Key("alert_seq").Int(state_->alert_seq);
  json.Key("from");
  range ? json.Timestamp(range->from) : json.Null();
  json.Key("to");
  range ? json.Timestamp(range->to) : json.Null();
  json.Key("files").Int(files_read_);
  json.Key("ms").Double(std::round(static_cast<double>(SteadyUs() - started_steady_us_) / 10.0) / 100.0);
  json.Key("cached").Bool(false);
  json.EndObject();
}

Result<int64_t> Context::CommitAlertChanges(const alert::Changes& changes) {
  std::lock_guard lock(api_.mu);
  IOTAD_ASSIGN_OR_RETURN(int64_t seq, api_.cache->alert_log->Commit(changes));
  IOTAD_TRY(CurrentState(api_, /*force=*/true).status());
  return seq;
}

// ---- Api ----------------------------------------------------------------------------------------

Api::Api(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Api::~Api() {
  if (impl_ && impl_->cache) {
    {
      std::lock_guard lock(impl_->cache->watch_mu);
      impl_->cache->stopping = true;
    }
    impl_->cache->watch_cv.notify_all();
    if (impl_->cache->watchdog.joinable()) impl_->cache->watchdog.join();
  }
}

Result<std::unique_ptr<Api>> Api::Open(const std::filesystem::path& lake_root, const ApiOptions& options,
                                       const Clock& clock) {
  auto impl = std::make_unique<Impl>();
  impl->root = lake_root;
  impl->options = options;
  impl->clock = &clock;
  impl->cache = std::make_unique<Impl::Cache>();
  if (const char* rows = std::getenv("IOTAD_SERVE_SUMMARY_CACHE_ROWS"); rows != nullptr) {
    impl->cache->summary.max_rows = std::atoll(rows);
  }
  IOTAD_ASSIGN_OR_RETURN(impl->lake, lake::Lake::Open(lake_root));
  IOTAD_ASSIGN_OR_RETURN(auto alert_log, alert::AlertLog::Open(impl->lake->store(), clock));
  impl->cache->alert_log.emplace(std::move(alert_log));

  lake::DuckSessionOptions duck;
  duck.threads = options.duckdb_threads > 0 ? options.duckdb_threads : impl->lake->config().duckdb.threads;
  duck.memory_limit = impl->lake->config().duckdb.memory_limit;
  IOTAD_ASSIGN_OR_RETURN(impl->db, lake::DuckSession::Open(duck));
  // Parquet footers are read once per file and kept: the overview's queries then cost their scans.
  IOTAD_TRY(impl->db->Exec("SET parquet_metadata_cache = true"));
  IOTAD_TRY(impl->db->RestrictToReadOnly({lake_root.string()}, ""));

  RegisterMetaRoutes(impl->router);
  RegisterOverviewRoutes(impl->router);
  RegisterDeviceRoutes(impl->router);
  RegisterAlertRoutes(impl->router);
  RegisterPipelineRoutes(impl->router);
  RegisterMetricsRoutes(impl->router);
  {
    std::lock_guard lock(impl->mu);
    IOTAD_TRY(CurrentState(*impl, /*force=*/true).status());
  }
  Impl::Cache* cache = impl->cache.get();
  IOTAD_ASSIGN_OR_RETURN(cache->watchdog, StartThread("the query watchdog", [cache] {
                           std::unique_lock lock(cache->watch_mu);
                           while (!cache->stopping) {
                             const TimestampUs now = SteadyUs();
                             TimestampUs next = now + 1'000'000;
                             for (auto& [ctx, w] : cache->watches) {
                               if (w.session == nullptr) continue;
                               if (w.deadline_steady_us <= now) {
                                 w.session->Interrupt();
                                 cache->timed_out.insert(ctx);
                                 w.session = nullptr;
                               } else {
                                 next = std::min(next, w.deadline_steady_us);
                               }
                             }
                             cache->watch_cv.wait_for(lock, std::chrono::microseconds(std::max<TimestampUs>(next - now, 1000)));
                           }
                         }));
  return std::unique_ptr<Api>(new Api(std::move(impl)));
}

Response Api::Handle(const Request& request) {
  Impl& impl = *impl_;
  bool path_exists = false;
  const Route* route = impl.router.Find(request.method, request.path, &path_exists);
  if (route == nullptr) {
    Response r = path_exists ? ErrorResponse(405, fmt::format("{} is not allowed here", request.method.substr(0, 10)))
                             : ErrorResponse(404, "no such endpoint");
    if (path_exists) {
      for (const auto& candidate : impl.router.routes()) {
        if (candidate.path == request.path) r.route = candidate.path;
      }
    }
    return r;
  }
  if (route->write && request.role != Role::kWrite) {
    Response r = ErrorResponse(403, "this action needs the write token");
    r.route = route->path;
    return r;
  }
  std::shared_ptr<const LakeState> state;
  std::string key;
  {
    std::lock_guard lock(impl.mu);
    auto current = CurrentState(impl, false);
    if (!current.ok()) {
      Response r = route->path == "/healthz"
                       ? Response{503, "application/json; charset=utf-8", "", {}, route->path}
                       : StatusResponse(current.status(), false);
      if (route->path == "/healthz") {
        JsonWriter json;
        json.BeginObject().Key("status").String("error").Key("error").String(current.status().message()).EndObject();
        r.body = json.Take();
      }
      r.route = route->path;
      return r;
    }
    state = *current;
    if (route->cacheable && impl.options.cache_entries > 0) {
      key = CacheKey(request);
      const auto hit = impl.cache->answers.find(key);
      if (hit != impl.cache->answers.end()) {
        Response r = hit->second;
        const size_t at = r.body.rfind("\"cached\":false");
        if (at != std::string::npos) r.body.replace(at, 14, "\"cached\":true");
        return r;
      }
    }
  }
  // A commit applied while a GET runs may delete a file of its snapshot (moves, then deletes,
  // then the marker: lake/README.md). Such a failure is answered from the newer snapshot, as
  // `iotad sql` does, a few times at most; a request that ran out of time is not retried.
  constexpr int kSnapshotAttempts = 3;
  std::optional<Context> ctx;
  Result<Response> result = Error(Errc::kInternal, "not run");
  bool timed_out = false;
  for (int attempt = 1;; ++attempt) {
    ctx.reset();
    ctx.emplace(impl, state, request);
    result = route->handler(*ctx);
    {
      std::lock_guard lock(impl.cache->watch_mu);
      timed_out = impl.cache->timed_out.count(&*ctx) != 0;
    }
    const bool retryable = !result.ok() && !timed_out && route->method == "GET" &&
                           result.status().code() != Errc::kInvalidArgument &&
                           result.status().code() != Errc::kNotFound;
    if (!retryable || attempt == kSnapshotAttempts) break;
    std::lock_guard lock(impl.mu);
    auto fresh = CurrentState(impl, /*force=*/true);
    if (!fresh.ok() || *fresh == state) break;  // the lake did not move: the error stands
    state = *fresh;
  }
  Status finish = result.ok() ? ctx->params().Finish() : Status::Ok();
  Response response;
  if (!result.ok()) {
    response = StatusResponse(result.status(), timed_out);
  } else if (!finish.ok()) {
    response = StatusResponse(finish, false);
  } else {
    response = std::move(*result);
  }
  response.route = route->path;
  if (route->cacheable && response.status == 200 && !key.empty()) {
    std::lock_guard lock(impl.mu);
    if (impl.state == state && impl.cache->answers.size() < impl.options.cache_entries) {
      impl.cache->answers.emplace(key, response);
    }
  }
  return response;
}

void Api::Warm() {
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> views = {
      {"/api/filters", {}},
      {"/api/overview/totals", {}},
      {"/api/overview/anomalies_over_time", {}},
      {"/api/overview/anomalies_by_device", {{"limit", "20"}}},
      {"/api/overview/heatmap", {}},
      {"/api/overview/summary", {}},
  };
  const TimestampUs started = SteadyUs();
  for (const auto& [path, params] : views) {
    Request request;
    request.path = path;
    request.params = params;
    const Response response = Handle(request);
    if (response.status != 200) return;  // an unreadable lake: the requests will say why
  }
  log::Info("serve: the overview's default views are ready", {{"ms", (SteadyUs() - started) / 1000}});
}

void Api::RecordRequest(std::string_view route, std::string_view method, int status, double seconds) {
  const std::vector<std::string> labels{std::string(route), std::string(method), std::to_string(status)};
  impl_->http_metrics
      .HistogramFamily("iotad_http_request_duration_seconds", "HTTP request durations (seconds)",
                       {"route", "method", "code"}, {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
      .With(labels)
      .Observe(seconds);
  impl_->http_metrics.CounterFamily("iotad_http_requests_total", "HTTP requests served", {"route", "method", "code"})
      .With(labels)
      .Inc();
}

}  // namespace iotad::serve
