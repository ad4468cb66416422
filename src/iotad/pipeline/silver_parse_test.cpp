// ParseBronze: the reader thread (bronze read and parsed a file ahead, the calls recorded and
// replayed by the parse worker) hands the writer exactly what one thread doing both does, with
// files whose columns change from file to file (the roles each file is parsed with).
#include "iotad/pipeline/silver_parse.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "iotad/core/thread.h"
#include "iotad/ingest/bronze.h"
#include "iotad/lake/snapshot.h"

namespace iotad::pipeline::silver {
namespace {
namespace fs = std::filesystem;

class SilverParseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    root_ = fs::temp_directory_path() / fmt::format("iotad-silver-parse-test-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(root_ / "in");
    ASSERT_TRUE(lake::Lake::Init(root_ / "lake").ok());
  }
  void TearDown() override {
    FailThreadStartAt(0);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const std::string& name, const std::string& text) { std::ofstream(root_ / "in" / name) << text; }

  /// Everything ParseBronze hands the writer, as text (hours row by row with their names, and
  /// quarantine records), then its counts and the lake's columns.
  std::string ParseAll(lake::Lake& lake, const SilverPlan& plan) {
    std::string out;
    BufferPool pool;
    const ParseResult r = ParseBronze(lake, plan, pool, [&](Task t) {
      if (auto* h = std::get_if<HourTask>(&t)) {
        const clean::HourBuffer& b = h->buffer;
        out += fmt::format("hour {} dims [{}] metrics [{}]\n", b.hour_start, fmt::join(h->dim_names, ","),
                           fmt::join(h->metric_names, ","));
        for (size_t i = 0; i < b.size(); ++i) {
          out += fmt::format("  {} +{} src {} line {}", h->devices->at(b.device[i]), b.offset[i], b.source[i], b.line[i]);
          for (const auto& d : b.dims) out += fmt::format(" '{}'", h->dim_values->at(d[i]));
          for (const auto& m : b.metrics) out += std::isnan(m[i]) ? std::string(" NULL") : fmt::format(" {}", m[i]);
          out += '\n';
        }
      } else {
        for (const auto& q : std::get<QuarantineTask>(t).rows) {
          out += fmt::format("quarantine {} '{}' src {} line {}: {} | {}\n", q.reason, q.column, q.source, q.line,
                             q.detail, q.raw);
        }
      }
    });
    for (const FileCounts& f : r.per_file) {
      out += fmt::format("file rows {} quarantined {} cells {}\n", f.rows, f.quarantined, f.cells);
    }
    parsed_again_ = r.files_parsed_again;
    out += fmt::format("metrics [{}] dimensions [{}] null cells {}\n", fmt::join(r.lake_columns.metrics, ","),
                       fmt::join(r.lake_columns.dimensions, ","), r.totals.null_cells);
    return out;
  }
  fs::path root_;
  int64_t parsed_again_ = -1;
};

TEST_F(SilverParseTest, TheReaderThreadHandsOnWhatOneThreadParsingEveryFileDoes) {
  // Each file brings columns the one before did not have, so each is parsed with the roles the
  // files before it gave the lake: `site` is typed text by the second file and stays a dimension
  // in the third, whose numbers in it are then kept as text; `pressure` is a metric from the
  // second file on, so the third file's text in it is a per-cell bad_number.
  Write("a-2026010100.csv",
        "event_time,device_id,temperature\n"
        "2026-01-01T00:00:00Z,dev-1,21.5\n"
        "2026-01-01T00:01:00Z,dev-2,NA\n"
        "bad time,dev-1,3\n");
  Write("b-2026010101.csv",
        "event_time,device_id,site,pressure,temperature\n"
        "2026-01-01T01:00:00Z,dev-1,north,1.01,21.6\n"
        "2026-01-01T01:01:00Z,\"dev-2\",\"so\"\"uth\",1.02,21.7\n"
        "2026-01-01T00:59:00Z,dev-3,east,1.03,21.8\n");
  Write("c-2026010102.jsonl",
        "{\"event_time\":\"2026-01-01T02:00:00Z\",\"device_id\":\"dev-1\",\"site\":7,\"pressure\":\"high\",\"humidity\":40}\n"
        "{\"event_time\":\"2026-01-01T02:01:00Z\",\"device_id\":\"dev-2\",\"site\":\"west\",\"pressure\":1.04,\"humidity\":41}\n"
        "not json\n");
  auto lake = lake::Lake::Open(root_ / "lake");
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  ASSERT_TRUE((*lake)->BeginWrite().ok());
  auto landed = ingest::IngestPaths(**lake, {(root_ / "in").string()}, "20260101T000000Z-0001");
  ASSERT_TRUE(landed.ok()) << landed.status().message();
  ASSERT_EQ(landed->new_files, 3);
  auto snapshot = (*lake)->snapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  auto inputs = PendingBronze(**lake, **snapshot, false);
  ASSERT_TRUE(inputs.ok()) << inputs.status().message();
  ASSERT_EQ(inputs->size(), 3u);
  auto session = (*lake)->OpenSession(false);
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto plan = PlanSilver(**lake, **snapshot, **session, (*lake)->config().silver, SilverOptions{}, "r1", *inputs);
  ASSERT_TRUE(plan.ok()) << plan.status().message();

  const std::string with_reader = ParseAll(**lake, *plan);
  EXPECT_EQ(parsed_again_, 0) << "the reader parsed a file with other roles than the worker's";
  FailThreadStartAt(1);  // the reader thread cannot start: this thread reads and parses every file
  const std::string one_thread = ParseAll(**lake, *plan);
  FailThreadStartAt(0);
  EXPECT_EQ(with_reader, one_thread);
  // What the roles did, so the comparison is about something.
  EXPECT_NE(with_reader.find("metrics [temperature,pressure,humidity] dimensions [location,site]"), std::string::npos)
      << with_reader;
  EXPECT_NE(with_reader.find(" '7' "), std::string::npos) << with_reader;  // a number in a text column
  EXPECT_NE(with_reader.find("quarantine bad_number 'pressure'"), std::string::npos) << with_reader;
  EXPECT_NE(with_reader.find("'so\"uth'"), std::string::npos) << with_reader;  // an unescaped quoted cell
  EXPECT_NE(with_reader.find("quarantine bad_json"), std::string::npos) << with_reader;
  EXPECT_NE(with_reader.find("quarantine bad_timestamp"), std::string::npos) << with_reader;
}

}  // namespace
}  // namespace iotad::pipeline::silver
