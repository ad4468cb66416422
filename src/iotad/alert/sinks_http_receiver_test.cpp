// The HTTP sinks against a genuine HTTP receiver (cpp-httplib on 127.0.0.1, its own thread):
// what arrives (method, path, headers, JSON body) and how each answer maps to an attempt
// (2xx delivered; 500, 429 + Retry-After, a stall past the timeout, a closed port: retry;
// other 4xx refused). Nothing is mocked inside the process: the sinks go through libcurl.
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/sinks_http_test_util.h"
#include "iotad/alert/test_http_server.h"
#include "iotad/config/config.h"

namespace iotad::alert {
namespace {

using test_util::SampleNotification;
using testutil::TestHttpServer;

/// What the receiver got.
struct Received {
  std::string method, path, body;
  httplib::Headers headers;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

/// A receiver that records every request and answers with `status`, `body` and `headers`
/// (after `delay`, when set).
class Recorder {
 public:
  int status = 200;
  std::string answer = "ok";
  std::string content_type = "text/plain";
  httplib::Headers answer_headers;
  std::chrono::milliseconds delay{0};

  bool Start() {
    srv_.server().Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        got_.push_back({req.method, req.path, req.body, req.headers});
      }
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      res.status = status;
      for (const auto& [k, v] : answer_headers) res.set_header(k.c_str(), v);
      res.set_content(answer, content_type.c_str());
    });
    return srv_.Start();
  }
  std::string url(const std::string& path) const { return srv_.url(path); }
  std::vector<Received> got() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  TestHttpServer srv_;
  std::mutex mu_;
  std::vector<Received> got_;
};

SinkEnv Env() {
  SinkEnv env;
  env.lake_root = std::filesystem::temp_directory_path();
  env.alert.base_url = "http://127.0.0.1:8080";
  return env;
}

std::unique_ptr<Sink> MustMake(Result<std::unique_ptr<Sink>> made) {
  EXPECT_TRUE(made.ok()) << made.status().message();
  return made.ok() ? std::move(made).value() : nullptr;
}

