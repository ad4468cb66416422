// The alert, pipeline and metrics endpoints through Api::Handle, on a lake whose alert log and run
// records the test writes itself (so every state is known): the alert states and counts, the write
// role's actions and their refusals, run order, failed checks, and /metrics rebuilt from runs.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "iotad/alert/engine.h"
#include "iotad/alert/store.h"
#include "iotad/lake/lake.h"
#include "iotad/pipeline/run_record.h"
#include "iotad/serve/api.h"

namespace iotad::serve {
namespace {

namespace fs = std::filesystem;

Request Get(std::string path, std::vector<std::pair<std::string, std::string>> params = {}) {
  Request r;
  r.path = std::move(path);
  r.params = std::move(params);
  return r;
}

Request Post(std::string path, std::string body, Role role = Role::kWrite) {
  Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  r.role = role;
  return r;
}

alert::Alert MakeAlert(const std::string& device, TimestampUs last_event, alert::AlertStatus status) {
  alert::Alert a;
  a.dedup_key = "rule-a|device=" + device + "|" + std::to_string(last_event);
  a.id = alert::ShortId(a.dedup_key);
  a.rule = "rule-a";
  a.severity = "warning";
  a.group_key = "device=" + device;
  a.labels = {{"device", device}};
  a.first_event_us = last_event - kMicrosPerHour;
  a.last_event_us = last_event;
  a.anomalies = 3;
  a.max_score = 4.5;
  a.latest.device_id = device;
  a.latest.metric = "temp_c";
  a.latest.explanation = "temp_c 99: far above";
  a.status = status;
  a.resolved_event_us = status == alert::AlertStatus::kResolved ? last_event + kMicrosPerHour : 0;
  return a;
}

class AlertsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("iotad_api_alerts_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    ASSERT_TRUE(lake::Lake::Init(root_).ok());
    auto lake = lake::Lake::Open(root_);
    ASSERT_TRUE(lake.ok()) << lake.status().message();
    lake_ = std::move(*lake);
    now_ = SystemClock::Instance().NowUs();
    // Four alerts: open (dev-1), acknowledged (dev-2), resolved with a dead delivery (dev-3),
    // open and silenced (dev-4); a silence on dev-4 active now, and an expired one on dev-1.
    const TimestampUs t0 = 1704067200000000;  // 2024-01-01
    open_ = MakeAlert("dev-1", t0 + 4 * kMicrosPerHour, alert::AlertStatus::kFiring);
    acked_ = MakeAlert("dev-2", t0 + 3 * kMicrosPerHour, alert::AlertStatus::kFiring);
    dead_ = MakeAlert("dev-3", t0 + 2 * kMicrosPerHour, alert::AlertStatus::kResolved);
    silenced_ = MakeAlert("dev-4", t0 + 1 * kMicrosPerHour, alert::AlertStatus::kFiring);
    alert::Changes c;
    c.alerts = {open_, acked_, dead_, silenced_};
    alert::Delivery ok;
    ok.id = open_.id + "-1-hook";
    ok.alert_id = open_.id;
    ok.sink = "hook";
    ok.state = alert::DeliveryState::kDelivered;
    ok.attempts = 1;
    ok.delivered_at_us = now_;
    alert::Delivery dead = ok;
    dead.id = dead_.id + "-1-hook";
    dead.alert_id = dead_.id;
    dead.state = alert::DeliveryState::kDead;
    dead.last_error = "HTTP 500 <b>oops</b>";
    dead.delivered_at_us = 0;
    c.deliveries = {ok, dead};
    alert::Attempt a1;
    a1.delivery_id = ok.id;
    a1.n = 1;
    a1.result.outcome = alert::AttemptOutcome::kDelivered;
    a1.result.status_code = 200;
    alert::Attempt a2 = a1;
    a2.delivery_id = dead.id;
    a2.result.outcome = alert::AttemptOutcome::kRefused;
    a2.result.status_code = 500;
    c.attempts = {a1, a2};
    alert::Silence active;
    active.id = "aaaaaaaaaaaa";
    active.matchers = {{"device", "=", "dev-4"}};
    active.starts_at_us = now_ - kMicrosPerHour;
    active.ends_at_us = now_ + kMicrosPerHour;
    active.created_at_us = now_ - kMicrosPerHour;
    active.created_by = "ops";
    alert::Silence expired = active;
    expired.id = "bbbbbbbbbbbb";
    expired.matchers = {{"device", "=", "dev-1"}};
    expired.expired_at_us = now_ - kMicrosPerMinute;
    expired.created_at_us = now_ - 2 * kMicrosPerHour;
    c.silences = {active, expired};
    c.acks.push_back({acked_.id, now_, "ops", "on it"});
    auto log = alert::AlertLog::Open(lake_->store(), lake_->clock());
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log->Commit(c).ok());
    ApiOptions options;
    options.refresh_interval = std::chrono::milliseconds(0);
    auto api = Api::Open(root_, options);
    ASSERT_TRUE(api.ok()) << api.status().message();
    api_ = std::move(*api);
  }
  void TearDown() override {
    api_.reset();
    lake_.reset();
    fs::remove_all(root_);
  }

