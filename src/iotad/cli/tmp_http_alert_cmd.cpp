// TEMPORARY during issue 9's parallel work: an `alert` parent so `iotad alert test SINK` can be
// run before cli/alert_cmd.cpp (helper "outbox") exists. Delete with its line in main_app.cpp
// and its declaration in cli.h; alert_cmd.cpp calls RegisterAlertTestCommand itself.
#include "iotad/cli/cli.h"

namespace iotad::cli {

void RegisterTmpHttpAlertCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == "alert") return;  // the real one is there
  }
  auto* alert = app.add_subcommand("alert", "Alerts (temporary parent: only `alert test` here)");
  alert->require_subcommand(1);
  RegisterAlertTestCommand(*alert, global, out);
}

}  // namespace iotad::cli
