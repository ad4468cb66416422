#pragma once
// Every subcommand lives in its own file and registers itself from main.cpp through one
// Register*Command call (explicit registration, no static self-registration).
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "iotad/core/result.h"
#include "iotad/pipeline/run.h"

namespace iotad::cli {

/// Options shared by every subcommand.
struct GlobalOptions {
  std::string lake;  // --lake; empty means IOTAD_LAKE or the current folder
  bool quiet = false;
};

/// Where a subcommand's callback leaves its outcome; main turns it into an exit code.
struct CommandOutcome {
  Status status;
  int exit_code = 0;  // set by commands that exit non-zero without an error (e.g. failed checks)
};

/// The lake folder this invocation works on: --lake, else $IOTAD_LAKE, else ".".
std::string ResolveLakePath(const GlobalOptions& global);

/// Adds `--lake` to a subcommand.
void AddLakeOption(CLI::App& sub, GlobalOptions& global);

void RegisterInitCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterGenerateCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterGenerateSeriesCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterIngestCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterSilverCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterGoldCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterSqlCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterRunCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterStatusCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterDemoCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterConfigCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterScoreFileCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterEvalCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterVerifyCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
void RegisterAlertCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
/// `serve` (serve_cmd.cpp): the dashboard and its JSON API over HTTP.
void RegisterServeCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
/// `report` (report_cmd.cpp): the dashboard's overview as one self-contained HTML file.
void RegisterReportCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out);
/// `preview` under the `alert` command (alert_preview_cmd.cpp).
void RegisterAlertPreviewCommand(CLI::App& alert, GlobalOptions& global, CommandOutcome& out);
/// `test SINK` under the `alert` command (alert_test_cmd.cpp): one test notification, the receiver's answer.
void RegisterAlertTestCommand(CLI::App& alert, GlobalOptions& global, CommandOutcome& out);

/// Prints a run's stage reports and checks; false when a check failed.
bool PrintRunReport(const pipeline::RunReport& report);

/// Maps an error code to the process exit code (2 usage, 3 not found, 4 i/o, 1 other).
int ExitCodeFor(const Status& status);

}  // namespace iotad::cli
