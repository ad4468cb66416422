#pragma once
// Crash injection for the crash-safety tests. `IOTAD_CRASH_AT=name[:n]` in the environment
// makes the n-th (default first) pass through IOTAD_FAULT_POINT(name) kill the process with
// SIGKILL, exactly like `kill -9` at that moment: no destructors, no flushing.
// Costs one predictable branch when the variable is not set.
#include <string_view>

namespace iotad {

/// True when IOTAD_CRASH_AT is set at all (read once).
bool FaultInjectionEnabled();
/// Kills the process if `name` is the armed point and its count is reached.
void FaultPoint(std::string_view name);

}  // namespace iotad

#define IOTAD_FAULT_POINT(name)                                \
  do {                                                         \
    if (::iotad::FaultInjectionEnabled()) ::iotad::FaultPoint(name); \
  } while (0)
