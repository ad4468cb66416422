#pragma once
#include "iotad/core/clock.h"
#include "iotad/core/metrics.h"

namespace iotad::cli {
/// Parses argv, runs the chosen subcommand, prints errors as one sentence, returns the exit code.
int RunMain(int argc, char** argv);

/// The registry this process's commands record into; `--metrics-file` writes it when the
/// command ends (ok or not).
metrics::Registry& CliMetrics();

/// The wall clock the commands give the lakes they open and the logger: the system clock, or,
/// for tests only, a clock fixed at the time in IOTAD_TEST_NOW (ISO-8601), so that run ids,
/// commit times, run records and arrival partitions can be checked exactly.
const Clock& CliClock();
}  // namespace iotad::cli
