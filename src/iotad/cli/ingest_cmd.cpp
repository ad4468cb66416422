#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/cli/recorded_stage.h"
#include "iotad/ingest/bronze.h"

namespace iotad::cli {

void RegisterIngestCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("ingest", "Land raw CSV / JSON-lines files (optionally .gz) in bronze, unchanged");
  auto paths = std::make_shared<std::vector<std::string>>();
  sub->add_option("PATH", *paths, "Files or folders (folders are walked; names starting with _ or . are skipped)")
      ->required();
  AddLakeOption(*sub, global);
  sub->callback([paths, &global, &out] {
    out.status = RunRecordedStage(global, "ingest", [&](lake::Lake& lake, const std::string& run_id) -> Result<std::string> {
      IOTAD_ASSIGN_OR_RETURN(auto report, ingest::IngestPaths(lake, *paths, run_id));
      PrintIngestReport(report);
      return fmt::format("{{\"new_files\":{},\"duplicate_files\":{}}}", report.new_files, report.duplicate_files);
    });
  });
}

}  // namespace iotad::cli
