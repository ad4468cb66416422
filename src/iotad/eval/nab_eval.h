#pragma once
// `iotad eval` on a NAB-format benchmark: read the windows, get every file's anomaly scores
// (published result files, or our own detector run on the data files), score them with NAB's
// rules for each profile, and compute event-level metrics from the same rows.
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/eval/events.h"
#include "iotad/eval/leave_one_out.h"
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
  /// With data_dir: also write each file's rows as scored (`timestamp,value,anomaly_score`, as
  /// `iotad score-file` does) in the layout of published results, `DIR/<category>/<name>_<file>`,
  /// the name being DIR's last component: `results_dir = DIR` reads them back.
  std::string write_results_dir;
  /// Where each profile's threshold comes from: optimised on the scored set (default), `threshold`
  /// for every profile (not NaN), or learnt on another labelled data set scored with `detector`
  /// (`threshold_data_dir` with its `threshold_labels_path`; data mode only).
  double threshold = std::numeric_limits<double>::quiet_NaN();
  std::string threshold_data_dir;
  std::string threshold_labels_path;
  /// Also leave each category out in turn (threshold learnt on the other categories).
  bool leave_one_out = false;
  EventMetricsOptions events;  // device_days and normal_hours are computed here
};

/// Where the thresholds of EvalReport::nab came from.
enum class ThresholdSource { kOptimised, kGiven, kLearnt };

/// Everything `iotad eval` prints.
struct EvalReport {
  std::string detector;
  std::string source;  // the results or data folder
  bool from_results = false;
  int64_t files = 0;
  int64_t rows = 0;
  std::vector<NabScore> nab;  // one per profile, in the profiles' order
  ThresholdSource threshold_source = ThresholdSource::kOptimised;
  /// kLearnt: the set the thresholds were learnt on, and its own scores there (per profile).
  std::string threshold_data_dir;
  std::string threshold_labels_path;
  int64_t threshold_files = 0;
  std::vector<NabScore> threshold_set;
  /// kGiven or kLearnt: each profile's score on this set at its own best threshold, for reference.
  std::vector<NabScore> own_best;
  std::vector<LeaveOneOut> leave_one_out;  // when asked
  /// What the event metrics count as detections: the detector's flags (data), or the rows at or
  /// above the `events_profile` threshold (results); rows in NAB's probation are left out, and
  /// the coverage (device-days, hours of normal operation) starts after it.
  std::string events_profile;
  EventMetricsOptions event_options;  // as used, with the computed device_days
  EventMetrics events;
  /// Data mode: the flags over each whole series, probation included, over the whole coverage
  /// (empty in results mode: a published result file has scores, not flags).
  std::optional<EventMetrics> events_whole_series;
};

Result<EvalReport> RunNabEval(const NabEvalOptions& options);

/// NAB windows as labelled events: device = the file's name, metric "value", kind "window".
void AppendWindowEvents(const std::string& file, const std::vector<NabWindow>& windows,
                        std::vector<LabelledEvent>& out);

/// The path of a published result file for a labelled data file, `.csv` or `.csv.gz`.
Result<std::string> FindResultsFile(const std::string& results_dir, const std::string& detector,
                                    const std::string& file);

}  // namespace iotad::eval
