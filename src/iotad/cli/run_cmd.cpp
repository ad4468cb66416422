#include "iotad/cli/cli.h"
#include "iotad/cli/main_app.h"
#include "iotad/cli/output.h"
#include "iotad/core/log.h"
#include "iotad/pipeline/run.h"

namespace iotad::cli {

/// Prints a run's outcome; returns false when a check failed.
bool PrintRunReport(const pipeline::RunReport& r) {
  std::printf("run %s\n", r.run_id.c_str());
  PrintIngestReport(r.ingest);
  for (const auto& b : r.ingest.bad_files) {
    log::Warn(fmt::format("ingest: skipped '{}': {} (left in place)", b.path, b.reason),
              {{"run_id", r.run_id}, {"stage", "ingest"}, {"path", b.path}, {"reason", b.reason}});
  }
  PrintSilverReport(r.silver);
  if (r.gold_skipped.empty()) {
    PrintGoldReport(r.gold);
  } else {
    std::printf("gold: not run: %s\n", r.gold_skipped.c_str());
  }
  if (r.alert_ran) std::printf("%s\n", alert::AlertReportLine(r.alert).c_str());
  bool ok = true;
  for (const auto& c : r.checks) {
    // A passed check may carry a note (inputs_skipped: bad files already reported by an earlier run).
    std::printf("check %-28s %s%s%s\n", c.name.c_str(), c.passed ? "ok" : "FAILED", c.message.empty() ? "" : ": ",
                c.message.c_str());
    ok = ok && c.passed;
  }
  std::printf("run finished in %.2f s (recorded in the runs table)\n", r.seconds);
  return ok;
}

void RegisterRunCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("run", "Run the whole chain once: ingest the inbox, silver, gold, checks; record the run");
  auto options = std::make_shared<pipeline::RunOptions>();
  sub->add_option("--input", options->extra_inputs, "Also ingest these files or folders");
  sub->add_flag("--no-inbox", options->skip_inbox, "Do not ingest the configured inbox folder");
  sub->add_option("--detectors", options->gold.detectors, "Gold detectors (default: config)")->delimiter(',');
  auto no_alert = std::make_shared<bool>(false);
  sub->add_flag("--no-alert", *no_alert, "Skip the alert stage (run after gold when alert.enabled)");
  options->metrics = &CliMetrics();
  AddLakeOption(*sub, global);
  sub->callback([options, no_alert, &global, &out] {
    options->alert = !*no_alert;
    auto lake = OpenLake(ResolveLakePath(global));
    if (!lake.ok()) {
      out.status = lake.status();
      return;
    }
    (*lake)->set_clock(CliClock());
    auto report = pipeline::RunPipeline(**lake, *options);
    if (!report.ok()) {
      out.status = report.status();
      return;
    }
    if (!PrintRunReport(*report)) {
      std::string failed;
      for (const auto& c : report->checks) {
        if (!c.passed) failed += (failed.empty() ? "" : ",") + c.name;
      }
      log::Error(fmt::format("run {} finished but some checks failed (see above)", report->run_id),
                 {{"run_id", report->run_id}, {"failed_checks", failed}, {"exit_code", 1}});
      out.exit_code = 1;
    }
  });
}

}  // namespace iotad::cli
