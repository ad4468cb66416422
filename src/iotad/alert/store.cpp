#include "iotad/alert/store.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "iotad/core/json.h"
#include "iotad/core/log.h"

namespace iotad::alert {
namespace {

using simdjson::dom::element;

constexpr int64_t kCheckpointEvery = 64;
constexpr std::string_view kLastCheckpointKey = "_iotad/alerts/last_checkpoint";
constexpr int64_t kHourUs = 3'600'000'000;

std::string RecordKey(int64_t seq) { return fmt::format("{}{:012d}.json", kAlertLogPrefix, seq); }
std::string CheckpointKey(int64_t seq) { return fmt::format("{}{:012d}.json", kAlertCheckpointPrefix, seq); }

// ---- writing ----

void WriteOptDouble(JsonWriter& w, std::string_view key, const std::optional<double>& v) {
  if (v) w.Key(key).Double(*v);
}

void WriteAnomaly(JsonWriter& w, const Anomaly& a) {
  w.BeginObject()
      .Key("event_time").Int(a.event_time)
      .Key("device_id").String(a.device_id)
      .Key("location").String(a.location)
      .Key("metric").String(a.metric)
      .Key("detector").String(a.detector)
      .Key("score").Double(a.score);
  WriteOptDouble(w, "value", a.value);
  WriteOptDouble(w, "z", a.z);
  WriteOptDouble(w, "expected", a.expected);
  WriteOptDouble(w, "expected_lo", a.expected_lo);
  WriteOptDouble(w, "expected_hi", a.expected_hi);
  WriteOptDouble(w, "baseline_mean", a.baseline_mean);
  w.Key("explanation").String(a.explanation).Key("rule").String(a.rule).EndObject();
}

void WriteStringMap(JsonWriter& w, const std::map<std::string, std::string>& m) {
  w.BeginObject();
  for (const auto& [k, v] : m) w.Key(k).String(v);
  w.EndObject();
}

void WriteHourMap(JsonWriter& w, const std::map<TimestampUs, int64_t>& m) {
  w.BeginObject();
  for (const auto& [k, v] : m) w.Key(std::to_string(k)).Int(v);
  w.EndObject();
}

void WriteDeviceHours(JsonWriter& w, const std::map<std::string, std::map<TimestampUs, int64_t>>& m) {
  w.BeginObject();
  for (const auto& [device, hours] : m) {
    w.Key(device);
    WriteHourMap(w, hours);
  }
  w.EndObject();
}

void WriteAlert(JsonWriter& w, const Alert& a) {
  w.BeginObject()
      .Key("id").String(a.id)
      .Key("dedup_key").String(a.dedup_key)
      .Key("rule").String(a.rule)
      .Key("severity").String(a.severity)
      .Key("group_key").String(a.group_key)
      .Key("labels");
  WriteStringMap(w, a.labels);
  w.Key("first_event").Int(a.first_event_us).Key("last_event").Int(a.last_event_us).Key("hour_counts");
  WriteHourMap(w, a.hour_counts);
  w.Key("anomalies").Int(a.anomalies).Key("max_score").Double(a.max_score).Key("latest");
  WriteAnomaly(w, a.latest);
  w.Key("status").String(AlertStatusName(a.status))
      .Key("resolved_event").Int(a.resolved_event_us)
      .Key("created_at").Int(a.created_at_us)
      .Key("updated_at").Int(a.updated_at_us)
      .Key("acked_at").Int(a.acked_at_us)
      .Key("acked_by").String(a.acked_by)
      .Key("ack_note").String(a.ack_note)
      .Key("last_notified_at").Int(a.last_notified_at_us)
      .Key("last_notified_event").Int(a.last_notified_event_us)
      .Key("last_notified_anomalies").Int(a.last_notified_anomalies)
      .Key("resolved_notified").Bool(a.resolved_notified)
      .EndObject();
}

void WriteNotification(JsonWriter& w, const Notification& n) {
  w.BeginObject()
      .Key("id").String(n.id)
      .Key("kind").String(NotificationKindName(n.kind))
      .Key("alert_id").String(n.alert_id)
      .Key("dedup_key").String(n.dedup_key)
      .Key("rule").String(n.rule)
      .Key("severity").String(n.severity)
      .Key("group_key").String(n.group_key)
      .Key("status").String(n.status)
      .Key("device").String(n.device)
      .Key("metric").String(n.metric)
      .Key("location").String(n.location)
      .Key("detector").String(n.detector)
      .Key("starts_at").Int(n.starts_at_us)
      .Key("ends_at").Int(n.ends_at_us)
      .Key("event_time").Int(n.event_time_us)
      .Key("anomalies").Int(n.anomalies)
      .Key("max_score").Double(n.max_score)
      .Key("latest");
  WriteAnomaly(w, n.latest);
  w.Key("url").String(n.url).Key("created_at").Int(n.created_at_us).EndObject();
}

void WriteDelivery(JsonWriter& w, const Delivery& d) {
  w.BeginObject()
      .Key("id").String(d.id)
      .Key("alert_id").String(d.alert_id)
      .Key("sink").String(d.sink)
      .Key("notification");
  WriteNotification(w, d.notification);
  w.Key("state").String(DeliveryStateName(d.state))
      .Key("attempts").Int(d.attempts)
      .Key("created_at").Int(d.created_at_us)
      .Key("next_attempt_at").Int(d.next_attempt_at_us)
      .Key("delivered_at").Int(d.delivered_at_us)
      .Key("last_error").String(d.last_error)
      .Key("silence_id").String(d.silence_id)
      .EndObject();
}

void WriteAttempt(JsonWriter& w, const Attempt& a) {
  w.BeginObject()
      .Key("delivery_id").String(a.delivery_id)
      .Key("n").Int(a.n)
      .Key("started_at").Int(a.started_at_us)
      .Key("finished_at").Int(a.finished_at_us)
      .Key("outcome").String(AttemptOutcomeName(a.result.outcome))
      .Key("status_code").Int(a.result.status_code)
      .Key("response").String(a.result.response)
      .Key("error").String(a.result.error);
  if (a.result.retry_after_us) w.Key("retry_after").Int(*a.result.retry_after_us);
  w.Key("seconds").Double(a.result.seconds).EndObject();
}

void WriteSilence(JsonWriter& w, const Silence& s) {
  w.BeginObject().Key("id").String(s.id).Key("matchers").BeginArray();
  for (const auto& m : s.matchers) {
    w.BeginObject().Key("label").String(m.label).Key("op").String(m.op).Key("value").String(m.value).EndObject();
  }
  w.EndArray()
      .Key("starts_at").Int(s.starts_at_us)
      .Key("ends_at").Int(s.ends_at_us)
      .Key("reason").String(s.reason)
      .Key("created_by").String(s.created_by)
      .Key("created_at").Int(s.created_at_us)
      .Key("expired_at").Int(s.expired_at_us)
      .EndObject();
}

// ---- reading ----

/// Reads fields of one object; remembers the first problem (a field of the wrong type).
class Reader {
 public:
  explicit Reader(element obj) : obj_(obj) {}
  int64_t Int(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS) return 0;
    int64_t v = 0;
    if (e.get_int64().get(v) != simdjson::SUCCESS) Bad(key);
    return v;
  }
  double Double(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return 0;
    double v = 0;
    if (e.get_double().get(v) != simdjson::SUCCESS) Bad(key);
    return v;
  }
  std::optional<double> OptDouble(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    double v = 0;
    if (e.get_double().get(v) != simdjson::SUCCESS) {
      Bad(key);
      return std::nullopt;
    }
    return v;
  }
  std::optional<int64_t> OptInt(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    int64_t v = 0;
    if (e.get_int64().get(v) != simdjson::SUCCESS) {
      Bad(key);
      return std::nullopt;
    }
    return v;
  }
  bool Bool(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS) return false;
    bool v = false;
    if (e.get_bool().get(v) != simdjson::SUCCESS) Bad(key);
    return v;
  }
  std::string Str(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS) return {};
    std::string_view v;
    if (e.get_string().get(v) != simdjson::SUCCESS) Bad(key);
    return std::string(v);
  }
  /// The member `key` when it is an object (else nullopt; wrong type is remembered).
  std::optional<element> Obj(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS) return std::nullopt;
    if (!e.is_object()) {
      Bad(key);
      return std::nullopt;
    }
    return e;
  }
  std::optional<simdjson::dom::array> Arr(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS) return std::nullopt;
    simdjson::dom::array a;
    if (e.get_array().get(a) != simdjson::SUCCESS) {
      Bad(key);
      return std::nullopt;
    }
    return a;
  }
  void Bad(std::string_view key) {
    if (problem_.empty()) problem_ = std::string(key);
  }
  /// Takes over a nested reader's problem, prefixed.
  void Merge(const Reader& inner, std::string_view prefix) {
    if (problem_.empty() && !inner.problem_.empty()) problem_ = fmt::format("{}.{}", prefix, inner.problem_);
  }
  const std::string& problem() const { return problem_; }

 private:
  element obj_;
  std::string problem_;
};

