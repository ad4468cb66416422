#pragma once
// Starting threads without std::terminate. `std::thread`'s constructor throws std::system_error
// when the OS refuses a thread (EAGAIN on a loaded machine, RLIMIT_NPROC, no memory for the
// stack); uncaught, or caught while another std::thread is still joinable, that ends in
// "terminate called without an active exception". StartThread turns the failure into a Status,
// and std::jthread joins in its destructor, so an early return never leaves a joinable thread.
#include <cstdint>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "iotad/core/result.h"

namespace iotad {

/// Fault injection for tests: the `nth` StartThread call from now (1 = the next) fails as if
/// the OS had refused the thread (EAGAIN); 0 disarms. `IOTAD_FAIL_THREAD_START=n` in the
/// environment arms it at the first StartThread call, for end-to-end tests.
void FailThreadStartAt(int64_t nth);

namespace internal {
/// True when the armed fault fires on this call (counts calls while armed).
bool ThreadStartShouldFail();
Status ThreadStartError(std::string_view what, const std::system_error& e);
}  // namespace internal

/// Starts `fn` on a new std::jthread (joined when it is destroyed). `what` names the work for
/// the message: "cannot start a thread for <what>: Resource temporarily unavailable ...".
template <typename Fn>
Result<std::jthread> StartThread(std::string_view what, Fn&& fn) {
  try {
    if (internal::ThreadStartShouldFail()) {
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                              "injected by IOTAD_FAIL_THREAD_START");
    }
    return std::jthread(std::forward<Fn>(fn));
  } catch (const std::system_error& e) {
    return internal::ThreadStartError(what, e);
  }
}

}  // namespace iotad
