#include "iotad/alert/store.h"

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

// Changes{.deliveries = {...}}: the other members stay empty on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace iotad::alert {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kHour = 3'600'000'000;
constexpr TimestampUs kT0 = 1'704'067'200'000'000;  // 2024-01-01T00:00:00Z

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / fmt::format("iotad-alert-store-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Anomaly SampleAnomaly(int i) {
  Anomaly a;
  a.event_time = kT0 + int64_t{i} * 60'000'000;
  a.device_id = fmt::format("dev-{:05d}", i);
  a.location = i % 2 ? "hall \"2\"" : "";
  a.metric = "temp_c";
  a.detector = "default";
  a.score = 0.1 * i + 0.123456789;
  a.value = 21.5 + i;
  if (i % 2) a.z = -4.25;
  a.expected = 20.0;
  a.expected_lo = 18.0;
  a.expected_hi = 22.0;
  a.baseline_mean = 20.125;
  a.explanation = "temp_c 25.5 is 4.2 sd above the usual\nline two \u00e9";
  a.rule = "|z| > threshold";
  return a;
}

Alert SampleAlert(int i) {
  Alert a;
  a.id = fmt::format("a{:011d}", i);
  a.dedup_key = fmt::format("r|device=dev-{:05d}|2024-01-01T00:00:00Z", i);
  a.rule = "r";
  a.severity = "critical";
  a.group_key = fmt::format("device=dev-{:05d}", i);
  a.labels = {{"device", fmt::format("dev-{:05d}", i)}, {"detector", "default"}};
  a.first_event_us = kT0;
  a.last_event_us = kT0 + 5 * kHour;
  a.hour_counts = {{kT0, 3}, {kT0 + kHour, 2}};
  a.anomalies = 5;
  a.max_score = 7.5;
  a.latest = SampleAnomaly(i);
  a.status = i % 2 ? AlertStatus::kResolved : AlertStatus::kFiring;
  a.resolved_event_us = kT0 + 6 * kHour;
  a.created_at_us = kT0 + 10;
  a.updated_at_us = kT0 + 20;
  a.last_notified_at_us = kT0 + 30;
  a.last_notified_event_us = kT0 + 40;
  a.last_notified_anomalies = 4;
  a.resolved_notified = true;
  return a;
}

Delivery SampleDelivery(int i, const std::string& sink = "file") {
  Delivery d;
  d.alert_id = fmt::format("a{:011d}", i);
  d.id = fmt::format("{}-1-{}", d.alert_id, sink);
  d.sink = sink;
  d.notification.id = d.id;
  d.notification.kind = NotificationKind::kUpdate;
  d.notification.alert_id = d.alert_id;
  d.notification.dedup_key = "r|device=x|t";
  d.notification.rule = "r";
  d.notification.severity = "warning";
  d.notification.group_key = "device=x";
  d.notification.status = "firing";
  d.notification.device = "x";
  d.notification.metric = "temp_c";
  d.notification.location = "hall";
  d.notification.detector = "default";
  d.notification.starts_at_us = kT0;
  d.notification.ends_at_us = kT0 + kHour;
  d.notification.event_time_us = kT0 + 1;
  d.notification.anomalies = 3;
  d.notification.max_score = 2.5;
  d.notification.latest = SampleAnomaly(i);
  d.notification.url = "http://127.0.0.1:8080/devices/x";
  d.notification.created_at_us = kT0 + 2;
  d.state = DeliveryState::kPending;
  d.attempts = 2;
  d.created_at_us = kT0 + 3;
  d.next_attempt_at_us = kT0 + 4;
  d.delivered_at_us = 0;
  d.last_error = "HTTP 500";
  d.silence_id = "";
  return d;
}

Attempt SampleAttempt(const std::string& delivery_id, int n) {
  Attempt a;
  a.delivery_id = delivery_id;
  a.n = n;
  a.started_at_us = kT0 + n;
  a.finished_at_us = kT0 + n + 5;
  a.result.outcome = n % 3 == 0 ? AttemptOutcome::kRefused : AttemptOutcome::kRetry;
  a.result.status_code = 429;
  a.result.response = "{\"error\":\"slow down\"}";
  a.result.error = "HTTP 429";
  if (n % 2) a.result.retry_after_us = 7'000'000;
  a.result.seconds = 0.25;
  return a;
}

Silence SampleSilence(int i) {
  Silence s;
  s.id = fmt::format("s{:011d}", i);
  s.matchers = {{"device", "=", "dev-0004*"}, {"metric", "!=", "hum*"}};
  s.starts_at_us = kT0;
  s.ends_at_us = kT0 + 2 * kHour;
  s.reason = "maintenance";
  s.created_by = "ops";
  s.created_at_us = kT0;
  s.expired_at_us = i % 2 ? kT0 + kHour : 0;
  return s;
}

