// RunNabEval's thresholds: given (--threshold), learnt on another set (--threshold-from-*), and
// leave-one-out, on a small hand-made set of published-style result files and on the nab-dev set.
#include "iotad/eval/nab_eval.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "iotad/eval/nab_labels.h"
#include "iotad/eval/report.h"
#include "iotad/eval/series_csv.h"

namespace iotad::eval {
namespace {

namespace fs = std::filesystem;

/// Rows 5 minutes apart from 2014-01-01 00:00:00.
std::string Time(int row) {
  return fmt::format("2014-01-01 {:02}:{:02}:00", row / 12, row % 12 * 5);
}

class NabEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("iotad-nab-eval-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // The set of leave_one_out_test.cpp as result files of a detector named "hand": 40 rows each,
    // windows over rows 10-19.
    WriteResults("b/1.csv", {{15, 0.7}});
    WriteResults("a/1.csv", {{10, 0.9}, {30, 0.5}});
    WriteResults("c/1.csv", {{20, 0.8}});
    const std::string window = fmt::format(R"([["{}.000000", "{}.000000"]])", Time(10), Time(19));
    Write("labels.json",
          fmt::format(R"({{"b/1.csv": {0}, "a/1.csv": {0}, "c/1.csv": []}})", window));
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string Read(const fs::path& path) {
    std::string text;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return text;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    std::fclose(f);
    return text;
  }
  void Write(const fs::path& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::FILE* f = std::fopen((dir_ / name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  void WriteResults(const std::string& file, std::vector<std::pair<int, double>> fired) {
    std::string text = "timestamp,value,anomaly_score\n";
    for (int i = 0; i < 40; ++i) {
      double score = 0;
      for (const auto& [row, s] : fired) score = row == i ? s : score;
      text += fmt::format("{},1,{}\n", Time(i), score);
    }
    const fs::path path(file);
    Write(fs::path("results/hand") / path.parent_path() / ("hand_" + path.filename().string()),
          text);
  }
  NabEvalOptions Options() const {
    NabEvalOptions o;
    o.labels_path = (dir_ / "labels.json").string();
    o.results_dir = (dir_ / "results/hand").string();
    return o;
  }
  fs::path dir_;
};

TEST_F(NabEvalTest, AGivenThresholdScoresEveryProfileThere) {
  NabEvalOptions options = Options();
  options.threshold = 0.75;
  const auto r = RunNabEval(options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->threshold_source, ThresholdSource::kGiven);
  ASSERT_EQ(r->nab.size(), 3u);
  ASSERT_EQ(r->own_best.size(), 3u);
  // At 0.75: a's 0.9 hits its window start (1), b's 0.7 misses (-1), c's 0.8 is a false positive
  // before any window (-0.11).
  const NabScore& standard = r->nab[0];
  EXPECT_DOUBLE_EQ(standard.threshold, 0.75);
  EXPECT_NEAR(standard.raw, -0.11, 1e-12);
  EXPECT_EQ(standard.windows_hit, 1);
  EXPECT_EQ(standard.fa_events, 1);
  EXPECT_NEAR(standard.normalized, 100 * 1.89 / 4, 1e-9);
  EXPECT_DOUBLE_EQ(r->nab[2].threshold, 0.75);
  EXPECT_NEAR(r->nab[2].raw, 1 - 2 - 0.11, 1e-12);  // reward_low_FN_rate: a miss costs 2
  // Beside it, the best threshold for this set: 0.7, where b's window is hit too.
  EXPECT_DOUBLE_EQ(r->own_best[0].threshold, 0.7);
  EXPECT_GT(r->own_best[0].normalized, standard.normalized);

  const std::string table = FormatEvalTable(*r, false);
  EXPECT_NE(table.find("Threshold 0.75 for every profile (--threshold)"), std::string::npos)
      << table;
  EXPECT_NE(table.find("own best"), std::string::npos) << table;
  const std::string json = FormatEvalJson(*r, false);
  EXPECT_NE(json.find(R"("threshold_source":"given")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("threshold":0.75,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("own_best_threshold":0.7})"), std::string::npos) << json;

  // Without --threshold nothing changes: the optimised threshold, no own-best column.
  const auto plain = RunNabEval(Options());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->threshold_source, ThresholdSource::kOptimised);
  EXPECT_DOUBLE_EQ(plain->nab[0].threshold, 0.7);
  EXPECT_TRUE(plain->own_best.empty());
  EXPECT_EQ(FormatEvalTable(*plain, false).find("own best"), std::string::npos);
}

TEST_F(NabEvalTest, ACategoryWithoutWindowsHasNoNormalisedScore) {
  NabEvalOptions options = Options();
  options.leave_one_out = true;
  const auto r = RunNabEval(options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->leave_one_out.size(), 3u);
  const LeaveOneOutFold& c = r->leave_one_out[0].folds[2];
  EXPECT_EQ(c.category, "c");
  EXPECT_TRUE(std::isnan(c.score.normalized));
  EXPECT_EQ(c.score.fa_events, 1);
  const std::string table = FormatEvalTable(*r, false);
  EXPECT_NE(table.find("\nstandard               c            1     n/a        0.7    -0.110"
                       "         0/0         1        1\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("\nstandard               pooled       3   47.25          -    -0.110"),
            std::string::npos)
      << table;
  const std::string json = FormatEvalJson(*r, false);
  EXPECT_NE(json.find(R"({"category":"c","files":1,"rows":40,"train_files":2,"score":null,)"
                      R"("threshold":0.7,"raw":-0.11)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("pooled":{"files":3,"score":47.25)"), std::string::npos) << json;
}

TEST_F(NabEvalTest, ConflictingThresholdOptionsAreRefused) {
  NabEvalOptions both = Options();
  both.threshold = 0.5;
  both.leave_one_out = true;
  EXPECT_NE(RunNabEval(both).status().message().find("at most one of --threshold"),
            std::string::npos);
  NabEvalOptions half = Options();
  half.threshold_data_dir = dir_.string();
  EXPECT_NE(RunNabEval(half).status().message().find("give both --threshold-from-data"),
            std::string::npos);
  NabEvalOptions results = Options();
  results.threshold_data_dir = dir_.string();
  results.threshold_labels_path = (dir_ / "labels.json").string();
  EXPECT_NE(RunNabEval(results).status().message().find("applies to --data"), std::string::npos);
  NabEvalOptions infinite = Options();
  infinite.threshold = INFINITY;
  EXPECT_NE(RunNabEval(infinite).status().message().find("finite"), std::string::npos);
}

TEST_F(NabEvalTest, AThresholdLearntOnAnotherSetIsThatSetsBest) {
  // nab-dev split: learn on the artificial files, score the AWS ones.
  const fs::path dev(IOTAD_NAB_DEV_DIR);
  ASSERT_TRUE(fs::is_directory(dev / "data")) << "the NAB dev set is missing: " << dev;
  const auto labels = ReadNabWindows((dev / "labels/combined_windows.json").string());
  ASSERT_TRUE(labels.ok());
  std::string art = "{", aws = "{";
  for (const NabFileWindows& f : *labels) {
    std::string& into = f.file.starts_with("realAWSCloudwatch/") ? aws : art;
    into += fmt::format("{}\"{}\": [", into.size() > 1 ? ", " : "", f.file);
    for (size_t i = 0; i < f.windows.size(); ++i) {
      into += fmt::format(R"({}["{}", "{}"])", i > 0 ? ", " : "",
                          FormatTimestamp(f.windows[i].start_us),
                          FormatTimestamp(f.windows[i].end_us));
    }
    into += "]";
  }
  Write("art.json", art + "}");
  Write("aws.json", aws + "}");
  NabEvalOptions learn;
  learn.labels_path = (dir_ / "art.json").string();
  learn.data_dir = (dev / "data").string();
  const auto on_art = RunNabEval(learn);
  ASSERT_TRUE(on_art.ok()) << on_art.status().message();

  NabEvalOptions options = learn;
  options.labels_path = (dir_ / "aws.json").string();
  options.threshold_data_dir = (dev / "data").string();
  options.threshold_labels_path = (dir_ / "art.json").string();
  const auto r = RunNabEval(options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->threshold_source, ThresholdSource::kLearnt);
  EXPECT_EQ(r->files, 17);
  EXPECT_EQ(r->threshold_files, 11);
  ASSERT_EQ(r->nab.size(), 3u);
  for (size_t i = 0; i < r->nab.size(); ++i) {
    EXPECT_EQ(r->nab[i].threshold, on_art->nab[i].threshold) << i;
    EXPECT_EQ(r->threshold_set[i].normalized, on_art->nab[i].normalized) << i;
    EXPECT_EQ(r->nab[i].windows, 30);
    // The set's own best threshold scores at least as well as one learnt elsewhere.
    EXPECT_GE(r->own_best[i].raw, r->nab[i].raw) << i;
  }
  const std::string table = FormatEvalTable(*r, false);
  EXPECT_NE(table.find("Thresholds learnt with default on the 11 files of"), std::string::npos)
      << table;
}

/// The event metrics of a data run: the flags after NAB's probation over the coverage after it,
/// and, beside them, the flags over each whole series (what the sensitivity knob promises). One
/// series of 40 rows 5 minutes apart (probation: rows 0-5), a window over rows 10-19, and a
/// garbage reading (always flagged, by the range rule) at row 2, in probation, and at row 30.
TEST_F(NabEvalTest, FlagsInProbationCountOnlyOverTheWholeSeries) {
  std::string text = "timestamp,value\n";
  for (int i = 0; i < 40; ++i) text += fmt::format("{},{}\n", Time(i), i == 2 || i == 30 ? "1e200" : "1");
  Write("data/a/1.csv", text);
  Write("one.json", fmt::format(R"({{"a/1.csv": [["{}.000000", "{}.000000"]]}})", Time(10), Time(19)));
  NabEvalOptions options;
  options.labels_path = (dir_ / "one.json").string();
  options.data_dir = (dir_ / "data").string();
  const auto r = RunNabEval(options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const EventMetrics& after = r->events;
  EXPECT_EQ(after.detections, 1);
  EXPECT_EQ(after.overall.false_alerts, 1);
  EXPECT_NEAR(after.device_days, (39 - 6) * 5.0 / 1440.0, 1e-12);  // from row 6, the first scored
  EXPECT_NEAR(after.false_alarms_per_device_day, 1.0 / ((39 - 6) * 5.0 / 1440.0), 1e-9);
  ASSERT_EQ(after.false_alerts_by_detector.size(), 1u);
  EXPECT_EQ(after.false_alerts_by_detector[0].first, "range");  // the member that flagged, not "unknown"
  ASSERT_TRUE(r->events_whole_series.has_value());
  const EventMetrics& whole = *r->events_whole_series;
  EXPECT_EQ(whole.detections, 2);
  EXPECT_EQ(whole.overall.false_alerts, 2);
  EXPECT_NEAR(whole.device_days, 39 * 5.0 / 1440.0, 1e-12);
  EXPECT_NEAR(whole.false_alarms_per_device_day, 2.0 / (39 * 5.0 / 1440.0), 1e-9);

  const std::string table = FormatEvalTable(*r, false);
  EXPECT_NE(table.find("Over each whole series, probation included (a new series' flags): 2 detections in 2 "
                       "alerts (2 false); 14.769 false alarms per series-day over 0.1 series-days"),
            std::string::npos)
      << table;
  const std::string json = FormatEvalJson(*r, false);
  const size_t at = json.find(R"("events_whole_series":{"detections":2,"alerts":2,)");
  EXPECT_NE(at, std::string::npos) << json;
  EXPECT_NE(json.find(R"("false_alerts_by_detector":{"range":2})", at), std::string::npos) << json;

  // Results files have scores, not flags: no whole-series figure.
  NabEvalOptions results = Options();
  const auto from_results = RunNabEval(results);
  ASSERT_TRUE(from_results.ok());
  EXPECT_FALSE(from_results->events_whole_series.has_value());
  EXPECT_EQ(FormatEvalJson(*from_results, false).find("events_whole_series"), std::string::npos);
}

/// `--write-results`: a data folder of two series (a/x.csv, b/y.csv: 600 rows 5 minutes apart, a
/// smooth wave with a spike at row 400), a window around each spike.
TEST_F(NabEvalTest, WrittenResultsAreTheScoresEvaluatedAndReadBackTheSame) {
  std::string labels = "{";
  for (const char* file : {"a/x.csv", "b/y.csv"}) {
    std::string text = "timestamp,value\n";
    for (int i = 0; i < 600; ++i) {
      const double wave = 10.0 + 3.0 * std::sin(i * 0.05) + 0.3 * std::sin(i * 1.7);
      text += fmt::format("2014-01-{:02} {:02}:{:02}:00,{}\n", 1 + i / 288, i % 288 / 12,
                          i % 12 * 5, i == 400 ? wave + 25.0 : wave);
    }
    Write(fs::path("data") / file, text);
    labels += fmt::format(R"({}"{}": [["2014-01-02 08:00:00.000000", "2014-01-02 12:00:00.000000"]])",
                          labels.size() > 1 ? ", " : "", file);
  }
  Write("spiky.json", labels + "}");
  NabEvalOptions scored;
  scored.labels_path = (dir_ / "spiky.json").string();
  scored.data_dir = (dir_ / "data").string();
  scored.write_results_dir = (dir_ / "out/mine").string();
  const auto r = RunNabEval(scored);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows, 1200);

  // The layout of published results: DIR/<category>/<DIR's name>_<file>, each the bytes
  // `iotad score-file` writes for that file.
  for (const char* file : {"a/x.csv", "b/y.csv"}) {
    const fs::path rel(file);
    const fs::path written = dir_ / "out/mine" / rel.parent_path() / ("mine_" + rel.filename().string());
    ASSERT_TRUE(fs::is_regular_file(written)) << written;
    EXPECT_FALSE(fs::exists(written.string() + ".tmp"));
    const std::string reference = (dir_ / "reference.csv").string();
    ASSERT_TRUE(WriteScoredCsv((dir_ / "data" / file).string(), reference, "default").ok());
    EXPECT_EQ(Read(written), Read(reference)) << file;
  }
  // Read back as results, they score as they did when computed (the thresholds to the 9
  // significant digits the scores are written with).
  NabEvalOptions read_back;
  read_back.labels_path = scored.labels_path;
  read_back.results_dir = scored.write_results_dir;
  const auto again = RunNabEval(read_back);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->detector, "mine");
  ASSERT_EQ(again->nab.size(), r->nab.size());
  for (size_t i = 0; i < r->nab.size(); ++i) {
    EXPECT_NEAR(again->nab[i].threshold, r->nab[i].threshold, 1e-8) << i;
    EXPECT_EQ(again->nab[i].raw, r->nab[i].raw) << i;
    EXPECT_EQ(again->nab[i].windows_hit, r->nab[i].windows_hit) << i;
    EXPECT_EQ(again->nab[i].fa_events, r->nab[i].fa_events) << i;
  }
  // The spikes are found: the scores written are not all zero.
  EXPECT_EQ(r->nab[0].windows_hit, 2);

  // A folder that cannot be made fails the run; published results are not written over.
  Write("blocked", "a file where the folder should be");
  NabEvalOptions blocked = scored;
  blocked.write_results_dir = (dir_ / "blocked/mine").string();
  const auto failed = RunNabEval(blocked);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("blocked"), std::string::npos) << failed.status().message();
  NabEvalOptions results = read_back;
  results.write_results_dir = (dir_ / "out/other").string();
  EXPECT_EQ(RunNabEval(results).status().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "out/other"));
}

}  // namespace
}  // namespace iotad::eval