std::map<std::string, std::string> ReadStringMap(Reader& r, std::string_view key) {
  std::map<std::string, std::string> out;
  auto obj = r.Obj(key);
  if (!obj) return out;
  for (auto field : simdjson::dom::object(*obj)) {
    std::string_view v;
    if (field.value.get_string().get(v) != simdjson::SUCCESS) {
      r.Bad(key);
      continue;
    }
    out[std::string(field.key)] = std::string(v);
  }
  return out;
}

std::optional<TimestampUs> ParseIntKey(std::string_view text) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::map<TimestampUs, int64_t> ReadHourMap(element obj, Reader& r, std::string_view key) {
  std::map<TimestampUs, int64_t> out;
  simdjson::dom::object map;
  if (obj.get_object().get(map) != simdjson::SUCCESS) {
    r.Bad(key);
    return out;
  }
  for (auto field : map) {
    int64_t v = 0;
    const auto hour = ParseIntKey(field.key);
    if (!hour || field.value.get_int64().get(v) != simdjson::SUCCESS) {
      r.Bad(key);
      continue;
    }
    out[*hour] = v;
  }
  return out;
}

std::map<std::string, std::map<TimestampUs, int64_t>> ReadDeviceHours(Reader& r, std::string_view key) {
  std::map<std::string, std::map<TimestampUs, int64_t>> out;
  auto obj = r.Obj(key);
  if (!obj) return out;
  for (auto field : simdjson::dom::object(*obj)) {
    out[std::string(field.key)] = ReadHourMap(field.value, r, key);
  }
  return out;
}

