#include "iotad/eval/series_csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "iotad/eval/csv_io.h"

namespace iotad::eval {
namespace {

namespace fs = std::filesystem;

class SeriesCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("iotad-series-csv-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return path;
  }
  fs::path dir_;
};

TEST_F(SeriesCsvTest, WritesOneScoredRowPerInputRow) {
  std::string text = "\xEF\xBB\xBFtimestamp,value\r\n";
  for (int i = 0; i < 500; ++i) {
    text += fmt::format("2014-01-01 {:02}:{:02}:00,{}\r\n", i / 60 % 24, i % 60,
                        i == 400 ? 90.0 : 10.0 + i % 3);
  }
  const std::string in = Write("in.csv", text);
  const std::string out = (dir_ / "out.csv").string();
  ASSERT_TRUE(WriteScoredCsv(in, out, "running_zscore").ok());
  const auto written = ReadWholeFile(out);
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE(written->starts_with("timestamp,value,anomaly_score\n2014-01-01 00:00:00,10,0\n"))
      << *written;
  EXPECT_EQ(std::count(written->begin(), written->end(), '\n'), 501);
  // The spike at row 400 scores high; its row is printed with 9 significant digits.
  const size_t spike = written->find("2014-01-01 06:40:00,90,");
  ASSERT_NE(spike, std::string::npos);
  const double score = std::strtod(written->c_str() + spike + 23, nullptr);
  EXPECT_GT(score, 0.5);
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(SeriesCsvTest, ExplainsEachRowWhenAsked) {
  std::string text = "timestamp,value\n";
  for (int i = 0; i < 500; ++i) {
    text += fmt::format("2014-01-01 {:02}:{:02}:00,{}\n", i / 60 % 24, i % 60,
                        i == 400 ? 90.0 : 10.0 + i % 3);
  }
  const std::string in = Write("in.csv", text);
  const std::string out = (dir_ / "out.csv").string();
  ASSERT_TRUE(WriteScoredCsv(in, out, "default", /*explain=*/true).ok());
  const auto written = ReadWholeFile(out);
  ASSERT_TRUE(written.ok());
  ASSERT_TRUE(written->starts_with("timestamp,value,anomaly_score,flag,detector,expected,lo,hi,why\n"))
      << written->substr(0, 200);
  EXPECT_EQ(std::count(written->begin(), written->end(), '\n'), 501);
  // The first row: warming up, nothing expected yet (empty cells), never flagged.
  EXPECT_NE(written->find("\n2014-01-01 00:00:00,10,0,0,ewma,,,,\""), std::string::npos) << written->substr(0, 400);
  // The spike at row 400 is flagged, by the ensemble's spike member against the level (about
  // 11 expected, the normal range well below 90), and its sentence says so, quoted.
  const size_t spike = written->find("\n2014-01-01 06:40:00,90,");
  ASSERT_NE(spike, std::string::npos);
  const std::string row = written->substr(spike + 1, written->find('\n', spike + 1) - spike - 1);
  std::vector<std::string> cells;
  size_t start = 0;
  for (int i = 0; i < 8; ++i) {
    const size_t comma = row.find(',', start);
    cells.push_back(row.substr(start, comma - start));
    start = comma + 1;
  }
  cells.push_back(row.substr(start));
  EXPECT_EQ(cells[3], "1") << row;
  EXPECT_EQ(cells[4], "ewma") << row;
  EXPECT_NEAR(std::strtod(cells[5].c_str(), nullptr), 11.0, 0.5) << row;
  EXPECT_LT(std::strtod(cells[7].c_str(), nullptr), 20.0) << row;
  EXPECT_TRUE(cells[8].starts_with("\"90: |z| vs the EWMA")) << row;
  EXPECT_TRUE(cells[8].ends_with("\"")) << row;
  // Without --explain the columns are the three of NAB's results.
  ASSERT_TRUE(WriteScoredCsv(in, out, "default").ok());
  EXPECT_TRUE(ReadWholeFile(out)->starts_with("timestamp,value,anomaly_score\n"));
}

TEST_F(SeriesCsvTest, StreamsRowsWithTheirOwnBytes) {
  const std::string in =
      Write("in.csv", "timestamp,value\n2014-01-01 00:00:00,1.50\n2014-01-01 00:00:00,\n");
  std::vector<std::string> seen;
  ASSERT_TRUE(ScoreSeriesFile(in, "default", [&](const ScoredRow& row) {
                seen.push_back(
                    fmt::format("{}|{}|{}", row.timestamp_text, row.value_text, row.value));
                return Status::Ok();
              }).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "2014-01-01 00:00:00|1.50|1.5");
  EXPECT_EQ(seen[1], "2014-01-01 00:00:00||nan");
}

TEST_F(SeriesCsvTest, ReadsResultFilesByColumnName) {
  const std::string in = Write("r.csv",
                               "timestamp,value,anomaly_score,label\n"
                               "2014-01-01 00:00:00,1,0.0301029996659,0\n"
                               "2014-01-01 00:05:00,2,1.0,1\n");
  const auto r = ReadResultsCsv(in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->scores.size(), 2u);
  EXPECT_EQ(r->scores[0], 0.0301029996659);
  EXPECT_EQ(r->timestamps[1] - r->timestamps[0], 5 * kMicrosPerMinute);

  const auto no_score =
      ReadResultsCsv(Write("bad.csv", "timestamp,value\n2014-01-01 00:00:00,1\n"));
  ASSERT_FALSE(no_score.ok());
  EXPECT_NE(no_score.status().message().find("anomaly_score"), std::string::npos);
  const auto short_row =
      ReadResultsCsv(Write("short.csv", "timestamp,anomaly_score\n2014-01-01 00:00:00\n"));
  ASSERT_FALSE(short_row.ok());
  EXPECT_NE(short_row.status().message().find("line 2"), std::string::npos)
      << short_row.status().message();
}

}  // namespace
}  // namespace iotad::eval
