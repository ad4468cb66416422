#pragma once
// `iotad serve`: the HTTP server (cpp-httplib) in front of the API (api.h) and the embedded
// front end (assets.h). It owns listening, access (loopback by default; a token for anything
// else, then for every request; a write token for the alert actions), request limits, security
// headers, the access log (never a token), and the pages; every /api/*, /metrics and /healthz
// request goes to Api::Handle.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>

#include "iotad/core/result.h"
#include "iotad/serve/api.h"

namespace iotad::serve {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::string token;        // read token (empty: none; required unless `listen` is loopback)
  std::string write_token;  // alert actions (empty: they answer 403)
  int threads = 16;         // request threads (an idle kept-alive connection holds one up to 2 s)
  std::chrono::seconds read_timeout{10};
  size_t max_body_bytes = 64 * 1024;
  ApiOptions api;
};

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool IsLoopbackHost(std::string_view host);

/// Reads the tokens: `--token` / `--token-file` / IOTAD_SERVE_TOKEN (and the write token's
/// three), refusing two sources at once, an empty or unreadable file, and a non-loopback
/// `listen` without a read token. One sentence per problem, never the token itself.
Status ResolveTokens(ServeOptions& options, const std::string& token_flag, const std::string& token_file,
                     const std::string& write_token_flag, const std::string& write_token_file);

class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const std::filesystem::path& lake_root, ServeOptions options,
                                                const Clock& clock = SystemClock::Instance());
  ~Server();
  /// Binds; returns the actual port (useful with port 0). Errors name the address.
  Result<int> Bind();
  /// Serves until Stop() (from another thread or a signal handler's flag).
  Status Run();
  void Stop();
  /// "http://127.0.0.1:8080/" once bound.
  std::string Url() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace iotad::serve