Anomaly ReadAnomaly(element e, Reader& outer, std::string_view key) {
  Anomaly a;
  if (!e.is_object()) {
    outer.Bad(key);
    return a;
  }
  Reader r(e);
  a.event_time = r.Int("event_time");
  a.device_id = r.Str("device_id");
  a.location = r.Str("location");
  a.metric = r.Str("metric");
  a.detector = r.Str("detector");
  a.score = r.Double("score");
  a.value = r.OptDouble("value");
  a.z = r.OptDouble("z");
  a.expected = r.OptDouble("expected");
  a.expected_lo = r.OptDouble("expected_lo");
  a.expected_hi = r.OptDouble("expected_hi");
  a.baseline_mean = r.OptDouble("baseline_mean");
  a.explanation = r.Str("explanation");
  a.rule = r.Str("rule");
  outer.Merge(r, key);
  return a;
}

AlertStatus ParseAlertStatus(const std::string& s, Reader& r) {
  if (s == "firing") return AlertStatus::kFiring;
  if (s == "resolved") return AlertStatus::kResolved;
  r.Bad("status");
  return AlertStatus::kFiring;
}

NotificationKind ParseKind(const std::string& s, Reader& r) {
  for (auto k : {NotificationKind::kFiring, NotificationKind::kUpdate, NotificationKind::kRepeat,
                 NotificationKind::kResolved, NotificationKind::kAcknowledged, NotificationKind::kTest}) {
    if (s == NotificationKindName(k)) return k;
  }
  r.Bad("kind");
  return NotificationKind::kFiring;
}

DeliveryState ParseDeliveryState(const std::string& s, Reader& r) {
  for (auto k : {DeliveryState::kPending, DeliveryState::kDelivered, DeliveryState::kSilenced,
                 DeliveryState::kThrottled, DeliveryState::kDead}) {
    if (s == DeliveryStateName(k)) return k;
  }
  r.Bad("state");
  return DeliveryState::kPending;
}

