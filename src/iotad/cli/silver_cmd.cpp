#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/pipeline/run_record.h"
#include "iotad/pipeline/silver.h"

namespace iotad::cli {

void RegisterSilverCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("silver", "Turn new bronze files into silver Parquet (incremental; bad rows to quarantine)");
  auto options = std::make_shared<pipeline::SilverOptions>();
  sub->add_flag("--rebuild", options->rebuild, "Reprocess all of bronze, replacing silver and quarantine");
  AddLakeOption(*sub, global);
  sub->callback([options, &global, &out] {
    auto lake = OpenLake(ResolveLakePath(global));
    if (!lake.ok()) {
      out.status = lake.status();
      return;
    }
    out.status = (*lake)->BeginWrite();
    if (!out.status.ok()) return;
    pipeline::RunRecord record;
    record.run_id = lake::NewRunId();
    record.command = options->rebuild ? "silver --rebuild" : "silver";
    record.started_at_us = pipeline::WallClockUs();
    auto report = pipeline::RunSilver(**lake, *options, record.run_id);
    record.finished_at_us = pipeline::WallClockUs();
    if (!report.ok()) {
      record.status = "failed";
      record.message = report.status().message();
      (void)pipeline::WriteRunRecord(**lake, record);
      out.status = report.status();
      return;
    }
    record.counts_json = pipeline::AccountingJson(report->accounting);
    out.status = pipeline::WriteRunRecord(**lake, record);
    PrintSilverReport(*report);
  });
}

}  // namespace iotad::cli
