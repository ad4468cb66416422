#include "iotad/eval/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace iotad::eval {
namespace {

/// A figure that may be undefined (NaN), with `digits` decimals.
std::string Figure(double value, int digits) {
  return std::isnan(value) ? "n/a" : fmt::format("{:.{}f}", value, digits);
}

std::string Threshold(double threshold) {
  return std::isinf(threshold) ? "none" : fmt::format("{:.6g}", threshold);
}

/// A delay for people: seconds, minutes or hours.
std::string Delay(double seconds) {
  if (std::isnan(seconds)) return "n/a";
  if (std::fabs(seconds) < 120) return fmt::format("{:.0f} s", seconds);
  if (std::fabs(seconds) < 7200) return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

std::string Minutes(int64_t us) {
  return fmt::format("{:g} min", static_cast<double>(us) / kMicrosPerMinute);
}

std::string ThresholdSourceName(ThresholdSource source) {
  switch (source) {
    case ThresholdSource::kGiven: return "given";
    case ThresholdSource::kLearnt: return "learnt";
    case ThresholdSource::kOptimised: break;
  }
  return "optimised";
}

void AppendNabTable(std::string& out, const EvalReport& r) {
  const int64_t windows = r.nab.empty() ? 0 : r.nab.front().windows;
  out += fmt::format("NAB v1.1 scores of {} on {} files ({} rows, {} windows) from {} {}\n",
                     r.detector, r.files, r.rows, windows,
                     r.from_results ? "published results in" : "the data in", r.source);
  if (r.threshold_source == ThresholdSource::kGiven && !r.nab.empty()) {
    out += fmt::format("Threshold {} for every profile (--threshold)\n",
                       Threshold(r.nab.front().threshold));
  } else if (r.threshold_source == ThresholdSource::kLearnt) {
    out += fmt::format(
        "Thresholds learnt with {} on the {} files of {} (labels {}), where it scores", r.detector,
        r.threshold_files, r.threshold_data_dir, r.threshold_labels_path);
    for (size_t i = 0; i < r.threshold_set.size(); ++i) {
      out += fmt::format("{} {} {}", i == 0 ? "" : ",", r.threshold_set[i].profile.name,
                         Figure(r.threshold_set[i].normalized, 2));
    }
    out += '\n';
  }
  const bool own_best = !r.own_best.empty();
  out += fmt::format("{:<22} {:>7} {:>10} {:>9} {:>11} {:>9}", "profile", "score", "threshold",
                     "raw", "windows hit", "FA events");
  out += own_best ? fmt::format(" {:>9} {:>10}\n", "own best", "at") : "\n";
  for (size_t i = 0; i < r.nab.size(); ++i) {
    const NabScore& s = r.nab[i];
    out += fmt::format("{:<22} {:>7} {:>10} {:>9.3f} {:>11} {:>9}", s.profile.name,
                       Figure(s.normalized, 2), Threshold(s.threshold), s.raw,
                       fmt::format("{}/{}", s.windows_hit, s.windows), s.fa_events);
    out += own_best ? fmt::format(" {:>9} {:>10}\n", Figure(r.own_best[i].normalized, 2),
                                  Threshold(r.own_best[i].threshold))
                    : "\n";
  }
}

void AppendLeaveOneOutTable(std::string& out, const EvalReport& r) {
  size_t width = std::string_view("category").size();
  for (const LeaveOneOutFold& f : r.leave_one_out.front().folds) {
    width = std::max(width, f.category.size());
  }
  out += "\nLeave one category out: each category scored at the threshold learnt on all the "
         "others; pooled: every row at its own fold's threshold, normalised over all files\n";
  const auto row = [&](const std::string& profile, const std::string& category, int64_t files,
                       const std::string& threshold, const NabScore& s) {
    out += fmt::format("{:<22} {:<{}} {:>5} {:>7} {:>10} {:>9.3f} {:>11} {:>9} {:>8}\n", profile,
                       category, width, files, Figure(s.normalized, 2), threshold, s.raw,
                       fmt::format("{}/{}", s.windows_hit, s.windows), s.fa_events, s.fp_rows);
  };
  out += fmt::format("{:<22} {:<{}} {:>5} {:>7} {:>10} {:>9} {:>11} {:>9} {:>8}\n", "profile",
                     "category", width, "files", "score", "threshold", "raw", "windows hit",
                     "FA events", "FP rows");
  for (const LeaveOneOut& p : r.leave_one_out) {
    for (const LeaveOneOutFold& f : p.folds) {
      row(p.profile.name, f.category, f.files, Threshold(f.score.threshold), f.score);
    }
    row(p.profile.name, "pooled", static_cast<int64_t>(p.pooled.files.size()), "-", p.pooled);
  }
}

void AppendPerFileTable(std::string& out, const EvalReport& r) {
  size_t width = 4;
  for (const NabFileScore& f : r.nab.front().files) width = std::max(width, f.name.size());
  out += fmt::format("\n{:<{}} {:>6} {:>7}", "file", width, "rows", "windows");
  for (const NabScore& s : r.nab) out += fmt::format("  {:>24}", s.profile.name + ": raw hit FA");
  out += '\n';
  for (size_t f = 0; f < r.nab.front().files.size(); ++f) {
    const NabFileScore& first = r.nab.front().files[f];
    out += fmt::format("{:<{}} {:>6} {:>7}", first.name, width, first.rows, first.windows);
    for (const NabScore& s : r.nab) {
      const NabFileScore& file = s.files[f];
      out += fmt::format("  {:>14.3f} {:>5} {:>3}", file.raw, file.windows_hit, file.fa_events);
    }
    out += '\n';
  }
}

void WriteEventScore(JsonWriter& w, const EventScore& s) {
  w.BeginObject();
  w.Key("kind").String(s.kind);
  w.Key("events").Int(s.events);
  w.Key("detected").Int(s.detected);
  w.Key("true_alerts").Int(s.true_alerts);
  w.Key("false_alerts").Int(s.false_alerts);
  w.Key("precision").Double(s.precision);
  w.Key("recall").Double(s.recall);
  w.Key("f1").Double(s.f1);
  w.Key("mean_delay_s").Double(s.mean_delay_s);
  w.Key("median_delay_s").Double(s.median_delay_s);
  w.EndObject();
}

void WriteFileScore(JsonWriter& w, const NabFileScore& f) {
  w.BeginObject();
  w.Key("file").String(f.name);
  w.Key("rows").Int(f.rows);
  w.Key("windows").Int(f.windows);
  w.Key("raw").Double(f.raw);
  w.Key("windows_hit").Int(f.windows_hit);
  w.Key("fa_events").Int(f.fa_events);
  w.Key("fp_rows").Int(f.fp_rows);
  w.EndObject();
}

/// The figures of a NabScore, inside an object the caller opened.
void WriteNabFigures(JsonWriter& w, const NabScore& s, bool per_file) {
  w.Key("score").Double(s.normalized);
  w.Key("threshold").Double(s.threshold);
  w.Key("raw").Double(s.raw);
  w.Key("null").Double(s.null_score);
  w.Key("perfect").Double(s.perfect);
  w.Key("windows").Int(s.windows);
  w.Key("windows_hit").Int(s.windows_hit);
  w.Key("fa_events").Int(s.fa_events);
  w.Key("fp_rows").Int(s.fp_rows);
  if (per_file) {
    w.Key("files").BeginArray();
    for (const NabFileScore& f : s.files) WriteFileScore(w, f);
    w.EndArray();
  }
}

/// `own_best`: the profile's score at its own best threshold, when the threshold came from
/// elsewhere.
void WriteNabScore(JsonWriter& w, const NabScore& s, bool per_file,
                   const NabScore* own_best = nullptr) {
  w.BeginObject();
  w.Key("profile").String(s.profile.name);
  w.Key("tp_weight").Double(s.profile.tp_weight);
  w.Key("fp_weight").Double(s.profile.fp_weight);
  w.Key("fn_weight").Double(s.profile.fn_weight);
  WriteNabFigures(w, s, per_file);
  if (own_best != nullptr) {
    w.Key("own_best_score").Double(own_best->normalized);
    w.Key("own_best_threshold").Double(own_best->threshold);
  }
  w.EndObject();
}

void WriteLeaveOneOut(JsonWriter& w, const LeaveOneOut& p, bool per_file) {
  w.BeginObject();
  w.Key("profile").String(p.profile.name);
  w.Key("categories").BeginArray();
  for (const LeaveOneOutFold& f : p.folds) {
    w.BeginObject();
    w.Key("category").String(f.category);
    w.Key("files").Int(f.files);
    w.Key("rows").Int(f.rows);
    w.Key("train_files").Int(f.train_files);
    WriteNabFigures(w, f.score, false);
    if (per_file) {
      w.Key("file_scores").BeginArray();
      for (const NabFileScore& file : f.score.files) WriteFileScore(w, file);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("pooled").BeginObject();
  w.Key("files").Int(static_cast<int64_t>(p.pooled.files.size()));
  WriteNabFigures(w, p.pooled, false);
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string FormatEventTable(const EventMetrics& m) {
  std::string out =
      fmt::format("{:<14} {:>7} {:>9} {:>7} {:>10} {:>6} {:>11} {:>13}\n", "kind", "events",
                  "detected", "recall", "precision", "F1", "mean delay", "median delay");
  auto row = [&out](const EventScore& s) {
    out += fmt::format("{:<14} {:>7} {:>9} {:>7} {:>10} {:>6} {:>11} {:>13}\n", s.kind, s.events,
                       s.detected, Figure(s.recall, 3), Figure(s.precision, 3), Figure(s.f1, 3),
                       Delay(s.mean_delay_s), Delay(s.median_delay_s));
  };
  row(m.overall);
  for (const EventScore& s : m.by_kind) row(s);
  out += fmt::format(
      "{} detections in {} alerts ({} true, {} false); {} false alarms per device-day "
      "over {:.1f} device-days, {} per hour of normal operation over {:.1f} h\n",
      m.detections, m.alerts, m.overall.true_alerts, m.overall.false_alerts,
      Figure(m.false_alarms_per_device_day, 3), m.device_days,
      Figure(m.false_alarms_per_normal_hour, 3), m.normal_hours);
  if (!m.false_alerts_by_detector.empty()) {
    out += "false alerts by what reported them:";
    for (const auto& [detector, n] : m.false_alerts_by_detector) out += fmt::format(" {} {}", detector, n);
    out += '\n';
  }
  return out;
}

void WriteEventJson(JsonWriter& w, const EventMetrics& m) {
  w.BeginObject();
  w.Key("detections").Int(m.detections);
  w.Key("alerts").Int(m.alerts);
  w.Key("device_days").Double(m.device_days);
  w.Key("false_alarms_per_device_day").Double(m.false_alarms_per_device_day);
  w.Key("normal_hours").Double(m.normal_hours);
  w.Key("false_alarm_events_per_normal_hour").Double(m.false_alarms_per_normal_hour);
  w.Key("overall");
  WriteEventScore(w, m.overall);
  w.Key("by_kind").BeginArray();
  for (const EventScore& s : m.by_kind) WriteEventScore(w, s);
  w.EndArray();
  w.Key("false_alerts_by_detector").BeginObject();
  for (const auto& [detector, n] : m.false_alerts_by_detector) w.Key(detector).Int(n);
  w.EndObject();
  w.EndObject();
}

std::string FormatEventListing(const EventMetrics& m, const std::vector<LabelledEvent>& labels) {
  std::string out = fmt::format("\nEach event ({}), and when its first detection came:\n", labels.size());
  for (size_t e = 0; e < labels.size() && e < m.outcomes.size(); ++e) {
    const LabelledEvent& l = labels[e];
    const EventOutcome& o = m.outcomes[e];
    out += fmt::format("{:<6} {} {} {} {} .. {}", o.found_at_us == kNotDetected ? "missed" : "found", l.device_id,
                       l.metric, l.kind, FormatTimestamp(l.start_us), FormatTimestamp(l.end_us));
    if (o.found_at_us != kNotDetected) {
      out += fmt::format(": at {} ({}){}{}", FormatTimestamp(o.found_at_us),
                         Delay(static_cast<double>(o.found_at_us - l.start_us) / kMicrosPerSecond),
                         o.why.empty() ? "" : ": ", o.why);
    }
    out += '\n';
  }
  out += fmt::format("False alerts ({}):\n", m.false_alert_list.size());
  for (const FalseAlert& a : m.false_alert_list) {
    out += fmt::format("{} {} {} .. {} ({} detection{}){}{}\n", a.device_id, a.metric, FormatTimestamp(a.first_us),
                       FormatTimestamp(a.last_us), a.detections, a.detections == 1 ? "" : "s",
                       a.why.empty() ? "" : ": ", a.why);
  }
  return out;
}

void WriteEventListingJson(JsonWriter& w, const EventMetrics& m, const std::vector<LabelledEvent>& labels) {
  w.Key("per_event").BeginArray();
  for (size_t e = 0; e < labels.size() && e < m.outcomes.size(); ++e) {
    const LabelledEvent& l = labels[e];
    const EventOutcome& o = m.outcomes[e];
    w.BeginObject();
    w.Key("device_id").String(l.device_id);
    w.Key("metric").String(l.metric);
    w.Key("kind").String(l.kind);
    w.Key("start").Timestamp(l.start_us);
    w.Key("end").Timestamp(l.end_us);
    w.Key("found").Bool(o.found_at_us != kNotDetected);
    if (o.found_at_us != kNotDetected) {
      w.Key("found_at").Timestamp(o.found_at_us);
      w.Key("delay_s").Double(static_cast<double>(o.found_at_us - l.start_us) / kMicrosPerSecond);
      w.Key("why").String(o.why);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("false_alerts").BeginArray();
  for (const FalseAlert& a : m.false_alert_list) {
    w.BeginObject();
    w.Key("device_id").String(a.device_id);
    w.Key("metric").String(a.metric);
    w.Key("first").Timestamp(a.first_us);
    w.Key("last").Timestamp(a.last_us);
    w.Key("detections").Int(a.detections);
    w.Key("why").String(a.why);
    w.Key("detector").String(a.detector);
    w.EndObject();
  }
  w.EndArray();
}

std::string FormatEvalTable(const EvalReport& r, bool per_file) {
  std::string out;
  AppendNabTable(out, r);
  if (per_file && !r.nab.empty()) AppendPerFileTable(out, r);
  if (!r.leave_one_out.empty()) AppendLeaveOneOutTable(out, r);
  const EventMetricsOptions& o = r.event_options;
  out += fmt::format(
      "\nEvent level: detections are {} after probation; an event is found by one within {} after "
      "its end; detections at most {} apart on one series are one alert\n",
      r.from_results ? fmt::format("rows at or above the {} threshold", r.events_profile)
                     : std::string("the detector's flags"),
      Minutes(o.grace_us), Minutes(o.alert_gap_us));
  out += FormatEventTable(r.events);
  if (r.events_whole_series) {
    const EventMetrics& w = *r.events_whole_series;
    out += fmt::format(
        "Over each whole series, probation included (a new series' flags): {} detections in {} alerts "
        "({} false); {} false alarms per series-day over {:.1f} series-days\n",
        w.detections, w.alerts, w.overall.false_alerts, Figure(w.false_alarms_per_device_day, 3), w.device_days);
  }
  return out;
}

std::string FormatEvalJson(const EvalReport& r, bool per_file) {
  JsonWriter w;
  w.BeginObject();
  w.Key("detector").String(r.detector);
  w.Key("source").String(r.source);
  w.Key("from_results").Bool(r.from_results);
  w.Key("files").Int(r.files);
  w.Key("rows").Int(r.rows);
  w.Key("threshold_source").String(ThresholdSourceName(r.threshold_source));
  if (r.threshold_source == ThresholdSource::kLearnt) {
    w.Key("threshold_set").BeginObject();
    w.Key("data").String(r.threshold_data_dir);
    w.Key("labels").String(r.threshold_labels_path);
    w.Key("files").Int(r.threshold_files);
    w.Key("nab").BeginArray();
    for (const NabScore& s : r.threshold_set) WriteNabScore(w, s, false);
    w.EndArray();
    w.EndObject();
  }
  w.Key("nab").BeginArray();
  for (size_t i = 0; i < r.nab.size(); ++i) {
    WriteNabScore(w, r.nab[i], per_file, r.own_best.empty() ? nullptr : &r.own_best[i]);
  }
  w.EndArray();
  if (!r.leave_one_out.empty()) {
    w.Key("leave_one_out").BeginArray();
    for (const LeaveOneOut& p : r.leave_one_out) WriteLeaveOneOut(w, p, per_file);
    w.EndArray();
  }
  w.Key("events_detections").String(r.from_results ? "threshold:" + r.events_profile : "flags");
  w.Key("events_grace_s").Double(static_cast<double>(r.event_options.grace_us) / kMicrosPerSecond);
  w.Key("events_alert_gap_s")
      .Double(static_cast<double>(r.event_options.alert_gap_us) / kMicrosPerSecond);
  w.Key("events");
  WriteEventJson(w, r.events);
  if (r.events_whole_series) {
    w.Key("events_whole_series");
    WriteEventJson(w, *r.events_whole_series);
  }
  w.EndObject();
  return w.Take() + "\n";
}

}  // namespace iotad::eval
