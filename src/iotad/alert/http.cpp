// One HTTP request through libcurl (http.h): one easy handle per call, no retries, no redirects.
#include "iotad/alert/http.h"

#include "iotad/alert/curl_api.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "iotad/core/clock.h"

namespace iotad::alert {
namespace {

constexpr size_t kMaxBody = 64 * 1024;
constexpr size_t kMaxAttemptResponse = 4 * 1024;

struct Capture {
  std::string body;
  std::vector<std::string> headers;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* c = static_cast<Capture*>(user);
  const size_t n = size * nmemb;
  if (c->body.size() < kMaxBody) c->body.append(data, std::min(n, kMaxBody - c->body.size()));
  return n;  // the rest is read and dropped, so the transfer completes
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* c = static_cast<Capture*>(user);
  const size_t n = size * nmemb;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  // A new status line (100 Continue, then the final one): keep only the final response's headers.
  if (line.rfind("HTTP/", 0) == 0) {
    c->headers.clear();
  } else if (!line.empty() && c->headers.size() < 200) {
    c->headers.push_back(std::move(line));
  }
  return n;
}

using curl::Slist;

Slist MakeSlist(const std::vector<std::string>& items) {
  curl_slist* list = nullptr;
  for (const std::string& s : items) {
    curl_slist* next = curl::SlistAppend(list, s.c_str());
    if (next == nullptr) break;
    list = next;
  }
  return Slist(list);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string_view> HeaderValue(const std::vector<std::string>& headers, std::string_view name) {
  for (const std::string& h : headers) {
    const size_t colon = h.find(':');
    if (colon != std::string::npos && IEquals(Trim(std::string_view(h).substr(0, colon)), name)) {
      return Trim(std::string_view(h).substr(colon + 1));
    }
  }
  return std::nullopt;
}

// "Wed, 21 Oct 2015 07:28:00 GMT" (IMF-fixdate, RFC 9110 5.6.7).
std::optional<TimestampUs> ParseImfFixdate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = Trim(s);
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s[25] != ' ' || s.substr(26) != "GMT") {
    return std::nullopt;
  }
  auto num = [&](size_t at, size_t len) -> int {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int day = num(5, 2), year = num(12, 4), hour = num(17, 2), minute = num(20, 2), second = num(23, 2);
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  if (day < 1 || day > 31 || year < 1970 || month == 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * kMicrosPerDay + hour * kMicrosPerHour + minute * kMicrosPerMinute + second * kMicrosPerSecond;
}


// The transport error as one sentence without credentials or the URL's path (a Slack webhook's
// path is its secret).
std::string TransportError(CURLcode code, const char* errbuf, const HttpRequest& r, int64_t timeout_us) {
  std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl::EasyStrerror(code));
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == '.' || detail.back() == ' ')) detail.pop_back();
  auto scrub = [&detail](const std::string& secret) {
    if (secret.size() < 3) return;
    for (size_t at = detail.find(secret); at != std::string::npos; at = detail.find(secret, at)) {
      detail.replace(at, secret.size(), "***");
    }
  };
  scrub(r.password);
  scrub(r.user);
  const size_t scheme = r.url.find("://");
  if (scheme != std::string::npos) {
    const size_t path = r.url.find('/', scheme + 3);
    if (path != std::string::npos && path + 1 < r.url.size()) scrub(r.url.substr(path));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return fmt::format("no response within the timeout of {} ms ({})", (timeout_us + 999) / 1000, detail);
  }
  return fmt::format("no response: {} (curl error {})", detail, static_cast<int>(code));
}

}  // namespace

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string CapUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

std::optional<int64_t> ParseRetryAfter(std::string_view value, TimestampUs now_us) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return int64_t{999'999'999} * kMicrosPerSecond;  // absurdly long: capped, never overflows
    int64_t seconds = 0;
    for (char c : value) seconds = seconds * 10 + (c - '0');
    return seconds * kMicrosPerSecond;
  }
  const std::optional<TimestampUs> at = ParseImfFixdate(value);
  if (!at) return std::nullopt;
  return std::max<int64_t>(0, *at - now_us);
}

