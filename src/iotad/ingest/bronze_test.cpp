#include "iotad/ingest/bronze.h"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace iotad::ingest