  simdjson::dom::element Json(const Response& r) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser_.parse(r.body).get(doc), simdjson::SUCCESS) << r.body;
    return doc;
  }
  std::vector<std::string> Ids(const Response& r) {
    std::vector<std::string> ids;
    for (auto a : Json(r)["alerts"].get_array()) ids.emplace_back(a["id"].get_string().value());
    return ids;
  }
  int64_t AlertSeq() { return Json(api_->Handle(Get("/api/version")))["alert_seq"].get_int64().value(); }

  fs::path root_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<Api> api_;
  simdjson::dom::parser parser_;
  TimestampUs now_ = 0;
  alert::Alert open_, acked_, dead_, silenced_;
};

TEST_F(AlertsApiTest, StatesCountsOrderAndDeliveries) {
  Response all = api_->Handle(Get("/api/alerts"));
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.route, "/api/alerts");
  EXPECT_EQ(Ids(all), (std::vector<std::string>{open_.id, acked_.id, dead_.id, silenced_.id}));  // newest first
  auto counts = Json(all)["counts"];
  EXPECT_EQ(counts["open"].get_int64().value(), 2);  // dev-1 and dev-4 (silenced alerts stay open)
  EXPECT_EQ(counts["acknowledged"].get_int64().value(), 1);
  EXPECT_EQ(counts["silenced"].get_int64().value(), 1);
  EXPECT_EQ(counts["dead"].get_int64().value(), 1);
  EXPECT_EQ(counts["resolved"].get_int64().value(), 1);
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "open"}}))),
            (std::vector<std::string>{open_.id, silenced_.id}));
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "acknowledged"}}))), std::vector<std::string>{acked_.id});
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "silenced"}}))), std::vector<std::string>{silenced_.id});
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "dead"}}))), std::vector<std::string>{dead_.id});
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "resolved"}}))), std::vector<std::string>{dead_.id});
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"limit", "1"}}))), std::vector<std::string>{open_.id});
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"device", "dev-3"}}))), std::vector<std::string>{dead_.id});
  EXPECT_EQ(Ids(api_->Handle(Get("/api/device/alerts", {{"id", "dev-2"}}))), std::vector<std::string>{acked_.id});
  EXPECT_TRUE(Ids(api_->Handle(Get("/api/device/alerts", {{"id", "nobody"}}))).empty());

  auto dead = Json(api_->Handle(Get("/api/alerts", {{"state", "dead"}})))["alerts"].at(0);
  EXPECT_EQ(std::string(dead["status"].get_string().value()), "resolved");
  EXPECT_FALSE(dead["ends_at"].is_null());
  auto d = dead["deliveries"].at(0);
  EXPECT_EQ(std::string(d["state"].get_string().value()), "dead");
  EXPECT_EQ(d["last_status"].get_int64().value(), 500);
  EXPECT_EQ(std::string(d["last_error"].get_string().value()), "HTTP 500 <b>oops</b>");
  EXPECT_TRUE(d["delivered_at"].is_null());
  auto open = Json(all)["alerts"].at(0);
  EXPECT_TRUE(open["ends_at"].is_null());
  EXPECT_EQ(open["deliveries"].at(0)["last_status"].get_int64().value(), 200);
  EXPECT_FALSE(open["deliveries"].at(0)["delivered_at"].is_null());

  std::map<std::string, bool> active;
  for (auto s : Json(all)["silences"].get_array()) active[std::string(s["id"].get_string().value())] = s["active"].get_bool().value();
  EXPECT_EQ(active, (std::map<std::string, bool>{{"aaaaaaaaaaaa", true}, {"bbbbbbbbbbbb", false}}));

  EXPECT_EQ(api_->Handle(Get("/api/alerts", {{"state", "sleeping"}})).status, 400);
  EXPECT_EQ(api_->Handle(Get("/api/alerts", {{"limit", "1001"}})).status, 400);
  EXPECT_EQ(api_->Handle(Get("/api/device/alerts")).status, 400);
}

