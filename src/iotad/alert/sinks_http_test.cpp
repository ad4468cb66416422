// The HTTP sinks' requests, field by field against the receivers' documented formats, and the
// sinks' secrets handling at make time. (sinks_http_receiver_test.cpp sends them to a real server.)
#include "iotad/alert/sinks_http.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/sinks_http_test_util.h"
#include "iotad/alert/template.h"

namespace iotad::alert {
namespace {

using test_util::SampleNotification;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool HasHeader(const HttpRequest& r, const std::string& line) {
  for (const std::string& h : r.headers) {
    if (h == line) return true;
  }
  return false;
}

bool HasHeaderNamed(const HttpRequest& r, const std::string& name) {
  for (const std::string& h : r.headers) {
    if (h.rfind(name + ":", 0) == 0) return true;
  }
  return false;
}

std::set<std::string> Keys(simdjson::dom::object o) {
  std::set<std::string> out;
  for (auto field : o) out.insert(std::string(field.key));
  return out;
}

const TimestampUs kNow = *ParseTimestamp("2024-03-01T10:31:00Z");

// ---- webhook ----

TEST(WebhookRequest, GenericJsonWithSubjectBodyAndHeaders) {
  config::WebhookSinkOptions o;
  o.name = "hook";
  o.url = "https://hooks.example.com/iotad";
  o.headers = {"X-Team: plant-ops"};
  o.subject = "{severity} on {device}";
  const Notification n = SampleNotification();
  const HttpRequest r = WebhookRequest(o, "tok-123", n);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://hooks.example.com/iotad");
  EXPECT_TRUE(HasHeader(r, "Content-Type: application/json"));
  EXPECT_TRUE(HasHeader(r, "Idempotency-Key: a1b2c3d4e5f6-1-ops"));
  EXPECT_TRUE(HasHeader(r, "Authorization: Bearer tok-123"));
  EXPECT_TRUE(HasHeader(r, "X-Team: plant-ops"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  EXPECT_EQ(int64_t(doc["version"]), 1);
  EXPECT_EQ(std::string_view(doc["dedup_key"]), n.dedup_key);
  EXPECT_EQ(std::string_view(doc["labels"]["device"]), "dev-00042");
  EXPECT_EQ(std::string_view(doc["anomaly"]["explanation"]), n.latest.explanation);
  EXPECT_EQ(std::string_view(doc["subject"]), "critical on dev-00042");
  EXPECT_EQ(std::string_view(doc["body"]), RenderTemplate(DefaultBody(), n));
  // The generic JSON, whole, with the two added at its end.
  const std::string generic = NotificationJson(n);
  EXPECT_EQ(r.body.substr(0, generic.size() - 1), generic.substr(0, generic.size() - 1));
}

TEST(WebhookRequest, AConfiguredUserAgentOrIdempotencyKeyReplacesOurs) {
  config::WebhookSinkOptions o;
  o.url = "http://127.0.0.1:1/x";
  o.headers = {"user-agent: plant-bridge/2", "X-Other: 1"};
  const HttpRequest r = WebhookRequest(o, "", SampleNotification());
  EXPECT_FALSE(HasHeader(r, "User-Agent: iotad"));
  EXPECT_TRUE(HasHeader(r, "user-agent: plant-bridge/2"));
  EXPECT_TRUE(HasHeader(r, "Idempotency-Key: a1b2c3d4e5f6-1-ops"));
  o.headers = {"Idempotency-Key: fixed"};
  const HttpRequest r2 = WebhookRequest(o, "", SampleNotification());
  EXPECT_FALSE(HasHeader(r2, "Idempotency-Key: a1b2c3d4e5f6-1-ops"));
  EXPECT_TRUE(HasHeader(r2, "User-Agent: iotad"));
}

TEST(WebhookRequest, NoAuthorizationWithoutAToken) {
  config::WebhookSinkOptions o;
  o.url = "http://127.0.0.1:1/x";
  const HttpRequest r = WebhookRequest(o, "", SampleNotification());
  EXPECT_FALSE(HasHeaderNamed(r, "Authorization"));
  EXPECT_TRUE(HasHeaderNamed(r, "Idempotency-Key"));
}

// ---- slack ----

TEST(SlackRequest, TextBlocksAndOverrides) {
  config::SlackSinkOptions o;
  o.channel = "#ops";
  o.username = "iotad";
  const Notification n = SampleNotification();
  const HttpRequest r = SlackRequest(o, "https://hooks.slack.example/services/T/B/X", n);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://hooks.slack.example/services/T/B/X");
  EXPECT_TRUE(HasHeader(r, "Content-Type: application/json"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  EXPECT_EQ(Keys(doc), (std::set<std::string>{"text", "blocks", "channel", "username"}));
  EXPECT_EQ(std::string_view(doc["text"]), "[critical] firing: dev-00042 temp_c (device-anomalies)");
  EXPECT_EQ(std::string_view(doc["channel"]), "#ops");
  EXPECT_EQ(std::string_view(doc["username"]), "iotad");
  simdjson::dom::array blocks = doc["blocks"];
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(std::string_view(blocks.at(0)["type"]), "header");
  EXPECT_EQ(std::string_view(blocks.at(0)["text"]["type"]), "plain_text");
  EXPECT_EQ(std::string_view(blocks.at(0)["text"]["text"]), "[critical] firing: dev-00042 temp_c (device-anomalies)");
  EXPECT_EQ(std::string_view(blocks.at(1)["type"]), "section");
  EXPECT_EQ(std::string_view(blocks.at(1)["text"]["type"]), "mrkdwn");
  const std::string section{std::string_view(blocks.at(1)["text"]["text"])};
  EXPECT_TRUE(Has(section, "temp_c 81.25 is 6.5 sigma above the expected 21.5")) << section;
  EXPECT_TRUE(Has(section, n.dedup_key)) << section;  // the default body names the dedup key
  EXPECT_EQ(std::string_view(blocks.at(2)["type"]), "context");
  simdjson::dom::array elements = blocks.at(2)["elements"];
  ASSERT_EQ(elements.size(), 1u);
  EXPECT_EQ(std::string_view(elements.at(0)["type"]), "mrkdwn");
  const std::string context{std::string_view(elements.at(0)["text"])};
  EXPECT_TRUE(Has(context, "`" + n.dedup_key + "`")) << context;
  EXPECT_TRUE(Has(context, "<http://127.0.0.1:8080/devices/dev-00042|dashboard>")) << context;
}

TEST(SlackRequest, EscapesMarkupAndLeavesUnsetOverridesOut) {
  config::SlackSinkOptions o;
  o.body = "{explanation}";
  Notification n = SampleNotification();
  n.latest.explanation = "a < b && c > d";
  n.device = "<!channel>";
  const HttpRequest r = SlackRequest(o, "https://x/y", n);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  EXPECT_EQ(Keys(doc), (std::set<std::string>{"text", "blocks"}));
  EXPECT_EQ(std::string_view(doc["blocks"].at(1)["text"]["text"]), "a &lt; b &amp;&amp; c &gt; d");
  EXPECT_TRUE(Has(std::string(std::string_view(doc["text"])), "&lt;!channel&gt;"));
}

TEST(SlackRequest, LongBodiesAreCutToSlacksLimits) {
  config::SlackSinkOptions o;
  o.subject = "{explanation}";
  o.body = "{explanation}";
  Notification n = SampleNotification();
  n.latest.explanation = std::string(5000, 'x');
  const HttpRequest r = SlackRequest(o, "https://x/y", n);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  EXPECT_LE(std::string_view(doc["blocks"].at(0)["text"]["text"]).size(), 150u);
  EXPECT_LE(std::string_view(doc["blocks"].at(1)["text"]["text"]).size(), 3000u);
  EXPECT_LE(std::string_view(doc["text"]).size(), 3000u);
}

// ---- alertmanager ----

TEST(AlertmanagerRequest, OneAlertWithLabelsAnnotationsAndTimes) {
  config::AlertmanagerSinkOptions o;
  o.url = "http://127.0.0.1:9093/";
  o.basic_auth_user = "iotad";
  o.labels = {"team=plant"};
  const Notification n = SampleNotification();
  const HttpRequest r = AlertmanagerRequest(o, "pa55:word", n, kNow);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:9093/api/v2/alerts");
  EXPECT_TRUE(HasHeader(r, "Content-Type: application/json"));
  EXPECT_TRUE(HasHeader(r, "Authorization: Basic aW90YWQ6cGE1NTp3b3Jk"));  // base64("iotad:pa55:word")
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(simdjson::dom::array(doc).size(), 1u);
  simdjson::dom::element a = doc.at(0);
  EXPECT_EQ(Keys(a), (std::set<std::string>{"labels", "annotations", "startsAt", "endsAt", "generatorURL"}));
  // The group is per device: device is a label; metric and location (of the latest anomaly) are not.
  EXPECT_EQ(Keys(a["labels"]), (std::set<std::string>{"alertname", "severity", "device", "dedup_key", "team"}));
  EXPECT_EQ(std::string_view(a["labels"]["alertname"]), "device-anomalies");
  EXPECT_EQ(std::string_view(a["labels"]["severity"]), "critical");
  EXPECT_EQ(std::string_view(a["labels"]["device"]), "dev-00042");
  EXPECT_EQ(std::string_view(a["labels"]["dedup_key"]), n.dedup_key);
  EXPECT_EQ(std::string_view(a["labels"]["team"]), "plant");
  EXPECT_EQ(std::string_view(a["annotations"]["summary"]), "[critical] firing: dev-00042 temp_c (device-anomalies)");
  EXPECT_EQ(std::string_view(a["annotations"]["description"]), RenderTemplate(DefaultBody(), n));
  EXPECT_EQ(std::string_view(a["annotations"]["explanation"]), n.latest.explanation);
  EXPECT_EQ(std::string_view(a["annotations"]["value"]), "81.25");
  EXPECT_EQ(std::string_view(a["annotations"]["metric"]), "temp_c");
  EXPECT_EQ(std::string_view(a["annotations"]["location"]), "hall-2");
  EXPECT_EQ(std::string_view(a["annotations"]["anomalies"]), "3");
  // Every annotation and label is a string (Alertmanager's LabelSet).
  for (const char* part : {"labels", "annotations"}) {
    for (auto field : simdjson::dom::object(a[part])) EXPECT_TRUE(field.value.is_string()) << field.key;
  }
  EXPECT_EQ(std::string_view(a["startsAt"]), "2024-03-01T10:00:00Z");
  EXPECT_EQ(std::string_view(a["endsAt"]), FormatTimestamp(kNow + o.firing_ttl_us));  // firing: now + ttl
  EXPECT_EQ(std::string_view(a["generatorURL"]), "http://127.0.0.1:8080/devices/dev-00042");
}

TEST(AlertmanagerRequest, LabelsAreTheGroupsSoTheyNeverChangeWithinAnAlert) {
  config::AlertmanagerSinkOptions o;
  o.url = "http://am:9093";
  Notification n = SampleNotification();
  n.group_key = "device=dev-00042,metric=temp_c";
  simdjson::dom::parser parser;
  {
    simdjson::dom::element a = parser.parse(AlertmanagerRequest(o, "", n, kNow).body).at(0);
    EXPECT_EQ(Keys(a["labels"]), (std::set<std::string>{"alertname", "severity", "device", "metric", "dedup_key"}));
    EXPECT_EQ(std::string_view(a["labels"]["metric"]), "temp_c");
  }
  n.group_key = "location=hall-2";
  {
    simdjson::dom::element a = parser.parse(AlertmanagerRequest(o, "", n, kNow).body).at(0);
    EXPECT_EQ(Keys(a["labels"]), (std::set<std::string>{"alertname", "severity", "location", "dedup_key"}));
  }
  // No basic auth without a user.
  EXPECT_FALSE(HasHeaderNamed(AlertmanagerRequest(o, "", n, kNow), "Authorization"));
}

TEST(AlertmanagerRequest, ResolvedEndsAtTheResolvedTimeNeverInTheFuture) {
  config::AlertmanagerSinkOptions o;
  o.url = "http://am:9093";
  Notification n = SampleNotification();
  n.kind = NotificationKind::kResolved;
  n.status = "resolved";
  n.ends_at_us = *ParseTimestamp("2024-03-01T10:25:00Z");
  simdjson::dom::parser parser;
  simdjson::dom::element a = parser.parse(AlertmanagerRequest(o, "", n, kNow).body).at(0);
  EXPECT_EQ(std::string_view(a["endsAt"]), "2024-03-01T10:25:00Z");
  // Event time ahead of the wall clock: endsAt is now, so Alertmanager takes it as resolved.
  n.ends_at_us = kNow + 3'600'000'000;
  a = parser.parse(AlertmanagerRequest(o, "", n, kNow).body).at(0);
  EXPECT_EQ(std::string_view(a["endsAt"]), FormatTimestamp(kNow));
  // A test notification lives five minutes at most.
  n = SampleNotification();
  n.kind = NotificationKind::kTest;
  a = parser.parse(AlertmanagerRequest(o, "", n, kNow).body).at(0);
  EXPECT_EQ(std::string_view(a["endsAt"]), FormatTimestamp(kNow + 300'000'000));
}

// ---- pagerduty ----

TEST(PagerDutyRequest, TriggerFieldByField) {
  config::PagerDutySinkOptions o;
  const Notification n = SampleNotification();
  const HttpRequest r = PagerDutyRequest(o, "R0UTINGKEY", n, "http://127.0.0.1:8080");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_TRUE(HasHeader(r, "Content-Type: application/json"));
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  EXPECT_EQ(Keys(doc), (std::set<std::string>{"routing_key", "event_action", "dedup_key", "payload", "links", "client",
                                               "client_url"}));
  EXPECT_EQ(std::string_view(doc["routing_key"]), "R0UTINGKEY");
  EXPECT_EQ(std::string_view(doc["event_action"]), "trigger");
  EXPECT_EQ(std::string_view(doc["dedup_key"]), n.dedup_key);
  simdjson::dom::element p = doc["payload"];
  EXPECT_EQ(Keys(p), (std::set<std::string>{"summary", "source", "severity", "timestamp", "component", "group", "class",
                                            "custom_details"}));
  EXPECT_EQ(std::string_view(p["summary"]), "[critical] firing: dev-00042 temp_c (device-anomalies)");
  EXPECT_EQ(std::string_view(p["source"]), "dev-00042");
  EXPECT_EQ(std::string_view(p["severity"]), "critical");
  EXPECT_EQ(std::string_view(p["timestamp"]), "2024-03-01T10:20:00Z");
  EXPECT_EQ(std::string_view(p["component"]), "temp_c");
  EXPECT_EQ(std::string_view(p["group"]), "hall-2");
  EXPECT_EQ(std::string_view(p["class"]), "device-anomalies");
  simdjson::dom::element d = p["custom_details"];
  EXPECT_EQ(std::string_view(d["explanation"]), n.latest.explanation);
  EXPECT_DOUBLE_EQ(double(d["value"]), 81.25);
  EXPECT_DOUBLE_EQ(double(d["z"]), 6.5);
  EXPECT_EQ(int64_t(d["anomalies"]), 3);
  EXPECT_EQ(std::string_view(d["body"]), RenderTemplate(DefaultBody(), n));
  simdjson::dom::array links = doc["links"];
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(std::string_view(links.at(0)["href"]), "http://127.0.0.1:8080/devices/dev-00042");
  EXPECT_EQ(std::string_view(links.at(0)["text"]), "iotad: dev-00042");
  EXPECT_EQ(std::string_view(doc["client"]), "iotad");
  EXPECT_EQ(std::string_view(doc["client_url"]), "http://127.0.0.1:8080");
}

TEST(PagerDutyRequest, SourceAndComponentOverridesAndSeverityMapping) {
  config::PagerDutySinkOptions o;
  o.source = "plant-7";
  o.component = "sensors";
  Notification n = SampleNotification();
  n.severity = "warning";
  simdjson::dom::parser parser;
  simdjson::dom::element p = parser.parse(PagerDutyRequest(o, "k", n, "").body)["payload"];
  EXPECT_EQ(std::string_view(p["source"]), "plant-7");
  EXPECT_EQ(std::string_view(p["component"]), "sensors");
  EXPECT_EQ(std::string_view(p["severity"]), "warning");
  EXPECT_EQ(PagerDutySeverity("critical"), "critical");
  EXPECT_EQ(PagerDutySeverity("warning"), "warning");
  EXPECT_EQ(PagerDutySeverity("info"), "info");
  EXPECT_EQ(PagerDutySeverity("error"), "error");
  EXPECT_EQ(PagerDutySeverity("whatever"), "warning");
}

TEST(PagerDutyRequest, ResolveAndAcknowledgeCarryOnlyTheKeys) {
  config::PagerDutySinkOptions o;
  simdjson::dom::parser parser;
  for (auto [kind, action] : {std::pair{NotificationKind::kResolved, "resolve"},
                              std::pair{NotificationKind::kAcknowledged, "acknowledge"}}) {
    Notification n = SampleNotification();
    n.kind = kind;
    if (kind == NotificationKind::kResolved) n.status = "resolved";
    simdjson::dom::element doc = parser.parse(PagerDutyRequest(o, "KEY", n, "http://x").body);
    EXPECT_EQ(Keys(doc), (std::set<std::string>{"routing_key", "event_action", "dedup_key"})) << action;
    EXPECT_EQ(std::string_view(doc["event_action"]), action);
    EXPECT_EQ(std::string_view(doc["routing_key"]), "KEY");
    EXPECT_EQ(std::string_view(doc["dedup_key"]), n.dedup_key);
  }
  for (NotificationKind k : {NotificationKind::kFiring, NotificationKind::kUpdate, NotificationKind::kRepeat,
                             NotificationKind::kTest}) {
    Notification n = SampleNotification();
    n.kind = k;
    EXPECT_EQ(PagerDutyAction(n), "trigger");
  }
}

TEST(PagerDutyRequest, LimitsOfSummaryAndDedupKey) {
  config::PagerDutySinkOptions o;
  o.subject = "{explanation}";
  Notification n = SampleNotification();
  n.latest.explanation = std::string(1022, 'x') + "\xC3\xA9\xC3\xA9";  // 1026 bytes, ends in two 2-byte letters
  n.dedup_key = std::string(300, 'k');
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(PagerDutyRequest(o, "k", n, "").body);  // valid UTF-8, or this throws
  EXPECT_LE(std::string_view(doc["payload"]["summary"]).size(), 1024u);
  const std::string key{std::string_view(doc["dedup_key"])};
  EXPECT_LE(key.size(), 255u);
  EXPECT_EQ(key, PagerDutyDedupKey(n.dedup_key));  // stable
  EXPECT_NE(PagerDutyDedupKey(std::string(300, 'k')), PagerDutyDedupKey(std::string(299, 'k') + "j"));
  EXPECT_EQ(PagerDutyDedupKey("short"), "short");
}

TEST(TruncateUtf8, NeverSplitsASequence) {
  EXPECT_EQ(TruncateUtf8("abc", 3), "abc");
  EXPECT_EQ(TruncateUtf8("abcdef", 5), "ab...");
  EXPECT_EQ(TruncateUtf8("ab\xC3\xA9xyz", 6), "ab...");  // cutting after \xC3 would split é
  EXPECT_EQ(TruncateUtf8("ab\xC3\xA9xyzw", 7), "ab\xC3\xA9...");
}

TEST(TestNotification, PlausibleAndNamedAsATest) {
  const Notification n = TestNotification(*ParseTimestamp("2024-03-01T10:00:00Z"), "http://dash:8080/", "ops-slack");
  EXPECT_EQ(n.kind, NotificationKind::kTest);
  EXPECT_EQ(n.device, "test-device");
  EXPECT_EQ(n.dedup_key, "iotad-test-2024-03-01T10:00:00Z");
  EXPECT_EQ(n.id, "test-2024-03-01T10:00:00Z-ops-slack");
  EXPECT_EQ(n.status, "firing");
  EXPECT_EQ(n.url, "http://dash:8080/devices/test-device");
  EXPECT_EQ(n.group_key, "device=test-device");
  EXPECT_TRUE(n.latest.value.has_value());
  EXPECT_TRUE(Has(n.latest.explanation, "test")) << n.latest.explanation;
  // Every template field has a value but ends_at (a test notification is firing).
  for (const std::string& f : TemplateFields()) {
    if (f != "ends_at") {
      EXPECT_FALSE(FieldValue(f, n).empty()) << f;
    }
  }
}

// ---- the sinks: secrets at make time ----

SinkEnv Env() {
  SinkEnv env;
  env.lake_root = std::filesystem::temp_directory_path();
  return env;
}

TEST(HttpSinks, AMissingSecretIsOneSentenceNamingTheKeyNeverTheValue) {
  ::unsetenv("IOTAD_TEST_NO_SUCH_SLACK_URL");
  config::SlackSinkOptions slack;
  slack.name = "ops-slack";
  slack.url.env = "IOTAD_TEST_NO_SUCH_SLACK_URL";
  auto made = MakeSlackSink(slack, Env());
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(Has(made.status().message(), "url_env")) << made.status().message();
  EXPECT_TRUE(Has(made.status().message(), "IOTAD_TEST_NO_SUCH_SLACK_URL")) << made.status().message();

  config::PagerDutySinkOptions pd;
  pd.name = "pd";
  pd.routing_key.file = "no-such-dir/routing-key";
  made = MakePagerDutySink(pd, Env());
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(Has(made.status().message(), "routing_key_file")) << made.status().message();

  config::AlertmanagerSinkOptions am;
  am.name = "am";
  am.url = "http://127.0.0.1:9093";
  am.basic_auth_user = "iotad";
  am.basic_auth_password.env = "IOTAD_TEST_NO_SUCH_PASSWORD";
  made = MakeAlertmanagerSink(am, Env());
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(Has(made.status().message(), "basic_auth_password_env")) << made.status().message();

  // A Slack "URL" that is not one: refused without quoting it.
  ::setenv("IOTAD_TEST_BAD_SLACK_URL", "T000/B000/SECRETSECRET", 1);
  slack.url.env = "IOTAD_TEST_BAD_SLACK_URL";
  made = MakeSlackSink(slack, Env());
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(Has(made.status().message(), "url_env")) << made.status().message();
  EXPECT_FALSE(Has(made.status().message(), "SECRETSECRET")) << made.status().message();
  ::unsetenv("IOTAD_TEST_BAD_SLACK_URL");
}

TEST(HttpSinks, SecretsFromAFileAndTheLimitsFromTheConfig) {
  const auto dir = std::filesystem::temp_directory_path() / "iotad_sinks_http_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pd-key") << "  R0UTING-KEY-FROM-FILE \n";
  config::PagerDutySinkOptions pd;
  pd.name = "pd";
  pd.routing_key.file = "pd-key";  // relative: to the lake folder
  pd.timeout_us = 1'500'000;
  SinkEnv env;
  env.lake_root = dir;
  env.alert.max_attempts = 3;
  auto made = MakePagerDutySink(pd, env);
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_EQ((*made)->name(), "pd");
  EXPECT_EQ((*made)->type(), "pagerduty");
  EXPECT_EQ((*made)->timeout_us(), 1'500'000);
  EXPECT_EQ((*made)->max_attempts(), 3);
  EXPECT_EQ((*made)->concurrency(), 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace iotad::alert
