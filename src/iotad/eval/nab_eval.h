#pragma once
// `iotad eval` on a NAB-format benchmark: read the windows, get every file's anomaly scores
// (published result files, or our own detector run on the data files), score them with NAB's
// rules for each profile, and compute event-level metrics from the same rows.
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/eval/events.h"
#include "iotad/eval/nab.h"

namespace iotad::eval {

struct NabEvalOptions {
  std::string labels_path;    // combined_windows.json
  std::string profiles_path;  // profiles.json; empty: DefaultNabProfiles()
  /// Exactly one of these: a published results folder (`DIR/<category>/<name>_<file>.csv[.gz]`,
  /// the detector's name being DIR's last component), or a data folder (`DIR/<file>`) to run
  /// `detector` on.
  std::string results_dir;
  std::string data_dir;
  std::string detector = "default";
  EventMetricsOptions events;  // device_days is computed here
};

/// Everything `iotad eval` prints.
struct EvalReport {
  std::string detector;
  std::string source;  // the results or data folder
  bool from_results = false;
  int64_t files = 0;
  int64_t rows = 0;
  std::vector<NabScore> nab;  // one per profile, in the profiles' order
  /// What the event metrics count as detections: the detector's flags (data), or the rows at or
  /// above the `events_profile` threshold (results); rows in NAB's probation are left out.
  std::string events_profile;
  EventMetricsOptions event_options;  // as used, with the computed device_days
  EventMetrics events;
};

Result<EvalReport> RunNabEval(const NabEvalOptions& options);

/// NAB windows as labelled events: device = the file's name, metric "value", kind "window".
void AppendWindowEvents(const std::string& file, const std::vector<NabWindow>& windows,
                        std::vector<LabelledEvent>& out);

/// The path of a published result file for a labelled data file, `.csv` or `.csv.gz`.
Result<std::string> FindResultsFile(const std::string& results_dir, const std::string& detector,
                                    const std::string& file);

}  // namespace iotad::eval