AttemptOutcome ParseOutcome(const std::string& s, Reader& r) {
  for (auto k : {AttemptOutcome::kDelivered, AttemptOutcome::kRetry, AttemptOutcome::kRefused}) {
    if (s == AttemptOutcomeName(k)) return k;
  }
  r.Bad("outcome");
  return AttemptOutcome::kRetry;
}

Alert ReadAlert(element e, Reader& outer, std::string_view what) {
  Alert a;
  if (!e.is_object()) {
    outer.Bad(what);
    return a;
  }
  Reader r(e);
  a.id = r.Str("id");
  a.dedup_key = r.Str("dedup_key");
  a.rule = r.Str("rule");
  a.severity = r.Str("severity");
  a.group_key = r.Str("group_key");
  a.labels = ReadStringMap(r, "labels");
  a.first_event_us = r.Int("first_event");
  a.last_event_us = r.Int("last_event");
  if (auto hc = r.Obj("hour_counts")) a.hour_counts = ReadHourMap(*hc, r, "hour_counts");
  a.anomalies = r.Int("anomalies");
  a.max_score = r.Double("max_score");
  if (auto latest = r.Obj("latest")) a.latest = ReadAnomaly(*latest, r, "latest");
  a.status = ParseAlertStatus(r.Str("status"), r);
  a.resolved_event_us = r.Int("resolved_event");
  a.created_at_us = r.Int("created_at");
  a.updated_at_us = r.Int("updated_at");
  a.acked_at_us = r.Int("acked_at");
  a.acked_by = r.Str("acked_by");
  a.ack_note = r.Str("ack_note");
  a.last_notified_at_us = r.Int("last_notified_at");
  a.last_notified_event_us = r.Int("last_notified_event");
  a.last_notified_anomalies = r.Int("last_notified_anomalies");
  a.resolved_notified = r.Bool("resolved_notified");
  if (a.id.empty()) r.Bad("id");
  outer.Merge(r, what);
  return a;
}

Notification ReadNotification(element e, Reader& outer, std::string_view what) {
  Notification n;
  Reader r(e);
  n.id = r.Str("id");
  n.kind = ParseKind(r.Str("kind"), r);
  n.alert_id = r.Str("alert_id");
  n.dedup_key = r.Str("dedup_key");
  n.rule = r.Str("rule");
  n.severity = r.Str("severity");
  n.group_key = r.Str("group_key");
  n.status = r.Str("status");
  n.device = r.Str("device");
  n.metric = r.Str("metric");
  n.location = r.Str("location");
  n.detector = r.Str("detector");
  n.starts_at_us = r.Int("starts_at");
  n.ends_at_us = r.Int("ends_at");
  n.event_time_us = r.Int("event_time");
  n.anomalies = r.Int("anomalies");
  n.max_score = r.Double("max_score");
  if (auto latest = r.Obj("latest")) n.latest = ReadAnomaly(*latest, r, "latest");
  n.url = r.Str("url");
  n.created_at_us = r.Int("created_at");
  outer.Merge(r, what);
  return n;
}

Delivery ReadDelivery(element e, Reader& outer, std::string_view what) {
  Delivery d;
  if (!e.is_object()) {
    outer.Bad(what);
    return d;
  }
  Reader r(e);
  d.id = r.Str("id");
  d.alert_id = r.Str("alert_id");
  d.sink = r.Str("sink");
  if (auto n = r.Obj("notification")) d.notification = ReadNotification(*n, r, "notification");
  d.state = ParseDeliveryState(r.Str("state"), r);
  d.attempts = r.Int("attempts");
  d.created_at_us = r.Int("created_at");
  d.next_attempt_at_us = r.Int("next_attempt_at");
  d.delivered_at_us = r.Int("delivered_at");
  d.last_error = r.Str("last_error");
  d.silence_id = r.Str("silence_id");
  if (d.id.empty()) r.Bad("id");
  outer.Merge(r, what);
  return d;
}

Attempt ReadAttempt(element e, Reader& outer, std::string_view what) {
  Attempt a;
  if (!e.is_object()) {
    outer.Bad(what);
    return a;
  }
  Reader r(e);
  a.delivery_id = r.Str("delivery_id");
  a.n = r.Int("n");
  a.started_at_us = r.Int("started_at");
  a.finished_at_us = r.Int("finished_at");
  a.result.outcome = ParseOutcome(r.Str("outcome"), r);
  a.result.status_code = r.Int("status_code");
  a.result.response = r.Str("response");
  a.result.error = r.Str("error");
  a.result.retry_after_us = r.OptInt("retry_after");
  a.result.seconds = r.Double("seconds");
  outer.Merge(r, what);
  return a;
}

