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

void AppendNabTable(std::string& out, const EvalReport& r) {
  const int64_t windows = r.nab.empty() ? 0 : r.nab.front().windows;
  out += fmt::format("NAB v1.1 scores of {} on {} files ({} rows, {} windows) from {} {}\n",
                     r.detector, r.files, r.rows, windows,
                     r.from_results ? "published results in" : "the data in", r.source);
  out += fmt::format("{:<22} {:>7} {:>10} {:>9} {:>11} {:>9}\n", "profile", "score", "threshold",
                     "raw", "windows hit", "FA events");
  for (const NabScore& s : r.nab) {
    out += fmt::format("{:<22} {:>7} {:>10} {:>9.3f} {:>11} {:>9}\n", s.profile.name,
                       Figure(s.normalized, 2), Threshold(s.threshold), s.raw,
                       fmt::format("{}/{}", s.windows_hit, s.windows), s.fa_events);
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

void WriteNabScore(JsonWriter& w, const NabScore& s, bool per_file) {
  w.BeginObject();
  w.Key("profile").String(s.profile.name);
  w.Key("tp_weight").Double(s.profile.tp_weight);
  w.Key("fp_weight").Double(s.profile.fp_weight);
  w.Key("fn_weight").Double(s.profile.fn_weight);
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
      "over {:.1f} device-days\n",
      m.detections, m.alerts, m.overall.true_alerts, m.overall.false_alerts,
      Figure(m.false_alarms_per_device_day, 3), m.device_days);
  return out;
}

void WriteEventJson(JsonWriter& w, const EventMetrics& m) {
  w.BeginObject();
  w.Key("detections").Int(m.detections);
  w.Key("alerts").Int(m.alerts);
  w.Key("device_days").Double(m.device_days);
  w.Key("false_alarms_per_device_day").Double(m.false_alarms_per_device_day);
  w.Key("overall");
  WriteEventScore(w, m.overall);
  w.Key("by_kind").BeginArray();
  for (const EventScore& s : m.by_kind) WriteEventScore(w, s);
  w.EndArray();
  w.EndObject();
}

std::string FormatEvalTable(const EvalReport& r, bool per_file) {
  std::string out;
  AppendNabTable(out, r);
  if (per_file && !r.nab.empty()) AppendPerFileTable(out, r);
  const EventMetricsOptions& o = r.event_options;
  out += fmt::format(
      "\nEvent level: detections are {} after probation; an event is found by one within {} after "
      "its end; detections at most {} apart on one series are one alert\n",
      r.from_results ? fmt::format("rows at or above the {} threshold", r.events_profile)
                     : std::string("the detector's flags"),
      Minutes(o.grace_us), Minutes(o.alert_gap_us));
  out += FormatEventTable(r.events);
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
  w.Key("nab").BeginArray();
  for (const NabScore& s : r.nab) WriteNabScore(w, s, per_file);
  w.EndArray();
  w.Key("events_detections").String(r.from_results ? "threshold:" + r.events_profile : "flags");
  w.Key("events_grace_s").Double(static_cast<double>(r.event_options.grace_us) / kMicrosPerSecond);
  w.Key("events_alert_gap_s")
      .Double(static_cast<double>(r.event_options.alert_gap_us) / kMicrosPerSecond);
  w.Key("events");
  WriteEventJson(w, r.events);
  w.EndObject();
  return w.Take() + "\n";
}

}  // namespace iotad::eval
