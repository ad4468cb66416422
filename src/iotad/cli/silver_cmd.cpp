#include "iotad/cli/cli.h"
#include "iotad/cli/main_app.h"
#include "iotad/pipeline/run_metrics.h"
#include "iotad/cli/output.h"
#include "iotad/cli/recorded_stage.h"
#include "iotad/pipeline/silver.h"

namespace iotad::cli {

void RegisterSilverCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("silver", "Turn new bronze files into silver Parquet (incremental; bad rows to quarantine)");
  auto options = std::make_shared<pipeline::SilverOptions>();
  sub->add_flag("--rebuild", options->rebuild, "Reprocess all of bronze, replacing silver and quarantine");
  AddLakeOption(*sub, global);
  sub->callback([options, &global, &out] {
    const std::string command = options->rebuild ? "silver --rebuild" : "silver";
    out.status = RunRecordedStage(global, command, [&](lake::Lake& lake, const std::string& run_id) -> Result<std::string> {
      IOTAD_ASSIGN_OR_RETURN(auto report, pipeline::RunSilver(lake, *options, run_id));
      PrintSilverReport(report);
      pipeline::RecordSilverMetrics(CliMetrics(), report);
      return pipeline::AccountingJson(report.accounting, &report.parse);
    });
  });
}

}  // namespace iotad::cli
