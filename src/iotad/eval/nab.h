#pragma once
// NAB v1.1 scoring (Numenta Anomaly Benchmark, nab/sweeper.py), reproduced exactly: per-row
// sweep scores, a threshold optimised over all files pooled, and the normalised score. Pure
// code: the caller reads the files (nab_eval.h) and hands rows in.
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"

namespace iotad::eval {

/// An application profile: the weights of a hit, a false positive and a missed window.
struct NabProfile {
  std::string name;
  double tp_weight = 1.0;
  double fp_weight = 0.11;
  double fn_weight = 1.0;
};

/// NAB's three profiles: standard (1, 0.11, 1), reward_low_FP_rate (1, 0.22, 1),
/// reward_low_FN_rate (1, 0.11, 2).
std::vector<NabProfile> DefaultNabProfiles();

/// A labelled anomaly window; both ends name rows by their exact timestamp.
struct NabWindow {
  TimestampUs start_us = 0;
  TimestampUs end_us = 0;
};

/// Rows at the start of a file that are never scored: min(floor(0.15 n), 750).
int64_t NabProbationRows(int64_t rows);

/// NAB's scaled sigmoid: 2 / (1 + exp(5x)) - 1, and -1 past x = 3.
double NabScaledSigmoid(double x);

/// How NAB sees one file's rows, whatever the profile.
struct NabRowLabels {
  static constexpr int32_t kProbation = -2;
  static constexpr int32_t kOutside = -1;
  /// Per row: kProbation, kOutside, or the index of its window in the file's window list.
  std::vector<int32_t> window;
  /// Per row: the unweighted sweep score, scaledSigmoid of the row's position relative to its
  /// window (inside) or to the end of the preceding window (outside; -1 before any window).
  std::vector<double> position_score;
};

/// Labels a file's rows as NAB's Sweeper does: a window starts at the row whose timestamp equals
/// its start and ends at the row whose timestamp equals its end (first occurrences); repeated
/// timestamps are separate rows. A window edge missing from the timestamps is an error.
Result<NabRowLabels> LabelNabRows(std::span<const TimestampUs> timestamps,
                                  std::span<const NabWindow> windows);

/// One file's figures at the chosen threshold.
struct NabFileScore {
  std::string name;
  double raw = 0.0;  // the file's NAB score
  int64_t rows = 0;
  int64_t windows = 0;      // windows labelled in the file
  int64_t windows_hit = 0;  // windows with a firing row
  int64_t fa_events = 0;  // runs of consecutive firing rows outside every window (after probation)
  int64_t fp_rows = 0;    // firing rows outside every window (after probation)
};

/// A detector's NAB result for one profile over all files.
struct NabScore {
  NabProfile profile;
  /// The optimised threshold (a row fires when its score >= threshold); +infinity when the best
  /// choice is to fire nothing.
  double threshold = std::numeric_limits<double>::infinity();
  double raw = 0.0;         // summed file scores at the threshold
  double null_score = 0.0;  // raw score of firing nothing: -A_FN x scorable windows
  double perfect = 0.0;     // A_TP x labelled windows
  double normalized = 0.0;  // 100 (raw - null) / (perfect - null); NaN without windows
  int64_t windows = 0;
  int64_t windows_hit = 0;
  int64_t fa_events = 0;
  int64_t fp_rows = 0;
  std::vector<NabFileScore> files;
};

/// The rows of every file of a benchmark run, scored together.
class NabCorpus {
 public:
  /// Adds one file: its timestamps, the detector's anomaly scores (same length) and its windows.
  Status AddFile(std::string name, std::span<const TimestampUs> timestamps,
                 std::span<const double> scores, std::span<const NabWindow> windows);

  /// The threshold with the best summed score over the pooled rows of all files: every distinct
  /// score is tried, plus +infinity ("fire nothing"); ties go to the higher threshold.
  double OptimalThreshold(const NabProfile& profile) const;
  /// Every file scored at one threshold: a row fires when its score >= threshold.
  NabScore ScoreAt(const NabProfile& profile, double threshold) const;
  /// ScoreAt(profile, OptimalThreshold(profile)): what NAB reports.
  NabScore Score(const NabProfile& profile) const {
    return ScoreAt(profile, OptimalThreshold(profile));
  }

  size_t files() const { return files_.size(); }

 private:
  struct File {
    std::string name;
    size_t begin = 0, end = 0;  // row range in the flat arrays
    int32_t first_window = 0;   // corpus-wide id of the file's first window
    int32_t windows = 0;
  };

  NabFileScore ScoreFile(const File& file, const NabProfile& profile, double threshold) const;
  double WeightedScore(size_t row, const NabProfile& profile) const;

  std::vector<File> files_;
  // One entry per row of every file, in file order.
  std::vector<double> scores_;
  std::vector<int32_t> window_;  // NabRowLabels::kProbation / kOutside, or a corpus-wide window id
  std::vector<double> position_score_;
  int32_t windows_ = 0;
  std::vector<bool> window_scorable_;  // has at least one row after probation
};

}  // namespace iotad::eval
