// `iotad eval`: NAB scores and event-level metrics of a detector on a labelled benchmark.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "iotad/cli/cli.h"
#include "iotad/core/timestamp.h"
#include "iotad/detect/detector.h"
#include "iotad/eval/nab_eval.h"
#include "iotad/eval/report.h"

namespace iotad::cli {
namespace {

struct EvalFlags {
  eval::NabEvalOptions nab;
  std::string format = "table";
  std::string grace = "10m";
  std::string alert_gap = "10m";
  bool per_file = false;
  bool detector_given = false;
};

Result<int64_t> DurationFlag(std::string_view flag, const std::string& text) {
  const std::optional<int64_t> us = ParseDurationUs(text);
  if (!us || *us < 0) {
    return Error(Errc::kInvalidArgument, "eval: {} is not a duration such as 10m or 600s: '{}'",
                 flag, text);
  }
  return *us;
}

Status RunEval(EvalFlags& flags) {
  if (flags.nab.results_dir.empty() == flags.nab.data_dir.empty()) {
    return Status(
        Errc::kInvalidArgument,
        "eval: give --results DIR (published scores) or --data DIR (run --detector on it)");
  }
  if (flags.detector_given && !flags.nab.results_dir.empty()) {
    return Status(
        Errc::kInvalidArgument,
        "eval: --detector applies to --data; with --results the folder names the detector");
  }
  if (flags.format != "table" && flags.format != "json") {
    return Error(Errc::kInvalidArgument, "eval: --format must be table or json, got '{}'",
                 flags.format);
  }
  IOTAD_ASSIGN_OR_RETURN(flags.nab.events.grace_us, DurationFlag("--grace", flags.grace));
  IOTAD_ASSIGN_OR_RETURN(flags.nab.events.alert_gap_us,
                         DurationFlag("--alert-gap", flags.alert_gap));
  auto report = eval::RunNabEval(flags.nab);
  if (!report.ok()) return report.status().WithContext("eval: ");
  const std::string text = flags.format == "json" ? eval::FormatEvalJson(*report, flags.per_file)
                                                  : eval::FormatEvalTable(*report, flags.per_file);
  std::fputs(text.c_str(), stdout);
  return Status::Ok();
}

}  // namespace

void RegisterEvalCommand(CLI::App& app, GlobalOptions& /*global*/, CommandOutcome& out) {
  CLI::App* sub = app.add_subcommand(
      "eval",
      "Score a detector on a labelled benchmark (Numenta Anomaly Benchmark v1.1 rules, all three "
      "profiles) and report event-level precision, recall, F1, delays and false alarms");
  auto flags = std::make_shared<EvalFlags>();
  eval::NabEvalOptions& nab = flags->nab;
  sub->add_option("--labels", nab.labels_path,
                  "NAB windows: combined_windows.json (file -> [[start, end], ...])")
      ->required();
  auto* results =
      sub->add_option("--results", nab.results_dir,
                      "Published results: DIR/<category>/<name>_<file>.csv[.gz] with an "
                      "anomaly_score column; the detector is DIR's name");
  auto* data =
      sub->add_option("--data", nab.data_dir,
                      "Data folder: DIR/<file> (timestamp,value), scored here by --detector");
  results->excludes(data);
  sub->add_option("--detector", nab.detector,
                  fmt::format("With --data: {}", fmt::join(detect::SeriesDetectorNames(), ", ")))
      ->capture_default_str();
  sub->add_option("--profiles", nab.profiles_path,
                  "NAB profiles.json (default: standard, reward_low_FP_rate, reward_low_FN_rate)");
  sub->add_option("--format", flags->format, "table or json")->capture_default_str();
  sub->add_flag("--per-file", flags->per_file,
                "Also print each file's score, windows hit and false alarms");
  sub->add_option("--grace", flags->grace,
                  "Event level: how long after an event's end a detection still finds it")
      ->capture_default_str();
  sub->add_option("--alert-gap", flags->alert_gap,
                  "Event level: detections on one series at most this far apart are one alert")
      ->capture_default_str();
  sub->footer(
      "Examples:\n"
      "  iotad eval --labels nab/labels/combined_windows.json --results nab/results/numenta\n"
      "  iotad eval --labels nab/labels/combined_windows.json --data nab/data --detector default "
      "--per-file");
  sub->callback([flags, sub, &out] {
    flags->detector_given = sub->count("--detector") > 0;
    out.status = RunEval(*flags);
  });
}

}  // namespace iotad::cli
