// End-to-end tests of `iotad generate-series`: the set it writes is one `iotad eval` scores.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

TEST(GenerateSeriesE2eTest, EvalScoresTheSetItWrites) {
  TempDir dir;
  const CmdResult gen = RunIotad({"generate-series", "--out", dir / "set", "--seed", "3"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_NE(gen.out.find("generate-series: 30 files"), std::string::npos) << gen.out;
  for (const char* detector : {"default", "running_zscore"}) {
    const CmdResult eval =
        RunIotad({"eval", "--labels", dir / "set/labels/combined_windows.json", "--data",
                  dir / "set/data", "--detector", detector});
    ASSERT_EQ(eval.exit_code, 0) << detector << ": " << eval.err;
    EXPECT_NE(eval.out.find("on 30 files"), std::string::npos) << eval.out;
    EXPECT_NE(eval.out.find("standard"), std::string::npos) << eval.out;
  }
}

TEST(GenerateSeriesE2eTest, SameFlagsWriteTheSameBytes) {
  TempDir dir;
  for (const char* out : {"a", "b"}) {
    const CmdResult r = RunIotad({"generate-series", "--out", dir / out, "--seed", "9",
                                  "--families", "sensor,counts", "--files-per-family", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::vector<std::string> files = ListFiles(dir / "a");
  EXPECT_EQ(files.size(), 4u + 4u);  // four series and the four label files
  EXPECT_EQ(files, ListFiles(dir / "b"));
  for (const std::string& f : files) {
    EXPECT_EQ(ReadFile(fs::path(dir / "a") / f), ReadFile(fs::path(dir / "b") / f)) << f;
  }
}

TEST(GenerateSeriesE2eTest, AnUnknownFamilyIsAUsageError) {
  TempDir dir;
  const CmdResult r =
      RunIotad({"generate-series", "--out", dir / "set", "--families", "counts,weather"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--families"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "set"));
}

TEST(GenerateSeriesE2eTest, LengthMakesEachFileLongerAndOutOfRangeIsAUsageError) {
  TempDir dir;
  for (const char* length : {"1", "2.5"}) {
    const CmdResult r = RunIotad({"generate-series", "--out", dir / length, "--seed", "4",
                                  "--families", "latency", "--files-per-family", "1", "--length",
                                  length});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string plain = ReadFile(dir / "1/data/latency/latency_1.csv");
  const std::string longer = ReadFile(dir / "2.5/data/latency/latency_1.csv");
  const auto rows = [](const std::string& csv) {
    return std::count(csv.begin(), csv.end(), '\n') - 1;  // the header is no row
  };
  EXPECT_EQ(rows(longer), std::llround(2.5 * static_cast<double>(rows(plain))));
  EXPECT_NE(ReadFile(dir / "2.5/labels/README.md").find("--length 2.5"), std::string::npos);
  const CmdResult bad = RunIotad({"generate-series", "--out", dir / "bad", "--length", "11"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--length"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "bad"));
}

TEST(GenerateSeriesE2eTest, HelpNamesEveryFlagAndOutIsRequired) {
  const CmdResult help = RunIotad({"generate-series", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  for (const char* flag : {"--out", "--seed", "--families", "--files-per-family", "--length"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag << ": " << help.out;
  }
  const CmdResult no_out = RunIotad({"generate-series"});
  EXPECT_EQ(no_out.exit_code, 2) << no_out.err;
  EXPECT_NE(no_out.err.find("--out"), std::string::npos) << no_out.err;
}

}  // namespace
}  // namespace iotad::e2e
