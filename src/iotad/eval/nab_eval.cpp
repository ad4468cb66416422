#include "iotad/eval/nab_eval.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "iotad/eval/nab_labels.h"
#include "iotad/eval/series_csv.h"

namespace iotad::eval {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEventsProfile = "standard";

/// One file's rows as scored, plus the times of the detector's own flags (data mode).
struct LoadedSeries {
  SeriesScores rows;
  struct Flag {
    TimestampUs at_us;
    int64_t row;
    std::string by;  // the detector (for the ensemble, the member) behind it
  };
  std::vector<Flag> flags;
};

/// Scores the data file at `path`; writes its scores to `write_to` as well unless that is empty.
Result<LoadedSeries> RunDetector(const std::string& path, const std::string& detector,
                                 const std::string& write_to) {
  LoadedSeries out;
  const ScoredRowSink keep = [&out](const ScoredRow& row) {
    if (row.score.flag) {
      out.flags.push_back({row.score.at_us != 0 ? row.score.at_us : row.ts_us,
                           static_cast<int64_t>(out.rows.timestamps.size()), std::string(row.score.why.detector)});
    }
    out.rows.timestamps.push_back(row.ts_us);
    out.rows.scores.push_back(row.score.score);
    return Status::Ok();
  };
  if (write_to.empty()) {
    IOTAD_TRY(ScoreSeriesFile(path, detector, keep));
    return out;
  }
  std::error_code ec;
  fs::create_directories(fs::path(write_to).parent_path(), ec);
  if (ec) {
    return Error(Errc::kIo, "cannot create the folder of '{}': {}", write_to, ec.message());
  }
  IOTAD_TRY(WriteScoredCsv(path, write_to, detector, /*explain=*/false, keep));
  return out;
}

/// The folder's last component: `results/numenta/` -> `numenta`.
std::string FolderName(const std::string& dir) {
  fs::path path = fs::path(dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  return path.filename().string();
}

/// Where a published result file for `file` lies under `results_dir` (without a `.gz`).
fs::path ResultsPath(const std::string& results_dir, const std::string& detector,
                     const std::string& file) {
  const fs::path relative(file);
  return fs::path(results_dir) / relative.parent_path() /
         (detector + "_" + relative.filename().string());
}

Result<LoadedSeries> LoadSeries(const NabEvalOptions& options, const std::string& detector,
                                const std::string& file) {
  if (options.results_dir.empty()) {
    const std::string write_to =
        options.write_results_dir.empty()
            ? std::string()
            : ResultsPath(options.write_results_dir, FolderName(options.write_results_dir), file)
                  .string();
    return RunDetector((fs::path(options.data_dir) / file).string(), detector, write_to);
  }
  IOTAD_ASSIGN_OR_RETURN(const std::string path,
                         FindResultsFile(options.results_dir, detector, file));
  IOTAD_ASSIGN_OR_RETURN(SeriesScores rows, ReadResultsCsv(path));
  return LoadedSeries{std::move(rows), {}};
}

const NabScore& EventsProfileScore(const std::vector<NabScore>& scores) {
  for (const NabScore& s : scores) {
    if (s.profile.name == kEventsProfile) return s;
  }
  return scores.front();
}

/// Detections for the event metrics: flags (data mode) or rows at or above the threshold
/// (results mode), after probation unless `whole_series` (flags only), on series "value" of
/// device = file name.
void AppendDetections(const std::string& file, const LoadedSeries& series, double threshold,
                      bool from_results, bool whole_series, std::vector<Detection>& out) {
  const auto& rows = series.rows;
  const int64_t probation =
      whole_series ? 0 : NabProbationRows(static_cast<int64_t>(rows.timestamps.size()));
  if (!from_results) {
    for (const LoadedSeries::Flag& f : series.flags) {
      if (f.row >= probation) out.push_back({file, "value", f.at_us, {}, f.by});
    }
    return;
  }
  for (size_t r = static_cast<size_t>(probation); r < rows.scores.size(); ++r) {
    if (rows.scores[r] >= threshold) out.push_back({file, "value", rows.timestamps[r]});
  }
}

/// Every labelled file's rows, in the corpus and kept for the event metrics.
struct LoadedCorpus {
  NabCorpus corpus;
  std::vector<LoadedSeries> series;  // in label order
  std::vector<LabelledEvent> events;
  double device_days = 0;  // from each file's first row after probation to its last
  double normal_hours = 0;
  double whole_device_days = 0;  // from each file's first row to its last
  double whole_normal_hours = 0;
  int64_t rows = 0;
};

Result<LoadedCorpus> LoadCorpus(const NabEvalOptions& options, const std::string& detector,
                                const std::vector<NabFileWindows>& labels) {
  LoadedCorpus out;
  for (const NabFileWindows& file : labels) {
    IOTAD_ASSIGN_OR_RETURN(LoadedSeries s, LoadSeries(options, detector, file.file));
    const std::vector<TimestampUs>& ts = s.rows.timestamps;
    IOTAD_TRY(out.corpus.AddFile(file.file, ts, s.rows.scores, file.windows));
    std::vector<LabelledEvent> events;
    AppendWindowEvents(file.file, file.windows, events);
    if (!ts.empty()) {
      // The coverage the detections after probation are counted over, and the whole series'.
      const TimestampUs scored_from =
          ts[std::min<size_t>(static_cast<size_t>(NabProbationRows(static_cast<int64_t>(ts.size()))), ts.size() - 1)];
      out.device_days += DeviceDays(1, scored_from, ts.back());
      out.normal_hours += NormalHours(1, scored_from, ts.back(), events);
      out.whole_device_days += DeviceDays(1, ts.front(), ts.back());
      out.whole_normal_hours += NormalHours(1, ts.front(), ts.back(), events);
    }
    out.events.insert(out.events.end(), events.begin(), events.end());
    out.rows += static_cast<int64_t>(ts.size());
    out.series.push_back(std::move(s));
  }
  return out;
}

/// Each profile scored at its threshold: optimised here, given, or learnt on another set.
Status ScoreProfiles(const NabEvalOptions& options, const std::vector<NabProfile>& profiles,
                     const NabCorpus& corpus, EvalReport& report) {
  if (!std::isnan(options.threshold)) {
    report.threshold_source = ThresholdSource::kGiven;
    for (const NabProfile& p : profiles) report.nab.push_back(corpus.ScoreAt(p, options.threshold));
  } else if (!options.threshold_data_dir.empty()) {
    report.threshold_source = ThresholdSource::kLearnt;
    report.threshold_data_dir = options.threshold_data_dir;
    report.threshold_labels_path = options.threshold_labels_path;
    auto other_labels = ReadNabWindows(options.threshold_labels_path);
    if (!other_labels.ok()) return other_labels.status().WithContext("threshold set: ");
    NabEvalOptions other = options;
    other.data_dir = options.threshold_data_dir;
    other.write_results_dir.clear();  // the scored set's results only
    auto other_set = LoadCorpus(other, report.detector, *other_labels);
    if (!other_set.ok()) return other_set.status().WithContext("threshold set: ");
    report.threshold_files = static_cast<int64_t>(other_labels->size());
    for (const NabProfile& p : profiles) {
      report.threshold_set.push_back(other_set->corpus.Score(p));
      report.nab.push_back(corpus.ScoreAt(p, report.threshold_set.back().threshold));
    }
  } else {
    for (const NabProfile& p : profiles) report.nab.push_back(corpus.Score(p));
    return Status::Ok();
  }
  for (const NabProfile& p : profiles) report.own_best.push_back(corpus.Score(p));
  return Status::Ok();
}

}  // namespace

void AppendWindowEvents(const std::string& file, const std::vector<NabWindow>& windows,
                        std::vector<LabelledEvent>& out) {
  for (const NabWindow& w : windows) out.push_back({file, "value", "window", w.start_us, w.end_us});
}

Result<std::string> FindResultsFile(const std::string& results_dir, const std::string& detector,
                                    const std::string& file) {
  const fs::path base = ResultsPath(results_dir, detector, file);
  for (const char* suffix : {"", ".gz"}) {
    const std::string candidate = base.string() + suffix;
    if (fs::is_regular_file(candidate)) return candidate;
  }
  return Error(Errc::kNotFound, "no result file for '{}': neither '{}' nor '{}.gz' exists", file,
               base.string(), base.string());
}

Result<EvalReport> RunNabEval(const NabEvalOptions& options) {
  if (options.results_dir.empty() == options.data_dir.empty()) {
    return Status(Errc::kInvalidArgument, "give either a results folder or a data folder");
  }
  if (options.threshold_data_dir.empty() != options.threshold_labels_path.empty()) {
    return Status(Errc::kInvalidArgument,
                  "give both --threshold-from-data and --threshold-from-labels");
  }
  if (!options.write_results_dir.empty() && options.data_dir.empty()) {
    return Status(Errc::kInvalidArgument,
                  "--write-results applies to --data (the scores computed here)");
  }
  if (!options.threshold_data_dir.empty() && options.data_dir.empty()) {
    return Status(Errc::kInvalidArgument,
                  "--threshold-from-data applies to --data (the set is scored by "
                  "--detector)");
  }
  const int threshold_choices = (std::isnan(options.threshold) ? 0 : 1) +
                                (options.threshold_data_dir.empty() ? 0 : 1) +
                                (options.leave_one_out ? 1 : 0);
  if (threshold_choices > 1) {
    return Status(Errc::kInvalidArgument,
                  "give at most one of --threshold, --threshold-from-data and "
                  "--leave-one-out (each says where thresholds come from)");
  }
  if (!std::isnan(options.threshold) && !std::isfinite(options.threshold)) {
    return Status(Errc::kInvalidArgument, "--threshold must be a finite number");
  }
  IOTAD_ASSIGN_OR_RETURN(const std::vector<NabFileWindows> labels,
                         ReadNabWindows(options.labels_path));
  std::vector<NabProfile> profiles = DefaultNabProfiles();
  if (!options.profiles_path.empty()) {
    IOTAD_ASSIGN_OR_RETURN(profiles, ReadNabProfiles(options.profiles_path));
  }
  EvalReport report;
  report.from_results = !options.results_dir.empty();
  report.source = report.from_results ? options.results_dir : options.data_dir;
  report.detector = report.from_results ? FolderName(options.results_dir) : options.detector;
  IOTAD_ASSIGN_OR_RETURN(const LoadedCorpus loaded, LoadCorpus(options, report.detector, labels));
  report.files = static_cast<int64_t>(labels.size());
  report.rows = loaded.rows;
  IOTAD_TRY(ScoreProfiles(options, profiles, loaded.corpus, report));
  if (options.leave_one_out) {
    std::vector<NabFileRows> files;
    for (size_t i = 0; i < labels.size(); ++i) {
      files.push_back({labels[i].file, loaded.series[i].rows.timestamps,
                       loaded.series[i].rows.scores, labels[i].windows});
    }
    IOTAD_ASSIGN_OR_RETURN(report.leave_one_out, LeaveOneCategoryOut(files, profiles));
  }

  const NabScore& events_score = EventsProfileScore(report.nab);
  report.events_profile = events_score.profile.name;
  const auto detections = [&](bool whole_series) {
    std::vector<Detection> out;
    for (size_t i = 0; i < labels.size(); ++i) {
      AppendDetections(labels[i].file, loaded.series[i], events_score.threshold, report.from_results,
                       whole_series, out);
    }
    return out;
  };
  report.event_options = options.events;
  report.event_options.device_days = loaded.device_days;
  report.event_options.normal_hours = loaded.normal_hours;
  report.events = ComputeEventMetrics(loaded.events, detections(false), report.event_options);
  if (!report.from_results) {
    // The flags over each whole series, its first rows included: what a user gets from a new
    // series, and what the sensitivity knob (false alarms per series-day) promises.
    EventMetricsOptions whole = report.event_options;
    whole.device_days = loaded.whole_device_days;
    whole.normal_hours = loaded.whole_normal_hours;
    report.events_whole_series = ComputeEventMetrics(loaded.events, detections(true), whole);
  }
  return report;
}

}  // namespace iotad::eval
