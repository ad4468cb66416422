#include "iotad/eval/nab.h"

#include <algorithm>
#include <numeric>

namespace iotad::eval {
namespace {

/// Index of the first row with this timestamp, or -1 (Python's list.index, as NAB uses).
int64_t FirstRowAt(std::span<const TimestampUs> timestamps, TimestampUs ts) {
  const auto it = std::find(timestamps.begin(), timestamps.end(), ts);
  return it == timestamps.end() ? -1 : it - timestamps.begin();
}

Status CheckWindowEdges(std::span<const TimestampUs> timestamps,
                        std::span<const NabWindow> windows) {
  for (const NabWindow& w : windows) {
    for (const TimestampUs edge : {w.start_us, w.end_us}) {
      if (FirstRowAt(timestamps, edge) < 0) {
        return Error(Errc::kInvalidArgument,
                     "the window [{}, {}] has an edge at {}, which is no row's timestamp",
                     FormatTimestamp(w.start_us), FormatTimestamp(w.end_us), FormatTimestamp(edge));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<NabProfile> DefaultNabProfiles() {
  return {{"standard", 1.0, 0.11, 1.0},
          {"reward_low_FP_rate", 1.0, 0.22, 1.0},
          {"reward_low_FN_rate", 1.0, 0.11, 2.0}};
}

int64_t NabProbationRows(int64_t rows) {
  return std::min<int64_t>(static_cast<int64_t>(std::floor(0.15 * static_cast<double>(rows))), 750);
}

double NabScaledSigmoid(double x) {
  if (x > 3.0) return -1.0;
  return 2.0 / (1.0 + std::exp(5.0 * x)) - 1.0;
}

Result<NabRowLabels> LabelNabRows(std::span<const TimestampUs> timestamps,
                                  std::span<const NabWindow> windows) {
  IOTAD_TRY(CheckWindowEdges(timestamps, windows));
  const int64_t n = static_cast<int64_t>(timestamps.size());
  const int64_t probation = NabProbationRows(n);
  NabRowLabels out;
  out.window.resize(n);
  out.position_score.resize(n);
  size_t next = 0;       // the next window to enter
  int32_t current = -1;  // the window we are in, or -1
  int64_t right = 0, width = 0, prev_right = -1, prev_width = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (next < windows.size() && timestamps[i] == windows[next].start_us) {
      current = static_cast<int32_t>(next++);
      right = FirstRowAt(timestamps, windows[current].end_us);
      width = right - FirstRowAt(timestamps, windows[current].start_us) + 1;
    }
    double position;
    if (current >= 0) {
      position = -static_cast<double>(right - i + 1) / static_cast<double>(width);
    } else if (prev_right < 0) {
      position = std::numeric_limits<double>::infinity();  // no window yet: the full penalty
    } else {
      position =
          static_cast<double>(std::abs(prev_right - i)) / static_cast<double>(prev_width - 1);
    }
    out.position_score[i] = NabScaledSigmoid(position);
    out.window[i] = i < probation ? NabRowLabels::kProbation
                                  : (current >= 0 ? current : NabRowLabels::kOutside);
    if (current >= 0 && timestamps[i] == windows[current].end_us) {
      prev_right = i;
      prev_width = width;
      current = -1;
    }
  }
  return out;
}

Status NabCorpus::AddFile(std::string name, std::span<const TimestampUs> timestamps,
                          std::span<const double> scores, std::span<const NabWindow> windows) {
  if (timestamps.size() != scores.size()) {
    return Error(Errc::kInvalidArgument, "{}: {} timestamps but {} scores", name, timestamps.size(),
                 scores.size());
  }
  auto labels = LabelNabRows(timestamps, windows);
  if (!labels.ok()) return labels.status().WithContext(name + ": ");
  File file{std::move(name), scores_.size(), scores_.size() + scores.size(), windows_,
            static_cast<int32_t>(windows.size())};
  scores_.insert(scores_.end(), scores.begin(), scores.end());
  position_score_.insert(position_score_.end(), labels->position_score.begin(),
                         labels->position_score.end());
  window_scorable_.resize(windows_ + windows.size(), false);
  for (const int32_t w : labels->window) {
    window_.push_back(w >= 0 ? w + windows_ : w);
    if (w >= 0) window_scorable_[w + windows_] = true;
  }
  windows_ += file.windows;
  files_.push_back(std::move(file));
  return Status::Ok();
}

double NabCorpus::WeightedScore(size_t row, const NabProfile& profile) const {
  if (window_[row] >= 0) return position_score_[row] * profile.tp_weight / NabScaledSigmoid(-1.0);
  return position_score_[row] * profile.fp_weight;
}

double NabCorpus::OptimalThreshold(const NabProfile& profile) const {
  std::vector<uint32_t> order;
  order.reserve(scores_.size());
  for (size_t r = 0; r < scores_.size(); ++r) {
    if (window_[r] != NabRowLabels::kProbation && !std::isnan(scores_[r])) {
      order.push_back(static_cast<uint32_t>(r));
    }
  }
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return scores_[a] > scores_[b]; });
  // Lowering the threshold one distinct score at a time: each window keeps its best firing row.
  std::vector<double> best(windows_, -profile.fn_weight);
  double total = 0.0;
  double best_total = 0.0;
  double best_threshold = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < order.size(); ++k) {
    const uint32_t r = order[k];
    const double weighted = WeightedScore(r, profile);
    if (const int32_t w = window_[r]; w >= 0) {
      if (weighted > best[w]) {
        total += weighted - best[w];
        best[w] = weighted;
      }
    } else {
      total += weighted;
    }
    const bool group_ends = k + 1 == order.size() || scores_[order[k + 1]] != scores_[r];
    if (group_ends && total > best_total) {
      best_total = total;
      best_threshold = scores_[r];
    }
  }
  return best_threshold;
}

NabFileScore NabCorpus::ScoreFile(const File& file, const NabProfile& profile,
                                  double threshold) const {
  NabFileScore out;
  out.name = file.name;
  out.rows = static_cast<int64_t>(file.end - file.begin);
  out.windows = file.windows;
  std::vector<double> best(file.windows, -profile.fn_weight);
  std::vector<bool> hit(file.windows, false);
  bool in_false_alarm = false;
  double fp_sum = 0.0;
  for (size_t r = file.begin; r < file.end; ++r) {
    const bool fires = scores_[r] >= threshold && window_[r] != NabRowLabels::kProbation;
    const bool false_alarm = fires && window_[r] == NabRowLabels::kOutside;
    if (false_alarm) {
      fp_sum += WeightedScore(r, profile);
      ++out.fp_rows;
      if (!in_false_alarm) ++out.fa_events;
    } else if (fires) {
      const int32_t w = window_[r] - file.first_window;
      hit[w] = true;
      best[w] = std::max(best[w], WeightedScore(r, profile));
    }
    in_false_alarm = false_alarm;
  }
  out.raw = fp_sum;
  for (int32_t w = 0; w < file.windows; ++w) {
    if (!window_scorable_[file.first_window + w]) continue;  // all in probation: not counted
    out.raw += best[w];
    out.windows_hit += hit[w] ? 1 : 0;
  }
  return out;
}

NabScore NabCorpus::ScoreAt(const NabProfile& profile, double threshold) const {
  NabScore out;
  out.profile = profile;
  out.threshold = threshold;
  const int64_t scorable = std::count(window_scorable_.begin(), window_scorable_.end(), true);
  out.windows = windows_;
  out.null_score = -profile.fn_weight * static_cast<double>(scorable);
  out.perfect = profile.tp_weight * static_cast<double>(windows_);
  for (const File& file : files_) {
    NabFileScore f = ScoreFile(file, profile, out.threshold);
    out.raw += f.raw;
    out.windows_hit += f.windows_hit;
    out.fa_events += f.fa_events;
    out.fp_rows += f.fp_rows;
    out.files.push_back(std::move(f));
  }
  const double range = out.perfect - out.null_score;
  out.normalized = range > 0 ? 100.0 * (out.raw - out.null_score) / range
                             : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace iotad::eval
