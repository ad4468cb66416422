// `iotad eval`: how well a detector finds labelled anomalies. On a NAB-format benchmark: NAB
// scores and event-level metrics. On a lake: silver replayed through the detector (the path gold
// takes) against the labels `iotad generate` wrote, event-level metrics per kind.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/core/json.h"
#include "iotad/core/timestamp.h"
#include "iotad/detect/detector.h"
#include "iotad/detect/registry.h"
#include "iotad/eval/events.h"
#include "iotad/eval/nab_eval.h"
#include "iotad/eval/report.h"
#include "iotad/gen/fleet.h"
#include "iotad/pipeline/replay.h"

namespace iotad::cli {
namespace {

struct EvalFlags {
  eval::NabEvalOptions nab;
  std::string format = "table";
  std::string grace = "10m";
  std::string alert_gap = "10m";
  bool per_file = false;
  bool per_event = false;  // --lake: list each event and each false alert
  bool detector_given = false;
  bool profiles_given = false;
  bool threshold_flags_given = false;  // --leave-one-out, --threshold, --threshold-from-*
  double false_alarms_per_day = NAN;  // --lake: NaN = the lake config's gold.false_alarms_per_day
};

Result<int64_t> DurationFlag(std::string_view flag, const std::string& text) {
  const std::optional<int64_t> us = ParseDurationUs(text);
  if (!us || *us < 0) {
    return Error(Errc::kInvalidArgument, "eval: {} is not a duration such as 10m or 600s: '{}'",
                 flag, text);
  }
  return *us;
}

/// What `eval --lake` computed.
struct LakeEvalReport {
  std::string lake;
  std::string labels;
  std::string detector;
  int detector_version = 0;
  double false_alarms_per_day = 0;
  pipeline::ReplayStats replay;
  int64_t events_on_unknown_devices = 0;  // labels naming a device silver does not have
  double seconds = 0;
  eval::EventMetricsOptions options;
  eval::EventMetrics events;
  // --per-event: the labels given to ComputeEventMetrics, each listed (null: no listing)
  const std::vector<eval::LabelledEvent>* listed = nullptr;
};

std::string FormatLakeEvalTable(const LakeEvalReport& r) {
  const pipeline::ReplayStats& s = r.replay;
  std::string out = fmt::format(
      "Detector {} (v{}, sensitivity {:g} false alarms per series-day) replayed over the silver of "
      "{}: {} devices, {} rows, {} to {} ({:.1f} device-days) in {:.1f} s\n",
      r.detector, r.detector_version, r.false_alarms_per_day, r.lake, s.devices, s.rows,
      FormatTimestamp(s.first_us), FormatTimestamp(s.last_us), r.events.device_days, r.seconds);
  out += fmt::format(
      "Labels {}: {} events; an event is found by a detection on its device and metric (any metric "
      "for dropouts) up to {:g} min after its end; detections at most {:g} min apart on one series "
      "are one alert\n",
      r.labels, r.events.overall.events,
      static_cast<double>(r.options.grace_us) / kMicrosPerMinute,
      static_cast<double>(r.options.alert_gap_us) / kMicrosPerMinute);
  if (r.events_on_unknown_devices > 0) {
    out += fmt::format(
        "note: {} labelled events are on devices silver does not have (labels of another "
        "fleet?)\n",
        r.events_on_unknown_devices);
  }
  out += '\n';
  out += eval::FormatEventTable(r.events);
  if (r.listed != nullptr) out += eval::FormatEventListing(r.events, *r.listed);
  return out;
}

std::string FormatLakeEvalJson(const LakeEvalReport& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("detector").String(r.detector);
  w.Key("detector_version").Int(r.detector_version);
  w.Key("lake").String(r.lake);
  w.Key("labels").String(r.labels);
  w.Key("false_alarms_per_day").Double(r.false_alarms_per_day);
  w.Key("devices").Int(r.replay.devices);
  w.Key("rows").Int(r.replay.rows);
  w.Key("values").Int(r.replay.values);
  w.Key("first").Timestamp(r.replay.first_us);
  w.Key("last").Timestamp(r.replay.last_us);
  w.Key("events_on_unknown_devices").Int(r.events_on_unknown_devices);
  w.Key("seconds").Double(r.seconds);
  w.Key("events_grace_s").Double(static_cast<double>(r.options.grace_us) / kMicrosPerSecond);
  w.Key("events_alert_gap_s").Double(static_cast<double>(r.options.alert_gap_us) / kMicrosPerSecond);
  w.Key("events");
  eval::WriteEventJson(w, r.events);
  if (r.listed != nullptr) eval::WriteEventListingJson(w, r.events, *r.listed);
  w.EndObject();
  return w.Take() + "\n";
}

/// `eval --lake`: silver replayed through the detector (read only: no writer lock), each flag a
/// detection at the moment the detector says the anomaly happened (Score::at_us).
Status RunLakeEval(const EvalFlags& flags, const std::string& lake_path) {
  const auto t0 = std::chrono::steady_clock::now();
  if (flags.per_file || flags.profiles_given || flags.threshold_flags_given ||
      !flags.nab.write_results_dir.empty()) {
    return Status(Errc::kInvalidArgument,
                  "eval: --per-file, --profiles, --leave-one-out, --threshold, "
                  "--threshold-from-* and --write-results apply to --results and --data (NAB), "
                  "not --lake");
  }
  if (!std::isnan(flags.false_alarms_per_day) &&
      !(flags.false_alarms_per_day > 0 && std::isfinite(flags.false_alarms_per_day))) {
    return Error(Errc::kInvalidArgument, "eval: --false-alarms-per-day must be a number > 0, got {}",
                 flags.false_alarms_per_day);
  }
  LakeEvalReport r;
  r.lake = lake_path;
  r.labels = flags.nab.labels_path;
  r.detector = flags.nab.detector;
  r.options = flags.nab.events;
  {
    auto version = pipeline::ReplayDetectorVersion(r.detector);
    if (!version.ok()) return version.status().WithContext("eval: ");
    r.detector_version = *version;
  }
  IOTAD_ASSIGN_OR_RETURN(auto lake, OpenLake(lake_path));
  auto labels = gen::ReadLabelsCsv(r.labels);
  if (!labels.ok()) {
    if (labels.status().code() == Errc::kParse) {
      return Error(Errc::kParse,
                   "eval: {} (with --lake, --labels is the labels CSV `iotad generate` writes)",
                   labels.status().message());
    }
    return labels.status().WithContext("eval: ");
  }
  detect::DetectorOptions options;
  options.false_alarms_per_day = std::isnan(flags.false_alarms_per_day)
                                     ? lake->config().gold.false_alarms_per_day
                                     : flags.false_alarms_per_day;
  r.false_alarms_per_day = options.false_alarms_per_day;

  IOTAD_ASSIGN_OR_RETURN(const auto hours, pipeline::ListSilverHours(*lake));
  if (hours.empty()) {
    return Error(Errc::kNotFound,
                 "eval: the silver of '{}' is empty: nothing to replay (run `iotad silver` or "
                 "`iotad run` first)",
                 lake_path);
  }
  std::vector<std::string> paths;
  for (const auto& [hour, keys] : hours) {
    for (const auto& key : keys) paths.push_back(lake->store().ReadPath(key));
  }
  IOTAD_ASSIGN_OR_RETURN(auto session, lake->OpenSession(/*with_views=*/false));
  IOTAD_ASSIGN_OR_RETURN(const auto metrics, pipeline::SilverMetrics(*session, paths));
  std::vector<eval::Detection> detections;
  std::set<std::string, std::less<>> devices;
  IOTAD_ASSIGN_OR_RETURN(
      r.replay,
      pipeline::ReplaySilver(
          *session, paths, metrics, {r.detector},
          // --false-alarms-per-day overrides the config; without it [[detect.rule]]s apply too.
          pipeline::PlanFromConfig(lake->config(), metrics, {r.detector}, /*all_named=*/true,
                                   std::isnan(flags.false_alarms_per_day) ? 0.0 : flags.false_alarms_per_day),
          [&](const pipeline::ReplayPoint& p) {
            detections.push_back({std::string(p.device_id), metrics[p.metric], p.score.at_us,
                                  flags.per_event ? detect::Describe(p.score, p.value) : std::string(),
                                  std::string(p.score.why.detector)});
          },
          [&](std::string_view device) { devices.emplace(device); }, lake->config().gold.max_baseline_points));
  std::vector<eval::LabelledEvent> known;  // the labels of devices silver has
  for (const auto& label : *labels) {
    if (devices.find(label.device_id) == devices.end()) {
      ++r.events_on_unknown_devices;
    } else {
      known.push_back(label);
    }
  }
  r.options.device_days = eval::DeviceDays(r.replay.devices, r.replay.first_us, r.replay.last_us);
  // Normal operation is counted over each device's own span, first to last reading: a device
  // that reported for 20 minutes of a 33-hour lake (a test run) was in operation 20 minutes.
  std::map<std::string, std::pair<TimestampUs, TimestampUs>, std::less<>> spans;
  {
    IOTAD_ASSIGN_OR_RETURN(
        auto result, session->Query(fmt::format("SELECT device_id, min(event_time), max(event_time) FROM "
                                                "read_parquet({}, union_by_name = true) GROUP BY device_id",
                                                lake::SqlList(paths))));
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
      if (!chunk) break;
      const lake::DuckStrings ids = chunk.Strings(0);
      const int64_t* first = chunk.Data<int64_t>(1);
      const int64_t* last = chunk.Data<int64_t>(2);
      for (size_t i = 0; i < chunk.size(); ++i) spans.emplace(std::string(ids[i]), std::make_pair(first[i], last[i]));
    }
  }
  r.options.normal_hours = eval::NormalHours(spans, known);
  r.events = eval::ComputeEventMetrics(*labels, detections, r.options);
  if (flags.per_event) r.listed = &*labels;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string text =
      flags.format == "json" ? FormatLakeEvalJson(r) : FormatLakeEvalTable(r);
  std::fputs(text.c_str(), stdout);
  return Status::Ok();
}

Status RunEval(EvalFlags& flags, const GlobalOptions& global) {
  if (flags.format != "table" && flags.format != "json") {
    return Error(Errc::kInvalidArgument, "eval: --format must be table or json, got '{}'",
                 flags.format);
  }
  IOTAD_ASSIGN_OR_RETURN(flags.nab.events.grace_us, DurationFlag("--grace", flags.grace));
  IOTAD_ASSIGN_OR_RETURN(flags.nab.events.alert_gap_us,
                         DurationFlag("--alert-gap", flags.alert_gap));
  const bool nab = !flags.nab.results_dir.empty() || !flags.nab.data_dir.empty();
  if (nab && !global.lake.empty()) {
    return Status(Errc::kInvalidArgument,
                  "eval: give one of --lake, --results or --data, not several");
  }
  const char* env_lake = std::getenv("IOTAD_LAKE");
  if (!nab && (!global.lake.empty() || (env_lake != nullptr && *env_lake != '\0'))) {
    return RunLakeEval(flags, ResolveLakePath(global));
  }
  if (flags.nab.results_dir.empty() == flags.nab.data_dir.empty()) {
    return Status(Errc::kInvalidArgument,
                  "eval: give --lake LAKE (labels from `iotad generate`), --results DIR "
                  "(published scores) or --data DIR (run --detector on it)");
  }
  if (flags.detector_given && !flags.nab.results_dir.empty()) {
    return Status(
        Errc::kInvalidArgument,
        "eval: --detector applies to --data and --lake; with --results the folder names the "
        "detector");
  }
  if (!std::isnan(flags.false_alarms_per_day)) {
    return Status(Errc::kInvalidArgument, "eval: --false-alarms-per-day applies to --lake");
  }
  if (flags.per_event) {
    return Status(Errc::kInvalidArgument,
                  "eval: --per-event applies to --lake (for NAB data, --per-file lists each file)");
  }
  auto report = eval::RunNabEval(flags.nab);
  if (!report.ok()) return report.status().WithContext("eval: ");
  const std::string text = flags.format == "json" ? eval::FormatEvalJson(*report, flags.per_file)
                                                  : eval::FormatEvalTable(*report, flags.per_file);
  std::fputs(text.c_str(), stdout);
  return Status::Ok();
}

}  // namespace

void RegisterEvalCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  CLI::App* sub = app.add_subcommand(
      "eval",
      "Score a detector against labelled anomalies: a lake's silver replayed against the labels "
      "of `iotad generate` (per kind), or a NAB benchmark (Numenta Anomaly Benchmark v1.1 rules, "
      "all three profiles); reports event-level precision, recall, F1, delays and false alarms");
  auto flags = std::make_shared<EvalFlags>();
  eval::NabEvalOptions& nab = flags->nab;
  sub->add_option("--labels", nab.labels_path,
                  "With --lake: the labels CSV of `iotad generate` (device_id,metric,start,end,"
                  "kind); with --results or --data: NAB's combined_windows.json")
      ->required();
  sub->add_option("--lake", global.lake,
                  "Lake whose silver is replayed through --detector against --labels (default: "
                  "$IOTAD_LAKE)");
  auto* results =
      sub->add_option("--results", nab.results_dir,
                      "Published results: DIR/<category>/<name>_<file>.csv[.gz] with an "
                      "anomaly_score column; the detector is DIR's name");
  auto* data =
      sub->add_option("--data", nab.data_dir,
                      "Data folder: DIR/<file> (timestamp,value), scored here by --detector");
  results->excludes(data);
  sub->add_option("--write-results", nab.write_results_dir,
                  "With --data: also write each file's scores (timestamp,value,anomaly_score) as "
                  "published results are laid out, DIR/<category>/<name>_<file>.csv, the name "
                  "being DIR's: --results DIR reads them back");
  sub->add_option("--detector", nab.detector,
                  fmt::format("With --lake or --data: {}; with --lake also {} (batch detectors, {}, "
                              "run in gold only)",
                              fmt::join(detect::DetectorNames(detect::DetectorKind::kOnline), ", "),
                              fmt::join(detect::DetectorNames(detect::DetectorKind::kDevice), ", "),
                              fmt::join(detect::DetectorNames(detect::DetectorKind::kBatch), ", ")))
      ->capture_default_str();
  sub->add_option("--false-alarms-per-day", flags->false_alarms_per_day,
                  "With --lake: expected false alarms per series per day, the detectors' "
                  "sensitivity (default: gold.false_alarms_per_day of the lake's config)");
  sub->add_option("--profiles", nab.profiles_path,
                  "NAB profiles.json (default: standard, reward_low_FP_rate, reward_low_FN_rate)");
  sub->add_flag("--leave-one-out", nab.leave_one_out,
                "NAB: also leave each category (first folder of a file's name) out in turn: score it "
                "at the threshold learnt on all the other categories; prints each category, and "
                "all held-out rows pooled");
  sub->add_option("--threshold", nab.threshold,
                  "NAB: score every profile at this threshold (a row fires when its score >= it) "
                  "instead of the best one for the scored set");
  sub->add_option("--threshold-from-data", nab.threshold_data_dir,
                  "NAB with --data: learn each profile's threshold on this other data folder "
                  "(scored by the same --detector; labels from --threshold-from-labels), then "
                  "score --data at it");
  sub->add_option("--threshold-from-labels", nab.threshold_labels_path,
                  "The combined_windows.json of --threshold-from-data");
  sub->add_option("--format", flags->format, "table or json")->capture_default_str();
  sub->add_flag("--per-file", flags->per_file,
                "Also print each file's score, windows hit and false alarms");
  sub->add_flag("--per-event", flags->per_event,
                "With --lake: also list each labelled event, found or missed, when its first detection came and "
                "what the detector said, then each false alert");
  sub->add_option("--grace", flags->grace,
                  "Event level: how long after an event's end a detection still finds it")
      ->capture_default_str();
  sub->add_option("--alert-gap", flags->alert_gap,
                  "Event level: detections on one series at most this far apart are one alert")
      ->capture_default_str();
  sub->footer(
      "Examples:\n"
      "  iotad eval --labels fleet/_labels.csv --lake lake --detector default\n"
      "  iotad eval --labels fleet/_labels.csv --lake lake --per-event   # which events were missed, and why\n"
      "  iotad eval --labels nab/labels/combined_windows.json --results nab/results/numenta\n"
      "  iotad eval --labels nab/labels/combined_windows.json --data nab/data --detector default "
      "--per-file\n"
      "  iotad eval --labels nab/labels/combined_windows.json --data nab/data --leave-one-out\n"
      "  iotad eval --labels new/labels.json --data new/data --threshold-from-data nab/data "
      "--threshold-from-labels nab/labels/combined_windows.json\n"
      "  iotad eval --labels nab/labels/combined_windows.json --data nab/data --write-results "
      "results/default   # then --results results/default\n"
      "Thresholds: by default each profile is scored at the threshold that is best for the scored "
      "set (what NAB reports); --threshold, --threshold-from-* and --leave-one-out measure a "
      "threshold chosen without the scored series.");
  sub->callback([flags, sub, &global, &out] {
    flags->detector_given = sub->count("--detector") > 0;
    flags->profiles_given = sub->count("--profiles") > 0;
    flags->threshold_flags_given =
        sub->count("--leave-one-out") + sub->count("--threshold") +
            sub->count("--threshold-from-data") + sub->count("--threshold-from-labels") >
        0;
    out.status = RunEval(*flags, global);
  });
}

}  // namespace iotad::cli
