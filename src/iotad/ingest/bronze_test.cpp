#include "iotad/ingest/bronze.h"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "iotad/ingest/parse_options.h"
#include "iotad/lake/gzip_stream.h"

namespace iotad::ingest {
namespace {
namespace fs = std::filesystem;

using lake::Gzip;

class BronzeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / fmt::format("iotad-bronze-test-{}-{:08x}", ::getpid(), rd());
    ASSERT_TRUE(lake::Lake::Init(dir_ / "lake").ok());
    auto opened = lake::Lake::Open(dir_ / "lake");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    lake_ = std::move(*opened);
  }
  void TearDown() override {
    lake_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  std::unique_ptr<lake::Lake> lake_;
};

std::string Rows(int n) {
  std::string text = "timestamp,device_id,t\n";
  for (int i = 0; i < n; ++i) text += fmt::format("2024-03-01T10:00:{:02d}Z,d{},{}\n", i % 60, i, i * 7919 % 1000);
  return text;
}

TEST_F(BronzeTest, ReadBronzeObjectGivesTheTextOfCompleteAndMultiMemberGzip) {
  const std::string a = Rows(50), b = "2024-03-01T11:00:00Z,dx,1\n";
  ASSERT_TRUE(lake_->store().Put("bronze/x.csv.gz", Gzip(a) + Gzip(b)).ok());
  std::string out, scratch;
  const Status st = ReadBronzeObject(*lake_, "bronze/x.csv.gz", out, scratch);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(out, a + b);
}

TEST_F(BronzeTest, ReadBronzeObjectOnATruncatedGzipReturnsTheErrorAndLeavesThePrefix) {
  const std::string text = Rows(5000);
  const std::string gz = Gzip(text);
  ASSERT_TRUE(lake_->store().Put("bronze/cut.csv.gz", gz.substr(0, gz.size() / 2)).ok());
  std::string out = "stale", scratch;
  const Status st = ReadBronzeObject(*lake_, "bronze/cut.csv.gz", out, scratch);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::kParse);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
  ASSERT_GT(out.size(), 1000u);
  ASSERT_LT(out.size(), text.size());
  EXPECT_EQ(out, text.substr(0, out.size())) << "out must be the decompressed prefix";
  // Corrupt (not truncated) data: the same contract.
  std::string bad = gz;
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 64; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  ASSERT_TRUE(lake_->store().Put("bronze/bad.csv.gz", bad).ok());
  const Status st2 = ReadBronzeObject(*lake_, "bronze/bad.csv.gz", out, scratch);
  ASSERT_FALSE(st2.ok());
  EXPECT_EQ(out.substr(0, 22), "timestamp,device_id,t\n");  // bytes before the damage may decode to anything
}

TEST(FormatFromNameTest, AcceptsTsvAndTxtAsCsvLikeText) {
  for (const char* name : {"a.csv", "a.tsv", "a.txt", "A.TSV", "a.tsv.gz", "a.txt.gz", "a.csv.gz"}) {
    ASSERT_TRUE(FormatFromName(name).has_value()) << name;
    EXPECT_EQ(*FormatFromName(name), FileFormat::kCsv) << name;
  }
  EXPECT_EQ(FormatFromName("a.jsonl.gz"), FileFormat::kJsonLines);
  EXPECT_FALSE(FormatFromName("a.parquet").has_value());
  EXPECT_FALSE(FormatFromName("a.tsv.zip").has_value());
}

// 2024-03-01T10:00:00Z and 11:00.
constexpr TimestampUs kHour10 = 1'709'287'200 * kMicrosPerSecond;
constexpr TimestampUs kHour11 = kHour10 + 3600 * kMicrosPerSecond;

TEST(TypicalEventHourTest, UsesTheConfiguredTimeColumn) {
  config::SilverConfig silver;
  silver.time_columns = {"reading_at"};
  const parse::ColumnRoles roles = ColumnRolesFromConfig(silver);
  EXPECT_EQ(TypicalEventHour("reading_at,device_id,t\n2024-03-01T10:59:00Z,d1,1\n", FileFormat::kCsv, roles), kHour10);
  EXPECT_EQ(TypicalEventHour("{\"reading_at\":\"2024-03-01T10:00:00Z\",\"device\":\"d1\",\"t\":1}\n",
                             FileFormat::kJsonLines, roles),
            kHour10);
  // The default names are not time columns any more.
  EXPECT_EQ(TypicalEventHour("timestamp,device_id,t\n2024-03-01T10:00:00Z,d1,1\n", FileFormat::kCsv, roles),
            std::nullopt);
}