Silence ReadSilence(element e, Reader& outer, std::string_view what) {
  Silence s;
  if (!e.is_object()) {
    outer.Bad(what);
    return s;
  }
  Reader r(e);
  s.id = r.Str("id");
  if (auto ms = r.Arr("matchers")) {
    for (element m : *ms) {
      if (!m.is_object()) {
        r.Bad("matchers");
        continue;
      }
      Reader mr(m);
      s.matchers.push_back({mr.Str("label"), mr.Str("op"), mr.Str("value")});
      r.Merge(mr, "matchers");
    }
  }
  s.starts_at_us = r.Int("starts_at");
  s.ends_at_us = r.Int("ends_at");
  s.reason = r.Str("reason");
  s.created_by = r.Str("created_by");
  s.created_at_us = r.Int("created_at");
  s.expired_at_us = r.Int("expired_at");
  if (s.id.empty()) r.Bad("id");
  outer.Merge(r, what);
  return s;
}

template <typename T, typename Fn>
void ReadList(Reader& r, std::string_view key, Fn read, std::vector<T>& out) {
  auto arr = r.Arr(key);
  if (!arr) return;
  for (element e : *arr) out.push_back(read(e, r, key));
}

Status ParseDoc(simdjson::dom::parser& parser, std::string_view json, std::string_view what, element& doc) {
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Error(Errc::kCorrupt, "alert log: the {} is not a JSON object", what);
  }
  return Status::Ok();
}

Status CheckProblem(const Reader& r, std::string_view what) {
  if (r.problem().empty()) return Status::Ok();
  return Error(Errc::kCorrupt, "alert log: the {} has a bad '{}'", what, r.problem());
}

}  // namespace

bool Changes::empty() const {
  return alerts.empty() && deliveries.empty() && attempts.empty() && silences.empty() && acks.empty() &&
         gold_seen_set.empty() && gold_seen_erase.empty() && sent_increments.empty();
}

void ApplyChanges(AlertState& state, const Changes& changes) {
  for (const auto& a : changes.alerts) {
    auto it = state.alerts.find(a.id);
    Alert copy = a;
    if (it != state.alerts.end()) {
      copy.acked_at_us = it->second.acked_at_us;
      copy.acked_by = it->second.acked_by;
      copy.ack_note = it->second.ack_note;
      it->second = std::move(copy);
    } else {
      copy.acked_at_us = 0;
      copy.acked_by.clear();
      copy.ack_note.clear();
      state.alerts.emplace(a.id, std::move(copy));
    }
  }
  for (const auto& ack : changes.acks) {
    auto it = state.alerts.find(ack.alert_id);
    if (it == state.alerts.end()) continue;
    it->second.acked_at_us = ack.at_us;
    it->second.acked_by = ack.by;
    it->second.ack_note = ack.note;
  }
  for (const auto& d : changes.deliveries) state.deliveries[d.id] = d;
  state.attempts.insert(state.attempts.end(), changes.attempts.begin(), changes.attempts.end());
  for (const auto& s : changes.silences) state.silences[s.id] = s;
  for (const auto& key : changes.gold_seen_erase) state.gold_seen.erase(key);
  for (const auto& [key, hash] : changes.gold_seen_set) state.gold_seen[key] = hash;
  if (!changes.sent_increments.empty()) {
    for (const auto& [device, hours] : changes.sent_increments) {
      auto& mine = state.sent_per_device_hour[device];
      for (const auto& [hour, n] : hours) mine[hour] += n;
    }
    TimestampUs newest = 0;
    for (const auto& [device, hours] : state.sent_per_device_hour) {
      if (!hours.empty()) newest = std::max(newest, hours.rbegin()->first);
    }
    for (auto it = state.sent_per_device_hour.begin(); it != state.sent_per_device_hour.end();) {
      auto& hours = it->second;
      hours.erase(hours.begin(), hours.lower_bound(newest - 24 * kHourUs));
      it = hours.empty() ? state.sent_per_device_hour.erase(it) : std::next(it);
    }
  }
}

