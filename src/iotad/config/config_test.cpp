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
