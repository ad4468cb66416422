// TEMPORARY (server helper): the minimum of Api until i10-api is merged; deleted then.
#include "iotad/serve/api_internal.h"

namespace iotad::serve {

struct Api::Impl::Cache {};

Api::Api(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Api::~Api() = default;

Result<std::unique_ptr<Api>> Api::Open(const std::filesystem::path& lake_root, const ApiOptions& options,
                                       const Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::exists(lake_root / "_iotad", ec)) {
    return Error(Errc::kNotFound, "serve: '{}' is not a lake", lake_root.string());
  }
  auto impl = std::make_unique<Impl>();
  impl->root = lake_root;
  impl->options = options;
  impl->clock = &clock;
  return std::unique_ptr<Api>(new Api(std::move(impl)));
}

Response Api::Handle(const Request& request) {
  Response r;
  if (request.path == "/healthz") {
    r.route = "/healthz";
    r.body = R"({"status":"ok","lake_seq":0})";
  } else if (request.path == "/metrics") {
    r.route = "/metrics";
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = impl_->http_metrics.Exposition();
  } else if (request.path == "/api/version") {
    r.route = "/api/version";
    r.body = R"({"lake_seq":0,"alert_seq":0})";
  } else if (request.path == "/api/alerts/ack") {
    if (request.method != "POST") return ErrorResponse(405, "POST only");
    if (request.role != Role::kWrite) return ErrorResponse(403, "alert actions are off: start iotad serve with --write-token");
    r.route = "/api/alerts/ack";
    return ErrorResponse(404, "no such alert");
  } else {
    return ErrorResponse(404, "no such path");
  }
  if (request.method != "GET") return ErrorResponse(405, "GET only");
  return r;
}

void Api::RecordRequest(std::string_view route, std::string_view method, int status, double seconds) {
  const std::vector<std::string> labels{std::string(route), std::string(method), std::to_string(status)};
  impl_->http_metrics
      .HistogramFamily("iotad_http_request_duration_seconds", "HTTP request durations", {"route", "method", "code"},
                       {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
      .With(labels)
      .Observe(seconds);
  impl_->http_metrics.CounterFamily("iotad_http_requests_total", "HTTP requests", {"route", "method", "code"})
      .With(labels)
      .Inc();
}

}  // namespace iotad::serve
