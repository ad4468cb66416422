// TEMPORARY during issue 9's parallel work: hangs `iotad alert test SINK` under the `alert`
// command before cli/alert_cmd.cpp (helper "outbox") exists, finding the parent when another
// part already added it. Delete with its line in main_app.cpp and its declaration in cli.h;
// alert_cmd.cpp calls RegisterAlertTestCommand itself.
#include "iotad/cli/cli.h"

namespace iotad::cli {

void RegisterTmpHttpAlertCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto found = app.get_subcommands([](CLI::App* s) { return s->get_name() == "alert"; });
  CLI::App* alert = found.empty() ? app.add_subcommand("alert", "Alerts: rules, sinks, the outbox") : found.front();
  if (!alert->get_subcommands([](CLI::App* s) { return s->get_name() == "test"; }).empty()) return;
  RegisterAlertTestCommand(*alert, global, out);
}

}  // namespace iotad::cli