Changes SampleChanges(int i) {
  Changes c;
  c.alerts = {SampleAlert(i), SampleAlert(i + 1)};
  c.deliveries = {SampleDelivery(i)};
  c.attempts = {SampleAttempt(c.deliveries[0].id, 1), SampleAttempt(c.deliveries[0].id, 2)};
  c.silences = {SampleSilence(i)};
  c.acks = {{SampleAlert(i).id, kT0 + 99, "alice", "on it"}};
  c.gold_seen_set = {{fmt::format("gold/anomalies/year=2024/month=1/day=1/hour={}/part-{}.parquet", i % 24, i), "abcd"}};
  c.gold_seen_erase = {"gold/old.parquet"};
  c.sent_increments = {{"dev-00001", {{kT0, 2}}}};
  return c;
}

TEST(AlertStoreJsonTest, ChangesRoundTripEveryField) {
  const Changes c = SampleChanges(1);
  const std::string json = ChangesToJson(c);
  auto back = ChangesFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ChangesToJson(*back), json);
  ASSERT_EQ(back->alerts.size(), 2u);
  EXPECT_EQ(back->alerts[0].latest.explanation, c.alerts[0].latest.explanation);
  EXPECT_EQ(back->alerts[0].latest.score, c.alerts[0].latest.score);
  EXPECT_EQ(back->alerts[0].latest.z, -4.25);
  EXPECT_FALSE(back->alerts[1].latest.z.has_value());
  EXPECT_EQ(back->alerts[0].status, AlertStatus::kResolved);
  EXPECT_EQ(back->alerts[1].status, AlertStatus::kFiring);
  EXPECT_EQ(back->alerts[0].hour_counts, c.alerts[0].hour_counts);
  EXPECT_EQ(back->alerts[0].labels, c.alerts[0].labels);
  EXPECT_EQ(back->deliveries[0].notification.kind, NotificationKind::kUpdate);
  EXPECT_EQ(back->deliveries[0].notification.latest.location, "hall \"2\"");
  EXPECT_EQ(back->attempts[0].result.retry_after_us, 7'000'000);
  EXPECT_FALSE(back->attempts[1].result.retry_after_us.has_value());
  EXPECT_EQ(back->silences[0].matchers.size(), 2u);
  EXPECT_EQ(back->silences[0].matchers[1].op, "!=");
  EXPECT_EQ(back->silences[0].expired_at_us, kT0 + kHour);
  EXPECT_EQ(back->acks[0].note, "on it");
  EXPECT_EQ(back->gold_seen_set, c.gold_seen_set);
  EXPECT_EQ(back->gold_seen_erase, c.gold_seen_erase);
  EXPECT_EQ(back->sent_increments, c.sent_increments);
}

TEST(AlertStoreJsonTest, StateRoundTripEveryType) {
  AlertState s;
  ApplyChanges(s, SampleChanges(1));
  ApplyChanges(s, SampleChanges(4));
  s.seq = 2;
  const std::string json = StateToJson(s);
  auto back = StateFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(StateToJson(*back), json);
  EXPECT_EQ(back->seq, 2);
  EXPECT_EQ(back->alerts.size(), 4u);
  EXPECT_EQ(back->attempts.size(), 4u);
  EXPECT_EQ(back->silences.size(), 2u);
  EXPECT_EQ(back->alerts.at(SampleAlert(1).id).acked_by, "alice");
}

TEST(AlertStoreJsonTest, DamagedJsonIsAnError) {
  EXPECT_FALSE(ChangesFromJson("{\"alerts\": [").ok());
  EXPECT_FALSE(ChangesFromJson("[1]").ok());
  auto bad_type = ChangesFromJson(R"({"deliveries":[{"id":"d","state":"pending","attempts":"two"}]})");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("attempts"), std::string::npos) << bad_type.status().message();
  EXPECT_FALSE(StateFromJson(R"({"alerts":[{"id":"a","status":"burning"}]})").ok());
}

