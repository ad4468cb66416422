#include "iotad/pipeline/silver_plan.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "iotad/lake/snapshot.h"

namespace iotad::pipeline::silver {
namespace {
namespace fs = std::filesystem;

class SilverPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    root_ = fs::temp_directory_path() / fmt::format("iotad-silver-plan-test-{}-{:08x}", ::getpid(), rd());
    ASSERT_TRUE(lake::Lake::Init(root_).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::unique_ptr<lake::Lake> Open(std::string_view toml) {
    std::ofstream(root_ / "iotad.toml") << toml;
    auto lake = lake::Lake::Open(root_);
    EXPECT_TRUE(lake.ok()) << lake.status().message();
    return lake.ok() ? std::move(*lake) : nullptr;
  }
  fs::path root_;
};

// The plan holds every setting the workers use, resolved from the config once: the typed
// delimiter and encoding (not the strings), the declared dimensions, the bounds, the codec.
TEST_F(SilverPlanTest, ResolvesTheSettingsFromTheConfigOnce) {
  auto lake = Open(
      "[silver]\ndelimiter = \";\"\nencoding = \"latin-1\"\ndimension_columns = [\"site\"]\n"
      "time_columns = [\"reading_at\"]\nmax_buffered_rows = 5000\nmax_metric_columns = 7\n"
      "compression = \"snappy\"\ndefault_timezone = \"+05:30\"\n");
  ASSERT_NE(lake, nullptr);
  auto snapshot = lake->snapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  auto session = lake->OpenSession(/*with_views=*/false);
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto plan = PlanSilver(*lake, **snapshot, **session, lake->config().silver, SilverOptions{}, "r1", {"b"});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->roles.delimiter, ';');
  EXPECT_EQ(plan->roles.encoding, parse::TextEncoding::kLatin1);
  EXPECT_EQ(plan->roles.time_columns, std::vector<std::string>{"reading_at"});
  EXPECT_EQ(plan->roles.default_utc_offset_minutes, 330);
  // Dimensions reach the parser through the lake's roles (a declared one the lake stores as a
  // metric stays a metric), not straight from the config.
  EXPECT_TRUE(plan->roles.dimension_columns.empty());
  EXPECT_EQ(plan->declared_dimensions, std::vector<std::string>{"site"});
  EXPECT_EQ(plan->max_buffered_rows, 5000u);
  EXPECT_EQ(plan->max_metric_columns, 7u);
  EXPECT_EQ(plan->compression, "snappy");
  EXPECT_EQ(plan->inputs, std::vector<std::string>{"b"});
  EXPECT_EQ(plan->staging, lake::Lake::StagingPrefix("r1"));
  EXPECT_FALSE(plan->rebuild);
}

// The batch id names every file silver writes: the same inputs give the same names (a re-run
// after a crash writes the very same files), other inputs or a rebuild other names.
TEST_F(SilverPlanTest, BatchIdDerivesFromTheInputsAndTheMode) {
  auto lake = Open("");
  ASSERT_NE(lake, nullptr);
  auto snapshot = lake->snapshot();
  ASSERT_TRUE(snapshot.ok());
  auto session = lake->OpenSession(false);
  ASSERT_TRUE(session.ok());
  auto plan = [&](std::vector<std::string> inputs, bool rebuild) {
    auto p = PlanSilver(*lake, **snapshot, **session, lake->config().silver, SilverOptions{rebuild}, "r", inputs);
    EXPECT_TRUE(p.ok());
    return p.ok() ? p->batch_id : std::string();
  };
  EXPECT_EQ(plan({"a", "b"}, false), plan({"a", "b"}, false));
  EXPECT_NE(plan({"a", "b"}, false), plan({"a"}, false));
  EXPECT_NE(plan({"a", "b"}, false), plan({"a", "b"}, true));
  EXPECT_EQ(plan({"a"}, false).size(), 16u);
}

// Bronze files go in time order (hour as a number), whatever the folders' spelling; files that
// are not data are not inputs.
TEST_F(SilverPlanTest, PendingBronzeIsInTimeOrder) {
  auto lake = Open("");
  ASSERT_NE(lake, nullptr);
  for (const char* key : {"bronze/dt=2024-01-01/hour=10/b.csv", "bronze/dt=2024-01-01/hour=2/a.jsonl",
                          "bronze/dt=2023-12-31/hour=23/c.csv.gz", "bronze/dt=2024-01-01/hour=2/notes.md"}) {
    ASSERT_TRUE(lake->store().Put(key, "x").ok());
  }
  auto snapshot = lake->snapshot();
  ASSERT_TRUE(snapshot.ok());
  auto pending = PendingBronze(*lake, **snapshot, /*rebuild=*/false);
  ASSERT_TRUE(pending.ok()) << pending.status().message();
  EXPECT_EQ(*pending, (std::vector<std::string>{"bronze/dt=2023-12-31/hour=23/c.csv.gz",
                                               "bronze/dt=2024-01-01/hour=2/a.jsonl",
                                               "bronze/dt=2024-01-01/hour=10/b.csv"}));
}

}  // namespace
}  // namespace iotad::pipeline::silver
