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

namespace iotad::config {
namespace {

const MachineLimits kTwoCores{2, 8LL << 30};

/// The error of `toml` in a file named "lake/iotad.toml"; fails the test when it parses.
std::string ErrorOf(const std::string& toml) {
  auto parsed = ParseConfig(toml, "lake/iotad.toml", kTwoCores);
  if (parsed.ok()) {
    ADD_FAILURE() << "accepted: " << toml;
    return "";
  }
  EXPECT_EQ(parsed.status().code(), Errc::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("lake/iotad.toml"), std::string::npos) << parsed.status().message();
  EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos) << parsed.status().message();
  return parsed.status().message();
}

bool Names(const std::string& message, const std::string& key) { return message.find(key) != std::string::npos; }

}  // namespace

TEST(ConfigValidationTest, NanAndInfThresholdsAreRefused) {
  // Issue 7 repro: `zscore_threshold = nan` used to be accepted and flagged nothing.
  EXPECT_TRUE(Names(ErrorOf("[gold]\nzscore_threshold = nan\n"), "'gold.zscore_threshold'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nzscore_threshold = inf\n"), "'gold.zscore_threshold'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nzscore_threshold = 0\n"), "'gold.zscore_threshold'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nrobust_threshold = -inf\n"), "'gold.robust_threshold'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nrobust_threshold = -1.0\n"), "'gold.robust_threshold'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nfalse_alarms_per_day = nan\n"), "'gold.false_alarms_per_day'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nfalse_alarms_per_day = 0\n"), "'gold.false_alarms_per_day'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nfalse_alarms_per_day = inf\n"), "'gold.false_alarms_per_day'"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nfalse_alarms_per_day = nan\n"), "detect.rule[0].false_alarms_per_day"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nmin = nan\n"), "detect.rule[0].min"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nmax = inf\n"), "detect.rule[0].max"));
  auto ok = ParseConfig("[gold]\nzscore_threshold = 2.5\nfalse_alarms_per_day = 0.5\n", "t", kTwoCores);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_DOUBLE_EQ(ok->gold.zscore_threshold, 2.5);
}

TEST(ConfigValidationTest, IntegersHaveRanges) {
  EXPECT_TRUE(Names(ErrorOf("[gold]\nmin_points = 0\n"), "'gold.min_points'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nmin_points = 1.5\n"), "'gold.min_points'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nmax_buffered_rows = 10\n"), "'silver.max_buffered_rows'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nmax_buffered_rows = 1000000000000\n"), "'silver.max_buffered_rows'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\nmax_baseline_points = -5\n"), "'gold.max_baseline_points'"));
}

TEST(ConfigValidationTest, EnumerationsAreChecked) {
  EXPECT_TRUE(Names(ErrorOf("[silver]\ncompression = \"lz4\"\n"), "'silver.compression'"));
  EXPECT_TRUE(Names(ErrorOf("[ingest]\npartition_by = \"weekday\"\n"), "'ingest.partition_by'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\ndetectors = [\"zscore\", \"magic\"]\n"), "'gold.detectors'"));
  EXPECT_TRUE(Names(ErrorOf("[gold]\ndetectors = []\n"), "'gold.detectors'"));
  EXPECT_TRUE(Names(ErrorOf("[ingest]\ninbox = \"\"\n"), "'ingest.inbox'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\ntime_columns = []\n"), "'silver.time_columns'"));
}