TEST(AlertStoreFoldTest, UpsertKeepsAckFieldsAndOnlyAckSetsThem) {
  AlertState s;
  Alert a = SampleAlert(1);
  a.acked_at_us = 123;  // ignored: only an AckChange sets ack fields
  a.acked_by = "mallory";
  ApplyChanges(s, Changes{.alerts = {a}});
  EXPECT_EQ(s.alerts.at(a.id).acked_at_us, 0);
  EXPECT_EQ(s.alerts.at(a.id).acked_by, "");
  ApplyChanges(s, Changes{.acks = {{a.id, kT0 + 5, "bob", "looking"}}});
  Alert update = SampleAlert(1);
  update.anomalies = 42;
  ApplyChanges(s, Changes{.alerts = {update}});
  EXPECT_EQ(s.alerts.at(a.id).anomalies, 42);
  EXPECT_EQ(s.alerts.at(a.id).acked_at_us, kT0 + 5);
  EXPECT_EQ(s.alerts.at(a.id).acked_by, "bob");
  EXPECT_EQ(s.alerts.at(a.id).ack_note, "looking");
}

TEST(AlertStoreFoldTest, GoldSeenAndSentCounts) {
  AlertState s;
  ApplyChanges(s, Changes{.gold_seen_set = {{"k1", "h1"}, {"k2", "h2"}}});
  ApplyChanges(s, Changes{.gold_seen_set = {{"k1", "h1b"}}, .gold_seen_erase = {"k2"}});
  EXPECT_EQ(s.gold_seen, (std::map<std::string, std::string>{{"k1", "h1b"}}));
  ApplyChanges(s, Changes{.sent_increments = {{"d1", {{kT0, 2}}}, {"d2", {{kT0, 1}}}}});
  ApplyChanges(s, Changes{.sent_increments = {{"d1", {{kT0, 3}, {kT0 + 24 * kHour, 1}}}}});
  EXPECT_EQ(s.sent_per_device_hour.at("d1").at(kT0), 5);
  EXPECT_EQ(s.sent_per_device_hour.at("d2").at(kT0), 1);
  // An hour more than a day before the newest is dropped, and devices left with nothing go.
  ApplyChanges(s, Changes{.sent_increments = {{"d1", {{kT0 + 25 * kHour, 1}}}}});
  EXPECT_EQ(s.sent_per_device_hour.count("d2"), 0u);
  EXPECT_EQ(s.sent_per_device_hour.at("d1").count(kT0), 0u);
  EXPECT_EQ(s.sent_per_device_hour.at("d1").at(kT0 + 24 * kHour), 1);
}

class AlertLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenLocalStore(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }
  bool Exists(const std::string& key) {
    auto e = store_->Exists(key);
    return e.ok() && *e;
  }
  AlertLog Open() {
    auto log = AlertLog::Open(*store_, clock_);
    EXPECT_TRUE(log.ok()) << log.status().message();
    return std::move(*log);
  }
  TempDir dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<store::ObjectStore> store_;
};

TEST_F(AlertLogTest, EmptyLogIsAnEmptyState) {
  AlertLog log = Open();
  EXPECT_EQ(log.state().seq, 0);
  EXPECT_TRUE(log.state().alerts.empty());
}

TEST_F(AlertLogTest, CommitThenReopen) {
  AlertLog log = Open();
  auto seq = log.Commit(SampleChanges(1));
  ASSERT_TRUE(seq.ok()) << seq.status().message();
  EXPECT_EQ(*seq, 1);
  EXPECT_TRUE(Exists("_iotad/alerts/log/000000000001.json"));
  AlertLog again = Open();
  EXPECT_EQ(StateToJson(again.state()), StateToJson(log.state()));
}

TEST_F(AlertLogTest, ConcurrentWritersLoseNothing) {
  AlertLog a = Open();
  AlertLog b = Open();
  for (int i = 0; i < 40; ++i) {
    // Each writer commits without having seen the other's last record: a conflict, a refresh,
    // and the next number.
    ASSERT_TRUE(a.Commit(Changes{.deliveries = {SampleDelivery(i, "sa")}}).ok());
    ASSERT_TRUE(b.Commit(Changes{.deliveries = {SampleDelivery(i, "sb")}}).ok());
  }
  EXPECT_EQ(a.state().seq, 79);
  EXPECT_EQ(b.state().seq, 80);
  ASSERT_TRUE(a.Refresh().ok());
  EXPECT_EQ(a.state().deliveries.size(), 80u);
  EXPECT_EQ(StateToJson(a.state()), StateToJson(b.state()));
  AlertLog c = Open();
  EXPECT_EQ(c.state().deliveries.size(), 80u);
}

