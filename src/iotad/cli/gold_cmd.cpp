#include "iotad/cli/cli.h"
#include "iotad/cli/main_app.h"
#include "iotad/pipeline/run_metrics.h"
#include "iotad/cli/output.h"
#include "iotad/cli/recorded_stage.h"
#include "iotad/pipeline/gold.h"

namespace iotad::cli {

void RegisterGoldCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("gold", "Compute anomalies and hourly summaries from silver");
  auto options = std::make_shared<pipeline::GoldOptions>();
  sub->add_option("--detectors,--detector", options->detectors,
                  "Detectors to run: zscore, robust_zscore, or online ones (default = the ensemble, window_z, mad, ewma, "
                  "seasonal, cusum, flatline, rate, range, silent); default: gold.detectors from the config")
      ->delimiter(',');
  sub->add_flag("--rebuild", options->rebuild, "Recompute even if silver and the config are unchanged");
  AddLakeOption(*sub, global);
  sub->callback([options, &global, &out] {
    out.status = RunRecordedStage(global, "gold", [&](lake::Lake& lake, const std::string& run_id) -> Result<std::string> {
      IOTAD_ASSIGN_OR_RETURN(auto report, pipeline::RunGold(lake, *options, run_id));
      PrintGoldReport(report);
      pipeline::RecordGoldMetrics(CliMetrics(), report);
      int64_t total = 0;
      for (const auto& [d, n] : report.anomalies) total += n;
      return fmt::format("{{\"rows_scanned\":{},\"anomalies\":{}}}", report.rows_scanned, total);
    });
  });
}

}  // namespace iotad::cli