TEST_F(AlertsApiTest, ActionsWriteTheAlertLogAndRefuseWhatIsWrong) {
  const int64_t before = AlertSeq();
  const std::string ack = R"({"id":")" + open_.id + R"(","by":"tester"})";
  EXPECT_EQ(api_->Handle(Post("/api/alerts/ack", ack, Role::kRead)).status, 403);
  for (const char* bad : {"", "{", "[]", "null", R"({"id":5})", R"({"id":""})", R"({"id":"x","note":"n"})",
                          "{\"id\":\"a\\u0007\"}", R"({"by":"x"})"}) {
    Response r = api_->Handle(Post("/api/alerts/ack", bad));
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }
  EXPECT_EQ(api_->Handle(Post("/api/alerts/ack", R"({"id":"000000000000"})")).status, 404);
  const std::string m = R"({"label":"device","op":"=","value":"dev-1"})";
  for (const std::string& bad : {std::string(R"({"matchers":[],"duration_seconds":60})"),
                                 R"({"matchers":[)" + m + R"(],"duration_seconds":0})",
                                 R"({"matchers":[)" + m + R"(],"duration_seconds":"60"})",
                                 R"({"matchers":[)" + m + R"(],"duration_seconds":99999999999})",
                                 std::string(R"({"matchers":[{"label":"colour","value":"x"}],"duration_seconds":60})"),
                                 std::string(R"({"matchers":[{"label":"device","op":"~","value":"x"}],"duration_seconds":60})"),
                                 std::string(R"({"matchers":[{"label":"device"}],"duration_seconds":60})"),
                                 std::string(R"({"matchers":["device=x"],"duration_seconds":60})"),
                                 R"({"matchers":[)" + m + R"(],"duration_seconds":60,"until":"never"})"}) {
    Response r = api_->Handle(Post("/api/silences", bad));
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }
  EXPECT_EQ(api_->Handle(Post("/api/silences/expire", R"({"id":"cccccccccccc"})")).status, 404);
  EXPECT_EQ(AlertSeq(), before) << "a refused action wrote the alert log";

  Response acked = api_->Handle(Post("/api/alerts/ack", ack));
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(Json(acked)["alert_seq"].get_int64().value(), before + 1);
  auto log = alert::AlertLog::Open(lake_->store(), lake_->clock());
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->state().alerts.at(open_.id).acked_by, "tester");
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "acknowledged"}}))),
            (std::vector<std::string>{open_.id, acked_.id}));

  Response added = api_->Handle(Post("/api/silences", R"({"matchers":[)" + m + R"(],"duration_seconds":600,"reason":"<x>"})"));
  ASSERT_EQ(added.status, 200) << added.body;
  const std::string sid(Json(added)["silence"]["id"].get_string().value());
  EXPECT_EQ(std::string(Json(added)["silence"]["created_by"].get_string().value()), "dashboard");
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "silenced"}}))),
            (std::vector<std::string>{open_.id, silenced_.id}));
  Response expired = api_->Handle(Post("/api/silences/expire", R"({"id":")" + sid + R"("})"));
  ASSERT_EQ(expired.status, 200) << expired.body;
  const int64_t seq = Json(expired)["alert_seq"].get_int64().value();
  EXPECT_EQ(seq, before + 3);
  EXPECT_EQ(Ids(api_->Handle(Get("/api/alerts", {{"state", "silenced"}}))), std::vector<std::string>{silenced_.id});
  // Expiring an ended silence again changes nothing.
  Response again = api_->Handle(Post("/api/silences/expire", R"({"id":")" + sid + R"("})"));
  EXPECT_EQ(Json(again)["alert_seq"].get_int64().value(), seq);
  EXPECT_EQ(AlertSeq(), seq);
}

