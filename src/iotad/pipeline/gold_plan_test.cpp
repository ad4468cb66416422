#include "iotad/pipeline/gold_plan.h"

#include <gtest/gtest.h>

#include <cmath>

#include "iotad/detect/registry.h"

namespace iotad::pipeline {
namespace {

config::LakeConfig ConfigWithRule() {
  config::LakeConfig c;
  c.gold.detectors = {"zscore", "robust_zscore", "default"};
  config::DetectRule rule;
  rule.metrics = {"temp_c"};
  rule.detectors = {"zscore", "cusum"};
  rule.false_alarms_per_day = 0.5;
  rule.params = {{"zscore.threshold", 2.5}};
  c.detect.rules.push_back(rule);
  return c;
}

TEST(GoldPlanTest, ResolvesDetectorsKindsVersionsAndThresholdsOnce) {
  const config::LakeConfig c = ConfigWithRule();
  auto plan = MakeGoldPlan(c, GoldOptions{});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  // gold.detectors, then those the rules add, each once.
  EXPECT_EQ(plan->detectors, (std::vector<std::string>{"zscore", "robust_zscore", "default", "cusum"}));
  EXPECT_EQ(plan->kinds, (std::vector<DetectorKind>{DetectorKind::kZScore, DetectorKind::kRobust,
                                                    DetectorKind::kOnline, DetectorKind::kOnline}));
  ASSERT_EQ(plan->versions.size(), 4u);
  for (size_t k = 0; k < plan->detectors.size(); ++k) {
    EXPECT_EQ(plan->versions[k], *detect::DetectorVersion(plan->detectors[k])) << plan->detectors[k];
  }
  EXPECT_EQ(plan->thresholds[0], 3.0);
  EXPECT_EQ(plan->thresholds[1], 3.5);
  EXPECT_TRUE(std::isnan(plan->thresholds[2]));
  EXPECT_FALSE(plan->all_named);
  EXPECT_TRUE(plan->batch_params);  // the rule sets zscore.threshold
  EXPECT_TRUE(plan->use_robust);
  EXPECT_TRUE(plan->use_online);
  EXPECT_EQ(plan->max_baseline_points, c.gold.max_baseline_points);
  EXPECT_NE(plan->fingerprint.find("detectors=zscore,robust_zscore,default,cusum (per rules)"), std::string::npos)
      << plan->fingerprint;
}

TEST(GoldPlanTest, SeriesResolveFromThePlansOwnCopyOfTheRules) {
  auto c = std::make_unique<config::LakeConfig>(ConfigWithRule());
  auto plan = MakeGoldPlan(*c, GoldOptions{});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const config::SeriesSettings before = plan->resolve("dev-1", "temp_c");
  // The config the plan came from changes, then goes away: the plan does not read it again.
  c->detect.rules.clear();
  c->gold.detectors = {"zscore"};
  c.reset();
  const config::SeriesSettings after = plan->resolve("dev-1", "temp_c");
  EXPECT_EQ(after.detectors, before.detectors);
  EXPECT_EQ(after.detectors, (std::vector<std::string>{"zscore", "cusum"}));
  EXPECT_EQ(after.false_alarms_per_day, 0.5);
  ASSERT_EQ(after.params.size(), 1u);
  EXPECT_EQ(plan->resolve("dev-1", "humidity_pc").detectors,
            (std::vector<std::string>{"zscore", "robust_zscore", "default"}));
}

TEST(GoldPlanTest, NamedDetectorsRunEverywhereAndAreChecked) {
  const config::LakeConfig c = ConfigWithRule();
  GoldOptions options;
  options.detectors = {"zscore"};
  auto plan = MakeGoldPlan(c, options);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_TRUE(plan->all_named);
  EXPECT_EQ(plan->detectors, (std::vector<std::string>{"zscore"}));
  EXPECT_FALSE(plan->use_online);

  options.detectors = {"no_such_detector"};
  auto bad = MakeGoldPlan(c, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("gold: "), std::string::npos) << bad.status().message();

  config::LakeConfig none;
  none.gold.detectors.clear();
  auto empty = MakeGoldPlan(none, GoldOptions{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "gold: no detector chosen");
}

}  // namespace
}  // namespace iotad::pipeline