TEST(ConfigValidationTest, ThreadsAreCappedAtTheMachineOrRefused) {
  // Issue 7 repro: `duckdb.threads = 100000` made `iotad sql "select 1"` start ~30,000 threads.
  const std::string too_many = ErrorOf("[duckdb]\nthreads = 100000\n");
  EXPECT_TRUE(Names(too_many, "'duckdb.threads'"));
  EXPECT_TRUE(Names(too_many, "1024"));
  EXPECT_TRUE(Names(ErrorOf("[duckdb]\nthreads = -1\n"), "'duckdb.threads'"));
  auto capped = ParseConfig("[duckdb]\nthreads = 64\n", "lake/iotad.toml", kTwoCores);
  ASSERT_TRUE(capped.ok()) << capped.status().message();
  EXPECT_EQ(capped->duckdb.threads, 2);
  ASSERT_EQ(capped->warnings.size(), 1u);
  EXPECT_TRUE(Names(capped->warnings[0], "'duckdb.threads' = 64"));
  EXPECT_TRUE(Names(capped->warnings[0], "2 hardware threads"));
  EXPECT_TRUE(Names(capped->warnings[0], "lake/iotad.toml"));
  auto fits = ParseConfig("[duckdb]\nthreads = 2\n", "t", kTwoCores);
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->duckdb.threads, 2);
  EXPECT_TRUE(fits->warnings.empty());
  auto all = ParseConfig("[duckdb]\nthreads = 0\n", "t", kTwoCores);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->duckdb.threads, 0);
}

TEST(ConfigValidationTest, MemoryLimitMustBeASize) {
  // Issue 7 repro: `duckdb.memory_limit = "lots"` was accepted by `config check`.
  EXPECT_TRUE(Names(ErrorOf("[duckdb]\nmemory_limit = \"lots\"\n"), "'duckdb.memory_limit'"));
  EXPECT_TRUE(Names(ErrorOf("[duckdb]\nmemory_limit = \"1 parsec\"\n"), "'duckdb.memory_limit'"));
  EXPECT_TRUE(Names(ErrorOf("[duckdb]\nmemory_limit = \"1KB\"\n"), "'duckdb.memory_limit'"));  // too small
  EXPECT_TRUE(Names(ErrorOf("[duckdb]\nmemory_limit = \"150%\"\n"), "'duckdb.memory_limit'"));
  EXPECT_TRUE(Names(ErrorOf("[duckdb]\nmemory_limit = 1024\n"), "'duckdb.memory_limit'"));
  auto mib = ParseConfig("[duckdb]\nmemory_limit = \"512MiB\"\n", "t", kTwoCores);
  ASSERT_TRUE(mib.ok()) << mib.status().message();
  EXPECT_EQ(mib->duckdb.memory_limit, "512MiB");
  EXPECT_EQ(mib->duckdb.memory_limit_bytes, 512LL << 20);
  auto pct = ParseConfig("[duckdb]\nmemory_limit = \"50%\"\n", "t", kTwoCores);
  ASSERT_TRUE(pct.ok()) << pct.status().message();
  EXPECT_EQ(pct->duckdb.memory_limit_bytes, 4LL << 30);
  EXPECT_EQ(pct->duckdb.memory_limit, fmt::format("{} bytes", 4LL << 30));  // DuckDB takes no percentages
}

