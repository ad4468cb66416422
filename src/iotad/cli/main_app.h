#pragma once

namespace iotad::cli {
/// Parses argv, runs the chosen subcommand, prints errors as one sentence, returns the exit code.
int RunMain(int argc, char** argv);
}  // namespace iotad::cli
