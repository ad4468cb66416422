#include "iotad/core/fault.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace iotad {
namespace {

struct ArmedFault {
  ArmedFault() {
    const char* env = std::getenv("IOTAD_CRASH_AT");
    if (env == nullptr || *env == '\0') return;
    enabled = true;
    std::string spec = env;
    if (const auto colon = spec.rfind(':'); colon != std::string::npos) {
      hits_before_crash = std::strtol(spec.c_str() + colon + 1, nullptr, 10);
      spec.resize(colon);
    }
    name = spec;
  }
  bool enabled = false;
  std::string name;
  std::atomic<long> hits_before_crash{1};  // fault points may be passed on two threads
};

ArmedFault& Armed() {
  static ArmedFault armed;
  return armed;
}

}  // namespace

bool FaultInjectionEnabled() { return Armed().enabled; }

void FaultPoint(std::string_view name) {
  ArmedFault& armed = Armed();
  if (name != armed.name) return;
  if (armed.hits_before_crash.fetch_sub(1) > 1) return;
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace iotad