TEST(ConfigValidationTest, ByteSizesAndOffsetsParse) {
  EXPECT_EQ(ParseByteSize("1GB", 0), 1'000'000'000);
  EXPECT_EQ(ParseByteSize("1.5 GiB", 0), 3LL << 29);
  EXPECT_EQ(ParseByteSize("100 bytes", 0), 100);
  EXPECT_EQ(ParseByteSize("80%", 1000), 800);
  EXPECT_FALSE(ParseByteSize("80%", 0));  // unknown machine memory
  EXPECT_FALSE(ParseByteSize("lots", 0));
  EXPECT_FALSE(ParseByteSize("GB", 0));
  EXPECT_FALSE(ParseByteSize("12", 0));  // a unit is required
  EXPECT_FALSE(ParseByteSize("1e400GB", 0));
  EXPECT_EQ(ParseUtcOffset("UTC"), 0);
  EXPECT_EQ(ParseUtcOffset("+05:30"), 330);
  EXPECT_EQ(ParseUtcOffset("-08:00"), -480);
  EXPECT_EQ(ParseUtcOffset("+14:00"), 840);
  EXPECT_FALSE(ParseUtcOffset("+15:00"));
  EXPECT_FALSE(ParseUtcOffset("+05:60"));
  EXPECT_FALSE(ParseUtcOffset("Europe/Berlin"));
  EXPECT_FALSE(ParseUtcOffset("+0530"));
}

TEST(ConfigValidationTest, DetectorParametersAreCheckedByTheDetectors) {
  // Issue 7 repro: parameters that gold refuses passed `config check`.
  const std::string window = ErrorOf("[[detect.rule]]\nparams = { \"window_z.window\" = 100000 }\n");
  EXPECT_TRUE(Names(window, "detect.rule[0].params.\"window_z.window\""));
  EXPECT_TRUE(Names(window, "outside"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"window_z.windw\" = 64 }\n"), "unknown parameter 'windw'"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"cusum.k\" = nan }\n"), "cusum.k"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"ewma.alpha\" = 2 }\n"), "ewma.alpha"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"default.alpha\" = 0.1 }\n"), "default.alpha"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"mahalanobis.window\" = 10 }\n"), "mahalanobis.window"));
  // Batch detectors take their parameters per series too (issue 8), checked by the registry.
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"robust_zscore.threshold\" = 0 }\n"), "outside"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"zscore.window\" = 3 }\n"), "unknown parameter 'window'"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"window_z.window\" = 96.5 }\n"), "whole number"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\nparams = { \"magic.window\" = 3 }\n"), "magic.window"));
  EXPECT_TRUE(Names(ErrorOf("[[detect.rule]]\ndetectors = [\"magic\"]\n"), "magic"));
  auto ok = ParseConfig(
      "[[detect.rule]]\nparams = { \"window_z.window\" = 128, \"cusum.k\" = 0.5, \"zscore.threshold\" = 4, "
      "\"robust_zscore.threshold\" = 5, \"running_zscore.min_points\" = 10 }\n",
      "t",
      kTwoCores);
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

TEST(ConfigValidationTest, SilverParsingOptions) {
  auto parsed = ParseConfig(R"([silver]
delimiter = "\t"
encoding = "latin-1"
null_values = ["", "n.a."]
max_line_bytes = 4096
json_flatten_depth = 0
default_timezone = "-08:00"
max_metric_columns = 20
)",
                            "t", kTwoCores);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->silver.delimiter, "\t");
  EXPECT_EQ(parsed->silver.encoding, "latin-1");
  EXPECT_EQ(parsed->silver.null_values, (std::vector<std::string>{"", "n.a."}));
  EXPECT_EQ(parsed->silver.max_line_bytes, 4096);
  EXPECT_EQ(parsed->silver.json_flatten_depth, 0);
  EXPECT_EQ(parsed->silver.default_timezone, "-08:00");
  EXPECT_EQ(parsed->silver.default_utc_offset_minutes, -480);
  EXPECT_EQ(parsed->silver.max_metric_columns, 20);
  const SilverConfig defaults;
  EXPECT_EQ(defaults.delimiter, "");
  EXPECT_EQ(defaults.null_values, (std::vector<std::string>{"", "NA", "N/A", "NULL", "NaN", "None", "-"}));
  EXPECT_TRUE(Names(ErrorOf("[silver]\ndelimiter = \":\"\n"), "'silver.delimiter'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nencoding = \"utf-16\"\n"), "'silver.encoding'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nnull_values = \"NA\"\n"), "'silver.null_values'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nmax_line_bytes = 100\n"), "'silver.max_line_bytes'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nmax_line_bytes = 300000000\n"), "'silver.max_line_bytes'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\njson_flatten_depth = 17\n"), "'silver.json_flatten_depth'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\njson_flatten_depth = -1\n"), "'silver.json_flatten_depth'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\ndefault_timezone = \"Europe/Berlin\"\n"), "'silver.default_timezone'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nmax_metric_columns = 0\n"), "'silver.max_metric_columns'"));
  EXPECT_TRUE(Names(ErrorOf("[silver]\nmax_metric_columns = 10001\n"), "'silver.max_metric_columns'"));
}

