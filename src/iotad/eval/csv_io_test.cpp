#include "iotad/eval/csv_io.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace iotad::eval {
namespace {

namespace fs = std::filesystem;

class CsvIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("iotad-csv-io-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text, bool gzip = false) {
    const std::string path = (dir_ / name).string();
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
      gzclose(f);
    } else {
      std::FILE* f = std::fopen(path.c_str(), "wb");
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
    return path;
  }
  static std::vector<std::string> ReadLines(const std::string& path) {
    auto reader = LineReader::Open(path);
    EXPECT_TRUE(reader.ok()) << reader.status().message();
    std::vector<std::string> lines;
    while (true) {
      auto line = (*reader)->Next();
      EXPECT_TRUE(line.ok());
      if (!line.ok() || !*line) break;
      lines.emplace_back(**line);
    }
    return lines;
  }
  fs::path dir_;
};

TEST_F(CsvIoTest, ReadsPlainAndGzipLinesWithoutTerminators) {
  const std::string text = "a,b\r\n1,2\n\nlast";
  const std::vector<std::string> expected = {"a,b", "1,2", "", "last"};
  EXPECT_EQ(ReadLines(Write("plain.csv", text)), expected);
  EXPECT_EQ(ReadLines(Write("packed.csv.gz", text, true)), expected);
}

TEST_F(CsvIoTest, LinesLongerThanTheBufferAndManyBufferfuls) {
  const std::string long_line(3 << 20, 'x');
  std::string text = long_line + "\n";
  for (int i = 0; i < 200000; ++i) text += std::to_string(i) + "\n";
  const std::vector<std::string> lines = ReadLines(Write("big.csv", text));
  ASSERT_EQ(lines.size(), 200001u);
  EXPECT_EQ(lines[0], long_line);
  EXPECT_EQ(lines[1], "0");
  EXPECT_EQ(lines.back(), "199999");
}

TEST_F(CsvIoTest, MissingFilesAreNotFound) {
  auto reader = LineReader::Open((dir_ / "nope.csv").string());
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), Errc::kNotFound);
  EXPECT_EQ(ReadWholeFile((dir_ / "nope.csv").string()).status().code(), Errc::kNotFound);
}

TEST(CsvTest, SplitsCellsAndParsesNumbers) {
  std::string_view cells[2];
  EXPECT_EQ(SplitCsv("a,b,c", cells), 3u);
  EXPECT_EQ(cells[0], "a");
  EXPECT_EQ(cells[1], "b");
  EXPECT_EQ(SplitCsv("", cells), 1u);
  EXPECT_EQ(SplitCsv("x,", cells), 2u);
  EXPECT_EQ(cells[1], "");
  EXPECT_EQ(ParseDouble("0.0301029996659"), 0.0301029996659);
  EXPECT_EQ(ParseDouble("+1.5"), 1.5);
  EXPECT_EQ(ParseDouble("1e-3"), 0.001);
  EXPECT_FALSE(ParseDouble(""));
  EXPECT_FALSE(ParseDouble("1.5x"));
  EXPECT_FALSE(ParseDouble("abc"));
}

}  // namespace
}  // namespace iotad::eval
