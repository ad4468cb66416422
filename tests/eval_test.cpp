// End-to-end tests of `iotad score-file` and `iotad eval` on the NAB development set.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

/// The NAB development set: $IOTAD_NAB_DEV_DIR, else the copy in the repository (tests/data/nab-dev).
fs::path NabDev() {
  if (const char* env = std::getenv("IOTAD_NAB_DEV_DIR"); env != nullptr && *env != '\0')
    return env;
  return fs::path(IOTAD_SOURCE_DIR) / "tests" / "data" / "nab-dev";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string FirstLines(const std::string& text, size_t n) {
  size_t pos = 0;
  for (size_t i = 0; i < n && pos != std::string::npos; ++i) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  return text.substr(0, pos);
}

class ScoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = NabDev() / "data/realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
    ASSERT_TRUE(fs::is_regular_file(input_)) << "the NAB dev set is missing: " << input_;
  }
  CmdResult Score(const std::string& input, const std::string& output,
                  const std::string& detector = "") {
    std::vector<std::string> args = {"score-file", "--input", input, "--output", output};
    if (!detector.empty()) args.insert(args.end(), {"--detector", detector});
    return RunIotad(args);
  }
  TempDir dir_;
  fs::path input_;
};

TEST_F(ScoreFileTest, OneRowPerInputRowWithTheColumnsCopiedAndScoresInRange) {
  const CmdResult r = Score(input_, dir_ / "out.csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> in = Lines(ReadFile(input_));
  const std::vector<std::string> out = Lines(ReadFile(dir_ / "out.csv"));
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out[0], "timestamp,value,anomaly_score");
  int nonzero = 0;
  for (size_t i = 1; i < out.size(); ++i) {
    const size_t comma = out[i].rfind(',');
    ASSERT_EQ(out[i].substr(0, comma), in[i]) << "line " << i + 1;
    const std::string score_text = out[i].substr(comma + 1);
    const double score = std::strtod(score_text.c_str(), nullptr);
    ASSERT_GE(score, 0.0) << score_text;
    ASSERT_LT(score, 1.0) << score_text;
    // Printed as %.9g: at least 6 significant digits whenever the value needs them.
    ASSERT_EQ(fmt::format("{:.9g}", score), score_text) << "line " << i + 1;
    nonzero += score > 0 ? 1 : 0;
  }
  EXPECT_GT(nonzero, 100);
}

TEST_F(ScoreFileTest, APrefixOfAFileGetsByteIdenticalFirstRows) {
  const std::string full = ReadFile(input_);
  WriteFile(dir_ / "prefix.csv", FirstLines(full, 1001));  // header + 1000 rows
  ASSERT_EQ(Score(input_, dir_ / "full_out.csv").exit_code, 0);
  ASSERT_EQ(Score(dir_ / "prefix.csv", dir_ / "prefix_out.csv").exit_code, 0);
  const std::string prefix_out = ReadFile(dir_ / "prefix_out.csv");
  EXPECT_EQ(Lines(prefix_out).size(), 1001u);
  EXPECT_EQ(FirstLines(ReadFile(dir_ / "full_out.csv"), 1001), prefix_out);
}

TEST_F(ScoreFileTest, IsDeterministic) {
  for (const char* detector : {"default", "running_zscore"}) {
    ASSERT_EQ(Score(input_, dir_ / "a.csv", detector).exit_code, 0);
    ASSERT_EQ(Score(input_, dir_ / "b.csv", detector).exit_code, 0);
    EXPECT_EQ(ReadFile(dir_ / "a.csv"), ReadFile(dir_ / "b.csv")) << detector;
  }
}

TEST_F(ScoreFileTest, RepeatedAndEarlierTimestampsAreJustTheNextRow) {
  WriteFile(dir_ / "odd.csv",
            "timestamp,value\n"
            "2014-01-01 00:00:00,1.50\n"
            "2014-01-01 00:05:00,1.5\n"
            "2014-01-01 00:05:00,1.5e0\n"
            "2014-01-01 00:04:00,+1.5\n"
            "2014-01-01 00:10:00,\n");
  const CmdResult r = Score(dir_ / "odd.csv", dir_ / "odd_out.csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> out = Lines(ReadFile(dir_ / "odd_out.csv"));
  ASSERT_EQ(out.size(), 6u);
  EXPECT_TRUE(out[3].starts_with("2014-01-01 00:05:00,1.5e0,")) << out[3];
  EXPECT_TRUE(out[4].starts_with("2014-01-01 00:04:00,+1.5,")) << out[4];
  EXPECT_EQ(out[5], "2014-01-01 00:10:00,,0");  // an empty cell is a missing reading
}

TEST_F(ScoreFileTest, ErrorsAreOneLineAndLeaveNoOutput) {
  struct Case {
    std::string input_text;  // empty: the input does not exist
    std::string detector;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "", 3, "cannot read"},
      {"time,value\n2014-01-01 00:00:00,1\n", "", 1,
       "does not start with the header 'timestamp,value'"},
      {"timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n", "", 1,
       "line 3: the value 'abc' is not a number"},
      {"timestamp,value\n2014-01-01 00:00:00,1\nnoon,2\n", "", 1,
       "line 3: 'noon' is not a timestamp"},
      {"timestamp,value\n2014-01-01 00:00:00,1,2\n", "", 1, "line 2: expected 2 cells"},
      {"timestamp,value\n2014-01-01 00:00:00,1\n", "no_such_detector", 2,
       "unknown detector 'no_such_detector'"},
      // `zscore` is gold's batch detector (mean and std of all of a series): score-file, which
      // streams, once ran an online look-alike under the same name; now it says what to use.
      {"timestamp,value\n2014-01-01 00:00:00,1\n", "zscore", 2,
       "detector zscore is a batch detector (it needs all of a series before scoring a point): only gold runs "
       "it; running_zscore is zscore without look-ahead"},
      {"timestamp,value\n2014-01-01 00:00:00,1\n", "mahalanobis", 2, "not one series"},
  };
  for (const Case& c : cases) {
    const std::string input = dir_ / "in.csv";
    fs::remove(input);
    if (!c.input_text.empty()) WriteFile(input, c.input_text);
    const CmdResult r = Score(input, dir_ / "err_out.csv", c.detector);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("iotad: score-file: ")) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "err_out.csv")) << c.message;
    EXPECT_FALSE(fs::exists(dir_ / "err_out.csv.tmp")) << c.message;
  }
}

class EvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    labels_ = (NabDev() / "labels/combined_windows.json").string();
    ASSERT_TRUE(fs::is_regular_file(labels_)) << "the NAB dev set is missing: " << labels_;
  }
  std::string labels_;
};

TEST_F(EvalTest, ResultsReproduceThePublishedNumentaRow) {
  const CmdResult r =
      RunIotad({"eval", "--labels", labels_, "--results", (NabDev() / "results/numenta").string(),
                "--profiles", (NabDev() / "labels/profiles.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("NAB v1.1 scores of numenta on 28 files"), std::string::npos) << r.out;
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex(R"(\nstandard +72\.30 +0\.555459 +\S+ +30/36 +40\n)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nreward_low_FP_rate +69\.12 )"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nreward_low_FN_rate +75\.98 )"))) << r.out;
  EXPECT_NE(r.out.find("Event level"), std::string::npos) << r.out;

  const CmdResult json =
      RunIotad({"eval", "--labels", labels_, "--results", (NabDev() / "results/numenta/").string(),
                "--format", "json", "--per-file"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(json.out, m, std::regex(R"("profile":"standard".*?"score":([0-9.]+))")))
      << json.out;
  EXPECT_NEAR(std::stod(m[1]), 72.30, 0.005);
  EXPECT_NE(json.out.find(R"("detector":"numenta")"), std::string::npos);
  EXPECT_NE(json.out.find(R"("file":"realAWSCloudwatch/grok_asg_anomaly.csv")"), std::string::npos);
  EXPECT_NE(json.out.find(R"("events":{"detections":)"), std::string::npos);
}

TEST_F(EvalTest, DataRunsTheDetectorOnEveryFile) {
  const CmdResult r = RunIotad({"eval", "--labels", labels_, "--data", (NabDev() / "data").string(),
                                "--detector", "default", "--per-file"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("NAB v1.1 scores of default on 28 files (112092 rows, 36 windows)"),
            std::string::npos)
      << r.out;
  for (const char* profile : {"\nstandard ", "\nreward_low_FP_rate ", "\nreward_low_FN_rate "}) {
    EXPECT_NE(r.out.find(profile), std::string::npos) << profile;
  }
  EXPECT_NE(r.out.find("artificialWithAnomaly/art_daily_jumpsup.csv"), std::string::npos);
  EXPECT_NE(r.out.find("detections are the detector's flags"), std::string::npos) << r.out;
  // The same run twice prints the same figures.
  EXPECT_EQ(
      RunIotad({"eval", "--labels", labels_, "--data", (NabDev() / "data").string(), "--per-file"})
          .out,
      r.out);
}

TEST_F(EvalTest, BadUsageIsOneLine) {
  const std::string results = (NabDev() / "results/numenta").string();
  const std::string data = (NabDev() / "data").string();
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"eval", "--labels", labels_}, 2, "give --lake LAKE (labels from `iotad generate`), --results DIR"},
      {{"eval", "--labels", labels_, "--results", results, "--detector", "zscore"},
       2,
       "--detector applies to --data"},
      {{"eval", "--labels", labels_, "--results", results, "--format", "xml"},
       2,
       "--format must be table or json"},
      {{"eval", "--labels", "/no/such/labels.json", "--results", results},
       3,
       "cannot read '/no/such/labels.json'"},
      {{"eval", "--labels", labels_, "--results", "/no/such/detector"}, 3, "no result file for"},
      {{"eval", "--labels", labels_, "--data", data, "--detector", "nope"},
       2,
       "unknown detector 'nope'"},
  };
  for (const Case& c : cases) {
    const CmdResult r = RunIotad(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  for (const char* cmd : {"eval", "score-file"}) {
    const CmdResult help = RunIotad({cmd, "--help"});
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace iotad::e2e