TEST(ConfigValidationTest, ExampleListsEveryOption) {
  const std::string example = ExampleConfigToml();
  for (const char* key : {"delimiter =", "encoding =", "null_values =", "max_line_bytes =", "json_flatten_depth =",
                          "default_timezone =", "max_metric_columns =", "threads =", "memory_limit ="}) {
    EXPECT_NE(example.find(key), std::string::npos) << key;
  }
  auto parsed = ParseConfig(example, "example", kTwoCores);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(parsed->warnings.empty());
  EXPECT_EQ(parsed->silver.null_values, SilverConfig{}.null_values);
  EXPECT_EQ(parsed->duckdb.memory_limit_bytes, DuckdbConfig{}.memory_limit_bytes);
}

}  // namespace iotad::config

namespace iotad::config {
// Found by fuzz/config: toml++ asserted (aborted a debug or sanitizer build) on malformed
// headers, reached __builtin_unreachable() on some non-ASCII characters outside strings, and a
// NaN rate passed a minimum check. Each must be one error, not a crash or a pass.
TEST(ConfigFuzzFindingsTest, MalformedHeadersNonAsciiKeysAndNanAreErrors) {
  for (const char* text : {"[.a]\n", "[[=a]]\n", "[gold]\nfalse_alarms_per_day = nan\n",
                           "[[detec\xEF\xBB\x9Aulen =le\n '= 1\n", "[gold]\nzscore_threshold\xC2\xA0= 3\n",
                           "[old]\nzscos = 2[\"zscooe\xEF\xBB\xB7",
                           "[gold]\nrsm_per_day = 0_\"metri3333\xCD\x90" "3m=\n"}) {
    const auto parsed = ParseConfig(text, "fuzz.toml");
    EXPECT_FALSE(parsed.ok()) << text;
  }
}

TEST(ConfigFuzzFindingsTest, OtherNonAsciiIsFineAndEscapesWork) {
  // Outside the blocks toml++ mishandles (U+2014, U+00A0 and U+4E2D are fine), and \u escapes.
  const auto parsed = ParseConfig(
      "# lake notes \xE2\x80\x94 \xE4\xB8\xAD\n[silver]\ndimension_columns = [\"location\", \"r\\u00E9gion\"]\n",
      "utf8.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->silver.dimension_columns.back(), "r\xC3\xA9gion");
  const auto refused = ParseConfig("# Z\xC3\xBCrich\n[gold]\nzscore_threshold = 3\n", "u.toml");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("line 1 has the character U+00FC"), std::string::npos)
      << refused.status().message();
}
}  // namespace iotad::config

namespace iotad::config {
// Stages read enumerated options as typed values set by the same row, never by comparing the
// string again (bronze compared partition_by == "arrival", silver re-parsed the delimiter).
TEST(ConfigTypedOptionsTest, EnumeratedOptionsAreTypedOnce) {
  const LakeConfig defaults;
  EXPECT_EQ(defaults.ingest.partition, PartitionBy::kEventTime);
  EXPECT_EQ(defaults.silver.delimiter_byte, '\0');
  EXPECT_EQ(defaults.silver.text_encoding, TextEncoding::kUtf8);
  auto parsed = ParseConfig(
      "[ingest]\npartition_by = \"arrival\"\n[silver]\ndelimiter = \"\\t\"\nencoding = \"latin-1\"\n", "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->ingest.partition_by, "arrival");
  EXPECT_EQ(parsed->ingest.partition, PartitionBy::kArrival);
  EXPECT_EQ(parsed->silver.delimiter, "\t");
  EXPECT_EQ(parsed->silver.delimiter_byte, '\t');
  EXPECT_EQ(parsed->silver.text_encoding, TextEncoding::kLatin1);
  const std::vector<std::pair<std::string, char>> delimiters = {{",", ','}, {";", ';'}, {"|", '|'}, {"", 0}};
  for (const auto& [text, byte] : delimiters) {
    auto d = ParseConfig(fmt::format("[silver]\ndelimiter = \"{}\"\n", text), "t.toml");
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(d->silver.delimiter_byte, byte) << text;
  }
  auto example = ParseConfig(ExampleConfigToml(), "example");
  ASSERT_TRUE(example.ok()) << example.status().message();
  EXPECT_EQ(example->ingest.partition, defaults.ingest.partition);
  EXPECT_EQ(example->silver.text_encoding, defaults.silver.text_encoding);
}
}  // namespace iotad::config