TEST_F(AlertLogTest, AckRacingAnUpsertKeepsTheAck) {
  AlertLog run = Open();
  ASSERT_TRUE(run.Commit(Changes{.alerts = {SampleAlert(1)}}).ok());
  AlertLog cli = Open();
  ASSERT_TRUE(cli.Commit(Changes{.acks = {{SampleAlert(1).id, kT0 + 7, "carol", "ack"}}}).ok());
  // The run did not see the ack; its upsert of the whole alert still keeps it.
  Alert update = SampleAlert(1);
  update.anomalies = 99;
  ASSERT_TRUE(run.Commit(Changes{.alerts = {update}}).ok());
  EXPECT_EQ(run.state().alerts.at(update.id).acked_by, "carol");
  EXPECT_EQ(run.state().alerts.at(update.id).anomalies, 99);
  AlertLog fresh = Open();
  EXPECT_EQ(fresh.state().alerts.at(update.id).acked_at_us, kT0 + 7);
  EXPECT_EQ(fresh.state().alerts.at(update.id).anomalies, 99);
}

TEST_F(AlertLogTest, CheckpointPlusReloadEqualsFoldFromScratch) {
  AlertLog log = Open();
  AlertState scratch;
  for (int i = 0; i < 150; ++i) {
    Changes c = SampleChanges(i);
    ASSERT_TRUE(log.Commit(c).ok());
    ApplyChanges(scratch, c);
  }
  scratch.seq = 150;
  auto pointer = store_->Get("_iotad/alerts/last_checkpoint");
  ASSERT_TRUE(pointer.ok());
  const int64_t newest = std::stoll(*pointer);
  EXPECT_GE(newest, 64);
  EXPECT_TRUE(Exists(fmt::format("_iotad/alerts/checkpoint/{:012d}.json", newest)));
  // At most the newest two checkpoints are kept.
  auto checkpoints = store_->List("_iotad/alerts/checkpoint/");
  ASSERT_TRUE(checkpoints.ok());
  EXPECT_LE(checkpoints->size(), 2u);
  // Loading reads the checkpoint and the records after it only: removing an early record
  // proves no one folds from the start.
  ASSERT_TRUE(store_->Delete("_iotad/alerts/log/000000000003.json").ok());
  AlertLog again = Open();
  EXPECT_EQ(StateToJson(again.state()), StateToJson(scratch));
  EXPECT_EQ(StateToJson(log.state()), StateToJson(scratch));
}

TEST_F(AlertLogTest, CheckpointsAreWrittenLessOftenAsTheStateGrows) {
  // The state only grows (deliveries and attempts are kept); a checkpoint every 64 records would
  // copy it again and again (quadratic). One is written once the records since the last one
  // outweigh it, so their count grows with the log's size, far below one per 64 records.
  AlertLog log = Open();
  std::set<std::string> seen;
  for (int i = 0; i < 1500; ++i) {
    ASSERT_TRUE(log.Commit(SampleChanges(i)).ok());
    auto pointer = store_->Get("_iotad/alerts/last_checkpoint");
    if (pointer.ok()) seen.insert(*pointer);
  }
  EXPECT_GE(seen.size(), 2u);
  EXPECT_LT(seen.size(), 1500u / 64 / 2);
  AlertLog again = Open();
  EXPECT_EQ(StateToJson(again.state()), StateToJson(log.state()));
}

TEST_F(AlertLogTest, CrashBetweenRecordAndCheckpoint) {
  AlertLog log = Open();
  AlertState scratch;
  for (int i = 0; i < 64; ++i) {
    Changes c = SampleChanges(i);
    ASSERT_TRUE(log.Commit(c).ok());
    ApplyChanges(scratch, c);
  }
  scratch.seq = 64;
  // As if the process died after record 64 but before its checkpoint and pointer.
  ASSERT_TRUE(store_->Delete("_iotad/alerts/checkpoint/000000000064.json").ok());
  ASSERT_TRUE(store_->Delete("_iotad/alerts/last_checkpoint").ok());
  AlertLog again = Open();
  EXPECT_EQ(StateToJson(again.state()), StateToJson(scratch));
  // And died after the checkpoint but before the pointer: the pointer still names nothing.
  ASSERT_TRUE(store_->Put("_iotad/alerts/checkpoint/000000000064.json", StateToJson(scratch)).ok());
  AlertLog third = Open();
  EXPECT_EQ(StateToJson(third.state()), StateToJson(scratch));
  ASSERT_TRUE(third.Commit(SampleChanges(99)).ok());
  EXPECT_EQ(third.state().seq, 65);
}

TEST_F(AlertLogTest, DamagedRecordNamesItsKey) {
  AlertLog log = Open();
  ASSERT_TRUE(log.Commit(SampleChanges(1)).ok());
  ASSERT_TRUE(store_->PutIfAbsent("_iotad/alerts/log/000000000002.json", "{\"alerts\": [ oops").ok());
  auto bad = AlertLog::Open(*store_, clock_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Errc::kCorrupt);
  EXPECT_NE(bad.status().message().find("_iotad/alerts/log/000000000002.json"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace iotad::alert
