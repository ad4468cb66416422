#include "iotad/eval/leave_one_out.h"

#include <algorithm>
#include <limits>

namespace iotad::eval {
namespace {

/// The files of one category, or of all but one (`held_out` false), in one corpus.
Result<NabCorpus> CorpusOf(std::span<const NabFileRows> files, std::string_view category,
                           bool held_out) {
  NabCorpus corpus;
  for (const NabFileRows& f : files) {
    if ((NabCategory(f.name) == category) != held_out) continue;
    IOTAD_TRY(corpus.AddFile(f.name, f.timestamps, f.scores, f.windows));
  }
  return corpus;
}

void AddTo(NabScore& pooled, const NabScore& fold) {
  pooled.raw += fold.raw;
  pooled.null_score += fold.null_score;
  pooled.perfect += fold.perfect;
  pooled.windows += fold.windows;
  pooled.windows_hit += fold.windows_hit;
  pooled.fa_events += fold.fa_events;
  pooled.fp_rows += fold.fp_rows;
  pooled.files.insert(pooled.files.end(), fold.files.begin(), fold.files.end());
}

}  // namespace

std::string_view NabCategory(std::string_view file) {
  return file.substr(0, file.find('/'));
}

Result<std::vector<LeaveOneOut>> LeaveOneCategoryOut(std::span<const NabFileRows> files,
                                                     std::span<const NabProfile> profiles) {
  std::vector<std::string> categories;
  for (const NabFileRows& f : files) {
    const std::string_view c = NabCategory(f.name);
    if (std::find(categories.begin(), categories.end(), c) == categories.end()) {
      categories.emplace_back(c);
    }
  }
  if (categories.size() < 2) {
    return Error(Errc::kInvalidArgument,
                 "leave-one-out needs files of at least two categories (the first folder of each "
                 "file's name), got {}",
                 categories.size());
  }
  std::vector<LeaveOneOut> out;
  for (const NabProfile& profile : profiles) {
    LeaveOneOut p;
    p.profile = profile;
    p.pooled.profile = profile;
    out.push_back(std::move(p));
  }
  for (const std::string& category : categories) {
    IOTAD_ASSIGN_OR_RETURN(const NabCorpus train, CorpusOf(files, category, false));
    IOTAD_ASSIGN_OR_RETURN(const NabCorpus test, CorpusOf(files, category, true));
    for (LeaveOneOut& p : out) {
      LeaveOneOutFold fold{category, static_cast<int64_t>(test.files()), 0,
                           static_cast<int64_t>(train.files()),
                           test.ScoreAt(p.profile, train.OptimalThreshold(p.profile))};
      for (const NabFileScore& f : fold.score.files) fold.rows += f.rows;
      AddTo(p.pooled, fold.score);
      p.folds.push_back(std::move(fold));
    }
  }
  for (LeaveOneOut& p : out) {
    NabScore& s = p.pooled;
    s.threshold = std::numeric_limits<double>::quiet_NaN();
    const double range = s.perfect - s.null_score;
    s.normalized = range > 0 ? 100.0 * (s.raw - s.null_score) / range
                             : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

}  // namespace iotad::eval
