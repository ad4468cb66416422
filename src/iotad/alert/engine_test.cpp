#include "iotad/alert/engine.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace iotad::alert {
namespace {

constexpr TimestampUs kT0 = 1'704'412'800'000'000;  // 2024-01-05T00:00:00Z
constexpr int64_t kMin = 60'000'000;
constexpr int64_t kHour = 60 * kMin;

Anomaly A(TimestampUs t, const std::string& device, const std::string& metric = "temp_c",
          const std::string& detector = "default", double score = 0.9) {
  Anomaly a;
  a.event_time = t;
  a.device_id = device;
  a.metric = metric;
  a.detector = detector;
  a.location = "hall-" + device.substr(device.size() - 1);
  a.score = score;
  a.z = 4.0;
  a.value = 21.5;
  a.explanation = "too warm";
  a.rule = "|z| > threshold";
  return a;
}

void Sort(std::vector<Anomaly>& v) {
  std::sort(v.begin(), v.end(), [](const Anomaly& x, const Anomaly& y) {
    return std::tie(x.event_time, x.device_id, x.metric, x.detector) <
           std::tie(y.event_time, y.device_id, y.metric, y.detector);
  });
}

std::set<TimestampUs> HoursOf(const std::vector<Anomaly>& v) {
  std::set<TimestampUs> hours;
  for (const Anomaly& a : v) hours.insert(HourStart(a.event_time));
  return hours;
}

config::AlertRule Rule(const std::string& name = "r") {
  config::AlertRule r;
  r.name = name;
  r.sinks = {"file"};
  r.max_per_device_per_hour = 0;
  return r;
}

/// Runs rules over anomalies against a state and folds the result in, like the stage does.
class EngineTest : public ::testing::Test {
 protected:
  EvalResult Eval(std::vector<Anomaly> anomalies, TimestampUs watermark, TimestampUs now,
                  std::optional<std::set<TimestampUs>> hours = std::nullopt) {
    Sort(anomalies);
    EvalInput in;
    in.rules = &rules_;
    in.config = &config_;
    in.anomalies = anomalies;
    in.hours = hours ? *hours : HoursOf(anomalies);
    in.watermark_us = watermark;
    in.now_us = now;
    EvalResult r = Evaluate(state_, in);
    ApplyEvalResult(state_, r);
    return r;
  }
  std::vector<const Delivery*> Pending(const EvalResult& r) const {
    std::vector<const Delivery*> out;
    for (const Delivery& d : r.deliveries) {
      if (d.state == DeliveryState::kPending) out.push_back(&d);
    }
    return out;
  }
  const Alert& Only() const {
    EXPECT_EQ(state_.alerts.size(), 1u);
    return state_.alerts.begin()->second;
  }