std::string ChangesToJson(const Changes& c) {
  JsonWriter w;
  w.BeginObject().Key("alerts").BeginArray();
  for (const auto& a : c.alerts) WriteAlert(w, a);
  w.EndArray().Key("deliveries").BeginArray();
  for (const auto& d : c.deliveries) WriteDelivery(w, d);
  w.EndArray().Key("attempts").BeginArray();
  for (const auto& a : c.attempts) WriteAttempt(w, a);
  w.EndArray().Key("silences").BeginArray();
  for (const auto& s : c.silences) WriteSilence(w, s);
  w.EndArray().Key("acks").BeginArray();
  for (const auto& a : c.acks) {
    w.BeginObject().Key("alert_id").String(a.alert_id).Key("at").Int(a.at_us).Key("by").String(a.by)
        .Key("note").String(a.note).EndObject();
  }
  w.EndArray().Key("gold_seen_set");
  WriteStringMap(w, c.gold_seen_set);
  w.Key("gold_seen_erase").BeginArray();
  for (const auto& k : c.gold_seen_erase) w.String(k);
  w.EndArray().Key("sent_increments");
  WriteDeviceHours(w, c.sent_increments);
  w.EndObject();
  return w.Take();
}

Result<Changes> ChangesFromJson(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  IOTAD_TRY(ParseDoc(parser, json, "record", doc));
  Reader r(doc);
  Changes c;
  ReadList(r, "alerts", ReadAlert, c.alerts);
  ReadList(r, "deliveries", ReadDelivery, c.deliveries);
  ReadList(r, "attempts", ReadAttempt, c.attempts);
  ReadList(r, "silences", ReadSilence, c.silences);
  if (auto acks = r.Arr("acks")) {
    for (element e : *acks) {
      if (!e.is_object()) {
        r.Bad("acks");
        continue;
      }
      Reader ar(e);
      c.acks.push_back({ar.Str("alert_id"), ar.Int("at"), ar.Str("by"), ar.Str("note")});
      r.Merge(ar, "acks");
    }
  }
  c.gold_seen_set = ReadStringMap(r, "gold_seen_set");
  if (auto erase = r.Arr("gold_seen_erase")) {
    for (element e : *erase) {
      std::string_view v;
      if (e.get_string().get(v) != simdjson::SUCCESS) {
        r.Bad("gold_seen_erase");
        continue;
      }
      c.gold_seen_erase.emplace_back(v);
    }
  }
  c.sent_increments = ReadDeviceHours(r, "sent_increments");
  IOTAD_TRY(CheckProblem(r, "record"));
  return c;
}

std::string StateToJson(const AlertState& s) {
  JsonWriter w;
  w.BeginObject().Key("seq").Int(s.seq).Key("alerts").BeginArray();
  for (const auto& [id, a] : s.alerts) WriteAlert(w, a);
  w.EndArray().Key("deliveries").BeginArray();
  for (const auto& [id, d] : s.deliveries) WriteDelivery(w, d);
  w.EndArray().Key("attempts").BeginArray();
  for (const auto& a : s.attempts) WriteAttempt(w, a);
  w.EndArray().Key("silences").BeginArray();
  for (const auto& [id, sil] : s.silences) WriteSilence(w, sil);
  w.EndArray().Key("gold_seen");
  WriteStringMap(w, s.gold_seen);
  w.Key("sent_per_device_hour");
  WriteDeviceHours(w, s.sent_per_device_hour);
  w.EndObject();
  return w.Take();
}

Result<AlertState> StateFromJson(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  IOTAD_TRY(ParseDoc(parser, json, "checkpoint", doc));
  Reader r(doc);
  AlertState s;
  s.seq = r.Int("seq");
  std::vector<Alert> alerts;
  ReadList(r, "alerts", ReadAlert, alerts);
  for (auto& a : alerts) s.alerts[a.id] = std::move(a);
  std::vector<Delivery> deliveries;
  ReadList(r, "deliveries", ReadDelivery, deliveries);
  for (auto& d : deliveries) s.deliveries[d.id] = std::move(d);
  ReadList(r, "attempts", ReadAttempt, s.attempts);
  std::vector<Silence> silences;
  ReadList(r, "silences", ReadSilence, silences);
  for (auto& sil : silences) s.silences[sil.id] = std::move(sil);
  s.gold_seen = ReadStringMap(r, "gold_seen");
  s.sent_per_device_hour = ReadDeviceHours(r, "sent_per_device_hour");
  IOTAD_TRY(CheckProblem(r, "checkpoint"));
  return s;
}

