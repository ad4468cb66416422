#pragma once
// The server-independent shape of a request and its answer. server.cpp converts cpp-httplib's
// types to these, so the API (api.h) and `iotad report` (which calls it in-process) never see the
// HTTP library.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace iotad::serve {

/// What the request's credentials grant (server.cpp decides it from the token, api.h enforces it).
enum class Role : unsigned char { kRead, kWrite };

struct Request {
  std::string method = "GET";  // GET, POST, ...
  std::string path;            // decoded path, without the query: "/api/overview/totals"
  /// Decoded query parameters in order; a name may repeat (`metric=a&metric=b`).
  std::vector<std::pair<std::string, std::string>> params;
  std::string body;  // POST body (JSON), at most 64 KiB (the server refuses larger with 413)
  Role role = Role::kRead;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::map<std::string, std::string> headers;  // extra headers (Cache-Control, ...)
  /// The route's template for metrics labels ("/api/device/series"; "other" for 404s), so an
  /// attacker cannot blow up the label set with random paths.
  std::string route = "other";
};

/// `{"error": "..."}` with `status`.
Response ErrorResponse(int status, std::string_view message);

}  // namespace iotad::serve
