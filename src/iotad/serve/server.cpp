#include "iotad/serve/server.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <utility>

#include <httplib.h>

#include "iotad/core/file.h"
#include "iotad/core/log.h"
#include "iotad/core/thread.h"
#include "iotad/serve/assets.h"

namespace iotad::serve {
namespace {

constexpr std::string_view kCookieName = "iotad_token";
constexpr std::string_view kTokenEnv = "IOTAD_SERVE_TOKEN";
constexpr std::string_view kWriteTokenEnv = "IOTAD_SERVE_WRITE_TOKEN";

// Every answer carries these (httplib's default headers: also its own 400/413 answers). The
// page's scripts and styles are files of ours (/assets/...): no inline script can run.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'";

/// The pages of the one-page app: each answers index.html, the script routes on the path.
bool IsPagePath(std::string_view path) {
  return path == "/" || path == "/device" || path == "/alerts" || path == "/pipeline";
}

bool IsApiPath(std::string_view path) {
  return path == "/healthz" || path == "/metrics" || path == "/api" || path.starts_with("/api/");
}

/// Equal strings, in time that depends only on the lengths (a token is compared with this).
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

/// The credential of `Authorization: Bearer X`, empty when absent or another scheme.
std::string BearerToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return {};
    }
  }
  std::string_view token = std::string_view(header).substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return std::string(token);
}

/// The value of cookie `name` in the request's Cookie headers, empty when absent.
std::string CookieValue(const httplib::Request& req, std::string_view name) {
  const size_t count = req.get_header_value_count("Cookie");
  for (size_t n = 0; n < count; ++n) {
    const std::string header = req.get_header_value("Cookie", n);
    std::string_view rest = header;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

/// A token may be sent in a header and a cookie: visible ASCII without the cookie's separators.
Status CheckTokenText(std::string_view what, std::string_view token) {
  if (token.empty()) return Error(Errc::kInvalidArgument, "serve: the {} is empty", what);
  for (const char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\') {
      return Error(Errc::kInvalidArgument,
                   "serve: the {} may hold only visible ASCII characters without spaces, ';', ',', '\"' or '\\'",
                   what);
    }
  }
  return Status::Ok();
}

/// One token from at most one of: the flag, the file, the environment variable.
Status ResolveOne(std::string_view what, std::string_view flag_name, std::string_view file_flag_name,
                  std::string_view env_name, const std::string& flag, const std::string& file, std::string& out) {
  const char* env = std::getenv(std::string(env_name).c_str());
  const bool has_env = env != nullptr && *env != '\0';
  const int sources = (flag.empty() ? 0 : 1) + (file.empty() ? 0 : 1) + (has_env ? 1 : 0);
  if (sources > 1) {
    return Error(Errc::kInvalidArgument, "serve: give the {} one way only: {}, {} or {}", what, flag_name,
                 file_flag_name, env_name);
  }
  if (!flag.empty()) {
    out = flag;
  } else if (!file.empty()) {
    auto text = ReadWholeFile(file);
    if (!text.ok()) return Error(Errc::kInvalidArgument, "serve: cannot read the {} file '{}'", what, file);
    std::string_view token = *text;
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.remove_suffix(1);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) token.remove_prefix(1);
    if (token.empty()) return Error(Errc::kInvalidArgument, "serve: the {} file '{}' is empty", what, file);
    out = std::string(token);
  } else if (has_env) {
    out = env;
  } else {
    out.clear();
    return Status::Ok();
  }
  return CheckTokenText(what, out);
}

