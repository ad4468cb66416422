// webhook, slack, alertmanager, pagerduty: the requests (pure) and the sinks that send them.
#include "iotad/alert/sinks_http.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/template.h"
#include "iotad/core/hash.h"
#include "iotad/core/json.h"

namespace iotad::alert {
namespace {

constexpr std::string_view kJson = "Content-Type: application/json";
constexpr std::string_view kUserAgent = "User-Agent: iotad";

void OptionalNumberField(JsonWriter& w, std::string_view key, const std::optional<double>& v) {
  if (v && std::isfinite(*v)) w.Key(key).Double(*v);
}

void NonEmpty(JsonWriter& w, std::string_view key, const std::string& v) {
  if (!v.empty()) w.Key(key).String(v);
}

/// Slack's mrkdwn escapes (the only three characters it asks for).
std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Base64(std::string_view in) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
    out += kChars[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

/// True when the alert's group key fixes `label` ("device=dev-1,metric=temp_c" fixes device and metric).
bool GroupFixes(const std::string& group_key, std::string_view label) {
  const std::string part = std::string(label) + "=";
  return group_key.rfind(part, 0) == 0 || group_key.find("," + part) != std::string::npos;
}

std::string Number(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  if (max_bytes < 3) return std::string(max_bytes, '.');
  size_t cut = max_bytes - 3;
  // Back off to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string RenderSubject(const config::SinkCommon& o, const Notification& n) {
  return RenderTemplate(o.subject.empty() ? DefaultSubject() : std::string_view(o.subject), n);
}

std::string RenderBody(const config::SinkCommon& o, const Notification& n) {
  return RenderTemplate(o.body.empty() ? DefaultBody() : std::string_view(o.body), n);
}

// ---- webhook ----

HttpRequest WebhookRequest(const config::WebhookSinkOptions& o, const std::string& bearer_token,
                           const Notification& n) {
  HttpRequest r;
  r.method = "POST";
  r.url = o.url;
  // A configured User-Agent or Idempotency-Key replaces ours (never sent twice).
  auto configured = [&o](std::string_view name) {
    return std::any_of(o.headers.begin(), o.headers.end(), [name](const std::string& h) {
      return h.size() > name.size() && h[name.size()] == ':' &&
             std::equal(name.begin(), name.end(), h.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    });
  };
  r.headers = {std::string(kJson)};
  if (!configured("User-Agent")) r.headers.emplace_back(kUserAgent);
  if (!configured("Idempotency-Key")) r.headers.push_back("Idempotency-Key: " + n.id);
  if (!bearer_token.empty()) r.headers.push_back("Authorization: Bearer " + bearer_token);
  for (const std::string& h : o.headers) r.headers.push_back(h);
  // The generic JSON with the rendered subject and body added at its end.
  std::string body = NotificationJson(n);
  body.pop_back();  // the closing brace
  JsonWriter extra;
  extra.Key("subject").String(RenderSubject(o, n));
  extra.Key("body").String(RenderBody(o, n));
  r.body = body + "," + extra.str() + "}";
  return r;
}

// ---- slack ----

HttpRequest SlackRequest(const config::SlackSinkOptions& o, const std::string& webhook_url, const Notification& n) {
  HttpRequest r;
  r.method = "POST";
  r.url = webhook_url;
  r.headers = {std::string(kJson), std::string(kUserAgent)};
  const std::string subject = RenderSubject(o, n);
  const std::string body = RenderBody(o, n);
  std::string context = fmt::format("dedup key `{}` · alert {} · {}", SlackEscape(n.dedup_key), n.alert_id,
                                    NotificationKindName(n.kind));
  if (!n.url.empty()) context += fmt::format(" · <{}|dashboard>", n.url);
  JsonWriter w;
  w.BeginObject();
  w.Key("text").String(TruncateUtf8(SlackEscape(subject), 3000));
  w.Key("blocks").BeginArray();
  w.BeginObject().Key("type").String("header");
  w.Key("text").BeginObject().Key("type").String("plain_text").Key("text").String(TruncateUtf8(subject, 150));
  w.EndObject().EndObject();
  w.BeginObject().Key("type").String("section");
  w.Key("text").BeginObject().Key("type").String("mrkdwn").Key("text").String(TruncateUtf8(SlackEscape(body), 3000));
  w.EndObject().EndObject();
  w.BeginObject().Key("type").String("context");
  w.Key("elements").BeginArray();
  w.BeginObject().Key("type").String("mrkdwn").Key("text").String(TruncateUtf8(context, 3000)).EndObject();
  w.EndArray().EndObject();
  w.EndArray();
  NonEmpty(w, "channel", o.channel);
  NonEmpty(w, "username", o.username);
  w.EndObject();
  r.body = w.Take();
  return r;
}

// ---- alertmanager ----

HttpRequest AlertmanagerRequest(const config::AlertmanagerSinkOptions& o, const std::string& password,
                                const Notification& n, TimestampUs now_us) {
  HttpRequest r;
  r.method = "POST";
  std::string base = o.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  r.url = base + "/api/v2/alerts";
  r.headers = {std::string(kJson), std::string(kUserAgent)};
  if (!o.basic_auth_user.empty()) {
    r.headers.push_back("Authorization: Basic " + Base64(o.basic_auth_user + ":" + password));
  }
  const bool resolved = n.kind == NotificationKind::kResolved || n.status == "resolved";
  TimestampUs ends;
  if (resolved) {
    // Alertmanager takes an endsAt in the past as resolved; event time may run ahead of the wall clock.
    ends = n.ends_at_us != 0 ? std::min(n.ends_at_us, now_us) : now_us;
  } else {
    int64_t ttl = o.firing_ttl_us;
    if (n.kind == NotificationKind::kTest) ttl = std::min<int64_t>(ttl, 300'000'000);
    ends = now_us + ttl;
  }
  if (n.starts_at_us != 0 && ends < n.starts_at_us) ends = resolved ? n.starts_at_us : n.starts_at_us + o.firing_ttl_us;

  JsonWriter w;
  w.BeginArray().BeginObject();
  w.Key("labels").BeginObject();
  NonEmpty(w, "alertname", n.rule);
  NonEmpty(w, "severity", n.severity);
  if (GroupFixes(n.group_key, "device")) NonEmpty(w, "device", n.device);
  if (GroupFixes(n.group_key, "metric")) NonEmpty(w, "metric", n.metric);
  if (GroupFixes(n.group_key, "location")) NonEmpty(w, "location", n.location);
  NonEmpty(w, "dedup_key", n.dedup_key);
  for (const std::string& l : o.labels) {
    const size_t eq = l.find('=');
    if (eq != std::string::npos && eq + 1 < l.size()) w.Key(l.substr(0, eq)).String(l.substr(eq + 1));
  }
  w.EndObject();
  w.Key("annotations").BeginObject();
  NonEmpty(w, "summary", RenderSubject(o, n));
  NonEmpty(w, "description", RenderBody(o, n));
  NonEmpty(w, "explanation", n.latest.explanation);
  NonEmpty(w, "kind", NotificationKindName(n.kind));
  NonEmpty(w, "alert_id", n.alert_id);
  NonEmpty(w, "group_key", n.group_key);
  NonEmpty(w, "device", n.device);
  NonEmpty(w, "metric", n.metric);
  NonEmpty(w, "location", n.location);
  NonEmpty(w, "detector", n.detector);
  if (n.event_time_us != 0) w.Key("event_time").String(FormatTimestamp(n.event_time_us));
  if (n.latest.value && std::isfinite(*n.latest.value)) w.Key("value").String(Number(*n.latest.value));
  if (n.latest.expected && std::isfinite(*n.latest.expected)) w.Key("expected").String(Number(*n.latest.expected));
  if (n.latest.z && std::isfinite(*n.latest.z)) w.Key("z").String(Number(*n.latest.z));
  if (std::isfinite(n.latest.score)) w.Key("score").String(Number(n.latest.score));
  w.Key("anomalies").String(std::to_string(n.anomalies));
  if (std::isfinite(n.max_score)) w.Key("max_score").String(Number(n.max_score));
  w.EndObject();
  if (n.starts_at_us != 0) w.Key("startsAt").String(FormatTimestamp(n.starts_at_us));
  w.Key("endsAt").String(FormatTimestamp(ends));
  NonEmpty(w, "generatorURL", n.url);
  w.EndObject().EndArray();
  r.body = w.Take();
  return r;
}

// ---- pagerduty ----

std::string_view PagerDutySeverity(std::string_view severity) {
  if (severity == "critical") return "critical";
  if (severity == "error") return "error";
  if (severity == "info") return "info";
  return "warning";
}

std::string_view PagerDutyAction(const Notification& n) {
  if (n.kind == NotificationKind::kResolved || n.status == "resolved") return "resolve";
  if (n.kind == NotificationKind::kAcknowledged) return "acknowledge";
  return "trigger";
}

std::string PagerDutyDedupKey(const std::string& dedup_key) {
  if (dedup_key.size() <= 255) return dedup_key;
  size_t cut = 200;
  while (cut > 0 && (static_cast<unsigned char>(dedup_key[cut]) & 0xC0) == 0x80) --cut;
  return dedup_key.substr(0, cut) + "#" + HashBytes(dedup_key).Hex();
}

HttpRequest PagerDutyRequest(const config::PagerDutySinkOptions& o, const std::string& routing_key,
                             const Notification& n, const std::string& client_url) {
  HttpRequest r;
  r.method = "POST";
  r.url = o.url;
  r.headers = {std::string(kJson), std::string(kUserAgent)};
  const std::string_view action = PagerDutyAction(n);
  JsonWriter w;
  w.BeginObject();
  w.Key("routing_key").String(routing_key);
  w.Key("event_action").String(action);
  w.Key("dedup_key").String(PagerDutyDedupKey(n.dedup_key));
  if (action == "trigger") {
    w.Key("payload").BeginObject();
    std::string summary = RenderSubject(o, n);
    if (summary.empty()) summary = n.dedup_key;  // required and non-empty
    w.Key("summary").String(TruncateUtf8(summary, 1024));
    const std::string source = !o.source.empty() ? o.source : !n.device.empty() ? n.device : "iotad";
    w.Key("source").String(source);
    w.Key("severity").String(PagerDutySeverity(n.severity));
    if (n.event_time_us != 0) w.Key("timestamp").String(FormatTimestamp(n.event_time_us));
    NonEmpty(w, "component", !o.component.empty() ? o.component : n.metric);
    NonEmpty(w, "group", n.location);
    NonEmpty(w, "class", n.rule);
    w.Key("custom_details").BeginObject();
    NonEmpty(w, "body", RenderBody(o, n));
    NonEmpty(w, "explanation", n.latest.explanation);
    NonEmpty(w, "kind", NotificationKindName(n.kind));
    NonEmpty(w, "alert_id", n.alert_id);
    NonEmpty(w, "dedup_key", n.dedup_key);
    NonEmpty(w, "group_key", n.group_key);
    NonEmpty(w, "device", n.device);
    NonEmpty(w, "metric", n.metric);
    NonEmpty(w, "location", n.location);
    NonEmpty(w, "detector", n.detector);
    if (n.starts_at_us != 0) w.Key("starts_at").String(FormatTimestamp(n.starts_at_us));
    if (n.event_time_us != 0) w.Key("event_time").String(FormatTimestamp(n.event_time_us));
    w.Key("anomalies").Int(n.anomalies);
    if (std::isfinite(n.max_score)) w.Key("max_score").Double(n.max_score);
    OptionalNumberField(w, "value", n.latest.value);
    OptionalNumberField(w, "expected", n.latest.expected);
    OptionalNumberField(w, "expected_lo", n.latest.expected_lo);
    OptionalNumberField(w, "expected_hi", n.latest.expected_hi);
    OptionalNumberField(w, "z", n.latest.z);
    if (std::isfinite(n.latest.score)) w.Key("score").Double(n.latest.score);
    NonEmpty(w, "anomaly_rule", n.latest.rule);
    w.EndObject();
    w.EndObject();
    if (!n.url.empty()) {
      w.Key("links").BeginArray();
      w.BeginObject().Key("href").String(n.url).Key("text").String("iotad: " + (n.device.empty() ? n.rule : n.device));
      w.EndObject().EndArray();
    }
    w.Key("client").String("iotad");
    NonEmpty(w, "client_url", client_url);
  }
  w.EndObject();
  r.body = w.Take();
  return r;
}

Notification TestNotification(TimestampUs now_us, const std::string& base_url, const std::string& sink) {
  Notification n;
  const std::string stamp = FormatTimestamp(now_us);
  n.id = "test-" + stamp + "-" + sink;
  n.kind = NotificationKind::kTest;
  n.alert_id = "test";
  n.dedup_key = "iotad-test-" + stamp;
  n.rule = "iotad-test";
  n.severity = "info";
  n.group_key = "device=test-device";
  n.status = "firing";
  n.device = "test-device";
  n.metric = "temperature";
  n.location = "test-location";
  n.detector = "default";
  n.starts_at_us = now_us;
  n.event_time_us = now_us;
  n.anomalies = 1;
  n.max_score = 0.99;
  Anomaly& a = n.latest;
  a.event_time = now_us;
  a.device_id = n.device;
  a.location = n.location;
  a.metric = n.metric;
  a.detector = n.detector;
  a.score = 0.99;
  a.value = 42.0;
  a.expected = 21.0;
  a.expected_lo = 18.0;
  a.expected_hi = 24.0;
  a.z = 7.0;
  a.explanation = "a test notification from iotad (`iotad alert test " + sink + "`): no anomaly happened";
  a.rule = "|z| > threshold";
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  n.url = base + "/devices/test-device";
  n.created_at_us = now_us;
  return n;
}

// ---- the sinks ----

namespace {

/// One HTTP sink: builds the request of a notification, sends it, maps the response. Secrets
/// it holds are scrubbed from whatever comes back (a transport error may quote the URL).
class HttpSink final : public Sink {
 public:
  using Build = std::function<HttpRequest(const Notification&)>;
  HttpSink(const config::SinkCommon& common, std::string type, const config::AlertConfig& alert, Build build,
           std::vector<std::string> secrets)
      : Sink(common, std::move(type), alert), build_(std::move(build)), secrets_(std::move(secrets)) {}

  AttemptResult Send(const Notification& n) override {
    HttpRequest request = build_(n);
    request.timeout_us = timeout_us();
    AttemptResult result = ToAttempt(HttpSend(request));
    for (const std::string& s : secrets_) {
      if (s.empty()) continue;
      for (std::string* text : {&result.error, &result.response}) {
        for (size_t at = text->find(s); at != std::string::npos; at = text->find(s, at)) {
          text->replace(at, s.size(), "[secret]");
        }
      }
    }
    return result;
  }

 private:
  Build build_;
  std::vector<std::string> secrets_;
};

const Clock& ClockOf(const SinkEnv& env) { return env.clock != nullptr ? *env.clock : SystemClock::Instance(); }

}  // namespace

Result<std::unique_ptr<Sink>> MakeWebhookSink(const config::WebhookSinkOptions& o, const SinkEnv& env) {
  IOTAD_ASSIGN_OR_RETURN(std::string token, ResolveSecret(o.bearer_token, "bearer_token", env.lake_root, false));
  auto build = [o, token](const Notification& n) { return WebhookRequest(o, token, n); };
  return std::unique_ptr<Sink>(new HttpSink(o, "webhook", env.alert, build, {token}));
}

Result<std::unique_ptr<Sink>> MakeSlackSink(const config::SlackSinkOptions& o, const SinkEnv& env) {
  IOTAD_ASSIGN_OR_RETURN(std::string url, ResolveSecret(o.url, "url", env.lake_root, true));
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    // The value is a secret: never quoted.
    return Error(Errc::kInvalidArgument, "the webhook URL that {} names is not an http:// or https:// URL",
                 o.url.env.empty() ? "url_file" : "url_env");
  }
  auto build = [o, url](const Notification& n) { return SlackRequest(o, url, n); };
  return std::unique_ptr<Sink>(new HttpSink(o, "slack", env.alert, build, {url}));
}

Result<std::unique_ptr<Sink>> MakeAlertmanagerSink(const config::AlertmanagerSinkOptions& o, const SinkEnv& env) {
  IOTAD_ASSIGN_OR_RETURN(std::string password,
                         ResolveSecret(o.basic_auth_password, "basic_auth_password", env.lake_root,
                                       !o.basic_auth_user.empty()));
  const Clock* clock = &ClockOf(env);
  auto build = [o, password, clock](const Notification& n) { return AlertmanagerRequest(o, password, n, clock->NowUs()); };
  std::vector<std::string> secrets = {password};
  if (!o.basic_auth_user.empty()) secrets.push_back(Base64(o.basic_auth_user + ":" + password));
  return std::unique_ptr<Sink>(new HttpSink(o, "alertmanager", env.alert, build, std::move(secrets)));
}

Result<std::unique_ptr<Sink>> MakePagerDutySink(const config::PagerDutySinkOptions& o, const SinkEnv& env) {
  IOTAD_ASSIGN_OR_RETURN(std::string key, ResolveSecret(o.routing_key, "routing_key", env.lake_root, true));
  const std::string client_url = env.alert.base_url;
  auto build = [o, key, client_url](const Notification& n) { return PagerDutyRequest(o, key, n, client_url); };
  return std::unique_ptr<Sink>(new HttpSink(o, "pagerduty", env.alert, build, {key}));
}

}  // namespace iotad::alert
