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
      // Bad files are skipped and left where they are; the others were landed.
      for (const auto& b : report.bad_files) {
        std::fprintf(stderr, "iotad: ingest: skipped '%s': %s (left in place)\n", b.path.c_str(), b.reason.c_str());
      }
      if (report.files.empty() && !report.bad_files.empty()) {
        // Nothing could be ingested and a file was bad: a failure (recorded as such).
        return Error(Errc::kParse, "ingest: nothing ingested: {} bad file{} skipped ('{}': {})",
                     report.bad_files.size(), report.bad_files.size() == 1 ? "" : "s", report.bad_files[0].path,
                     report.bad_files[0].reason);
      }
      return fmt::format("{{\"new_files\":{},\"duplicate_files\":{},\"skipped_files\":{}}}", report.new_files,
                         report.duplicate_files, ingest::BadFilesJson(report));
    });
  });
}

}  // namespace iotad::cli
