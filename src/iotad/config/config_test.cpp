#include "iotad/config/config.h"

#include <gtest/gtest.h>

namespace iotad::config {

TEST(ConfigTest, ExampleFileParsesToTheDefaults) {
  auto parsed = ParseConfig(ExampleConfigToml(), "example");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const LakeConfig defaults;
  EXPECT_EQ(parsed->ingest.inbox, defaults.ingest.inbox);
  EXPECT_EQ(parsed->silver.dimension_columns, defaults.silver.dimension_columns);
  EXPECT_EQ(parsed->gold.detectors, defaults.gold.detectors);
  EXPECT_DOUBLE_EQ(parsed->gold.zscore_threshold, 3.0);
}

TEST(ConfigTest, OverridesAreApplied) {
  auto parsed = ParseConfig("[gold]\nzscore_threshold = 4\ndetectors = [\"zscore\"]\n", "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_DOUBLE_EQ(parsed->gold.zscore_threshold, 4.0);
  EXPECT_EQ(parsed->gold.detectors, std::vector<std::string>{"zscore"});
}

TEST(ConfigTest, UnknownKeyIsAnErrorNamingTheKey) {
  auto parsed = ParseConfig("[gold]\nzscore_treshold = 4\n", "lake/iotad.toml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Errc::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("gold.zscore_treshold"), std::string::npos);
  EXPECT_NE(parsed.status().message().find("lake/iotad.toml"), std::string::npos);
}

TEST(ConfigTest, UnknownSectionWrongTypeAndBadEnumAreErrors) {
  EXPECT_FALSE(ParseConfig("[golden]\nx = 1\n", "t").ok());
  EXPECT_FALSE(ParseConfig("[gold]\nzscore_threshold = \"high\"\n", "t").ok());
  EXPECT_FALSE(ParseConfig("[gold]\ndetectors = [\"magic\"]\n", "t").ok());
  EXPECT_FALSE(ParseConfig("[ingest]\npartition_by = \"weekday\"\n", "t").ok());
  EXPECT_FALSE(ParseConfig("[gold\n", "t").ok());
}

}  // namespace iotad::config

namespace iotad::config {

TEST(DetectRulesTest, LaterMatchingRulesOverrideAndGlobsSelectDevices) {
  auto parsed = ParseConfig(R"(
[gold]
detectors = ["default"]
false_alarms_per_day = 0.02

[[detect.rule]]
metrics = ["humidity_pc"]
min = 0
max = 100

[[detect.rule]]
devices = ["freezer-*"]
metrics = ["temp_c"]
max = -10
false_alarms_per_day = 0.005
silence = "15m"
detectors = ["default", "zscore"]
)",
                            "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const SeriesSettings h = ResolveSeries(*parsed, "dev-1", "humidity_pc");
  EXPECT_EQ(h.min, 0.0);
  EXPECT_EQ(h.max, 100.0);
  EXPECT_EQ(h.detectors, std::vector<std::string>{"default"});
  const SeriesSettings f = ResolveSeries(*parsed, "freezer-7", "temp_c");
  EXPECT_EQ(f.max, -10.0);
  EXPECT_TRUE(std::isnan(f.min));
  EXPECT_DOUBLE_EQ(f.false_alarms_per_day, 0.005);
  EXPECT_EQ(f.silence_us, 15 * 60 * 1'000'000LL);
  EXPECT_EQ(f.detectors, (std::vector<std::string>{"default", "zscore"}));
  const SeriesSettings other = ResolveSeries(*parsed, "fridge-7", "temp_c");
  EXPECT_TRUE(std::isnan(other.max));
  EXPECT_DOUBLE_EQ(other.false_alarms_per_day, 0.02);
}

TEST(DetectRulesTest, TyposAndBadValuesAreErrors) {
  auto typo = ParseConfig("[[detect.rule]]\nmetrix = [\"temp_c\"]\n", "t.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("detect.rule[0].metrix"), std::string::npos);
  EXPECT_FALSE(ParseConfig("[[detect.rule]]\nmin = 5\nmax = 1\n", "t.toml").ok());
  EXPECT_FALSE(ParseConfig("[[detect.rule]]\nfalse_alarms_per_day = 0\n", "t.toml").ok());
  EXPECT_FALSE(ParseConfig("[[detect.rule]]\nsilence = \"soon\"\n", "t.toml").ok());
  EXPECT_FALSE(ParseConfig("[[detect.rule]]\ndetectors = [\"magic\"]\n", "t.toml").ok());
  EXPECT_FALSE(ParseConfig("[detect]\nrules = 1\n", "t.toml").ok());
}

TEST(DetectRulesTest, ParamsAreQualifiedByDetectorAndLaterRulesWin) {
  auto parsed = ParseConfig(R"(
[[detect.rule]]
params = { "window_z.window" = 64, "cusum.k" = 1 }
[[detect.rule]]
devices = ["a-*"]
params = { "window_z.window" = 16 }
)",
                            "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto value = [](const std::vector<std::pair<std::string, double>>& params, const std::string& key) {
    for (const auto& [k, v] : params) {
      if (k == key) return v;
    }
    return -1.0;
  };
  const auto a = ResolveSeries(*parsed, "a-1", "temp_c").params;
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(value(a, "window_z.window"), 16);
  EXPECT_EQ(value(a, "cusum.k"), 1);
  EXPECT_EQ(value(ResolveSeries(*parsed, "b-1", "temp_c").params, "window_z.window"), 64);
  EXPECT_FALSE(ParseConfig("[[detect.rule]]\nparams = { window = 64 }\n", "t.toml").ok());
  EXPECT_FALSE(ParseConfig("[[detect.rule]]\nparams = { \"magic.window\" = 64 }\n", "t.toml").ok());
  EXPECT_FALSE(ParseConfig("[[detect.rule]]\nparams = { \"window_z.window\" = \"big\" }\n", "t.toml").ok());
}

TEST(DetectRulesTest, GlobMatch) {
  EXPECT_TRUE(GlobMatch("freezer-*", "freezer-12"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("d?v-*-x", "dev-1-x"));
  EXPECT_FALSE(GlobMatch("freezer-*", "fridge-1"));
  EXPECT_FALSE(GlobMatch("dev-?", "dev-12"));
}

}  // namespace iotad::config
