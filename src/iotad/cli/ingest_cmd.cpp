#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/ingest/bronze.h"
#include "iotad/pipeline/run_record.h"

namespace iotad::cli {

void RegisterIngestCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("ingest", "Land raw CSV / JSON-lines files (optionally .gz) in bronze, unchanged");
  auto paths = std::make_shared<std::vector<std::string>>();
  sub->add_option("PATH", *paths, "Files or folders (folders are walked; names starting with _ or . are skipped)")
      ->required();
  AddLakeOption(*sub, global);
  sub->callback([paths, &global, &out] {
    auto lake = OpenLake(ResolveLakePath(global));
    if (!lake.ok()) {
      out.status = lake.status();
      return;
    }
    out.status = (*lake)->BeginWrite();
    if (!out.status.ok()) return;
    pipeline::RunRecord record;
    record.run_id = lake::NewRunId();
    record.command = "ingest";
    record.started_at_us = pipeline::WallClockUs();
    auto report = ingest::IngestPaths(**lake, *paths, record.run_id);
    record.finished_at_us = pipeline::WallClockUs();
    if (!report.ok()) {
      record.status = "failed";
      record.message = report.status().message();
      (void)pipeline::WriteRunRecord(**lake, record);
      out.status = report.status();
      return;
    }
    record.counts_json = fmt::format("{{\"new_files\":{},\"duplicate_files\":{}}}", report->new_files,
                                     report->duplicate_files);
    out.status = pipeline::WriteRunRecord(**lake, record);
    PrintIngestReport(*report);
  });
}

}  // namespace iotad::cli
