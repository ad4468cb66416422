// End-to-end tests of `iotad score-file` and `iotad eval` on the NAB development set.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
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

TEST_F(ScoreFileTest, InfinitiesAndHugeValuesAreFlaggedNotFatal) {
  // An infinity once crashed `default` (a NaN bin index), and a finite 1e308 blinded running
  // statistics for the rest of the series: each is a flagged, unusable reading now.
  std::string text = "timestamp,value\n";
  for (int i = 0; i < 400; ++i) {
    const char* v = i == 100 ? "inf" : i == 200 ? "-1e308" : nullptr;
    text += fmt::format("2014-01-01 {:02}:{:02}:00,{}\n", i / 60, i % 60, v ? v : fmt::format("{}", 10 + i % 3));
  }
  text += "2014-01-01 06:40:00,90\n";  // a spike after them is still seen
  const std::string input = dir_ / "in.csv";
  WriteFile(input, text);
  for (const char* detector : {"default", "running_zscore", "ewma"}) {
    const CmdResult r = Score(input, dir_ / "out.csv", detector);
    ASSERT_EQ(r.exit_code, 0) << detector << ": " << r.err;
    const std::string out = ReadFile(dir_ / "out.csv");
    for (const char* row : {"\n2014-01-01 01:40:00,inf,0.833333333\n", "\n2014-01-01 03:20:00,-1e308,0.833333333\n"}) {
      EXPECT_NE(out.find(row), std::string::npos) << detector << ": " << row;
    }
    const size_t spike = out.find("\n2014-01-01 06:40:00,90,");
    ASSERT_NE(spike, std::string::npos) << detector;
    EXPECT_GT(std::strtod(out.c_str() + spike + 25, nullptr), 0.5) << detector;
  }
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

/// One row of the leave-one-out table.
struct FoldRow {
  std::string profile, category;
  int files;
  std::string score;
  double raw;
  int hit, windows, fa_events, fp_rows;
};
std::vector<FoldRow> LeaveOneOutTable(const std::string& out) {
  std::vector<FoldRow> rows;
  const std::regex row(
      R"(^(\w+) +(\w+) +(\d+) +(\S+) +\S+ +(-?[0-9.]+) +(\d+)/(\d+) +(\d+) +(\d+)$)");
  bool in_table = false;
  for (const std::string& line : Lines(out)) {
    in_table = in_table || line.starts_with("Leave one category out");
    std::smatch m;
    if (in_table && std::regex_match(line, m, row)) {
      rows.push_back({m[1], m[2], std::stoi(m[3]), m[4], std::stod(m[5]), std::stoi(m[6]),
                      std::stoi(m[7]), std::stoi(m[8]), std::stoi(m[9])});
    }
  }
  return rows;
}

TEST_F(EvalTest, LeaveOneOutScoresEachCategoryAtTheOthersThreshold) {
  const CmdResult r = RunIotad({"eval", "--labels", labels_, "--results",
                                (NabDev() / "results/numenta").string(), "--leave-one-out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The usual table first, unchanged.
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex(R"(\nstandard +72\.30 +0\.555459 +\S+ +30/36 +40\n)")))
      << r.out;
  const std::vector<FoldRow> rows = LeaveOneOutTable(r.out);
  ASSERT_EQ(rows.size(), 12u) << r.out;  // 3 profiles x (3 categories + pooled)
  // The labelled windows of each category (combined_windows.json) and its files.
  const std::map<std::string, std::pair<int, int>> expected = {
      {"artificialNoAnomaly", {0, 5}}, {"artificialWithAnomaly", {6, 6}},
      {"realAWSCloudwatch", {30, 17}}, {"pooled", {36, 28}}};
  const std::vector<std::string> order = {"artificialNoAnomaly", "artificialWithAnomaly",
                                          "realAWSCloudwatch", "pooled"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const FoldRow& row = rows[i];
    SCOPED_TRACE(row.profile + " " + row.category);
    EXPECT_EQ(row.profile, std::vector<std::string>({"standard", "reward_low_FP_rate",
                                                     "reward_low_FN_rate"})[i / 4]);
    EXPECT_EQ(row.category, order[i % 4]);
    EXPECT_EQ(row.windows, expected.at(row.category).first);
    EXPECT_EQ(row.files, expected.at(row.category).second);
    EXPECT_LE(row.hit, row.windows);
    EXPECT_GE(row.fp_rows, row.fa_events);
    if (row.windows == 0) {
      EXPECT_EQ(row.score, "n/a");
      EXPECT_LE(row.raw, 0.0);  // only false positives can count
    } else {
      const double score = std::stod(row.score);
      EXPECT_GT(score, 0.0);
      EXPECT_LT(score, 100.0);
    }
  }
  // Pooled: the sums of the folds.
  for (size_t p = 0; p < 3; ++p) {
    const FoldRow& pooled = rows[p * 4 + 3];
    EXPECT_EQ(pooled.hit, rows[p * 4].hit + rows[p * 4 + 1].hit + rows[p * 4 + 2].hit);
    EXPECT_EQ(pooled.fa_events,
              rows[p * 4].fa_events + rows[p * 4 + 1].fa_events + rows[p * 4 + 2].fa_events);
    EXPECT_NEAR(pooled.raw, rows[p * 4].raw + rows[p * 4 + 1].raw + rows[p * 4 + 2].raw, 0.002);
  }
  // Held out, the threshold is not the best for the set: the pooled score is at most the usual one.
  EXPECT_LE(std::stod(rows[3].score), 72.30);
}

TEST_F(EvalTest, LeaveOneOutJsonOnOurDetector) {
  const CmdResult r = RunIotad({"eval", "--labels", labels_, "--data", (NabDev() / "data").string(),
                                "--detector", "default", "--leave-one-out", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(std::string_view(doc["threshold_source"].get_string().value()), "optimised");
  simdjson::dom::array loo;
  ASSERT_EQ(doc["leave_one_out"].get_array().get(loo), simdjson::SUCCESS) << r.out;
  ASSERT_EQ(loo.size(), 3u);
  for (simdjson::dom::element p : loo) {
    SCOPED_TRACE(std::string(p["profile"].get_string().value()));
    simdjson::dom::array categories;
    ASSERT_EQ(p["categories"].get_array().get(categories), simdjson::SUCCESS);
    ASSERT_EQ(categories.size(), 3u);
    int64_t windows = 0, files = 0;
    double raw = 0;
    for (simdjson::dom::element c : categories) {
      const std::string_view name = c["category"].get_string().value();
      const int64_t w = c["windows"].get_int64().value();
      EXPECT_EQ(c["train_files"].get_int64().value() + c["files"].get_int64().value(), 28) << name;
      EXPECT_TRUE(c["threshold"].is_double() || c["threshold"].is_null()) << name;
      EXPECT_LE(c["windows_hit"].get_int64().value(), w) << name;
      EXPECT_GE(c["fp_rows"].get_int64().value(), c["fa_events"].get_int64().value()) << name;
      if (name == "artificialNoAnomaly") {
        EXPECT_EQ(w, 0);
        EXPECT_TRUE(c["score"].is_null());
      } else {
        EXPECT_TRUE(c["score"].is_double()) << name;
      }
      windows += w;
      files += c["files"].get_int64().value();
      raw += c["raw"].get_double().value();
    }
    EXPECT_EQ(windows, 36);
    EXPECT_EQ(files, 28);
    simdjson::dom::element pooled = p["pooled"];
    EXPECT_EQ(pooled["files"].get_int64().value(), 28);
    EXPECT_EQ(pooled["windows"].get_int64().value(), 36);
    EXPECT_NEAR(pooled["raw"].get_double().value(), raw, 1e-9);
    const double score = pooled["score"].get_double().value();
    EXPECT_GT(score, 0.0);
    EXPECT_LT(score, 100.0);
  }
}

TEST_F(EvalTest, AThresholdFromElsewhereIsSaid) {
  const std::string results = (NabDev() / "results/numenta").string();
  CmdResult r = RunIotad({"eval", "--labels", labels_, "--results", results, "--threshold", "0.6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Threshold 0.6 for every profile (--threshold)"), std::string::npos)
      << r.out;
  // The standard row at 0.6, with the set's own best (72.30 at 0.555459) beside it.
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(\nstandard +\d+\.\d\d +0\.6 +\S+ +\d+/36 +\d+ +72\.30 +0\.555459\n)")))
      << r.out;

  // Learnt on the set itself, the threshold is the optimised one.
  const std::string data = (NabDev() / "data").string();
  r = RunIotad({"eval", "--labels", labels_, "--data", data, "--threshold-from-data", data,
                "--threshold-from-labels", labels_, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(std::string_view(doc["threshold_source"].get_string().value()), "learnt");
  EXPECT_EQ(doc["threshold_set"]["files"].get_int64().value(), 28);
  simdjson::dom::array nab;
  ASSERT_EQ(doc["nab"].get_array().get(nab), simdjson::SUCCESS) << r.out;
  ASSERT_EQ(nab.size(), 3u);
  for (simdjson::dom::element s : nab) {
    EXPECT_EQ(s["threshold"].get_double().value(), s["own_best_threshold"].get_double().value());
    EXPECT_EQ(s["score"].get_double().value(), s["own_best_score"].get_double().value());
  }
}

TEST_F(EvalTest, WrittenResultsAreWhatWasEvaluatedAndScoreTheSameReadBack) {
  TempDir dir;
  const std::string out = dir / "kept/default";
  const CmdResult scored = RunIotad({"eval", "--labels", labels_, "--data", (NabDev() / "data").string(),
                                     "--detector", "default", "--write-results", out});
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  // One result file per labelled file, in the published layout, each what score-file writes.
  const std::vector<std::string> files = ListFiles(out);
  ASSERT_EQ(files.size(), 28u);
  EXPECT_EQ(files.front(), "artificialNoAnomaly/default_art_daily_no_noise.csv");
  const std::string jumpsup = (NabDev() / "data/artificialWithAnomaly/art_daily_jumpsup.csv").string();
  ASSERT_EQ(RunIotad({"score-file", "--input", jumpsup, "--output", dir / "jumpsup.csv"}).exit_code, 0);
  EXPECT_EQ(ReadFile(out + "/artificialWithAnomaly/default_art_daily_jumpsup.csv"),
            ReadFile(dir / "jumpsup.csv"));
  // Read back as published results: the same three profile rows.
  const CmdResult again = RunIotad({"eval", "--labels", labels_, "--results", out});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("NAB v1.1 scores of default on 28 files"), std::string::npos) << again.out;
  const auto profile_rows = [](const std::string& text) {
    std::string rows;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("standard ") || line.starts_with("reward_low_")) rows += line + "\n";
    }
    return rows;
  };
  const std::string rows = profile_rows(scored.out);
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 3) << scored.out;
  EXPECT_EQ(profile_rows(again.out), rows);
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
      {{"eval", "--labels", labels_, "--data", data, "--per-event"}, 2, "--per-event applies to --lake"},
      {{"eval", "--labels", "/no/such/labels.json", "--results", results},
       3,
       "cannot read '/no/such/labels.json'"},
      {{"eval", "--labels", labels_, "--results", "/no/such/detector"}, 3, "no result file for"},
      {{"eval", "--labels", labels_, "--data", data, "--detector", "nope"},
       2,
       "unknown detector 'nope'"},
      {{"eval", "--labels", labels_, "--data", data, "--threshold", "0.5", "--leave-one-out"},
       2,
       "give at most one of --threshold, --threshold-from-data and --leave-one-out"},
      {{"eval", "--labels", labels_, "--data", data, "--threshold-from-data", data},
       2,
       "give both --threshold-from-data and --threshold-from-labels"},
      {{"eval", "--labels", labels_, "--results", results, "--threshold-from-data", data,
        "--threshold-from-labels", labels_},
       2,
       "--threshold-from-data applies to --data"},
      {{"eval", "--labels", labels_, "--data", data, "--threshold-from-data", "/no/such/data",
        "--threshold-from-labels", labels_},
       3,
       "threshold set: "},
      {{"eval", "--labels", labels_, "--results", results, "--write-results", "/tmp/never"},
       2,
       "--write-results applies to --data"},
      {{"eval", "--labels", labels_, "--data", data, "--write-results", "/proc/no/such"},
       4,
       "cannot create the folder of '/proc/no/such/"},
  };
  for (const Case& c : cases) {
    const CmdResult r = RunIotad(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("eval: eval:"), std::string::npos) << r.err;  // the command named once
  }
  for (const char* cmd : {"eval", "score-file"}) {
    const CmdResult help = RunIotad({cmd, "--help"});
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace iotad::e2e