HttpResponse HttpSend(const HttpRequest& request) {
  HttpResponse out;
  if (const Status loaded = curl::Load(); !loaded.ok()) {
    out.error = fmt::format("no response: {}", loaded.message());
    return out;
  }
  curl::Easy easy(curl::EasyInit());
  if (!easy) {
    out.error = "no response: libcurl could not create a request handle";
    return out;
  }
  CURL* h = easy.get();
  Capture capture;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const Slist headers = MakeSlist(request.headers);
  const Slist connect_to = MakeSlist(request.connect_to);
  const int64_t timeout_us = std::max<int64_t>(request.timeout_us, 1000);

  curl::EasySetopt(h, CURLOPT_URL, request.url.c_str());
  curl::EasySetopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl::EasySetopt(h, CURLOPT_NOSIGNAL, 1L);
  curl::EasySetopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>((timeout_us + 999) / 1000));
  curl::EasySetopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl::EasySetopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl::EasySetopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl::EasySetopt(h, CURLOPT_WRITEDATA, &capture);
  curl::EasySetopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl::EasySetopt(h, CURLOPT_HEADERDATA, &capture);
  if (headers) curl::EasySetopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (connect_to) curl::EasySetopt(h, CURLOPT_CONNECT_TO, connect_to.get());

  if (request.method == "GET") {
    curl::EasySetopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl::EasySetopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") curl::EasySetopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl::EasySetopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl::EasySetopt(h, CURLOPT_POSTFIELDS, request.body.data());
  }
  if (!request.aws_sigv4.empty()) curl::EasySetopt(h, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());
  if (!request.user.empty()) curl::EasySetopt(h, CURLOPT_USERNAME, request.user.c_str());
  if (!request.password.empty()) curl::EasySetopt(h, CURLOPT_PASSWORD, request.password.c_str());

  const CURLcode rc = curl::EasyPerform(h);
  double total = 0;
  curl::EasyGetinfo(h, CURLINFO_TOTAL_TIME, &total);
  out.seconds = total;
  if (rc != CURLE_OK) {
    out.error = TransportError(rc, errbuf, request, timeout_us);
    return out;
  }
  long status = 0;
  curl::EasyGetinfo(h, CURLINFO_RESPONSE_CODE, &status);
  out.status = status;
  out.body = std::move(capture.body);
  out.headers = std::move(capture.headers);
  if (const auto ra = HeaderValue(out.headers, "Retry-After")) {
    // An HTTP date is against the server's own Date when it sent one (RFC 9110 10.2.3), else
    // against this machine's real-time clock (an absolute wall time: no injected clock applies).
    std::optional<TimestampUs> now;
    if (const auto date = HeaderValue(out.headers, "Date")) now = ParseImfFixdate(*date);
    out.retry_after_us = ParseRetryAfter(*ra, now ? *now : SystemClock::Instance().NowUs());
  }
  return out;
}

AttemptResult ToAttempt(const HttpResponse& r) {
  AttemptResult a;
  a.seconds = r.seconds;
  a.status_code = r.status;
  a.response = CapUtf8(r.body, kMaxAttemptResponse);
  a.retry_after_us = r.retry_after_us;
  if (r.status == 0) {
    a.outcome = AttemptOutcome::kRetry;
    a.error = r.error.empty() ? "no response" : r.error;
  } else if (r.status >= 200 && r.status < 300) {
    a.outcome = AttemptOutcome::kDelivered;
  } else if (r.status == 408 || r.status == 429 || r.status >= 500) {
    a.outcome = AttemptOutcome::kRetry;
    a.error = fmt::format("the receiver answered HTTP {}", r.status);
  } else {
    a.outcome = AttemptOutcome::kRefused;
    a.error = fmt::format("the receiver refused it with HTTP {}", r.status);
  }
  return a;
}

}  // namespace iotad::alert