TEST(TypicalEventHourTest, ReadsTheDelimiterEncodingAndTimeZoneAsSilverDoes) {
  config::SilverConfig silver;
  const std::string semi = "timestamp;device_id;t\n2024-03-01T10:00:00Z;d1;1,5\n";
  EXPECT_EQ(TypicalEventHour(semi, FileFormat::kCsv, ColumnRolesFromConfig(silver)), kHour10);  // detected
  silver.delimiter = ";";
  EXPECT_EQ(TypicalEventHour(semi, FileFormat::kCsv, ColumnRolesFromConfig(silver)), kHour10);
  EXPECT_EQ(TypicalEventHour("ts\tdevice\tt\n2024-03-01T10:00:00Z\td1\t1\n", FileFormat::kCsv,
                             ColumnRolesFromConfig(config::SilverConfig{})),
            kHour10);
  // Zone-less times take silver.default_timezone: 10:30 at +01:00 is 09:30 UTC.
  silver = config::SilverConfig{};
  silver.default_utc_offset_minutes = 60;
  EXPECT_EQ(TypicalEventHour("ts,device,t\n2024-03-01T11:30:00,d1,1\n", FileFormat::kCsv, ColumnRolesFromConfig(silver)),
            kHour10);
  // A quoted header and Latin-1 bytes are read, not split blindly.
  silver.encoding = "latin-1";
  EXPECT_EQ(TypicalEventHour("\"ts\",\"device\",\"ort\"\n2024-03-01T11:00:00Z,d1,Z\xfcrich\n", FileFormat::kCsv,
                             ColumnRolesFromConfig(silver)),
            kHour11);
}

TEST(TypicalEventHourTest, TakesTheMostCommonHourOfTheRowsSilverWouldStore) {
  const parse::ColumnRoles roles = ColumnRolesFromConfig(config::SilverConfig{});
  // Held-back rows of hour 10 first, then the file's own hour 11; a bad row does not count.
  std::string csv = "event_time,device_id,t\n2024-03-01T10:00:00Z,d1,1\n2024-03-01T10:01:00Z,d1,1\n";
  for (int i = 0; i < 5; ++i) csv += fmt::format("2024-03-01T11:0{}:00Z,d1,2\n", i);
  for (int i = 0; i < 9; ++i) csv += "2024-03-01T10:02:00Z,,3\n";  // no device: silver rejects these
  EXPECT_EQ(TypicalEventHour(csv, FileFormat::kCsv, roles), kHour11);
  EXPECT_EQ(TypicalEventHour("not,a,header\n1,2,3\n", FileFormat::kCsv, roles), std::nullopt);
  EXPECT_EQ(TypicalEventHour("{\"a\":1}\nnot json\n", FileFormat::kJsonLines, roles), std::nullopt);
}

TEST(ColumnRolesFromConfigTest, CarriesEveryReadingOption) {
  config::SilverConfig silver;
  silver.time_columns = {"reading_at"};
  silver.device_columns = {"sensor"};
  silver.dimension_columns = {"site"};
  silver.delimiter = "\t";
  silver.encoding = "latin-1";
  silver.null_values = {"n.a."};
  silver.max_line_bytes = 100;
  silver.json_flatten_depth = 1;
  silver.default_utc_offset_minutes = -480;
  const parse::ColumnRoles roles = ColumnRolesFromConfig(silver);
  EXPECT_EQ(roles.time_columns, silver.time_columns);
  EXPECT_EQ(roles.device_columns, silver.device_columns);
  EXPECT_EQ(roles.dimension_columns, silver.dimension_columns);
  EXPECT_EQ(roles.delimiter, '\t');
  EXPECT_EQ(roles.encoding, parse::TextEncoding::kLatin1);
  EXPECT_EQ(roles.null_tokens, silver.null_values);
  EXPECT_EQ(roles.max_line_bytes, 100u);
  EXPECT_EQ(roles.json_flatten_depth, 1);
  EXPECT_EQ(roles.default_utc_offset_minutes, -480);
  EXPECT_EQ(DelimiterFromConfig(""), 0);
  EXPECT_EQ(DelimiterFromConfig("auto"), 0);
  EXPECT_EQ(DelimiterFromConfig("tab"), '\t');
  EXPECT_EQ(DelimiterFromConfig("|"), '|');
}

}  // namespace
}  // namespace iotad::ingest
