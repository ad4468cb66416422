#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "iotad/cli/cli.h"
#include "iotad/cli/main_app.h"
#include "iotad/core/log.h"
#include "iotad/core/thread.h"
#include "iotad/serve/server.h"

namespace iotad::cli {
namespace {

/// Set by SIGINT/SIGTERM; a watcher thread turns it into Server::Stop (a signal handler may only
/// touch a lock-free atomic).
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnStopSignal(int) { g_stop_requested.store(true); }

struct ServeFlags {
  std::string token, token_file, write_token, write_token_file;
  double query_timeout_s = 10;
};

Status Serve(const std::string& lake, serve::ServeOptions options, const ServeFlags& flags) {
  IOTAD_TRY(serve::ResolveTokens(options, flags.token, flags.token_file, flags.write_token, flags.write_token_file));
  if (!(flags.query_timeout_s > 0 && flags.query_timeout_s <= 3600)) {
    return Error(Errc::kInvalidArgument, "serve: --query-timeout {} is not in (0, 3600] seconds", flags.query_timeout_s);
  }
  options.api.query_timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.query_timeout_s * 1000));
  IOTAD_ASSIGN_OR_RETURN(auto server, serve::Server::Create(lake, std::move(options), CliClock()));
  IOTAD_TRY(server->Bind().status());

  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::atomic<bool> done{false};
  // Stop() is asked again until Run returns: a signal may come before the server accepts.
  IOTAD_ASSIGN_OR_RETURN(auto watcher, StartThread("the serve signal watcher", [&server, &done] {
    while (!done.load()) {
      if (g_stop_requested.load()) server->Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }));

  std::printf("dashboard: %s\n", server->Url().c_str());
  std::fflush(stdout);
  log::Info("serving the lake", {{"lake", lake}, {"url", server->Url()}});
  Status status = server->Run();
  done.store(true);
  watcher.join();
  if (status.ok()) log::Info("stopped serving", {{"lake", lake}});
  return status;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("serve", "Serve the dashboard and its JSON API (docs/API.md) over HTTP");
  auto options = std::make_shared<serve::ServeOptions>();
  auto flags = std::make_shared<ServeFlags>();
  sub->add_option("--listen", options->listen, "HOST:PORT to listen on (port 0: a free one); not loopback: needs a token")
      ->capture_default_str();
  sub->add_option("--token", flags->token,
                  "Token every request must carry (Authorization: Bearer, or the cookie /login?token= sets); also "
                  "IOTAD_SERVE_TOKEN");
  sub->add_option("--token-file", flags->token_file, "Read the token from this file");
  sub->add_option("--write-token", flags->write_token,
                  "Token the alert actions (ack, silence) need in an Authorization: Bearer header; also "
                  "IOTAD_SERVE_WRITE_TOKEN (without one they answer 403)");
  sub->add_option("--write-token-file", flags->write_token_file, "Read the write token from this file");
  sub->add_option("--query-timeout", flags->query_timeout_s, "Seconds a query may run before the answer is 504")
      ->capture_default_str();
  sub->add_option("--max-rows", options->api.max_rows, "Rows read back from any one query at most")
      ->capture_default_str();
  sub->add_option("--threads", options->threads, "Request threads")->capture_default_str();
  AddLakeOption(*sub, global);
  sub->footer(
      "Examples:\n"
      "  iotad serve --lake demo-lake                  then open http://127.0.0.1:8080/\n"
      "  iotad serve --lake L --listen 0.0.0.0:8080 --token-file /etc/iotad/token\n"
      "Prints `dashboard: URL` once listening; SIGINT or SIGTERM stops it. A token is never logged.");
  sub->callback([options, flags, &global, &out] { out.status = Serve(ResolveLakePath(global), *options, *flags); });
}

}  // namespace iotad::cli