/// host and port of `host:port` or `[v6]:port`.
Result<std::pair<std::string, int>> SplitListen(std::string_view listen) {
  std::string_view host, port;
  if (listen.starts_with('[')) {
    const size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Error(Errc::kInvalidArgument, "serve: --listen '{}' is not [IPv6]:PORT", listen);
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) {
      return Error(Errc::kInvalidArgument, "serve: --listen '{}' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty()) return Error(Errc::kInvalidArgument, "serve: --listen '{}' has no host", listen);
  int value = 0;
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(Errc::kInvalidArgument, "serve: --listen '{}' has no port number (0-65535)", listen);
  }
  for (const char c : port) value = value * 10 + (c - '0');
  if (value > 65535) return Error(Errc::kInvalidArgument, "serve: --listen '{}': port {} is over 65535", listen, value);
  return std::pair<std::string, int>(std::string(host), value);
}

/// The page a browser gets without a valid token: a form that sends the token to /login. It
/// runs no script and loads nothing (the assets need the token too).
std::string LoginPage(bool wrong_token) {
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>iotad: token needed</title>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\n<body>\n"
      "<h1>iotad dashboard</h1>\n";
  page += wrong_token ? "<p>That token is not this server's. Try again.</p>\n"
                      : "<p>This server needs its access token (the one it was started with).</p>\n";
  page +=
      "<form id=\"login\" method=\"get\" action=\"/login\">\n"
      "<label>Token <input name=\"token\" type=\"password\" autocomplete=\"current-password\" required "
      "autofocus></label>\n<button type=\"submit\">Open</button>\n</form>\n</body></html>\n";
  return page;
}

/// What the current thread is serving: set when routing starts, read by the access logger.
struct RequestTrace {
  int64_t started_steady_us = 0;
  std::string route = "other";
};
thread_local RequestTrace t_trace;

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SetJsonError(httplib::Response& res, int status, std::string_view message) {
  const Response error = ErrorResponse(status, message);
  res.status = status;
  res.set_content(error.body, error.content_type.c_str());
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "localhost" || lower == "localhost.") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, lower.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, lower.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

Status ResolveTokens(ServeOptions& options, const std::string& token_flag, const std::string& token_file,
                     const std::string& write_token_flag, const std::string& write_token_file) {
  IOTAD_TRY(ResolveOne("token", "--token", "--token-file", kTokenEnv, token_flag, token_file, options.token));
  IOTAD_TRY(ResolveOne("write token", "--write-token", "--write-token-file", kWriteTokenEnv, write_token_flag,
                       write_token_file, options.write_token));
  IOTAD_ASSIGN_OR_RETURN(auto host_port, SplitListen(options.listen));
  if (!IsLoopbackHost(host_port.first) && options.token.empty()) {
    return Error(Errc::kInvalidArgument,
                 "serve: --listen {} is not a loopback address: give a token (--token, --token-file or {}) so only "
                 "its holders can read the lake",
                 options.listen, kTokenEnv);
  }
  return Status::Ok();
}

struct Server::Impl {
  ServeOptions options;
  std::unique_ptr<Api> api;
  std::jthread warm;  // Api::Warm at start (joined before `api` goes: declared after it)
  httplib::Server http;
  std::string host;
  int port = 0;
  bool bound = false;

  /// Whether the request may read: no token configured, or the read or write token as a bearer,
  /// or the read token's cookie from /login.
  bool MayRead(const httplib::Request& req) const {
    if (options.token.empty()) return true;
    const std::string bearer = BearerToken(req);
    if (!bearer.empty() &&
        (SameSecret(bearer, options.token) || (!options.write_token.empty() && SameSecret(bearer, options.write_token)))) {
      return true;
    }
    const std::string cookie = CookieValue(req, kCookieName);
    return !cookie.empty() && SameSecret(cookie, options.token);
  }

  /// The write role comes only from the write token in the Authorization header, never from a
  /// cookie: no cross-site request can write.
  bool MayWrite(const httplib::Request& req) const {
    if (options.write_token.empty()) return false;
    const std::string bearer = BearerToken(req);
    return !bearer.empty() && SameSecret(bearer, options.write_token);
  }

  void Refuse(const httplib::Request& req, httplib::Response& res) const {
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_header("Cache-Control", "no-store");
    if (IsApiPath(req.path)) {
      SetJsonError(res, 401,
                   "this server needs its token: send the header 'Authorization: Bearer TOKEN' or open "
                   "/login?token=TOKEN in the browser");
    } else {
      res.status = 401;
      res.set_content(LoginPage(/*wrong_token=*/false), "text/html; charset=utf-8");
    }
  }

  void ServeAsset(const httplib::Request& req, httplib::Response& res, const Asset& asset) const {
    const std::string etag = fmt::format("\"{}\"", asset.sha256);
    res.set_header("ETag", etag);
    res.set_header("Cache-Control", "no-cache");
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
    res.status = 200;
    res.set_content(asset.data.data(), asset.data.size(), std::string(asset.content_type).c_str());
  }

  void Login(const httplib::Request& req, httplib::Response& res) const {
    t_trace.route = "/login";
    res.set_header("Cache-Control", "no-store");
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      SetJsonError(res, 405, "/login answers GET only");
      return;
    }
    if (options.token.empty()) {
      res.set_redirect("/", 303);
      return;
    }
    const std::string token = req.get_param_value("token");
    if (token.empty() || !SameSecret(token, options.token)) {
      res.status = 401;
      res.set_content(LoginPage(/*wrong_token=*/!token.empty()), "text/html; charset=utf-8");
      return;
    }
    res.set_header("Set-Cookie", fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/", kCookieName, options.token));
    res.set_redirect("/", 303);
  }

  void CallApi(const httplib::Request& req, httplib::Response& res) const {
    Request request;
    request.method = req.method == "HEAD" ? "GET" : req.method;
    request.path = req.path;
    // From the URL's query only (httplib also folds a form-encoded body into req.params), in the
    // order sent.
    if (const size_t q = req.target.find('?'); q != std::string::npos) {
      std::string_view query = std::string_view(req.target).substr(q + 1);
      if (const size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
      while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        const std::string name(pair.substr(0, eq));
        const std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
        request.params.emplace_back(httplib::detail::decode_url(name, true), httplib::detail::decode_url(value, true));
      }
    }
    request.body = req.body;
    const bool may_write = MayWrite(req);
    request.role = may_write ? Role::kWrite : Role::kRead;
    Response response = api->Handle(request);
    t_trace.route = response.route;
    if (response.status == 403 && !may_write) {
      // The API refused a write: say what is missing (a token, or any write token at all).
      if (options.write_token.empty()) {
        response = ErrorResponse(403, "alert actions are off: start iotad serve with --write-token");
      } else {
        response = ErrorResponse(401, "this action needs the write token in the header 'Authorization: Bearer TOKEN'");
        res.set_header("WWW-Authenticate", "Bearer");
      }
      response.route = t_trace.route;
    }
    res.status = response.status;
    for (const auto& [name, value] : response.headers) res.set_header(name, value);
    if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
    res.set_content(response.body, response.content_type.c_str());
  }

  /// Every request that httplib has read whole comes here.
  void Dispatch(const httplib::Request& req, httplib::Response& res) const {
    const std::string& path = req.path;
    if (path == "/healthz") {  // open to all: a load balancer's probe has no token
      CallApi(req, res);
      return;
    }
    if (path == "/login") {
      Login(req, res);
      return;
    }
    if (!MayRead(req)) {
      t_trace.route = IsApiPath(path) ? "api" : "other";
      Refuse(req, res);
      return;
    }
    if (IsApiPath(path)) {
      CallApi(req, res);
      return;
    }
    const bool page = IsPagePath(path);
    const bool asset_path = path.starts_with("/assets/");
    if (page || asset_path) {
      t_trace.route = page ? path : "/assets";
      if (req.method != "GET" && req.method != "HEAD") {
        res.set_header("Allow", "GET, HEAD");
        SetJsonError(res, 405, fmt::format("{} answers GET only", page ? path : "/assets/"));
        return;
      }
      // The name is looked up as is in the embedded table: '..', '/', '%2e' find nothing.
      const Asset* asset = FindAsset(page ? std::string_view("index.html") : std::string_view(path).substr(8));
      if (asset != nullptr) {
        ServeAsset(req, res, *asset);
        return;
      }
    }
    SetJsonError(res, 404, "no such page: the dashboard's pages are /, /device, /alerts and /pipeline");
  }

  void Configure() {
    http.new_task_queue = [n = std::max(1, options.threads)] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
    http.set_payload_max_length(options.max_body_bytes);
    http.set_read_timeout(options.read_timeout);
    http.set_write_timeout(options.read_timeout);
    http.set_keep_alive_timeout(2);  // an idle connection holds a request thread this long
    http.set_keep_alive_max_count(1000);  // httplib closes after 5 requests by default
    // Small answers (a JSON object) would otherwise wait ~40 ms for the client's delayed ACK (Nagle).
    http.set_tcp_nodelay(true);
    http.set_default_headers({
        {"Content-Security-Policy", kContentSecurityPolicy},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
    });
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      t_trace.started_steady_us = SteadyMicros();
      t_trace.route = "other";
      // httplib compresses every text/* answer per request when the client accepts it, brotli at
      // quality 11: 2 s of CPU for app.js on each page load. Answers go out as they are. (The
      // request is httplib's own mutable object; the handler's const is only its signature.)
      const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
      static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
      if (std::find(std::begin(kMethods), std::end(kMethods), req.method) == std::end(kMethods)) {
        SetJsonError(res, 405, fmt::format("method {} is not served", req.method));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    const auto dispatch = [this](const httplib::Request& req, httplib::Response& res) { Dispatch(req, res); };
    http.Get(".*", dispatch);
    http.Post(".*", httplib::Server::Handler(dispatch));
    http.Put(".*", httplib::Server::Handler(dispatch));
    http.Patch(".*", httplib::Server::Handler(dispatch));
    http.Delete(".*", httplib::Server::Handler(dispatch));
    http.Options(".*", dispatch);
    // httplib's own refusals (413 body too large, 400 bad request) get a JSON sentence.
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      switch (res.status) {
        case 413:
          SetJsonError(res, 413, "the request body is over the 64 KiB limit");
          break;
        case 414:
          SetJsonError(res, 414, "the request's URL is too long");
          break;
        case 304:
          break;
        default:
          SetJsonError(res, res.status, "the request could not be read as HTTP");
      }
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      SetJsonError(res, 500, "internal error while answering");
    });
    // The access log and the HTTP metrics: the decoded path only (the query of /login holds a
    // token), never a header.
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      const int64_t started = std::exchange(t_trace.started_steady_us, 0);
      const double seconds = started == 0 ? 0.0 : static_cast<double>(SteadyMicros() - started) / 1e6;
      api->RecordRequest(t_trace.route, req.method, res.status, seconds);
      if (log::Enabled(log::Level::kInfo)) {
        log::Info("http request", {{"method", req.method},
                                   {"path", req.path},
                                   {"route", t_trace.route},
                                   {"status", res.status},
                                   {"ms", std::round(seconds * 1e6) / 1e3},
                                   {"bytes", static_cast<int64_t>(res.body.size())},
                                   {"remote", req.remote_addr}});
      }
      t_trace.route = "other";
    });
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Create(const std::filesystem::path& lake_root, ServeOptions options,
                                               const Clock& clock) {
  IOTAD_ASSIGN_OR_RETURN(auto host_port, SplitListen(options.listen));
  if (!IsLoopbackHost(host_port.first) && options.token.empty()) {
    return Error(Errc::kInvalidArgument, "serve: --listen {} is not a loopback address and no token is set",
                 options.listen);
  }
  if (options.threads < 1 || options.threads > 256) {
    return Error(Errc::kInvalidArgument, "serve: --threads {} is not in 1-256", options.threads);
  }
  auto impl = std::make_unique<Impl>();
  impl->host = host_port.first;
  impl->port = host_port.second;
  IOTAD_ASSIGN_OR_RETURN(impl->api, Api::Open(lake_root, options.api, clock));
  impl->options = std::move(options);
  impl->Configure();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<int> Server::Bind() {
  Impl& s = *impl_;
  if (s.port == 0) {
    const int port = s.http.bind_to_any_port(s.host);
    if (port <= 0) return Error(Errc::kIo, "serve: cannot listen on {} (a free port)", s.options.listen);
    s.port = port;
  } else if (!s.http.bind_to_port(s.host, s.port)) {
    return Error(Errc::kIo, "serve: cannot listen on {}: the address is in use or not this machine's",
                 s.options.listen);
  }
  s.bound = true;
  return s.port;
}

Status Server::Run() {
  if (!impl_->bound) IOTAD_TRY(Bind().status());
  // The overview's first answers, computed while the socket already queues connections, so the
  // first visitor does not wait for the lake's summaries to be decoded. A thread that cannot
  // start only loses that head start.
  if (auto warm = StartThread("serve-warm", [api = impl_->api.get()] { api->Warm(); }); warm.ok()) {
    impl_->warm = std::move(*warm);
  }
  if (!impl_->http.listen_after_bind()) {
    return Error(Errc::kIo, "serve: the server on {} stopped accepting connections", impl_->options.listen);
  }
  return Status::Ok();
}

void Server::Stop() { impl_->http.stop(); }

std::string Server::Url() const {
  const std::string& host = impl_->host;
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}/", v6 ? "[" : "", host, v6 ? "]" : "", impl_->port);
}

}  // namespace iotad::serve
