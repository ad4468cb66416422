#include "iotad/core/fault.h"

#include <csignal>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace iotad {
namespace {

struct ArmedFault {
  bool enabled = false;
  std::string name;
  long hits_before_crash = 1;
};

ArmedFault& Armed() {
  static ArmedFault armed = [] {
    ArmedFault a;
    const char* env = std::getenv("IOTAD_CRASH_AT");
    if (env == nullptr || *env == '\0') return a;
    a.enabled = true;
    std::string spec = env;
    if (const auto colon = spec.rfind(':'); colon != std::string::npos) {
      a.hits_before_crash = std::strtol(spec.c_str() + colon + 1, nullptr, 10);
      spec.resize(colon);
    }
    a.name = spec;
    return a;
  }();
  return armed;
}

}  // namespace

bool FaultInjectionEnabled() { return Armed().enabled; }

void FaultPoint(std::string_view name) {
  ArmedFault& armed = Armed();
  if (name != armed.name) return;
  if (--armed.hits_before_crash > 0) return;
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace iotad
