#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/pipeline/gold.h"
#include "iotad/pipeline/run_record.h"

namespace iotad::cli {

void RegisterGoldCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("gold", "Compute anomalies and hourly summaries from silver");
  auto options = std::make_shared<pipeline::GoldOptions>();
  sub->add_option("--detectors,--detector", options->detectors,
                  "Detectors to run (zscore, robust_zscore); default: gold.detectors from the config")
      ->delimiter(',');
  sub->add_flag("--rebuild", options->rebuild, "Recompute even if silver and the config are unchanged");
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
    record.command = "gold";
    record.started_at_us = pipeline::WallClockUs();
    auto report = pipeline::RunGold(**lake, *options, record.run_id);
    record.finished_at_us = pipeline::WallClockUs();
    if (!report.ok()) {
      record.status = "failed";
      record.message = report.status().message();
      (void)pipeline::WriteRunRecord(**lake, record);
      out.status = report.status();
      return;
    }
    int64_t total = 0;
    for (const auto& [d, n] : report->anomalies) total += n;
    record.counts_json = fmt::format("{{\"rows_scanned\":{},\"anomalies\":{}}}", report->rows_scanned, total);
    out.status = pipeline::WriteRunRecord(**lake, record);
    PrintGoldReport(*report);
  });
}

}  // namespace iotad::cli
