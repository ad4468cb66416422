// The rules over a real lake: `iotad generate` + `iotad run`, then the gold reader and the engine
// in process (the stage around them is `iotad alert`'s). What the reader returns is checked
// against what `iotad sql` says the lake holds.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "e2e_util.h"
#include "iotad/alert/engine.h"
#include "iotad/alert/gold_reader.h"
#include "iotad/lake/lake.h"

namespace iotad::e2e {
namespace {

class AlertEngineE2eTest : public LakeE2eTest {
 protected:
  void SetUp() override {
    LakeE2eTest::SetUp();
    ASSERT_EQ(RunIotad({"generate", "--devices", "6", "--hours", "5", "--anomaly-kinds", "spike", "--anomaly-rate",
                        "200", "--out", dir_ / "gen"})
                  .exit_code,
              0);
    const CmdResult run = Iotad({"run", "--input", dir_ / "gen"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    ASSERT_GT(SqlInt(lake_, "SELECT count(*) FROM anomalies"), 0);
    auto opened = lake::Lake::Open(lake_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    lake_obj_ = std::move(*opened);
  }
  std::unique_ptr<lake::Lake> lake_obj_;
};

config::AlertRule AnyDetector() {
  config::AlertRule r;
  r.name = "any";
  r.detectors.clear();
  r.group_wait_us = 60'000'000;
  r.sinks = {"file"};
  r.max_per_device_per_hour = 0;
  return r;
}

TEST_F(AlertEngineE2eTest, ReadsTheGoldDeltaOnceAndEvaluatesIt) {
  const std::vector<config::AlertRule> rules = {AnyDetector()};
  alert::AlertState state;
  auto delta = alert::ReadGoldDelta(*lake_obj_, state, rules);
  ASSERT_TRUE(delta.ok()) << delta.status().message();
  EXPECT_EQ(static_cast<long long>(delta->anomalies.size()), SqlInt(lake_, "SELECT count(*) FROM anomalies"));
  EXPECT_EQ(static_cast<long long>(delta->hours.size()), SqlInt(lake_, "SELECT count(DISTINCT hour) FROM anomalies"));
  EXPECT_EQ(static_cast<long long>(delta->seen_set.size()),
            static_cast<long long>(ListFiles(lake_, "gold/").size()));
  EXPECT_TRUE(delta->seen_erase.empty());
  EXPECT_EQ(delta->watermark_us, SqlInt(lake_, "SELECT epoch_us(max(event_time)) FROM silver"));
  // Sorted as the engine wants: by event time, then device, metric, detector.
  for (size_t i = 1; i < delta->anomalies.size(); ++i) {
    const alert::Anomaly& a = delta->anomalies[i - 1];
    const alert::Anomaly& b = delta->anomalies[i];
    ASSERT_LE(std::tie(a.event_time, a.device_id, a.metric, a.detector),
              std::tie(b.event_time, b.device_id, b.metric, b.detector));
  }
  const alert::Anomaly& first = delta->anomalies.front();
  EXPECT_FALSE(first.device_id.empty());
  EXPECT_FALSE(first.explanation.empty());
  EXPECT_FALSE(first.rule.empty());
  EXPECT_GT(first.score, 0.0);

  const config::AlertConfig config;
  alert::EvalInput in;
  in.rules = &rules;
  in.config = &config;
  in.anomalies = delta->anomalies;
  in.hours = delta->hours;
  in.watermark_us = delta->watermark_us;
  in.now_us = delta->watermark_us;
  const alert::EvalResult result = alert::Evaluate(state, in);
  EXPECT_GT(result.alerts_opened, 0);
  EXPECT_LE(result.alerts_opened, 6);  // one per device at most: spikes within an hour of each other
  EXPECT_EQ(result.anomalies_matched, static_cast<int64_t>(delta->anomalies.size()));
  EXPECT_GT(result.notifications, 0);
  alert::ApplyEvalResult(state, result);
  for (const auto& [key, stamp] : delta->seen_set) state.gold_seen[key] = stamp;

  // The second call finds nothing new to read, and the engine nothing to do.
  auto again = alert::ReadGoldDelta(*lake_obj_, state, rules);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->anomalies.empty());
  EXPECT_TRUE(again->hours.empty());
  EXPECT_TRUE(again->seen_set.empty());
  EXPECT_TRUE(again->seen_erase.empty());
  in.anomalies = again->anomalies;
  in.hours = again->hours;
  const alert::EvalResult nothing = alert::Evaluate(state, in);
  EXPECT_TRUE(nothing.alerts.empty());
  EXPECT_TRUE(nothing.deliveries.empty());

  // A key seen before that is no longer live: its hour is read again, the key erased.
  alert::AlertState stale = state;
  const std::string gone = "gold/year=2024/month=1/day=1/hour=2/gone.parquet";
  stale.gold_seen[gone] = "0123";
  auto after_delete = alert::ReadGoldDelta(*lake_obj_, stale, rules);
  ASSERT_TRUE(after_delete.ok()) << after_delete.status().message();
  EXPECT_EQ(after_delete->seen_erase, std::vector<std::string>{gone});
  ASSERT_EQ(after_delete->hours.size(), 1u);
  EXPECT_EQ(static_cast<long long>(after_delete->anomalies.size()),
            SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE hour = 2"));
}

TEST_F(AlertEngineE2eTest, DetectorFilterAndTimeRange) {
  config::AlertRule zscore = AnyDetector();
  zscore.detectors = {"zscore"};
  auto delta = alert::ReadGoldDelta(*lake_obj_, {}, {zscore});
  ASSERT_TRUE(delta.ok()) << delta.status().message();
  EXPECT_EQ(static_cast<long long>(delta->anomalies.size()),
            SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'zscore'"));
  for (const alert::Anomaly& a : delta->anomalies) ASSERT_EQ(a.detector, "zscore");

  const TimestampUs start = SqlInt(lake_, "SELECT epoch_us(min(event_time)) FROM silver");
  const TimestampUs from = start + 3'600'000'000LL + 1'800'000'000LL;  // 01:30
  const TimestampUs to = start + 3 * 3'600'000'000LL;                   // 03:00
  auto range = alert::ReadAnomalies(*lake_obj_, {AnyDetector()}, from, to);
  ASSERT_TRUE(range.ok()) << range.status().message();
  EXPECT_EQ(static_cast<long long>(range->size()),
            SqlInt(lake_, fmt::format("SELECT count(*) FROM anomalies WHERE epoch_us(event_time) >= {} AND "
                                      "epoch_us(event_time) < {}",
                                      from, to)));
  for (const alert::Anomaly& a : *range) {
    ASSERT_GE(a.event_time, from);
    ASSERT_LT(a.event_time, to);
  }
  // Lookback: hours wholly before watermark - lookback are marked seen without being read.
  const std::string config_path = lake_ + "/iotad.toml";
  std::string text = ReadFile(config_path);
  const size_t at = text.find("lookback = \"7d\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 16, "lookback = \"2h\"");
  WriteFile(config_path, text);
  auto reopened = lake::Lake::Open(lake_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  auto watermark = alert::SilverWatermark(**reopened);
  ASSERT_TRUE(watermark.ok());
  EXPECT_EQ(*watermark, SqlInt(lake_, "SELECT epoch_us(max(event_time)) FROM silver"));
  auto recent = alert::ReadGoldDelta(**reopened, {}, {AnyDetector()});
  ASSERT_TRUE(recent.ok()) << recent.status().message();
  EXPECT_EQ(recent->seen_set.size(), ListFiles(lake_, "gold/").size());  // all marked seen
  const TimestampUs oldest = *watermark - 2 * 3'600'000'000LL;
  ASSERT_FALSE(recent->hours.empty());
  for (const TimestampUs h : recent->hours) EXPECT_GT(h + 3'600'000'000LL, oldest);
  EXPECT_EQ(static_cast<long long>(recent->anomalies.size()),
            SqlInt(lake_, fmt::format("SELECT count(*) FROM anomalies WHERE epoch_us(date_trunc('hour', event_time)) "
                                      "+ 3600000000 > {}",
                                      oldest)));
}

}  // namespace
}  // namespace iotad::e2e
