#include "iotad/alert/views.h"

#include <gtest/gtest.h>

namespace iotad::alert {
namespace {

constexpr TimestampUs kT0 = 1'704'067'200'000'000;  // 2024-01-01T00:00:00Z

std::unique_ptr<lake::DuckSession> Session() {
  auto s = lake::DuckSession::Open(lake::DuckSessionOptions{1, "256MB", ""});
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(*s);
}

std::vector<std::string> Describe(lake::DuckSession& s, const std::string& table) {
  auto r = s.Query("SELECT column_name || ' ' || column_type FROM (DESCRIBE " + table + ")");
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (;;) {
    auto chunk = r->Next();
    if (!chunk.ok() || !*chunk || chunk->size() == 0) break;
    auto strs = chunk->Strings(0);
    for (size_t i = 0; i < chunk->size(); ++i) out.emplace_back(strs[i]);
  }
  return out;
}

AlertState SampleState() {
  AlertState st;
  Alert a;
  a.id = "0123456789ab";
  a.dedup_key = "r|device=dev-1|2024-01-01T00:00:00Z";
  a.rule = "r";
  a.severity = "warning";
  a.group_key = "device=dev-1";
  a.labels = {{"device", "dev-1"}, {"detector", "default"}};
  a.first_event_us = kT0;
  a.last_event_us = kT0 + 60'000'000;
  a.anomalies = 3;
  a.max_score = 4.5;
  a.latest.device_id = "dev-1";
  a.latest.metric = "temp_c";
  a.latest.explanation = "it's hot";
  a.acked_at_us = kT0 + 5;
  a.acked_by = "ops";
  st.alerts[a.id] = a;
  Delivery d1;
  d1.id = a.id + "-1-file";
  d1.alert_id = a.id;
  d1.sink = "file";
  d1.state = DeliveryState::kDelivered;
  d1.attempts = 2;
  Delivery d2 = d1;
  d2.id = a.id + "-1-slack";
  d2.sink = "slack";
  d2.state = DeliveryState::kPending;
  d2.attempts = 0;
  d2.next_attempt_at_us = kT0;
  st.deliveries[d1.id] = d1;
  st.deliveries[d2.id] = d2;
  Attempt at1;
  at1.delivery_id = d1.id;
  at1.n = 1;
  at1.result.outcome = AttemptOutcome::kRetry;
  at1.result.status_code = 503;
  at1.result.error = "HTTP 503";
  Attempt at2 = at1;
  at2.n = 2;
  at2.result.outcome = AttemptOutcome::kDelivered;
  at2.result.status_code = 200;
  at2.result.error = "";
  st.attempts = {at1, at2};
  Silence s;
  s.id = "silence00001";
  s.matchers = {{"device", "=", "dev-1"}, {"metric", "!=", "hum*"}};
  s.starts_at_us = kT0;
  s.ends_at_us = kT0 + 3'600'000'000;
  st.silences[s.id] = s;
  return st;
}

TEST(AlertViewsTest, EmptyStateHasTheSameColumns) {
  auto empty = Session();
  ASSERT_TRUE(CreateAlertViews(*empty, AlertState{}, kT0).ok());
  auto full = Session();
  ASSERT_TRUE(CreateAlertViews(*full, SampleState(), kT0).ok());
  for (const char* t : {"alerts", "alert_deliveries", "silences"}) {
    const auto cols = Describe(*empty, t);
    EXPECT_FALSE(cols.empty()) << t;
    EXPECT_EQ(cols, Describe(*full, t)) << t;
  }
  const auto alert_cols = Describe(*empty, "alerts");
  ASSERT_EQ(alert_cols.size(), 22u);
  EXPECT_EQ(alert_cols.front(), "id VARCHAR");
  EXPECT_EQ(alert_cols[10], "first_event TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(Describe(*empty, "alert_deliveries").size(), 15u);
  EXPECT_EQ(Describe(*empty, "silences").size(), 9u);
  EXPECT_EQ(*empty->QueryInt("SELECT count(*) FROM alerts"), 0);
}

TEST(AlertViewsTest, RowsFromTheState) {
  auto s = Session();
  ASSERT_TRUE(CreateAlertViews(*s, SampleState(), kT0 + 1).ok());
  EXPECT_EQ(*s->QueryInt("SELECT count(*) FROM alerts WHERE device = 'dev-1' AND acknowledged_by = 'ops' "
                         "AND explanation = 'it''s hot' AND resolved_event IS NULL "
                         "AND first_event = TIMESTAMPTZ '2024-01-01 00:00:00+00'"),
            1);
  // One row per attempt, plus one with NULL attempt fields for the delivery never attempted.
  EXPECT_EQ(*s->QueryInt("SELECT count(*) FROM alert_deliveries"), 3);
  EXPECT_EQ(*s->QueryInt("SELECT count(*) FROM alert_deliveries WHERE attempt IS NULL AND sink = 'slack' "
                         "AND state = 'pending' AND next_attempt_at IS NOT NULL"),
            1);
  EXPECT_EQ(*s->QueryInt("SELECT max(status_code) FROM alert_deliveries WHERE outcome = 'retry'"), 503);
  EXPECT_EQ(*s->QueryInt("SELECT count(*) FROM silences WHERE active AND matchers = 'device=dev-1,metric!=hum*'"), 1);
  // Only the tables the SQL names are made.
  auto only = Session();
  ASSERT_TRUE(CreateAlertViews(*only, SampleState(), kT0, "SELECT * FROM silences").ok());
  EXPECT_FALSE(only->QueryInt("SELECT count(*) FROM alerts").ok());
  EXPECT_TRUE(NamesAlertViews("select * from ALERTS"));
  EXPECT_FALSE(NamesAlertViews("select * from anomalies"));
}

}  // namespace
}  // namespace iotad::alert
