#include "iotad/lake/bronze_lines.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "iotad/lake/gzip_stream.h"

namespace iotad::lake {
namespace {
namespace fs = std::filesystem;

class BronzeLinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / fmt::format("iotad-bronze-lines-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(dir_);
    DuckSessionOptions options;
    options.threads = 1;
    auto s = DuckSession::Open(options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    session_ = std::move(*s);
    ASSERT_TRUE(RegisterBronzeLines(*session_).ok());
  }
  void TearDown() override {
    session_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  /// Writes `files` (name -> bytes) and makes them the view `v`.
  void View(const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<std::string> keys, paths;
    for (const auto& [name, bytes] : files) {
      std::ofstream(dir_ / name, std::ios::binary) << bytes;
      keys.push_back(name);
      paths.push_back((dir_ / name).string());
    }
    keys.push_back("missing");
    paths.push_back((dir_ / "missing").string());
    ASSERT_TRUE(session_->Exec(fmt::format("CREATE OR REPLACE VIEW v AS SELECT * FROM iotad_bronze_lines({}, {})",
                                           SqlList(keys), SqlList(paths)))
                    .ok());
  }
  int64_t Int(const std::string& sql) {
    auto n = session_->QueryInt(sql);
    EXPECT_TRUE(n.ok()) << sql << ": " << n.status().message();
    return n.ok() ? *n : -1;
  }
  fs::path dir_;
  std::unique_ptr<DuckSession> session_;
};

TEST_F(BronzeLinesTest, OneRowPerPhysicalLineWithCrlfAndALastLineWithoutLf) {
  View({{"a.csv", "h\r\nx,1\r\n\r\nlast"}, {"b.csv", ""}, {"c.csv", "only\n"}});
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'a.csv'"), 4);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'a.csv' AND line = 2 AND text = 'x,1' AND bytes = 3 AND exact"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'a.csv' AND line = 3 AND text = '' AND bytes = 0"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'a.csv' AND line = 4 AND text = 'last'"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'b.csv'"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'c.csv' AND line = 1 AND text = 'only'"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'missing'"), 0);
}

TEST_F(BronzeLinesTest, InvalidUtf8AndNulAreReplacedAndFlaggedValidUtf8IsExact) {
  View({{"u.csv",
         std::string("Z\xc3\xbcrich\n") + "Z\xfcrich\n" + std::string("a\0b\n", 4) + "\xc0\xaf\n" + "\xed\xa0\x80\n" +
             "\xf0\x9f\x98\x80\n" + "cut\xe2\x82"}});
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 1 AND text = 'Z\xc3\xbcrich' AND exact"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 2 AND text = 'Z\xef\xbf\xbdrich' AND NOT exact AND bytes = 6"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 3 AND text = 'a\xef\xbf\xbd" "b' AND NOT exact"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 4 AND text = '\xef\xbf\xbd\xef\xbf\xbd' AND NOT exact"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 5 AND NOT exact"), 1);  // a surrogate
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 6 AND exact"), 1);      // an emoji
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 7 AND NOT exact AND bytes = 5"), 1);
}

TEST_F(BronzeLinesTest, GzipMembersAreDecompressedAndADamagedOneGivesItsIntactLines) {
  std::string rows;
  for (int i = 0; i < 20000; ++i) rows += fmt::format("2024-03-01T10:00:00Z,d{},{}\n", i, i);
  const std::string gz = Gzip(rows);
  View({{"m.csv.gz", Gzip("a\nb\n") + Gzip("c\n")}, {"cut.csv.gz", gz.substr(0, gz.size() / 2)}});
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'm.csv.gz'"), 3);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'm.csv.gz' AND line = 3 AND text = 'c'"), 1);
  const int64_t cut = Int("SELECT count(*) FROM v WHERE key = 'cut.csv.gz'");
  EXPECT_GT(cut, 1000);
  EXPECT_LT(cut, 20000);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE key = 'cut.csv.gz' AND line = 1 AND text = '2024-03-01T10:00:00Z,d0,0'"), 1);
}

TEST_F(BronzeLinesTest, ALineLongerThanTheCapKeepsItsStartAndItsRealLength) {
  View({{"long.csv", std::string(kMaxLineText + 1000, 'x') + "\nnext\n"}});
  EXPECT_EQ(Int(fmt::format("SELECT count(*) FROM v WHERE line = 1 AND bytes = {} AND length(text) = {} AND NOT exact",
                            kMaxLineText + 1000, kMaxLineText)),
            1);
  EXPECT_EQ(Int("SELECT count(*) FROM v WHERE line = 2 AND text = 'next' AND exact"), 1);
}

}  // namespace
}  // namespace iotad::lake
