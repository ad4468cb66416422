#include "iotad/cli/cli.h"
#include "iotad/cli/main_app.h"
#include "iotad/core/log.h"
#include "iotad/pipeline/run_metrics.h"
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
      pipeline::RecordIngestMetrics(CliMetrics(), report);
      // Bad files are skipped and left where they are; the others were landed. Nothing at all
      // ingested while a file was bad is a failure (recorded as such); its one-sentence error
      // names the file when there is just one.
      const bool nothing = report.files.empty() && !report.bad_files.empty();
      if (!nothing || report.bad_files.size() > 1) {
        for (const auto& b : report.bad_files) {
          log::Warn(fmt::format("ingest: skipped '{}': {} (left in place)", b.path, b.reason),
                    {{"run_id", run_id}, {"stage", "ingest"}, {"path", b.path}, {"reason", b.reason}});
        }
      }
      if (nothing) {
        return Error(Errc::kParse, "ingest: nothing ingested: {} bad file{} skipped and left in place ('{}': {}{})",
                     report.bad_files.size(), report.bad_files.size() == 1 ? "" : "s", report.bad_files[0].path,
                     report.bad_files[0].reason, report.bad_files.size() == 1 ? "" : ", ...");
      }
      return fmt::format("{{\"new_files\":{},\"duplicate_files\":{},\"skipped_files\":{}}}", report.new_files,
                         report.duplicate_files, ingest::BadFilesJson(report));
    });
  });
}

}  // namespace iotad::cli