Result<AlertLog> AlertLog::Open(store::ObjectStore& store, const Clock& clock) {
  AlertLog log(store, clock);
  auto pointer = store.Get(kLastCheckpointKey);
  if (pointer.ok()) {
    std::string_view text = *pointer;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    const auto seq = ParseIntKey(text);
    if (!seq || *seq <= 0) {
      return Error(Errc::kCorrupt, "alert log: {} does not hold a sequence number", kLastCheckpointKey);
    }
    const std::string key = CheckpointKey(*seq);
    IOTAD_ASSIGN_OR_RETURN(std::string json, store.Get(key));
    auto state = StateFromJson(json);
    if (!state.ok()) {
      return Error(Errc::kCorrupt, "alert log: checkpoint {} is damaged ({})", key, state.status().message());
    }
    if (state->seq != *seq) {
      return Error(Errc::kCorrupt, "alert log: checkpoint {} says seq {}", key, state->seq);
    }
    log.state_ = std::move(*state);
    log.checkpoint_seq_ = *seq;
    log.checkpoint_bytes_ = static_cast<int64_t>(json.size());
  } else if (pointer.status().code() != Errc::kNotFound) {
    return pointer.status();
  }
  IOTAD_TRY(log.Refresh());
  return log;
}

Status AlertLog::Refresh() {
  std::string json;
  for (;;) {
    const int64_t seq = state_.seq + 1;
    const std::string key = RecordKey(seq);
    Status got = store_->GetInto(key, json);
    if (got.code() == Errc::kNotFound) return Status::Ok();
    IOTAD_TRY(got);
    auto changes = ChangesFromJson(json);
    if (!changes.ok()) {
      return Error(Errc::kCorrupt, "alert log: record {} is damaged ({})", key, changes.status().message());
    }
    ApplyChanges(state_, *changes);
    state_.seq = seq;
    ++records_since_checkpoint_;
    bytes_since_checkpoint_ += static_cast<int64_t>(json.size());
  }
}

void AlertLog::MaybeCheckpoint() {
  if (records_since_checkpoint_ < kCheckpointEvery || bytes_since_checkpoint_ < checkpoint_bytes_) return;
  // The record is the commit point; a checkpoint only shortens the next load. A failure here
  // leaves the previous checkpoint in place (the records after it are read instead).
  const int64_t seq = state_.seq;
  const std::string json = StateToJson(state_);
  Status cp = store_->Put(CheckpointKey(seq), json);
  if (cp.ok()) cp = store_->Put(kLastCheckpointKey, std::to_string(seq));
  if (!cp.ok()) {
    log::Warn(fmt::format("alert log: no checkpoint at {}: {}", seq, cp.message()));
    return;
  }
  const int64_t previous = checkpoint_seq_;
  checkpoint_seq_ = seq;
  checkpoint_bytes_ = static_cast<int64_t>(json.size());
  records_since_checkpoint_ = 0;
  bytes_since_checkpoint_ = 0;
  // Older checkpoints are never read again (a reader that read the previous pointer a moment
  // ago still finds the previous one): keep two.
  auto listed = store_->List(kAlertCheckpointPrefix);
  if (!listed.ok()) return;
  for (const store::ObjectInfo& o : *listed) {
    if (o.key != CheckpointKey(seq) && o.key != CheckpointKey(previous)) (void)store_->Delete(o.key);
  }
}

Result<int64_t> AlertLog::Commit(const Changes& changes) {
  const std::string json = ChangesToJson(changes);
  for (;;) {
    const int64_t seq = state_.seq + 1;
    const std::string key = RecordKey(seq);
    Status put = store_->PutIfAbsent(key, json);
    if (put.code() == Errc::kConflict) {
      IOTAD_TRY(Refresh());
      continue;
    }
    IOTAD_TRY(put);
    ApplyChanges(state_, changes);
    state_.seq = seq;
    ++records_since_checkpoint_;
    bytes_since_checkpoint_ += static_cast<int64_t>(json.size());
    MaybeCheckpoint();
    return seq;
  }
}

}  // namespace iotad::alert
