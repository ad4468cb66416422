#pragma once
// The scaffolding every lake-writing subcommand shares: open the lake, take the writer lock
// (which recovers an interrupted commit), run the stage, and record the run, failed or not.
#include <functional>
#include <string>

#include "iotad/cli/cli.h"
#include "iotad/lake/lake.h"

namespace iotad::cli {

/// A stage body: does its work, prints its report, returns its counts as a JSON object.
using StageBody = std::function<Result<std::string>(lake::Lake& lake, const std::string& run_id)>;

/// Runs `body` under a run record named `command`; the returned status is the command's outcome.
Status RunRecordedStage(const GlobalOptions& global, const std::string& command, const StageBody& body);

}  // namespace iotad::cli
