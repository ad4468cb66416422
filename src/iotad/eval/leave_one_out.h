#pragma once
// Leave one category out: each category of a NAB-format set scored at the threshold learnt on
// all the others, the honest estimate of a detector on series it was not tuned on. Pure code:
// every file is scored once by the caller and regrouped here.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/eval/nab.h"

namespace iotad::eval {

/// One labelled file's rows as scored once; the spans outlive the call.
struct NabFileRows {
  std::string name;  // its key in combined_windows.json: <category>/<file>
  std::span<const TimestampUs> timestamps;
  std::span<const double> scores;
  std::span<const NabWindow> windows;
};

/// A file's category: the first component of its name (`realAWSCloudwatch/ec2_x.csv` ->
/// `realAWSCloudwatch`); a name without `/` is its own category.
std::string_view NabCategory(std::string_view file);

/// One held-out category: its files at the threshold learnt on every other category.
struct LeaveOneOutFold {
  std::string category;
  int64_t files = 0;
  int64_t rows = 0;
  int64_t train_files = 0;  // the files the threshold was learnt on
  /// score.threshold is the learnt threshold; score.normalized is NaN when the category has no
  /// window (then raw and the false alarms are what count).
  NabScore score;
};

/// One profile's folds, in the order categories first appear, and the pooled figures: every
/// held-out row at its own fold's threshold, normalised over the whole set (pooled.threshold is
/// NaN, since each fold has its own; pooled.files lists every file, category by category).
struct LeaveOneOut {
  NabProfile profile;
  std::vector<LeaveOneOutFold> folds;
  NabScore pooled;
};

/// Leave-one-category-out for each profile. Needs at least two categories.
Result<std::vector<LeaveOneOut>> LeaveOneCategoryOut(std::span<const NabFileRows> files,
                                                     std::span<const NabProfile> profiles);

}  // namespace iotad::eval
