#include "iotad/eval/nab_eval.h"

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
  std::vector<TimestampUs> flagged_at;
  std::vector<int64_t> flagged_row;
};

Result<LoadedSeries> RunDetector(const std::string& path, const std::string& detector) {
  LoadedSeries out;
  IOTAD_TRY(ScoreSeriesFile(path, detector, [&out](const ScoredRow& row) {
    if (row.score.flag) {
      out.flagged_at.push_back(row.score.at_us != 0 ? row.score.at_us : row.ts_us);
      out.flagged_row.push_back(static_cast<int64_t>(out.rows.timestamps.size()));
    }
    out.rows.timestamps.push_back(row.ts_us);
    out.rows.scores.push_back(row.score.score);
    return Status::Ok();
  }));
  return out;
}

Result<LoadedSeries> LoadSeries(const NabEvalOptions& options, const std::string& detector,
                                const std::string& file) {
  if (options.results_dir.empty())
    return RunDetector((fs::path(options.data_dir) / file).string(), detector);
  IOTAD_ASSIGN_OR_RETURN(const std::string path,
                         FindResultsFile(options.results_dir, detector, file));
  IOTAD_ASSIGN_OR_RETURN(SeriesScores rows, ReadResultsCsv(path));
  return LoadedSeries{std::move(rows), {}, {}};
}

/// The folder's last component: `results/numenta/` -> `numenta`.
std::string FolderName(const std::string& dir) {
  fs::path path = fs::path(dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  return path.filename().string();
}

const NabScore& EventsProfileScore(const std::vector<NabScore>& scores) {
  for (const NabScore& s : scores) {
    if (s.profile.name == kEventsProfile) return s;
  }
  return scores.front();
}

/// Detections for the event metrics: flags (data mode) or rows at or above the threshold
/// (results mode), after probation, on series "value" of device = file name.
void AppendDetections(const std::string& file, const LoadedSeries& series, double threshold,
                      bool from_results, std::vector<Detection>& out) {
  const auto& rows = series.rows;
  const int64_t probation = NabProbationRows(static_cast<int64_t>(rows.timestamps.size()));
  if (!from_results) {
    for (size_t i = 0; i < series.flagged_at.size(); ++i) {
      if (series.flagged_row[i] >= probation) out.push_back({file, "value", series.flagged_at[i]});
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
  double device_days = 0;
  int64_t rows = 0;
};

Result<LoadedCorpus> LoadCorpus(const NabEvalOptions& options, const std::string& detector,
                                const std::vector<NabFileWindows>& labels) {
  LoadedCorpus out;
  for (const NabFileWindows& file : labels) {
    IOTAD_ASSIGN_OR_RETURN(LoadedSeries s, LoadSeries(options, detector, file.file));
    const std::vector<TimestampUs>& ts = s.rows.timestamps;
    IOTAD_TRY(out.corpus.AddFile(file.file, ts, s.rows.scores, file.windows));
    AppendWindowEvents(file.file, file.windows, out.events);
    if (!ts.empty()) out.device_days += DeviceDays(1, ts.front(), ts.back());
    out.rows += static_cast<int64_t>(ts.size());
    out.series.push_back(std::move(s));
  }
  return out;
}

}  // namespace

void AppendWindowEvents(const std::string& file, const std::vector<NabWindow>& windows,
                        std::vector<LabelledEvent>& out) {
  for (const NabWindow& w : windows) out.push_back({file, "value", "window", w.start_us, w.end_us});
}

Result<std::string> FindResultsFile(const std::string& results_dir, const std::string& detector,
                                    const std::string& file) {
  const fs::path relative(file);
  const fs::path base = fs::path(results_dir) / relative.parent_path() /
                        (detector + "_" + relative.filename().string());
  for (const char* suffix : {"", ".gz"}) {
    const std::string candidate = base.string() + suffix;
    if (fs::is_regular_file(candidate)) return candidate;
  }
  return Error(Errc::kNotFound, "no result file for '{}': neither '{}' nor '{}.gz' exists", file,
               base.string(), base.string());
}

Result<EvalReport> RunNabEval(const NabEvalOptions& options) {
  if (options.results_dir.empty() == options.data_dir.empty()) {
    return Status(Errc::kInvalidArgument, "eval: give either a results folder or a data folder");
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
  for (const NabProfile& profile : profiles) report.nab.push_back(loaded.corpus.Score(profile));

  const NabScore& events_score = EventsProfileScore(report.nab);
  report.events_profile = events_score.profile.name;
  std::vector<Detection> detections;
  for (size_t i = 0; i < labels.size(); ++i) {
    AppendDetections(labels[i].file, loaded.series[i], events_score.threshold, report.from_results,
                     detections);
  }
  report.event_options = options.events;
  report.event_options.device_days = loaded.device_days;
  report.events = ComputeEventMetrics(loaded.events, detections, report.event_options);
  return report;
}

}  // namespace iotad::eval
