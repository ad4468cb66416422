// Templates over a notification's fields, and the generic JSON every JSON sink starts from.
#include "iotad/alert/template.h"

#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "iotad/config/alert_config.h"
#include "iotad/core/json.h"

namespace iotad::alert {
namespace {

std::string Number(double v) {
  if (!std::isfinite(v)) return "";
  return fmt::format("{:.6g}", v);
}

std::string Number(const std::optional<double>& v) { return v ? Number(*v) : std::string(); }

std::string Time(TimestampUs t) { return t == 0 ? std::string() : FormatTimestamp(t); }

void OptionalString(JsonWriter& w, std::string_view key, const std::string& v) {
  w.Key(key);
  if (v.empty()) {
    w.Null();
  } else {
    w.String(v);
  }
}

void OptionalTime(JsonWriter& w, std::string_view key, TimestampUs t) {
  w.Key(key);
  if (t == 0) {
    w.Null();
  } else {
    w.Timestamp(t);
  }
}

void OptionalNumber(JsonWriter& w, std::string_view key, const std::optional<double>& v) {
  w.Key(key);
  if (v) {
    w.Double(*v);  // non-finite values are written as null
  } else {
    w.Null();
  }
}

}  // namespace

const std::vector<std::string>& TemplateFields() { return config::AlertTemplateFields(); }

std::string FieldValue(std::string_view f, const Notification& n) {
  if (f == "alert_id") return n.alert_id;
  if (f == "dedup_key") return n.dedup_key;
  if (f == "rule") return n.rule;
  if (f == "severity") return n.severity;
  if (f == "group_key") return n.group_key;
  if (f == "status") return n.status;
  if (f == "kind") return NotificationKindName(n.kind);
  if (f == "device") return n.device;
  if (f == "metric") return n.metric;
  if (f == "location") return n.location;
  if (f == "detector") return n.detector;
  if (f == "starts_at") return Time(n.starts_at_us);
  if (f == "ends_at") return Time(n.ends_at_us);
  if (f == "event_time") return Time(n.event_time_us);
  if (f == "anomalies") return std::to_string(n.anomalies);
  if (f == "max_score") return Number(n.max_score);
  if (f == "value") return Number(n.latest.value);
  if (f == "expected") return Number(n.latest.expected);
  if (f == "expected_lo") return Number(n.latest.expected_lo);
  if (f == "expected_hi") return Number(n.latest.expected_hi);
  if (f == "z") return Number(n.latest.z);
  if (f == "score") return Number(n.latest.score);
  if (f == "explanation") return n.latest.explanation;
  if (f == "anomaly_rule") return n.latest.rule;
  if (f == "url") return n.url;
  return "";
}

std::string RenderTemplate(std::string_view tmpl, const Notification& n) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const char c = tmpl[i];
    if (c == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const size_t end = tmpl.find('}', i + 1);
      if (end == std::string_view::npos) {  // unchecked template: the rest as written
        out.append(tmpl.substr(i));
        break;
      }
      out += FieldValue(tmpl.substr(i + 1, end - i - 1), n);
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view DefaultSubject() { return "[{severity}] {status}: {device} {metric} ({rule})"; }

std::string_view DefaultBody() {
  return "{explanation}\n"
         "value {value} (expected {expected}, band {expected_lo} to {expected_hi}), z {z}, score {score}, "
         "at {event_time}\n"
         "device {device}, metric {metric}, location {location}, detector {detector}\n"
         "{anomalies} anomalies since {starts_at}, max score {max_score}\n"
         "dedup key {dedup_key}\n"
         "{url}";
}

std::string NotificationJson(const Notification& n) {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(1);
  w.Key("id").String(n.id);
  w.Key("kind").String(NotificationKindName(n.kind));
  w.Key("status").String(n.status);
  w.Key("alert_id").String(n.alert_id);
  w.Key("dedup_key").String(n.dedup_key);
  w.Key("rule").String(n.rule);
  w.Key("severity").String(n.severity);
  w.Key("group_key").String(n.group_key);
  w.Key("labels").BeginObject();
  OptionalString(w, "device", n.device);
  OptionalString(w, "metric", n.metric);
  OptionalString(w, "location", n.location);
  OptionalString(w, "detector", n.detector);
  w.EndObject();
  OptionalTime(w, "starts_at", n.starts_at_us);
  OptionalTime(w, "ends_at", n.ends_at_us);
  OptionalTime(w, "event_time", n.event_time_us);
  w.Key("anomalies").Int(n.anomalies);
  w.Key("max_score").Double(n.max_score);
  OptionalString(w, "url", n.url);
  const Anomaly& a = n.latest;
  w.Key("anomaly").BeginObject();
  OptionalTime(w, "event_time", a.event_time);
  OptionalNumber(w, "value", a.value);
  OptionalNumber(w, "expected", a.expected);
  OptionalNumber(w, "expected_lo", a.expected_lo);
  OptionalNumber(w, "expected_hi", a.expected_hi);
  OptionalNumber(w, "z", a.z);
  w.Key("score").Double(a.score);
  OptionalString(w, "detector", a.detector);
  OptionalString(w, "explanation", a.explanation);
  OptionalString(w, "rule", a.rule);
  w.EndObject();
  OptionalTime(w, "created_at", n.created_at_us);
  w.EndObject();
  return w.Take();
}

}  // namespace iotad::alert
