#pragma once
// For tests only: a real HTTP server (cpp-httplib) on 127.0.0.1 and an ephemeral port, run on its
// own thread for the life of the object. Handlers are registered before Start().
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

#include "iotad/core/thread.h"

namespace iotad::alert::testutil {

class TestHttpServer {
 public:
  httplib::Server& server() { return server_; }

  /// Binds 127.0.0.1 on a free port and serves until destroyed; false when it cannot.
  bool Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
    auto t = StartThread("test http server", [this] { server_.listen_after_bind(); });
    if (!t.ok()) return false;
    thread_ = std::move(t).value();
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return server_.is_running();
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  ~TestHttpServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::jthread thread_;
};

}  // namespace iotad::alert::testutil
