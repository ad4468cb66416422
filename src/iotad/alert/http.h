#pragma once
// One HTTP request through libcurl, for the sinks. Thread-safe (one easy handle per call;
// libcurl opened and curl_global_init run once, on the first request: curl_api.h). No retries here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "iotad/alert/types.h"

namespace iotad::alert {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  int64_t timeout_us = 10'000'000;   // whole request, connect included
  /// libcurl's CURLOPT_AWS_SIGV4 value, e.g. "aws:amz:us-east-1:sns"; empty: no signing.
  std::string aws_sigv4;
  std::string user, password;        // CURLOPT_USERNAME / PASSWORD (SigV4: key id / secret)
  /// CURLOPT_CONNECT_TO entries ("host:port:connect-host:connect-port"), for tests that send a
  /// request for one host to a local server.
  std::vector<std::string> connect_to;
};

struct HttpResponse {
  int64_t status = 0;                // 0: no response (see error)
  std::string body;                  // capped at 64 KiB
  std::vector<std::string> headers;  // "Name: value", as received
  std::string error;                 // transport error, one sentence; "" when a response came
  std::optional<int64_t> retry_after_us;  // Retry-After: seconds or an HTTP date (against now)
  double seconds = 0;
};

HttpResponse HttpSend(const HttpRequest& request);

/// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence (responses kept in attempts).
std::string CapUtf8(std::string s, size_t max);

/// The usual mapping of a response to an attempt: 2xx delivered; no response, 408, 429, 5xx
/// retry (with Retry-After); other statuses refused. `response` is the body, capped at 4 KiB.
AttemptResult ToAttempt(const HttpResponse& response);

/// Parses a Retry-After value (delta seconds or an IMF-fixdate) into a wait from `now_us`.
std::optional<int64_t> ParseRetryAfter(std::string_view value, TimestampUs now_us);

}  // namespace iotad::alert
