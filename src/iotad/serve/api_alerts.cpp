// /api/alerts, /api/device/alerts and the write role's alert actions (ack, silence, expire).
// Reads come from the folded alert log in the request's LakeState (no query); the actions append
// one record to the alert log through Context::CommitAlertChanges, exactly as `iotad alert ack` and
// `iotad alert silence add|expire` do, so the CLI and the dashboard see the same state.
#include <simdjson.h>

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "iotad/alert/engine.h"
#include "iotad/serve/api_internal.h"

namespace iotad::serve {
namespace {

/// The states `/api/alerts?state=` filters by. They overlap: an alert can be open and silenced.
/// open: firing and not acknowledged (the overview's open_alerts); acknowledged: acknowledged;
/// silenced: an active silence matches it now; dead: one of its deliveries is dead; resolved.
struct AlertFlags {
  bool open = false, acknowledged = false, silenced = false, dead = false, resolved = false;
};

/// The deliveries of each alert and the last attempt of each delivery, built once per answer.
struct DeliveryIndex {
  std::unordered_map<std::string, std::vector<const alert::Delivery*>> by_alert;
  std::unordered_map<std::string, const alert::Attempt*> last_attempt;
};

DeliveryIndex IndexDeliveries(const alert::AlertState& state, const std::set<std::string>* only_alerts) {
  DeliveryIndex index;
  for (const auto& [id, d] : state.deliveries) {
    if (only_alerts != nullptr && only_alerts->count(d.alert_id) == 0) continue;
    index.by_alert[d.alert_id].push_back(&d);
  }
  for (const alert::Attempt& a : state.attempts) {
    if (only_alerts != nullptr) {
      auto it = state.deliveries.find(a.delivery_id);
      if (it == state.deliveries.end() || only_alerts->count(it->second.alert_id) == 0) continue;
    }
    const alert::Attempt*& last = index.last_attempt[a.delivery_id];
    if (last == nullptr || a.n >= last->n) last = &a;
  }
  return index;
}

AlertFlags FlagsOf(const alert::AlertState& state, const alert::Alert& a, const DeliveryIndex& index,
                   TimestampUs now_us) {
  AlertFlags f;
  f.acknowledged = a.acked_at_us != 0;
  f.resolved = a.status == alert::AlertStatus::kResolved;
  f.open = !f.resolved && !f.acknowledged;
  f.silenced = alert::ActiveSilence(state, a, now_us) != nullptr;
  if (auto it = index.by_alert.find(a.id); it != index.by_alert.end()) {
    for (const alert::Delivery* d : it->second) f.dead = f.dead || d->state == alert::DeliveryState::kDead;
  }
  return f;
}

bool InState(const AlertFlags& f, std::string_view state) {
  if (state == "open") return f.open;
  if (state == "acknowledged") return f.acknowledged;
  if (state == "silenced") return f.silenced;
  if (state == "dead") return f.dead;
  if (state == "resolved") return f.resolved;
  return true;  // all
}

std::string DeviceOf(const alert::Alert& a) {
  if (auto it = a.labels.find("device"); it != a.labels.end()) return it->second;
  return a.latest.device_id;
}

std::string SummaryOf(const alert::Alert& a) {
  std::string s = fmt::format("{} anomal{} of {} ({} severity), max score {:.2f}", a.anomalies,
                              a.anomalies == 1 ? "y" : "ies", a.group_key, a.severity, a.max_score);
  if (!a.latest.explanation.empty()) s += "; latest: " + a.latest.explanation;
  return s;
}

void WriteTimeOrNull(JsonWriter& json, TimestampUs ts) {
  if (ts == 0) {
    json.Null();
  } else {
    json.Timestamp(ts);
  }
}

void WriteAlert(JsonWriter& json, const alert::Alert& a, const AlertFlags& f, const DeliveryIndex& index) {
  json.BeginObject();
  json.Key("id").String(a.id).Key("rule").String(a.rule).Key("severity").String(a.severity);
  json.Key("group").String(a.group_key);
  json.Key("labels").BeginObject();
  for (const auto& [k, v] : a.labels) json.Key(k).String(v);
  json.EndObject();
  json.Key("status").String(alert::AlertStatusName(a.status));
  json.Key("acknowledged").Bool(f.acknowledged).Key("silenced").Bool(f.silenced).Key("dead").Bool(f.dead);
  json.Key("starts_at").Timestamp(a.first_event_us).Key("last_event").Timestamp(a.last_event_us);
  json.Key("ends_at");
  WriteTimeOrNull(json, a.status == alert::AlertStatus::kResolved ? a.resolved_event_us : 0);
  json.Key("anomalies").Int(a.anomalies).Key("max_score").Double(a.max_score);
  json.Key("summary").String(SummaryOf(a));
  json.Key("deliveries").BeginArray();
  if (auto it = index.by_alert.find(a.id); it != index.by_alert.end()) {
    for (const alert::Delivery* d : it->second) {
      json.BeginObject();
      json.Key("sink").String(d->sink).Key("kind").String(alert::NotificationKindName(d->notification.kind));
      json.Key("state").String(alert::DeliveryStateName(d->state)).Key("attempts").Int(d->attempts);
      auto at = index.last_attempt.find(d->id);
      json.Key("last_status");
      if (at != index.last_attempt.end() && at->second->result.status_code != 0) {
        json.Int(at->second->result.status_code);
      } else {
        json.Null();
      }
      json.Key("last_error");
      if (d->last_error.empty()) {
        json.Null();
      } else {
        json.String(d->last_error);
      }
      json.Key("next_attempt_at");
      WriteTimeOrNull(json, d->state == alert::DeliveryState::kPending ? d->next_attempt_at_us : 0);
      json.Key("delivered_at");
      WriteTimeOrNull(json, d->state == alert::DeliveryState::kDelivered ? d->delivered_at_us : 0);
      json.EndObject();
    }
  }
  json.EndArray();
  json.EndObject();
}

void WriteSilence(JsonWriter& json, const alert::Silence& s, TimestampUs now_us) {
  json.BeginObject();
  json.Key("id").String(s.id).Key("matchers").BeginArray();
  for (const auto& m : s.matchers) {
    json.BeginObject().Key("label").String(m.label).Key("op").String(m.op).Key("value").String(m.value).EndObject();
  }
  json.EndArray();
  // An expired silence ends when it was expired.
  const TimestampUs ends = s.expired_at_us != 0 ? std::min(s.ends_at_us, s.expired_at_us) : s.ends_at_us;
  json.Key("starts_at").Timestamp(s.starts_at_us).Key("ends_at").Timestamp(ends);
  json.Key("reason").String(s.reason).Key("created_by").String(s.created_by);
  json.Key("active").Bool(s.ActiveAt(now_us));
  json.EndObject();
}

/// Alerts newest first (latest event, then id), as `iotad alert list`.
std::vector<const alert::Alert*> SortedAlerts(const alert::AlertState& state, const std::string& device) {
  std::vector<const alert::Alert*> out;
  for (const auto& [id, a] : state.alerts) {
    if (device.empty() || DeviceOf(a) == device) out.push_back(&a);
  }
  std::sort(out.begin(), out.end(), [](const alert::Alert* x, const alert::Alert* y) {
    return x->last_event_us != y->last_event_us ? x->last_event_us > y->last_event_us : x->id < y->id;
  });
  return out;
}

Response JsonOk(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

constexpr int64_t kDefaultAlertLimit = 200;
constexpr int64_t kMaxAlertLimit = 1000;

Result<Response> GetAlerts(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(std::string state_filter,
                         ctx.params().Choice("state", {"open", "acknowledged", "silenced", "dead", "resolved", "all"},
                                             "all"));
  IOTAD_ASSIGN_OR_RETURN(auto device, ctx.params().One("device"));
  IOTAD_ASSIGN_OR_RETURN(int64_t limit, ctx.params().Int("limit", kDefaultAlertLimit, 1, kMaxAlertLimit));
  IOTAD_TRY(ctx.params().Finish());
  const alert::AlertState& st = ctx.state().alerts;
  const TimestampUs now = ctx.clock().NowUs();
  const DeliveryIndex index = IndexDeliveries(st, nullptr);
  JsonWriter json;
  json.BeginObject().Key("alerts").BeginArray();
  int64_t counts[5] = {0, 0, 0, 0, 0};
  int64_t written = 0;
  for (const alert::Alert* a : SortedAlerts(st, device.value_or(""))) {
    const AlertFlags f = FlagsOf(st, *a, index, now);
    counts[0] += f.open;
    counts[1] += f.acknowledged;
    counts[2] += f.silenced;
    counts[3] += f.dead;
    counts[4] += f.resolved;
    if (!InState(f, state_filter) || written >= limit) continue;
    WriteAlert(json, *a, f, index);
    ++written;
  }
  json.EndArray();
  std::vector<const alert::Silence*> silences;
  for (const auto& [id, s] : st.silences) silences.push_back(&s);
  std::sort(silences.begin(), silences.end(), [](const alert::Silence* x, const alert::Silence* y) {
    return x->created_at_us != y->created_at_us ? x->created_at_us > y->created_at_us : x->id < y->id;
  });
  json.Key("silences").BeginArray();
  for (const alert::Silence* s : silences) WriteSilence(json, *s, now);
  json.EndArray();
  json.Key("counts").BeginObject();
  json.Key("open").Int(counts[0]).Key("acknowledged").Int(counts[1]).Key("silenced").Int(counts[2]);
  json.Key("dead").Int(counts[3]).Key("resolved").Int(counts[4]);
  json.EndObject();
  ctx.WriteMeta(json, std::nullopt);
  json.EndObject();
  return JsonOk(json.Take());
}

Result<Response> GetDeviceAlerts(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(std::string id, ctx.params().Required("id"));
  IOTAD_TRY(ctx.params().Finish());
  const alert::AlertState& st = ctx.state().alerts;
  const TimestampUs now = ctx.clock().NowUs();
  const auto alerts = SortedAlerts(st, id);
  std::set<std::string> ids;
  for (const alert::Alert* a : alerts) ids.insert(a->id);
  const DeliveryIndex index = IndexDeliveries(st, &ids);
  JsonWriter json;
  json.BeginObject().Key("alerts").BeginArray();
  for (const alert::Alert* a : alerts) WriteAlert(json, *a, FlagsOf(st, *a, index, now), index);
  json.EndArray();
  ctx.WriteMeta(json, std::nullopt);
  json.EndObject();
  return JsonOk(json.Take());
}

// ---- the write role's actions: JSON bodies, strictly checked ----

constexpr size_t kMaxTextBytes = 1000;
constexpr int64_t kMaxSilenceSeconds = 366LL * 24 * 3600;

Status BadBody(std::string_view what) { return Error(Errc::kInvalidArgument, "body: {}", what); }

/// Parses the body as one JSON object whose keys are all in `allowed`.
Status ParseBody(simdjson::dom::parser& parser, const Request& request, std::initializer_list<std::string_view> allowed,
                 simdjson::dom::object& out) {
  simdjson::dom::element doc;
  if (parser.parse(request.body.data(), request.body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(out) != simdjson::SUCCESS) {
    return BadBody("expected a JSON object");
  }
  for (auto field : out) {
    if (std::find(allowed.begin(), allowed.end(), field.key) == allowed.end()) {
      return BadBody(fmt::format("unknown field '{}'", std::string_view(field.key).substr(0, 100)));
    }
  }
  return Status::Ok();
}

/// A string field: absent -> `fallback` (nullopt: required); must be 1..kMaxTextBytes bytes without control
/// characters (or empty when `may_be_empty`).
Result<std::string> TextField(simdjson::dom::object obj, std::string_view key, std::optional<std::string> fallback,
                              bool may_be_empty = false) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS) {
    if (fallback) return *fallback;
    return BadBody(fmt::format("field '{}' is required", key));
  }
  std::string_view v;
  if (e.get_string().get(v) != simdjson::SUCCESS) return BadBody(fmt::format("field '{}' must be a string", key));
  if (v.size() > kMaxTextBytes) return BadBody(fmt::format("field '{}' is longer than {} bytes", key, kMaxTextBytes));
  if (v.empty() && !may_be_empty) return BadBody(fmt::format("field '{}' must not be empty", key));
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return BadBody(fmt::format("field '{}' holds a control character", key));
  }
  return std::string(v);
}

Result<Response> PostAck(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  simdjson::dom::parser parser;
  simdjson::dom::object body;
  IOTAD_TRY(ParseBody(parser, ctx.request(), {"id", "by"}, body));
  IOTAD_ASSIGN_OR_RETURN(std::string id, TextField(body, "id", std::nullopt));
  IOTAD_ASSIGN_OR_RETURN(std::string by, TextField(body, "by", std::string("dashboard")));
  if (ctx.state().alerts.alerts.count(id) == 0) {
    return Error(Errc::kNotFound, "no alert with the id given in the body's field 'id'");
  }
  alert::Changes c;
  c.acks.push_back({id, ctx.clock().NowUs(), by, ""});
  IOTAD_ASSIGN_OR_RETURN(int64_t seq, ctx.CommitAlertChanges(c));
  JsonWriter json;
  json.BeginObject().Key("acknowledged").String(id).Key("alert_seq").Int(seq).EndObject();
  return JsonOk(json.Take());
}

Result<Response> PostSilence(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  static const std::set<std::string, std::less<>> kLabels = {"device", "metric", "location", "detector",
                                                             "rule",   "severity", "group"};
  simdjson::dom::parser parser;
  simdjson::dom::object body;
  IOTAD_TRY(ParseBody(parser, ctx.request(), {"matchers", "duration_seconds", "reason", "by"}, body));
  alert::Silence s;
  simdjson::dom::array matchers;
  if (body["matchers"].get_array().get(matchers) != simdjson::SUCCESS) {
    return BadBody("field 'matchers' must be an array of {\"label\", \"op\", \"value\"}");
  }
  for (simdjson::dom::element m : matchers) {
    simdjson::dom::object mo;
    if (m.get_object().get(mo) != simdjson::SUCCESS) {
      return BadBody("each matcher must be an object {\"label\", \"op\", \"value\"}");
    }
    for (auto field : mo) {
      if (field.key != "label" && field.key != "op" && field.key != "value") {
        return BadBody("a matcher has only the fields label, op and value");
      }
    }
    alert::Matcher matcher;
    IOTAD_ASSIGN_OR_RETURN(matcher.label, TextField(mo, "label", std::nullopt));
    IOTAD_ASSIGN_OR_RETURN(matcher.op, TextField(mo, "op", std::string("=")));
    IOTAD_ASSIGN_OR_RETURN(matcher.value, TextField(mo, "value", std::nullopt));
    if (kLabels.count(matcher.label) == 0) {
      return BadBody("a matcher's label must be device, metric, location, detector, rule, severity or group");
    }
    if (matcher.op != "=" && matcher.op != "!=") return BadBody("a matcher's op must be \"=\" or \"!=\"");
    s.matchers.push_back(std::move(matcher));
  }
  if (s.matchers.empty() || s.matchers.size() > 20) return BadBody("field 'matchers' must hold 1 to 20 matchers");
  int64_t seconds = 0;
  if (body["duration_seconds"].get_int64().get(seconds) != simdjson::SUCCESS || seconds <= 0 ||
      seconds > kMaxSilenceSeconds) {
    return BadBody(fmt::format("field 'duration_seconds' must be an integer from 1 to {}", kMaxSilenceSeconds));
  }
  IOTAD_ASSIGN_OR_RETURN(s.reason, TextField(body, "reason", std::string(), /*may_be_empty=*/true));
  IOTAD_ASSIGN_OR_RETURN(s.created_by, TextField(body, "by", std::string("dashboard")));
  const TimestampUs now = ctx.clock().NowUs();
  std::string key;
  for (const auto& m : s.matchers) key += m.label + m.op + m.value + ",";
  key += std::to_string(now);  // as `iotad alert silence add`
  s.id = alert::ShortId(key);
  s.starts_at_us = now;
  s.ends_at_us = now + seconds * 1000000;
  s.created_at_us = now;
  alert::Changes c;
  c.silences.push_back(s);
  IOTAD_ASSIGN_OR_RETURN(int64_t seq, ctx.CommitAlertChanges(c));
  JsonWriter json;
  json.BeginObject().Key("silence");
  WriteSilence(json, s, now);
  json.Key("alert_seq").Int(seq).EndObject();
  return JsonOk(json.Take());
}

Result<Response> PostExpire(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  simdjson::dom::parser parser;
  simdjson::dom::object body;
  IOTAD_TRY(ParseBody(parser, ctx.request(), {"id"}, body));
  IOTAD_ASSIGN_OR_RETURN(std::string id, TextField(body, "id", std::nullopt));
  const auto& silences = ctx.state().alerts.silences;
  auto it = silences.find(id);
  if (it == silences.end()) return Error(Errc::kNotFound, "no silence with the id given in the body's field 'id'");
  int64_t seq = ctx.state().alert_seq;
  const TimestampUs now = ctx.clock().NowUs();
  if (it->second.ActiveAt(now)) {  // an ended or expired silence stays as it is
    alert::Silence s = it->second;
    s.expired_at_us = now;
    alert::Changes c;
    c.silences.push_back(s);
    IOTAD_ASSIGN_OR_RETURN(seq, ctx.CommitAlertChanges(c));
  }
  JsonWriter json;
  json.BeginObject().Key("expired").String(id).Key("alert_seq").Int(seq).EndObject();
  return JsonOk(json.Take());
}

}  // namespace

void WriteAlertJson(JsonWriter& json, const LakeState& state, const alert::Alert& alert, TimestampUs now_us) {
  const std::set<std::string> only = {alert.id};
  const DeliveryIndex index = IndexDeliveries(state.alerts, &only);
  WriteAlert(json, alert, FlagsOf(state.alerts, alert, index, now_us), index);
}

void RegisterAlertRoutes(Router& router) {
  // Not cacheable: `silenced` and `active` depend on the wall clock, not only on the snapshot.
  router.Add({"GET", "/api/alerts", GetAlerts, false, false, "alerts, silences and their counts"});
  router.Add({"GET", "/api/device/alerts", GetDeviceAlerts, false, false, "one device's alerts"});
  router.Add({"POST", "/api/alerts/ack", PostAck, false, true, "acknowledge an alert"});
  router.Add({"POST", "/api/silences", PostSilence, false, true, "add a silence"});
  router.Add({"POST", "/api/silences/expire", PostExpire, false, true, "end a silence now"});
}

}  // namespace iotad::serve