TEST(HttpSinksReceiver, WebhookArrivesWithItsHeadersAndTheGenericJson) {
  Recorder rec;
  rec.answer = R"({"received":true})";
  rec.content_type = "application/json";
  ASSERT_TRUE(rec.Start());
  ::setenv("IOTAD_TEST_HOOK_TOKEN", "hook-token-xyz", 1);
  config::WebhookSinkOptions o;
  o.name = "hook";
  o.url = rec.url("/iotad/hook?src=test");
  o.bearer_token.env = "IOTAD_TEST_HOOK_TOKEN";
  o.headers = {"X-Team: plant-ops"};
  auto sink = MustMake(MakeWebhookSink(o, Env()));
  ASSERT_NE(sink, nullptr);
  const Notification n = SampleNotification();
  const AttemptResult a = sink->Send(n);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(a.status_code, 200);
  EXPECT_EQ(a.response, R"({"received":true})");
  EXPECT_EQ(a.error, "");
  const auto got = rec.got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].path, "/iotad/hook");
  EXPECT_EQ(got[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(got[0].Header("Authorization"), "Bearer hook-token-xyz");
  EXPECT_EQ(got[0].Header("Idempotency-Key"), n.id);
  EXPECT_EQ(got[0].Header("X-Team"), "plant-ops");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(got[0].body);
  EXPECT_EQ(int64_t(doc["version"]), 1);
  EXPECT_EQ(std::string_view(doc["kind"]), "firing");
  EXPECT_EQ(std::string_view(doc["dedup_key"]), n.dedup_key);
  EXPECT_EQ(std::string_view(doc["labels"]["device"]), "dev-00042");
  EXPECT_DOUBLE_EQ(double(doc["anomaly"]["value"]), 81.25);
  EXPECT_TRUE(doc["ends_at"].is_null());
  ::unsetenv("IOTAD_TEST_HOOK_TOKEN");
}

TEST(HttpSinksReceiver, SlackGetsTextAndBlocksAndAnswersOk) {
  Recorder rec;
  rec.answer = "ok";
  ASSERT_TRUE(rec.Start());
  ::setenv("IOTAD_TEST_SLACK_URL", rec.url("/services/T000/B000/SLACKSECRET").c_str(), 1);
  config::SlackSinkOptions o;
  o.name = "ops-slack";
  o.url.env = "IOTAD_TEST_SLACK_URL";
  o.channel = "#ops";
  auto sink = MustMake(MakeSlackSink(o, Env()));
  ASSERT_NE(sink, nullptr);
  const AttemptResult a = sink->Send(SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(a.status_code, 200);
  EXPECT_EQ(a.response, "ok");
  const auto got = rec.got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/services/T000/B000/SLACKSECRET");
  EXPECT_EQ(got[0].Header("Content-Type"), "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(got[0].body);
  EXPECT_EQ(std::string_view(doc["text"]), "[critical] firing: dev-00042 temp_c (device-anomalies)");
  EXPECT_EQ(std::string_view(doc["channel"]), "#ops");
  EXPECT_EQ(simdjson::dom::array(doc["blocks"]).size(), 3u);

  // Slack's refusal (a revoked webhook answers 404 no_service): refused, its words kept.
  rec.status = 404;
  rec.answer = "no_service";
  const AttemptResult refused = sink->Send(SampleNotification());
  EXPECT_EQ(refused.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(refused.status_code, 404);
  EXPECT_EQ(refused.response, "no_service");
  ::unsetenv("IOTAD_TEST_SLACK_URL");
}

TEST(HttpSinksReceiver, AlertmanagerGetsAnArrayOnItsApiPathWithBasicAuth) {
  Recorder rec;
  rec.answer = "";
  ASSERT_TRUE(rec.Start());
  ::setenv("IOTAD_TEST_AM_PASSWORD", "am-pass", 1);
  config::AlertmanagerSinkOptions o;
  o.name = "am";
  o.url = rec.url("/");
  o.basic_auth_user = "iotad";
  o.basic_auth_password.env = "IOTAD_TEST_AM_PASSWORD";
  o.labels = {"team=plant"};
  ManualClock clock(*ParseTimestamp("2024-03-01T10:31:00Z"));
  SinkEnv env = Env();
  env.clock = &clock;
  auto sink = MustMake(MakeAlertmanagerSink(o, env));
  ASSERT_NE(sink, nullptr);
  Notification n = SampleNotification();
  const AttemptResult a = sink->Send(n);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(a.status_code, 200);
  n.kind = NotificationKind::kResolved;
  n.status = "resolved";
  n.ends_at_us = *ParseTimestamp("2024-03-01T10:25:00Z");
  EXPECT_EQ(sink->Send(n).outcome, AttemptOutcome::kDelivered);
  const auto got = rec.got();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].path, "/api/v2/alerts");
  EXPECT_EQ(got[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(got[0].Header("Authorization"), "Basic aW90YWQ6YW0tcGFzcw==");  // base64("iotad:am-pass")
  simdjson::dom::parser parser;
  simdjson::dom::element firing = parser.parse(got[0].body).at(0);
  EXPECT_EQ(std::string_view(firing["labels"]["alertname"]), "device-anomalies");
  EXPECT_EQ(std::string_view(firing["labels"]["team"]), "plant");
  EXPECT_EQ(std::string_view(firing["startsAt"]), "2024-03-01T10:00:00Z");
  EXPECT_EQ(std::string_view(firing["endsAt"]), "2024-03-01T18:31:00Z");  // now + firing_ttl (8h)
  simdjson::dom::parser parser2;
  simdjson::dom::element resolved = parser2.parse(got[1].body).at(0);
  EXPECT_EQ(std::string_view(resolved["endsAt"]), "2024-03-01T10:25:00Z");
  // The same labels: Alertmanager resolves the alert it has, not a new one.
  EXPECT_EQ(simdjson::minify(resolved["labels"]), simdjson::minify(firing["labels"]));
  ::unsetenv("IOTAD_TEST_AM_PASSWORD");
}

TEST(HttpSinksReceiver, PagerDutyTriggerAndResolveAnswered202) {
  Recorder rec;
  rec.status = 202;
  rec.content_type = "application/json";
  rec.answer = R"({"status":"success","message":"Event processed","dedup_key":"k"})";
  ASSERT_TRUE(rec.Start());
  ::setenv("IOTAD_TEST_PD_KEY", "R0UTINGKEY0123456789abcdef012345", 1);
  config::PagerDutySinkOptions o;
  o.name = "pd";
  o.url = rec.url("/v2/enqueue");
  o.routing_key.env = "IOTAD_TEST_PD_KEY";
  auto sink = MustMake(MakePagerDutySink(o, Env()));
  ASSERT_NE(sink, nullptr);
  Notification n = SampleNotification();
  const AttemptResult a = sink->Send(n);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(a.status_code, 202);
  EXPECT_EQ(a.response, rec.answer);
  n.kind = NotificationKind::kResolved;
  n.status = "resolved";
  EXPECT_EQ(sink->Send(n).outcome, AttemptOutcome::kDelivered);
  const auto got = rec.got();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].path, "/v2/enqueue");
  EXPECT_EQ(got[0].Header("Content-Type"), "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element trigger = parser.parse(got[0].body);
  EXPECT_EQ(std::string_view(trigger["routing_key"]), "R0UTINGKEY0123456789abcdef012345");
  EXPECT_EQ(std::string_view(trigger["event_action"]), "trigger");
  EXPECT_EQ(std::string_view(trigger["dedup_key"]), n.dedup_key);
  EXPECT_EQ(std::string_view(trigger["payload"]["severity"]), "critical");
  EXPECT_EQ(std::string_view(trigger["client_url"]), "http://127.0.0.1:8080");
  simdjson::dom::parser parser2;
  simdjson::dom::element resolve = parser2.parse(got[1].body);
  EXPECT_EQ(std::string_view(resolve["event_action"]), "resolve");
  EXPECT_EQ(std::string_view(resolve["dedup_key"]), n.dedup_key);
  EXPECT_EQ(simdjson::dom::object(resolve).size(), 3u);
  ::unsetenv("IOTAD_TEST_PD_KEY");
}

/// A webhook sink to `url` with `timeout_us`.
std::unique_ptr<Sink> Hook(const std::string& url, int64_t timeout_us = 5'000'000) {
  config::WebhookSinkOptions o;
  o.name = "hook";
  o.url = url;
  o.timeout_us = timeout_us;
  return MustMake(MakeWebhookSink(o, Env()));
}

TEST(HttpSinksReceiver, A500IsRetried) {
  Recorder rec;
  rec.status = 500;
  rec.answer = "database is down";
  ASSERT_TRUE(rec.Start());
  auto sink = Hook(rec.url("/hook"));
  ASSERT_NE(sink, nullptr);
  const AttemptResult a = sink->Send(SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 500);
  EXPECT_EQ(a.response, "database is down");
  EXPECT_FALSE(a.error.empty());
  EXPECT_FALSE(a.retry_after_us.has_value());
}

TEST(HttpSinksReceiver, A429WithRetryAfterIsRetriedThen) {
  Recorder rec;
  rec.status = 429;
  rec.answer = "slow down";
  rec.answer_headers = {{"Retry-After", "7"}};
  ASSERT_TRUE(rec.Start());
  auto sink = Hook(rec.url("/hook"));
  ASSERT_NE(sink, nullptr);
  const AttemptResult a = sink->Send(SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 429);
  ASSERT_TRUE(a.retry_after_us.has_value());
  EXPECT_EQ(*a.retry_after_us, 7'000'000);
}

TEST(HttpSinksReceiver, AnotherClientErrorIsRefused) {
  Recorder rec;
  rec.status = 400;
  rec.answer = "invalid payload";
  ASSERT_TRUE(rec.Start());
  auto sink = Hook(rec.url("/hook"));
  ASSERT_NE(sink, nullptr);
  const AttemptResult a = sink->Send(SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.status_code, 400);
  EXPECT_EQ(a.response, "invalid payload");
}

TEST(HttpSinksReceiver, AStallPastTheSinkTimeoutIsRetriedWithinTheTimeout) {
  Recorder rec;
  rec.delay = std::chrono::milliseconds(2000);
  ASSERT_TRUE(rec.Start());
  auto sink = Hook(rec.url("/hook"), /*timeout_us=*/300'000);
  ASSERT_NE(sink, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const AttemptResult a = sink->Send(SampleNotification());
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 0);
  EXPECT_FALSE(a.error.empty());
  EXPECT_LT(waited, 1.5);
  EXPECT_GE(waited, 0.25);
  EXPECT_EQ(rec.got().size(), 1u);  // it did reach the receiver
}

TEST(HttpSinksReceiver, NoReceiverIsRetriedAndTheSecretUrlIsNeverQuoted) {
  int closed_port = 0;
  {
    TestHttpServer srv;
    ASSERT_TRUE(srv.Start());
    closed_port = srv.port();
  }  // stopped: the port now refuses connections
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port) + "/services/T000/B000/SLACKSECRET";
  ::setenv("IOTAD_TEST_SLACK_URL_CLOSED", url.c_str(), 1);
  config::SlackSinkOptions o;
  o.name = "ops-slack";
  o.url.env = "IOTAD_TEST_SLACK_URL_CLOSED";
  o.timeout_us = 2'000'000;
  auto sink = MustMake(MakeSlackSink(o, Env()));
  ASSERT_NE(sink, nullptr);
  const AttemptResult a = sink->Send(SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 0);
  EXPECT_FALSE(a.error.empty());
  EXPECT_EQ(a.error.find("SLACKSECRET"), std::string::npos) << a.error;
  EXPECT_EQ(a.response.find("SLACKSECRET"), std::string::npos) << a.response;
  ::unsetenv("IOTAD_TEST_SLACK_URL_CLOSED");
}

TEST(HttpSinksReceiver, SinksFromAParsedConfigDeliver) {
  Recorder rec;
  ASSERT_TRUE(rec.Start());
  ::setenv("IOTAD_TEST_SLACK_URL_CFG", rec.url("/services/cfg").c_str(), 1);
  const std::string toml = "[[alert.sink]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"" + rec.url("/hook") +
                           "\"\nsubject = \"{device}!\"\n\n[[alert.sink]]\nname = \"ops-slack\"\ntype = \"slack\"\n"
                           "url_env = \"IOTAD_TEST_SLACK_URL_CFG\"\n";
  auto parsed = config::ParseConfig(toml, "iotad.toml", config::MachineLimits{2, 8LL << 30});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  for (const config::Component& c : parsed->components.Of("alert.sink")) {
    ASSERT_TRUE(CheckSinkSecrets(c, Env()).ok()) << c.name;
    auto sink = MustMake(MakeSink(c, Env()));
    ASSERT_NE(sink, nullptr);
    EXPECT_EQ(sink->name(), c.name);
    EXPECT_EQ(sink->type(), c.type);
    EXPECT_EQ(sink->Send(SampleNotification()).outcome, AttemptOutcome::kDelivered) << c.name;
  }
  const auto got = rec.got();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].path, "/hook");
  simdjson::dom::parser parser;
  EXPECT_EQ(std::string_view(parser.parse(got[0].body)["subject"]), "dev-00042!");
  EXPECT_EQ(got[1].path, "/services/cfg");
  // Unset, the secret is one sentence naming the sink and the key.
  ::unsetenv("IOTAD_TEST_SLACK_URL_CFG");
  const Status missing = CheckSinkSecrets(parsed->components.Of("alert.sink")[1], Env());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("ops-slack"), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find("url_env"), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find("IOTAD_TEST_SLACK_URL_CFG"), std::string::npos) << missing.message();
}

}  // namespace
}  // namespace iotad::alert
