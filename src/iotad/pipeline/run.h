#pragma once
// `iotad run`: the whole chain once (inbox -> bronze -> silver -> gold), validation checks with
// their cause, and a run record in the lake.
#include <string>
#include <vector>

#include "iotad/alert/run.h"
#include "iotad/core/metrics.h"
#include "iotad/core/result.h"
#include "iotad/ingest/bronze.h"
#include "iotad/lake/lake.h"
#include "iotad/pipeline/gold.h"
#include "iotad/pipeline/silver.h"

namespace iotad::pipeline {

struct RunOptions {
  std::vector<std::string> extra_inputs;  // besides the configured inbox
  bool skip_inbox = false;
  GoldOptions gold;
  /// The alert stage after gold (skipped when alert.enabled = false or gold did not run).
  bool alert = true;
  alert::AlertRunOptions alert_options;
  /// Where the stages' counts, durations and the run's status are recorded (run_metrics.h);
  /// nullptr: nowhere. Logging goes to the process's logger (core/log.h) either way.
  metrics::Registry* metrics = nullptr;
};

struct CheckResult {
  std::string name;
  bool passed = true;
  std::string message;  // the cause when it failed
};

struct RunReport {
  std::string run_id;
  ingest::IngestReport ingest;
  SilverReport silver;
  GoldReport gold;
  std::string gold_skipped;  // why gold did not run (silver does not match its log), else empty
  bool alert_ran = false;
  alert::AlertReport alert;
  std::vector<CheckResult> checks;
  bool checks_passed = true;
  double seconds = 0;
};

/// Runs the chain; stage failures are returned as errors (and recorded as a failed run).
Result<RunReport> RunPipeline(lake::Lake& lake, const RunOptions& options);

/// Checks that hold on any healthy lake (also used by `iotad status`).
Result<std::vector<CheckResult>> ValidateLake(lake::Lake& lake);

}  // namespace iotad::pipeline
