#pragma once
// The dashboard's JSON API (docs/API.md is the contract, openapi.json its machine-readable
// form): one object per served lake, thread-safe, called by the HTTP server (server.h) for every
// /api/*, /metrics and /healthz request, and in-process by `iotad report`.
//
// Reads go to the lake's newest applied snapshot: each request takes the current LakeState
// (api_internal.h), refreshed from the commit log's applied marker and the alert log's head at
// most every `refresh_interval`. A snapshot's answers are cached (GET data endpoints only), so the
// same view asked twice between two commits is answered without a query.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "iotad/core/clock.h"
#include "iotad/core/result.h"
#include "iotad/serve/http_types.h"

namespace iotad::serve {

struct ApiOptions {
  std::chrono::milliseconds query_timeout{10000};  // per query; over it: 504
  int64_t max_rows = 100000;                        // rows read back from any one query
  std::chrono::milliseconds refresh_interval{500};  // how often the lake's head is checked
  size_t cache_entries = 1024;                      // answers cached per snapshot (0: no cache)
  int64_t duckdb_threads = 0;                       // 0: the lake's [duckdb] threads
};

class Api {
 public:
  /// Opens the lake (its config is validated, nothing is written) and reads its state once.
  static Result<std::unique_ptr<Api>> Open(const std::filesystem::path& lake_root, const ApiOptions& options,
                                           const Clock& clock = SystemClock::Instance());
  ~Api();

  /// Answers one request for /api/*, /metrics or /healthz (404 JSON for any other path). Never
  /// throws; errors are JSON answers (docs/API.md). Thread-safe.
  Response Handle(const Request& request);

  /// Answers the overview's default views once (what a browser opening `/` asks first), so the
  /// lake's gold_summary and silver counts are decoded and those answers cached before the first
  /// visitor comes. Errors are left to the requests that will meet them. Thread-safe.
  void Warm();

  /// Records one served request in the server's metrics (iotad_http_request_duration_seconds,
  /// iotad_http_requests_total), which /metrics shows with the lake's. Thread-safe.
  void RecordRequest(std::string_view route, std::string_view method, int status, double seconds);

  struct Impl;

 private:
  explicit Api(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace iotad::serve