  std::vector<config::AlertRule> rules_{Rule()};
  config::AlertConfig config_;
  AlertState state_;
};

TEST(AlertEngine, GroupKeys) {
  const Anomaly a = A(kT0, "dev-1");
  config::AlertRule r = Rule("hot");
  EXPECT_EQ(GroupKey(r, a), "device=dev-1");
  r.group_by = "device_metric";
  EXPECT_EQ(GroupKey(r, a), "device=dev-1,metric=temp_c");
  r.group_by = "location";
  EXPECT_EQ(GroupKey(r, a), "location=hall-1");
  r.group_by = "rule";
  EXPECT_EQ(GroupKey(r, a), "rule=hot");
}

TEST(AlertEngine, RuleFilters) {
  config::AlertRule r = Rule();
  EXPECT_TRUE(RuleMatches(r, A(kT0, "dev-1")));
  EXPECT_FALSE(RuleMatches(r, A(kT0, "dev-1", "temp_c", "zscore")));  // detectors default to ["default"]
  r.detectors.clear();
  EXPECT_TRUE(RuleMatches(r, A(kT0, "dev-1", "temp_c", "zscore")));
  r.metrics = {"humidity"};
  EXPECT_FALSE(RuleMatches(r, A(kT0, "dev-1")));
  r.metrics.clear();
  r.devices = {"freezer-*"};
  EXPECT_FALSE(RuleMatches(r, A(kT0, "dev-1")));
  EXPECT_TRUE(RuleMatches(r, A(kT0, "freezer-7")));
  r.devices.clear();
  r.locations = {"hall-?"};
  EXPECT_TRUE(RuleMatches(r, A(kT0, "dev-1")));
  r.locations = {"yard"};
  EXPECT_FALSE(RuleMatches(r, A(kT0, "dev-1")));
  r.locations.clear();
  r.min_score = 0.95;
  EXPECT_FALSE(RuleMatches(r, A(kT0, "dev-1")));
  r.min_score = 0.9;
  EXPECT_TRUE(RuleMatches(r, A(kT0, "dev-1")));
  r.min_abs_z = 5;
  EXPECT_FALSE(RuleMatches(r, A(kT0, "dev-1")));
  Anomaly neg = A(kT0, "dev-1");
  neg.z = -6;
  EXPECT_TRUE(RuleMatches(r, neg));
  neg.z.reset();
  EXPECT_FALSE(RuleMatches(r, neg));  // no z never matches a min_abs_z rule
}

TEST(AlertEngine, ShortIdIsTwelveHexDigitsOfTheKey) {
  const std::string id = ShortId("r|device=dev-1|2024-01-05T00:00:00Z");
  EXPECT_EQ(id.size(), 12u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(id, ShortId("r|device=dev-1|2024-01-05T00:00:00Z"));
  EXPECT_NE(id, ShortId("r|device=dev-2|2024-01-05T00:00:00Z"));
}

TEST_F(EngineTest, OneAlertPerGroupWithStableDedupKey) {
  const EvalResult r = Eval({A(kT0, "dev-1"), A(kT0 + kMin, "dev-1", "humidity"), A(kT0 + 2 * kMin, "dev-2")},
                            kT0 + kHour, kT0 + kHour);
  EXPECT_EQ(r.alerts_opened, 2);
  EXPECT_EQ(r.anomalies_read, 3);
  EXPECT_EQ(r.anomalies_matched, 3);
  ASSERT_EQ(state_.alerts.size(), 2u);
  const std::string key = "r|device=dev-1|2024-01-05T00:00:00Z";
  const Alert& a = state_.alerts.at(ShortId(key));
  EXPECT_EQ(a.dedup_key, key);
  EXPECT_EQ(a.anomalies, 2);
  EXPECT_EQ(a.labels.at("device"), "dev-1");
  EXPECT_EQ(a.labels.count("metric"), 0u);
  EXPECT_EQ(a.latest.metric, "humidity");
  EXPECT_EQ(a.last_event_us, kT0 + kMin);
  EXPECT_EQ(a.severity, "warning");
}

TEST_F(EngineTest, EpisodesSplitByResolveAfter) {
  // resolve_after 1h: 00:00 and 00:59 are one episode; 02:00 (61 min after 00:59) opens another.
  Eval({A(kT0, "dev-1"), A(kT0 + 59 * kMin, "dev-1"), A(kT0 + 2 * kHour, "dev-1")}, kT0 + 2 * kHour,
       kT0 + 2 * kHour);
  ASSERT_EQ(state_.alerts.size(), 2u);
  std::vector<const Alert*> alerts;
  for (const auto& [id, a] : state_.alerts) alerts.push_back(&a);
  std::sort(alerts.begin(), alerts.end(), [](auto* x, auto* y) { return x->first_event_us < y->first_event_us; });
  EXPECT_EQ(alerts[0]->anomalies, 2);
  EXPECT_EQ(alerts[1]->anomalies, 1);
  EXPECT_EQ(alerts[1]->first_event_us, kT0 + 2 * kHour);
}

TEST_F(EngineTest, AnAnomalyExactlyResolveAfterLaterJoins) {
  Eval({A(kT0, "dev-1"), A(kT0 + kHour, "dev-1")}, kT0 + kHour, kT0 + kHour);
  EXPECT_EQ(Only().anomalies, 2);
}

TEST_F(EngineTest, SameAnomaliesAgainOpenNothingAndSendNothing) {
  const std::vector<Anomaly> batch = {A(kT0, "dev-1"), A(kT0 + 10 * kMin, "dev-2"), A(kT0 + 50 * kMin, "dev-1")};
  const EvalResult first = Eval(batch, kT0 + 55 * kMin, kT0 + 2 * kHour);
  EXPECT_EQ(first.alerts_opened, 2);
  EXPECT_EQ(Pending(first).size(), 2u);
  const AlertState before = state_;
  // The same data again (a re-run of gold, a replay), even a minute of wall time later.
  const EvalResult again = Eval(batch, kT0 + 55 * kMin, kT0 + 2 * kHour + kMin);
  EXPECT_EQ(again.alerts_opened, 0);
  EXPECT_TRUE(again.alerts.empty());
  EXPECT_TRUE(again.deliveries.empty());
  EXPECT_EQ(again.notifications, 0);
  EXPECT_EQ(state_.alerts.size(), before.alerts.size());
  for (const auto& [id, a] : state_.alerts) EXPECT_EQ(a.anomalies, before.alerts.at(id).anomalies);
}

TEST_F(EngineTest, AReplayAfterResolutionPagesNobody) {
  const std::vector<Anomaly> batch = {A(kT0, "dev-1"), A(kT0 + 5 * kMin, "dev-1"), A(kT0 + 3 * kHour, "dev-1")};
  Eval(batch, kT0 + 10 * kMin, kT0 + 10 * kMin);
  Eval(batch, kT0 + 5 * kHour, kT0 + 5 * kHour);  // both episodes fire and resolve
  ASSERT_EQ(state_.alerts.size(), 2u);
  const size_t deliveries = state_.deliveries.size();
  EXPECT_EQ(deliveries, 4u);  // firing + resolved, twice
  // The whole history again, a day later in wall time: nothing opens, nothing is sent.
  const EvalResult r = Eval(batch, kT0 + 5 * kHour, kT0 + 29 * kHour);
  EXPECT_EQ(r.alerts_opened, 0);
  EXPECT_TRUE(r.deliveries.empty());
  EXPECT_TRUE(r.alerts.empty());
  EXPECT_EQ(state_.deliveries.size(), deliveries);
}

TEST_F(EngineTest, BatchSpanningTwoEpisodesOfOneGroupKeepsThemApart) {
  Eval({A(kT0, "dev-1"), A(kT0 + 10 * kMin, "dev-1"), A(kT0 + 3 * kHour, "dev-1"), A(kT0 + 3 * kHour + 10 * kMin, "dev-1")},
       kT0 + 3 * kHour + 20 * kMin, kT0 + 3 * kHour + 20 * kMin);
  ASSERT_EQ(state_.alerts.size(), 2u);
  // Hours 00, 02 and 03 recomputed with one more anomaly at 00:50 (joins the first episode) and
  // one at 02:30 (within resolve_after before the second's start: joins the second), interleaved
  // with another device's.
  const EvalResult r = Eval({A(kT0, "dev-1"), A(kT0 + 10 * kMin, "dev-1"), A(kT0 + 50 * kMin, "dev-1"),
                             A(kT0 + 51 * kMin, "dev-2"), A(kT0 + 150 * kMin, "dev-1"), A(kT0 + 3 * kHour, "dev-1"),
                             A(kT0 + 3 * kHour + 10 * kMin, "dev-1")},
                            kT0 + 3 * kHour + 20 * kMin, kT0 + 3 * kHour + 21 * kMin);
  EXPECT_EQ(r.alerts_opened, 1);  // dev-2's
  std::map<TimestampUs, int64_t> by_start;
  for (const auto& [id, a] : state_.alerts) {
    if (a.group_key == "device=dev-1") by_start[a.first_event_us] = a.anomalies;
  }
  EXPECT_EQ(by_start, (std::map<TimestampUs, int64_t>{{kT0, 3}, {kT0 + 3 * kHour, 3}}));
}

TEST_F(EngineTest, RecomputedHourReplacesItsCountsInsteadOfAdding) {
  Eval({A(kT0, "dev-1"), A(kT0 + kMin, "dev-1")}, kT0 + 30 * kMin, kT0 + 30 * kMin);
  EXPECT_EQ(Only().anomalies, 2);
  // Gold recomputed hour 00: the same anomalies in new objects, plus one more.
  Eval({A(kT0, "dev-1"), A(kT0 + kMin, "dev-1"), A(kT0 + 2 * kMin, "dev-1")}, kT0 + 30 * kMin, kT0 + 31 * kMin);
  EXPECT_EQ(Only().anomalies, 3);
  EXPECT_EQ(Only().hour_counts.at(kT0), 3);
  // ... and once more with one gone.
  Eval({A(kT0, "dev-1")}, kT0 + 30 * kMin, kT0 + 32 * kMin);
  EXPECT_EQ(Only().anomalies, 1);
  // An hour with no anomalies left: its count goes.
  Eval({}, kT0 + 30 * kMin, kT0 + 33 * kMin, std::set<TimestampUs>{kT0});
  EXPECT_EQ(Only().anomalies, 0);
  EXPECT_TRUE(Only().hour_counts.empty());
}

TEST_F(EngineTest, OtherHoursKeepTheirCounts) {
  Eval({A(kT0, "dev-1"), A(kT0 + kHour, "dev-1")}, kT0 + kHour, kT0 + kHour);
  Eval({A(kT0 + kHour, "dev-1"), A(kT0 + kHour + kMin, "dev-1")}, kT0 + 2 * kHour - kMin, kT0 + 2 * kHour);
  EXPECT_EQ(Only().hour_counts.at(kT0), 1);
  EXPECT_EQ(Only().hour_counts.at(kT0 + kHour), 2);
  EXPECT_EQ(Only().anomalies, 3);
}

TEST_F(EngineTest, LateAnomalyWithinResolveAfterJoinsTheEpisode) {
  Eval({A(kT0 + 2 * kHour, "dev-1")}, kT0 + 2 * kHour, kT0 + 2 * kHour);
  // A late file for hour 01 (50 minutes before the episode's start) joins; 00:00 does not.
  const EvalResult r = Eval({A(kT0 + 70 * kMin, "dev-1")}, kT0 + 2 * kHour, kT0 + 2 * kHour + kMin);
  EXPECT_EQ(r.alerts_opened, 0);
  EXPECT_EQ(Only().anomalies, 2);
  EXPECT_EQ(Only().first_event_us, kT0 + 2 * kHour);  // the episode's identity stays
  const EvalResult r2 = Eval({A(kT0, "dev-1")}, kT0 + 2 * kHour, kT0 + 2 * kHour + 2 * kMin);
  EXPECT_EQ(r2.alerts_opened, 1);
}

TEST_F(EngineTest, GroupWaitHoldsTheFirstNotification) {
  rules_[0].group_wait_us = 5 * kMin;
  EvalResult r = Eval({A(kT0, "dev-1")}, kT0 + 4 * kMin, kT0 + 4 * kMin);
  EXPECT_EQ(r.alerts_opened, 1);
  EXPECT_TRUE(r.deliveries.empty());
  r = Eval({A(kT0, "dev-1"), A(kT0 + 4 * kMin, "dev-1"), A(kT0 + 5 * kMin, "dev-1")}, kT0 + 5 * kMin,
           kT0 + 5 * kMin);
  ASSERT_EQ(Pending(r).size(), 1u);
  const Delivery& d = *Pending(r)[0];
  EXPECT_EQ(d.notification.kind, NotificationKind::kFiring);
  EXPECT_EQ(d.notification.anomalies, 3);  // the burst is one notification
  EXPECT_EQ(d.notification.status, "firing");
  EXPECT_EQ(d.id, Only().id + "-1-file");
  EXPECT_EQ(d.notification.id, d.id);
  EXPECT_EQ(d.notification.dedup_key, Only().dedup_key);
  EXPECT_EQ(d.notification.url, "http://127.0.0.1:8080/devices/dev-1");
  EXPECT_EQ(d.notification.starts_at_us, kT0);
  EXPECT_EQ(d.notification.event_time_us, kT0 + 5 * kMin);
  EXPECT_EQ(d.next_attempt_at_us, kT0 + 5 * kMin);
  EXPECT_EQ(Only().last_notified_at_us, kT0 + 5 * kMin);
  EXPECT_EQ(Only().last_notified_event_us, kT0 + 5 * kMin);
}

TEST_F(EngineTest, OneDeliveryPerSinkAndUrlEncodedDevice) {
  rules_[0].sinks = {"file", "ops-slack"};
  config_.base_url = "https://dash.example.org/";
  const EvalResult r = Eval({A(kT0, "hall 2/dev#1")}, kT0 + kHour - kMin, kT0 + kHour);
  ASSERT_EQ(r.deliveries.size(), 2u);
  EXPECT_EQ(r.notifications, 1);
  EXPECT_EQ(r.deliveries[0].sink, "file");
  EXPECT_EQ(r.deliveries[1].sink, "ops-slack");
  EXPECT_EQ(r.deliveries[1].id, Only().id + "-1-ops-slack");
  EXPECT_EQ(r.deliveries[0].notification.url, "https://dash.example.org/devices/hall%202%2Fdev%231");
}

TEST_F(EngineTest, UpdatesAtMostEveryGroupInterval) {
  rules_[0].group_wait_us = kMin;
  rules_[0].group_interval_us = 30 * kMin;
  rules_[0].resolve_after_us = 2 * kHour;
  Eval({A(kT0, "dev-1")}, kT0 + 2 * kMin, kT0 + 2 * kMin);  // firing
  // New anomaly at 00:10: only 10 minutes since the notification: no update yet.
  EvalResult r = Eval({A(kT0, "dev-1"), A(kT0 + 10 * kMin, "dev-1")}, kT0 + 10 * kMin, kT0 + 10 * kMin);
  EXPECT_TRUE(r.deliveries.empty());
  // The data passes 00:32 (30 minutes after the notified event): the update goes.
  r = Eval({}, kT0 + 32 * kMin, kT0 + 32 * kMin, std::set<TimestampUs>{});
  ASSERT_EQ(Pending(r).size(), 1u);
  EXPECT_EQ(Pending(r)[0]->notification.kind, NotificationKind::kUpdate);
  EXPECT_EQ(Pending(r)[0]->notification.anomalies, 2);
  EXPECT_EQ(Pending(r)[0]->id, Only().id + "-2-file");
  // Nothing new: no further update.
  r = Eval({}, kT0 + 50 * kMin, kT0 + 50 * kMin, std::set<TimestampUs>{});
  EXPECT_TRUE(r.deliveries.empty());
}

TEST_F(EngineTest, RepeatsByWallClockUntilAcknowledged) {
  rules_[0].resolve_after_us = 48 * kHour;
  rules_[0].repeat_interval_us = 4 * kHour;
  const TimestampUs wall = kT0 + 100 * kHour;  // the wall clock runs apart from the data
  Eval({A(kT0, "dev-1")}, kT0 + kHour, wall);
  EvalResult r = Eval({}, kT0 + kHour, wall + 4 * kHour - 1, std::set<TimestampUs>{});
  EXPECT_TRUE(r.deliveries.empty());
  r = Eval({}, kT0 + kHour, wall + 4 * kHour, std::set<TimestampUs>{});
  ASSERT_EQ(Pending(r).size(), 1u);
  EXPECT_EQ(Pending(r)[0]->notification.kind, NotificationKind::kRepeat);
  // Acknowledged: no more repeats.
  state_.alerts.begin()->second.acked_at_us = wall + 5 * kHour;
  r = Eval({}, kT0 + kHour, wall + 20 * kHour, std::set<TimestampUs>{});
  EXPECT_TRUE(r.deliveries.empty());
  EXPECT_EQ(Only().acked_at_us, wall + 5 * kHour);
}

TEST_F(EngineTest, ResolvedOnceAfterResolveAfter) {
  rules_[0].resolve_after_us = kHour;
  Eval({A(kT0, "dev-1")}, kT0 + 10 * kMin, kT0 + 10 * kMin);  // firing
  EvalResult r = Eval({}, kT0 + kHour - 1, kT0 + kHour, std::set<TimestampUs>{});
  EXPECT_EQ(r.alerts_resolved, 0);
  r = Eval({}, kT0 + kHour, kT0 + kHour + kMin, std::set<TimestampUs>{});
  EXPECT_EQ(r.alerts_resolved, 1);
  ASSERT_EQ(Pending(r).size(), 1u);
  EXPECT_EQ(Pending(r)[0]->notification.kind, NotificationKind::kResolved);
  EXPECT_EQ(Pending(r)[0]->notification.status, "resolved");
  EXPECT_EQ(Pending(r)[0]->notification.ends_at_us, kT0 + kHour);
  EXPECT_EQ(Only().status, AlertStatus::kResolved);
  EXPECT_EQ(Only().resolved_event_us, kT0 + kHour);
  EXPECT_TRUE(Only().resolved_notified);
  r = Eval({}, kT0 + 10 * kHour, kT0 + 10 * kHour, std::set<TimestampUs>{});
  EXPECT_TRUE(r.deliveries.empty());
  EXPECT_TRUE(r.alerts.empty());
}

TEST_F(EngineTest, ShortEpisodeGetsFiringThenResolvedAndNoResolvedWithoutSendResolved) {
  rules_[0].group_wait_us = 30 * kMin;
  Eval({A(kT0, "dev-1")}, kT0 + 2 * kHour, kT0 + 2 * kHour);
  std::vector<NotificationKind> kinds;
  for (const auto& [id, d] : state_.deliveries) kinds.push_back(d.notification.kind);
  EXPECT_EQ(kinds, (std::vector<NotificationKind>{NotificationKind::kFiring, NotificationKind::kResolved}));

  state_ = {};
  rules_[0].send_resolved = false;
  const EvalResult r = Eval({A(kT0, "dev-1")}, kT0 + 2 * kHour, kT0 + 2 * kHour);
  ASSERT_EQ(r.deliveries.size(), 1u);
  EXPECT_EQ(r.deliveries[0].notification.kind, NotificationKind::kFiring);
}

TEST_F(EngineTest, SilencedIsRecordedOnceAndSentWhenTheSilenceEnds) {
  Silence s;
  s.id = "abcdefabcdef";
  s.matchers = {{"device", "=", "dev-*"}, {"metric", "!=", "humidity"}};
  s.starts_at_us = kT0;
  s.ends_at_us = kT0 + 2 * kHour;
  s.reason = "maintenance";
  state_.silences[s.id] = s;
  EvalResult r = Eval({A(kT0, "dev-1")}, kT0 + 10 * kMin, kT0 + 10 * kMin);
  ASSERT_EQ(r.deliveries.size(), 1u);
  EXPECT_EQ(r.deliveries[0].state, DeliveryState::kSilenced);
  EXPECT_EQ(r.deliveries[0].silence_id, s.id);
  EXPECT_EQ(r.silenced, 1);
  EXPECT_EQ(r.notifications, 0);
  EXPECT_EQ(Only().last_notified_at_us, 0);
  // The next run during the silence records nothing new.
  r = Eval({}, kT0 + 20 * kMin, kT0 + 20 * kMin, std::set<TimestampUs>{});
  EXPECT_TRUE(r.deliveries.empty());
  // The silence ends while the alert still fires: it goes out once, as firing.
  r = Eval({}, kT0 + 30 * kMin, kT0 + 2 * kHour, std::set<TimestampUs>{});
  ASSERT_EQ(r.deliveries.size(), 1u);
  EXPECT_EQ(r.deliveries[0].state, DeliveryState::kPending);
  EXPECT_EQ(r.deliveries[0].notification.kind, NotificationKind::kFiring);
  EXPECT_EQ(r.deliveries[0].id, Only().id + "-2-file");
}

TEST_F(EngineTest, SilenceMatchersAndNoResolvedWithoutFiring) {
  Silence s;
  s.id = "s1";
  s.matchers = {{"rule", "=", "r"}};
  s.starts_at_us = kT0;
  s.ends_at_us = kT0 + 100 * kHour;
  state_.silences[s.id] = s;
  Eval({A(kT0, "dev-1")}, kT0 + 3 * kHour, kT0 + 3 * kHour);  // opens, resolves, all silenced
  EXPECT_EQ(Only().status, AlertStatus::kResolved);
  for (const auto& [id, d] : state_.deliveries) {
    EXPECT_EQ(d.state, DeliveryState::kSilenced);
    EXPECT_NE(d.notification.kind, NotificationKind::kResolved);
  }
  Alert a = Only();
  s.matchers = {{"device", "!=", "dev-1"}};
  EXPECT_FALSE(SilenceMatches(s, a));
  s.matchers = {{"group", "=", "device=dev-1"}, {"severity", "=", "warning"}, {"detector", "=", "default"}};
  EXPECT_TRUE(SilenceMatches(s, a));
  EXPECT_EQ(ActiveSilence(state_, a, kT0 + 100 * kHour), nullptr);  // ended
}

TEST_F(EngineTest, PerDeviceCapThrottles) {
  rules_[0].max_per_device_per_hour = 2;
  rules_[0].group_by = "device_metric";
  const EvalResult r = Eval({A(kT0, "dev-1", "a"), A(kT0, "dev-1", "b"), A(kT0, "dev-1", "c"), A(kT0, "dev-2", "a")},
                            kT0 + 10 * kMin, kT0 + 10 * kMin);
  EXPECT_EQ(r.notifications, 3);
  EXPECT_EQ(r.throttled, 1);
  int throttled = 0;
  for (const Delivery& d : r.deliveries) {
    if (d.state == DeliveryState::kThrottled) {
      ++throttled;
      EXPECT_EQ(d.notification.device, "dev-1");
      EXPECT_NE(d.last_error.find("cap of 2"), std::string::npos);
    }
  }
  EXPECT_EQ(throttled, 1);
  EXPECT_EQ(r.sent_increments.at("dev-1").at(HourStart(kT0 + 10 * kMin)), 2);
  // The next run in the same wall hour records it no second time; the next hour sends it.
  EvalResult again = Eval({}, kT0 + 20 * kMin, kT0 + 20 * kMin, std::set<TimestampUs>{});
  EXPECT_TRUE(again.deliveries.empty());
  again = Eval({}, kT0 + 20 * kMin, kT0 + 70 * kMin, std::set<TimestampUs>{});
  EXPECT_EQ(again.notifications, 1);
}

TEST_F(EngineTest, LookbackKeepsOldAnomaliesFromOpeningAlerts) {
  config_.lookback_us = 24 * kHour;
  const EvalResult r = Eval({A(kT0, "dev-1"), A(kT0 + 30 * kHour, "dev-2")}, kT0 + 30 * kHour, kT0 + 30 * kHour);
  EXPECT_EQ(r.alerts_opened, 1);
  EXPECT_EQ(Only().labels.at("device"), "dev-2");
}

TEST_F(EngineTest, RuleGroupingAndTwoRules) {
  rules_[0].group_by = "rule";
  config::AlertRule loc = Rule("by-location");
  loc.group_by = "location";
  loc.severity = "critical";
  rules_.push_back(loc);
  Eval({A(kT0, "dev-1"), A(kT0, "dev-2"), A(kT0 + kMin, "dev-1")}, kT0 + 10 * kMin, kT0 + 10 * kMin);
  ASSERT_EQ(state_.alerts.size(), 3u);  // rule=r, location=hall-1, location=hall-2
  std::set<std::string> keys;
  for (const auto& [id, a] : state_.alerts) keys.insert(a.rule + " " + a.group_key);
  EXPECT_EQ(keys, (std::set<std::string>{"r rule=r", "by-location location=hall-1", "by-location location=hall-2"}));
}

std::string Fingerprint(const EvalResult& r) {
  std::string s;
  for (const Alert& a : r.alerts) {
    s += a.id + a.dedup_key + std::to_string(a.anomalies) + std::to_string(a.last_event_us) +
         std::to_string(a.max_score) + AlertStatusName(a.status) + "\n";
  }
  for (const Delivery& d : r.deliveries) {
    s += d.id + DeliveryStateName(d.state) + NotificationKindName(d.notification.kind) + d.notification.url +
         std::to_string(d.notification.anomalies) + "\n";
  }
  return s;
}

TEST(AlertEngine, DeterministicForTheSameInputs) {
  std::vector<Anomaly> anomalies;
  for (int i = 0; i < 500; ++i) {
    anomalies.push_back(A(kT0 + (i * 7919 % 600) * kMin, "dev-" + std::to_string(i % 13), i % 2 ? "a" : "b",
                          "default", 0.5 + (i % 10) / 25.0));
  }
  Sort(anomalies);
  std::vector<config::AlertRule> rules = {Rule("one"), Rule("two")};
  rules[1].group_by = "device_metric";
  rules[1].max_per_device_per_hour = 3;
  const config::AlertConfig config;
  EvalInput in;
  in.rules = &rules;
  in.config = &config;
  in.anomalies = anomalies;
  in.hours = HoursOf(anomalies);
  in.watermark_us = kT0 + 10 * kHour;
  in.now_us = kT0 + 10 * kHour;
  const AlertState state;
  const std::string a = Fingerprint(Evaluate(state, in));
  const std::string b = Fingerprint(Evaluate(state, in));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

TEST(AlertEngine, PreviewReplaysByHour) {
  std::vector<Anomaly> anomalies = {A(kT0, "dev-1"), A(kT0 + 10 * kMin, "dev-1"), A(kT0 + 5 * kHour, "dev-2"),
                                    A(kT0 + 26 * kHour, "dev-1")};
  Sort(anomalies);
  std::vector<config::AlertRule> rules = {Rule()};
  const PreviewReport p = Preview(rules, config::AlertConfig{}, anomalies, kT0 + 30 * kHour);
  EXPECT_EQ(p.alerts, 3);
  EXPECT_EQ(p.anomalies_matched, 4);
  // Each alert: firing and resolved.
  EXPECT_EQ(p.notifications, 6);
  EXPECT_EQ(p.per_rule.at("r"), 6);
  EXPECT_EQ(p.per_device.at("dev-1"), 4);
  EXPECT_EQ(p.per_device.at("dev-2"), 2);
  EXPECT_EQ(p.per_day.at("2024-01-05"), 4);
  EXPECT_EQ(p.per_day.at("2024-01-06"), 2);
  // dev-1 00:00-01:10, dev-2 05:00-06:00, dev-1 02:00-03:00 next day: 70 + 60 + 60 minutes.
  EXPECT_DOUBLE_EQ(p.seconds_in_alert, 190 * 60.0);
  int64_t by_hour = 0;
  for (const auto& [h, n] : p.per_hour_of_day) by_hour += n;
  EXPECT_EQ(by_hour, 6);
}

}  // namespace
}  // namespace iotad::alert
