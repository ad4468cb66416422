#include "iotad/core/metrics.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace iotad::metrics {
namespace {

TEST(MetricsTest, CounterAndGaugeExpositionHasHelpTypeAndSamples) {
  Registry r;
  r.GetCounter("iotad_rows_stored_total", "Rows stored in silver.").Inc(41);
  r.GetCounter("iotad_rows_stored_total", "Rows stored in silver.").Inc();
  r.GetGauge("iotad_last_run_timestamp_seconds", "When the last run finished.").Set(1.7e9);
  EXPECT_EQ(r.Exposition(),
            "# HELP iotad_last_run_timestamp_seconds When the last run finished.\n"
            "# TYPE iotad_last_run_timestamp_seconds gauge\n"
            "iotad_last_run_timestamp_seconds 1700000000\n"
            "# HELP iotad_rows_stored_total Rows stored in silver.\n"
            "# TYPE iotad_rows_stored_total counter\n"
            "iotad_rows_stored_total 42\n");
}

TEST(MetricsTest, LabelValuesAreEscapedAndSeriesSorted) {
  Registry r;
  auto& f = r.CounterFamily("iotad_rows_quarantined_total", "Rows quarantined, by reason.\nSecond \\ line.",
                            {"reason", "stage"});
  f.With({"bad \"quote\"", "silver"}).Inc(2);
  f.With({"back\\slash\nnewline", "silver"}).Inc(3);
  f.With({"abc", "silver"}).Inc(1);
  EXPECT_EQ(r.Exposition(),
            "# HELP iotad_rows_quarantined_total Rows quarantined, by reason.\\nSecond \\\\ line.\n"
            "# TYPE iotad_rows_quarantined_total counter\n"
            "iotad_rows_quarantined_total{reason=\"abc\",stage=\"silver\"} 1\n"
            "iotad_rows_quarantined_total{reason=\"back\\\\slash\\nnewline\",stage=\"silver\"} 3\n"
            "iotad_rows_quarantined_total{reason=\"bad \\\"quote\\\"\",stage=\"silver\"} 2\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeEndWithInfAndCarrySumAndCount) {
  Registry r;
  auto& h = r.HistogramFamily("iotad_stage_duration_seconds", "Stage wall time.", {"stage"}, {0.1, 1, 10})
                .With({"silver"});
  h.Observe(0.05);
  h.Observe(0.1);  // bounds are inclusive
  h.Observe(0.5);
  h.Observe(20);
  EXPECT_EQ(r.Exposition(),
            "# HELP iotad_stage_duration_seconds Stage wall time.\n"
            "# TYPE iotad_stage_duration_seconds histogram\n"
            "iotad_stage_duration_seconds_bucket{stage=\"silver\",le=\"0.1\"} 2\n"
            "iotad_stage_duration_seconds_bucket{stage=\"silver\",le=\"1\"} 3\n"
            "iotad_stage_duration_seconds_bucket{stage=\"silver\",le=\"10\"} 3\n"
            "iotad_stage_duration_seconds_bucket{stage=\"silver\",le=\"+Inf\"} 4\n"
            "iotad_stage_duration_seconds_sum{stage=\"silver\"} 20.65\n"
            "iotad_stage_duration_seconds_count{stage=\"silver\"} 4\n");
}

TEST(MetricsTest, HistogramWithoutLabelsAndSpecialValues) {
  Registry r;
  auto& h = r.HistogramFamily("iotad_x_seconds", "x", {}, {1}).With({});
  h.Observe(2);
  r.GetGauge("iotad_g", "g").Set(std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.Exposition(),
            "# HELP iotad_g g\n# TYPE iotad_g gauge\niotad_g +Inf\n"
            "# HELP iotad_x_seconds x\n# TYPE iotad_x_seconds histogram\n"
            "iotad_x_seconds_bucket{le=\"1\"} 0\niotad_x_seconds_bucket{le=\"+Inf\"} 1\n"
            "iotad_x_seconds_sum 2\niotad_x_seconds_count 1\n");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(0.25), "0.25");
}

TEST(MetricsTest, RegisteringAgainReturnsTheSameFamily) {
  Registry r;
  auto& a = r.CounterFamily("iotad_anomalies_total", "Anomalies.", {"detector"});
  auto& b = r.CounterFamily("iotad_anomalies_total", "Anomalies.", {"detector"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.With({"zscore"}), &b.With({"zscore"}));
}

TEST(MetricsDeathTest, AnotherTypeUnderTheSameNameIsABug) {
  Registry r;
  r.GetCounter("iotad_rows_total", "Rows.");
  EXPECT_DEATH(r.GetGauge("iotad_rows_total", "Rows."), "registered twice");
  EXPECT_DEATH(r.GetCounter("iotad rows", "bad name"), "not a valid metric name");
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& family = r.CounterFamily("iotad_c_total", "c", {"t"});
  auto& h = r.HistogramFamily("iotad_h_seconds", "h", {}, {1}).With({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Counter& mine = family.With({std::to_string(t % 2)});
      for (int i = 0; i < 20'000; ++i) {
        mine.Inc();
        h.Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.With({"0"}).Value() + family.With({"1"}).Value(), 80'000);
  EXPECT_EQ(h.BucketCounts()[0], 80'000);
  EXPECT_DOUBLE_EQ(h.Sum(), 40'000);
}

TEST(MetricsTest, WriteTextFileReplacesTheFileWhole) {
  const auto dir = std::filesystem::temp_directory_path() / ("iotad_metrics_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "iotad.prom";
  Registry r;
  r.GetCounter("iotad_commits_total", "Commits.").Inc(3);
  ASSERT_TRUE(WriteTextFile(r, path).ok());
  r.GetCounter("iotad_commits_total", "Commits.").Inc();
  ASSERT_TRUE(WriteTextFile(r, path).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), r.Exposition());
  EXPECT_NE(text.str().find("iotad_commits_total 4\n"), std::string::npos);
  // Nothing is left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
  const Status missing = WriteTextFile(r, dir / "no-such-folder" / "x.prom");
  EXPECT_EQ(missing.code(), Errc::kIo);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace iotad::metrics