TEST_F(AlertsApiTest, RunsInStartOrderFailedChecksAndMetricsFromRunRecords) {
  const TimestampUs t = 1767225600000000;  // 2026-01-01: three runs within one second
  auto record = [&](std::string id, std::string command, TimestampUs start, std::string status,
                    std::vector<pipeline::StageTiming> stages) {
    pipeline::RunRecord r;
    r.run_id = std::move(id);
    r.command = std::move(command);
    r.status = std::move(status);
    r.started_at_us = start;
    r.finished_at_us = start + 1000;
    r.stages = std::move(stages);
    if (r.status == "failed_checks") r.message = "quarantine too high";
    ASSERT_TRUE(pipeline::WriteRunRecord(*lake_, r).ok());
  };
  // The suffixes sort against the start times: the order must come from started_at.
  record("20260101T000000Z-ffff", "run", t + 100, "failed_checks",
         {{"silver", 0.5, R"({"bronze_files":2,"files_written":2,"accounting":{"rows":10,"stored":7,"quarantined":3,"duplicates":0,"merged":0,"quarantine_reasons":{"bad_timestamp":3}}})"},
          {"gold", 0.25, R"({"up_to_date":false,"rows_scanned":7,"files_written":1,"anomalies":{"zscore":4}})"},
          {"checks", 0.01, R"({"quarantine_rate_below_20pct":false,"silver_not_empty":true})"}});
  record("20260101T000000Z-0000", "alert", t + 200, "ok", {});
  record("20260101T000000Z-aaaa", "silver", t + 300, "ok", {});
  Response runs = api_->Handle(Get("/api/pipeline/runs"));
  ASSERT_EQ(runs.status, 200) << runs.body;
  std::vector<std::string> commands;
  for (auto r : Json(runs)["runs"].get_array()) commands.emplace_back(r["command"].get_string().value());
  EXPECT_EQ(commands, (std::vector<std::string>{"silver", "alert", "run"}));
  EXPECT_EQ(Json(api_->Handle(Get("/api/pipeline/runs", {{"limit", "1"}})))["runs"].get_array().size(), 1u);
  EXPECT_EQ(api_->Handle(Get("/api/pipeline/runs", {{"limit", "0"}})).status, 400);

  Response state = api_->Handle(Get("/api/pipeline/state"));
  ASSERT_EQ(state.status, 200) << state.body;
  auto failed = Json(state)["failed_checks"].get_array();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(std::string(failed.at(0)["check"].get_string().value()), "quarantine_rate_below_20pct");
  EXPECT_EQ(std::string(failed.at(0)["detail"].get_string().value()), "quarantine too high");

  Response metrics = api_->Handle(Get("/metrics"));
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_EQ(metrics.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  for (const char* line : {"iotad_rows_stored_total 7\n", "iotad_rows_ingested_total 10\n",
                           "iotad_rows_quarantined_total{reason=\"bad_timestamp\"} 3\n",
                           "iotad_anomalies_total{detector=\"zscore\"} 4\n",
                           "iotad_runs_total{command=\"run\",status=\"failed_checks\"} 1\n",
                           "iotad_runs_total{command=\"silver\",status=\"ok\"} 1\n",
                           "iotad_check_passed{check=\"quarantine_rate_below_20pct\"} 0\n",
                           "iotad_alert_notifications_sent_total{sink=\"hook\"} 1\n",
                           "iotad_alert_notifications_failed_total{sink=\"hook\"} 1\n", "iotad_alerts_open 2\n"}) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << "\n" << metrics.body;
  }
  EXPECT_NE(metrics.body.find("iotad_stage_duration_seconds_count{stage=\"gold\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace iotad::serve
