#include "iotad/lake/commit_meta.h"

#include <gtest/gtest.h>

namespace iotad::lake {
namespace {

TEST(CommitMetaTest, SilverRoundTripsEveryField) {
  SilverCommitMeta m;
  m.batch = "b1";
  m.rebuild = true;
  m.accounting = SilverRowCounts{10, 6, 2, 1, 1, 3};
  m.quarantine_reasons = {{"bad_time", 2}};
  m.cell_reasons = {{"bad_number", 3}};
  m.parse = {{"null_cells", 4}, {"zoneless_timestamps", 5}};
  m.columns = SilverCommitMeta::Columns{{"temp_c", "hum"}, {"firmware"}};
  SilverFileCounts f;
  f.key = "bronze/dt=2024-01-01/hour=00/a.csv";
  f.rows = 10, f.stored = 6, f.quarantined = 2, f.duplicates = 1, f.merged = 1, f.cells_quarantined = 3;
  m.files = {f};
  auto back = SilverCommitMeta::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->ToJson(), m.ToJson());
  EXPECT_TRUE(back->rebuild);
  EXPECT_EQ(back->columns->metrics, (std::vector<std::string>{"temp_c", "hum"}));
  EXPECT_EQ(back->files.at(0).key, f.key);
  EXPECT_EQ(back->accounting->Unbalanced(), "");
}

TEST(CommitMetaTest, SilverRecordsOfOlderLakesStillRead) {
  // Before `merged`, `columns`, `parse` and per-file counts existed.
  auto old = SilverCommitMeta::FromJson(
      R"({"batch":"x","rebuild":false,"accounting":{"rows":5,"stored":3,"quarantined":1,"duplicates":1}})");
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_FALSE(old->rebuild);
  EXPECT_FALSE(old->columns.has_value());
  EXPECT_FALSE(old->accounting->merged.has_value());
  EXPECT_EQ(old->accounting->Unbalanced(), "");
  // Not even an accounting: it reads, and says so.
  auto bare = SilverCommitMeta::FromJson("{}");
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->accounting.has_value());
  EXPECT_EQ(SilverCommitMeta::FromJson("[1]").status().code(), Errc::kCorrupt);
}

TEST(CommitMetaTest, UnbalancedNamesOnlyTheCountersTheRecordHas) {
  SilverRowCounts c;
  c.rows = 10, c.stored = 4, c.quarantined = 5, c.duplicates = 0;
  EXPECT_EQ(c.Unbalanced(), "10 rows != 4 stored + 5 quarantined + 0 duplicates");
  c.merged = 1;
  EXPECT_EQ(c.Unbalanced(), "");
  EXPECT_EQ(SilverRowCounts{}.Unbalanced(), "has no row count");
}

TEST(CommitMetaTest, GoldRecordsOfOlderLakesReadAndFingerprintsWithQuotesRoundTrip) {
  // What gold wrote before the typed meta (and, first, with only these two fields).
  auto old = GoldCommitMeta::FromJson(R"({"silver_seq":7,"fingerprint":"zscore/v1 z=3","rows_scanned":10,)"
                                      R"("summary_rows":2,"anomalies":{"zscore":4}})");
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->silver_seq, 7);
  EXPECT_EQ(old->fingerprint, "zscore/v1 z=3");
  EXPECT_EQ(old->anomalies.at("zscore"), 4);
  auto first = GoldCommitMeta::FromJson(R"({"silver_seq":1,"fingerprint":"f"})");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rows_scanned, 0);
  // A fingerprint is compared as a field, so any text survives in it (gold used to search the
  // meta's text for the pair, and quotes in a rule had to be replaced first).
  GoldCommitMeta m;
  m.silver_seq = 12;
  m.fingerprint = R"(rule[m="x"] {"silver_seq":1})";
  auto back = GoldCommitMeta::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->fingerprint, m.fingerprint);
  EXPECT_EQ(back->silver_seq, 12);
  EXPECT_EQ(GoldCommitMeta::FromJson(R"({"fingerprint":"f"})").status().code(), Errc::kCorrupt);
}

TEST(CommitMetaTest, IngestAndRepairRoundTrip) {
  // What ingest writes today.
  auto ingest = IngestCommitMeta::FromJson(
      R"({"files":[{"source":"/in/a.csv","key":"bronze/dt=2024-01-01/hour=00/h.csv","bytes":42}]})");
  ASSERT_TRUE(ingest.ok());
  ASSERT_EQ(ingest->files.size(), 1u);
  EXPECT_EQ(ingest->files[0].bytes, 42);
  EXPECT_EQ(IngestCommitMeta::FromJson(ingest->ToJson())->files[0].key, "bronze/dt=2024-01-01/hour=00/h.csv");
  auto repair = RepairCommitMeta::FromJson(RepairCommitMeta{"lost \"x\""}.ToJson());
  ASSERT_TRUE(repair.ok());
  EXPECT_EQ(repair->reason, "lost \"x\"");
}

}  // namespace
}  // namespace iotad::lake
