#include "iotad/core/thread.h"

#include <atomic>
#include <cstdlib>

namespace iotad {
namespace {

struct ArmedThreadFault {
  ArmedThreadFault() {
    const char* env = std::getenv("IOTAD_FAIL_THREAD_START");
    if (env != nullptr && *env != '\0') remaining = std::strtoll(env, nullptr, 10);
  }
  std::atomic<int64_t> remaining{0};  // calls left until the failure; 0 = disarmed
};

ArmedThreadFault& Armed() {
  static ArmedThreadFault armed;
  return armed;
}

}  // namespace

void FailThreadStartAt(int64_t nth) { Armed().remaining = nth; }

namespace internal {

bool ThreadStartShouldFail() {
  std::atomic<int64_t>& remaining = Armed().remaining;
  int64_t n = remaining.load(std::memory_order_relaxed);
  // Count down only while armed; the call that takes it from 1 to 0 fails.
  while (n > 0) {
    if (remaining.compare_exchange_weak(n, n - 1)) return n == 1;
  }
  return false;
}

Status ThreadStartError(std::string_view what, const std::system_error& e) {
  return Error(Errc::kInternal,
               "cannot start a thread for {}: {} (the machine or this process's thread limit is exhausted; "
               "try again when it is less loaded)",
               what, e.code().message());
}

}  // namespace internal
}  // namespace iotad
