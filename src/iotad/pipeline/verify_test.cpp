#include "iotad/pipeline/verify.h"

#include "iotad/lake/snapshot.h"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

namespace iotad::pipeline {
namespace {
namespace fs = std::filesystem;

lake::Commit MakeCommit(int64_t seq, std::string stage, std::vector<std::string> published,
                        std::vector<std::string> deletes = {}, std::string meta = "{}") {
  lake::Commit c;
  c.seq = seq;
  c.stage = std::move(stage);
  for (const auto& key : published) {
    c.moves.emplace_back("_iotad/staging/r/" + key, key);
    c.stamps[key] = lake::ObjectStamp{static_cast<uint64_t>(key.size()), lake::ObjectHashHex(key)};
  }
  c.deletes = std::move(deletes);
  c.meta_json = std::move(meta);
  return c;
}

std::vector<std::string> Keys(const std::map<std::string, LiveObject>& live) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : live) keys.push_back(k);
  return keys;
}

TEST(LayerOfTest, NamesTheLayerFolderOrNothing) {
  EXPECT_EQ(LayerOf("silver/year=2024/month=01/day=01/hour=00/p.parquet"), "silver");
  EXPECT_EQ(LayerOf("gold_summary/year=2024/x.parquet"), "gold_summary");
  EXPECT_EQ(LayerOf("bronze/dt=2024-01-01/hour=00/h.csv"), "bronze");
  EXPECT_EQ(LayerOf("quarantine/part-1.parquet"), "quarantine");
  EXPECT_EQ(LayerOf("runs/r.json"), "");
  EXPECT_EQ(LayerOf("_iotad/log/000000000001.json"), "");
  EXPECT_EQ(LayerOf("iotad.toml"), "");
  EXPECT_EQ(LayerOf("silverware/x"), "");
}

TEST(ReplayLiveSetTest, MovesAddAndDeletesRemoveInCommitOrder) {
  const std::vector<lake::Commit> commits = {
      MakeCommit(1, "ingest", {"bronze/dt=2024-01-01/hour=00/a.csv"}),
      MakeCommit(2, "silver", {"silver/h0/p1.parquet", "quarantine/q1.parquet"}),
      MakeCommit(3, "gold", {"gold/h0/a1.parquet", "gold_summary/h0/s1.parquet"}),
      MakeCommit(4, "gold", {"gold/h0/a2.parquet"}, {"gold/h0/a1.parquet"}),
  };
  const auto live = ReplayLiveSet(commits);
  EXPECT_EQ(Keys(live), (std::vector<std::string>{"bronze/dt=2024-01-01/hour=00/a.csv", "gold/h0/a2.parquet",
                                                  "gold_summary/h0/s1.parquet", "quarantine/q1.parquet",
                                                  "silver/h0/p1.parquet"}));
  EXPECT_EQ(live.at("gold/h0/a2.parquet").seq, 4);
  EXPECT_EQ(live.at("gold_summary/h0/s1.parquet").seq, 3);  // unchanged files stay from their commit
  ASSERT_TRUE(live.at("silver/h0/p1.parquet").stamp.has_value());
  EXPECT_EQ(live.at("silver/h0/p1.parquet").stamp->hash, lake::ObjectHashHex("silver/h0/p1.parquet"));
}

TEST(ReplayLiveSetTest, ARepublishedKeyTakesTheLatestCommitsStamp) {
  auto first = MakeCommit(1, "gold", {"gold/h0/a.parquet"});
  auto second = MakeCommit(2, "gold", {"gold/h0/a.parquet"});
  second.stamps["gold/h0/a.parquet"].size_bytes = 99;
  const auto live = ReplayLiveSet({first, second});
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live.at("gold/h0/a.parquet").seq, 2);
  EXPECT_EQ(live.at("gold/h0/a.parquet").stamp->size_bytes, 99u);
}

TEST(ReplayLiveSetTest, SilverRebuildReplacesSilverAndQuarantineOnly) {
  // A rebuild lists as deletes only the files it found on disk; one lost by hand is not among
  // them, yet the rebuild replaces it all the same.
  const std::vector<lake::Commit> commits = {
      MakeCommit(1, "ingest", {"bronze/a.csv"}),
      MakeCommit(2, "silver", {"silver/h0/p-old-0.parquet", "silver/h1/p-old-0.parquet", "quarantine/q-old.parquet"}),
      MakeCommit(3, "gold", {"gold/h0/a.parquet"}),
      MakeCommit(4, "silver", {"silver/h0/p-new-0.parquet"}, {"silver/h1/p-old-0.parquet"},
                 R"({"batch":"x","rebuild":true,"accounting":{}})"),
  };
  EXPECT_EQ(Keys(ReplayLiveSet(commits)),
            (std::vector<std::string>{"bronze/a.csv", "gold/h0/a.parquet", "silver/h0/p-new-0.parquet"}));
}

TEST(ReplayLiveSetTest, OldRecordsHaveNoStampAndKeysOutsideLayersAreLeftOut) {
  lake::Commit old;
  old.seq = 1;
  old.stage = "silver";
  old.moves = {{"_iotad/staging/r/silver/p.parquet", "silver/p.parquet"}, {"_iotad/staging/r/x", "_iotad/x"}};
  const auto live = ReplayLiveSet({old});
  ASSERT_EQ(Keys(live), std::vector<std::string>{"silver/p.parquet"});
  EXPECT_FALSE(live.at("silver/p.parquet").stamp.has_value());
}

TEST(ReplayLiveSetTest, BronzeThatSilverConsumedIsLiveEvenWithoutAnIngestCommit) {
  auto silver = MakeCommit(2, "silver", {"silver/h0/p.parquet"});
  silver.inputs = {"bronze/dt=2024-01-01/hour=00/ingested.csv", "bronze/dt=2024-01-01/hour=00/by-hand.csv"};
  const auto live = ReplayLiveSet({MakeCommit(1, "ingest", {"bronze/dt=2024-01-01/hour=00/ingested.csv"}), silver});
  ASSERT_EQ(live.count("bronze/dt=2024-01-01/hour=00/by-hand.csv"), 1u);
  EXPECT_EQ(live.at("bronze/dt=2024-01-01/hour=00/by-hand.csv").seq, 2);
  EXPECT_FALSE(live.at("bronze/dt=2024-01-01/hour=00/by-hand.csv").stamp.has_value());
  EXPECT_TRUE(live.at("bronze/dt=2024-01-01/hour=00/ingested.csv").stamp.has_value());  // keeps its stamp
  EXPECT_EQ(live.at("bronze/dt=2024-01-01/hour=00/ingested.csv").seq, 1);
}

/// A real lake on disk, for VerifyLake (which reads no Parquet: no DuckDB involved).
class VerifyLakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    root_ = fs::temp_directory_path() / fmt::format("iotad-verify-test-{}-{:08x}", ::getpid(), rd());
    ASSERT_TRUE(lake::Lake::Init(root_).ok());
    auto opened = lake::Lake::Open(root_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    lake_ = std::move(*opened);
    ASSERT_TRUE(lake_->BeginWrite().ok());
  }
  void TearDown() override {
    lake_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void Publish(const std::string& stage, const std::map<std::string, std::string>& files, std::string meta = "{}") {
    lake::Commit c;
    c.stage = stage;
    c.run_id = "r";
    for (const auto& [key, data] : files) {
      ASSERT_TRUE(lake_->store().Put("_iotad/staging/r/" + key, data).ok());
      c.moves.emplace_back("_iotad/staging/r/" + key, key);
    }
    c.meta_json = std::move(meta);
    auto seq = lake_->Publish(std::move(c));
    ASSERT_TRUE(seq.ok()) << seq.status().message();
  }

  VerifyReport Verify(bool quick = false) {
    auto report = VerifyLake(*lake_, VerifyOptions{.quick = quick});
    EXPECT_TRUE(report.ok()) << report.status().message();
    return report.ok() ? *report : VerifyReport{};
  }

  static std::string Describe(const VerifyReport& r) {
    std::string out;
    for (const auto& p : r.problems) out += fmt::format("{} {}: {}\n", ProblemKindName(p.kind), p.key, p.message);
    return out;
  }

  static constexpr const char* kBalanced =
      R"({"rebuild":false,"accounting":{"rows":5,"stored":3,"quarantined":1,"duplicates":1},)"
      R"("files":[{"key":"bronze/a.csv","rows":5,"stored":3,"quarantined":1,"duplicates":1}]})";

  void BuildHealthyLake() {
    Publish("ingest", {{"bronze/dt=2024-01-01/hour=00/a.csv", "t,d,v\n1,d1,2\n"}});
    Publish("silver", {{"silver/year=2024/month=01/day=01/hour=00/p-0.parquet", "silver rows"},
                       {"quarantine/q-0.parquet", "quarantined rows"}},
            kBalanced);
    Publish("gold", {{"gold/year=2024/month=01/day=01/hour=00/a.parquet", "anomalies"}},
            R"({"silver_seq":2,"fingerprint":"f"})");
  }

  fs::path root_;
  std::unique_ptr<lake::Lake> lake_;
};

TEST_F(VerifyLakeTest, AHealthyLakeVerifiesWithEveryObjectChecksummed) {
  BuildHealthyLake();
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.commits, 3);
  EXPECT_EQ(r.objects, 4);
  EXPECT_EQ(r.files_on_disk, 4);
  EXPECT_EQ(r.unstamped, 0);
  EXPECT_GT(r.bytes_hashed, 0);
}

TEST_F(VerifyLakeTest, TheSnapshotAgreesWithAFullReplayOfTheLog) {
  BuildHealthyLake();
  Publish("silver", {{"silver/year=2024/month=01/day=01/hour=01/p-1.parquet", "late"}},
          R"({"accounting":{"rows":3,"stored":1,"quarantined":1,"duplicates":0}})");
  fs::remove(root_ / "quarantine/q-0.parquet");
  auto commits = lake_->ReadCommits();
  ASSERT_TRUE(commits.ok());
  const auto replayed = ReplayLiveSet(*commits);
  auto snapshot = lake_->snapshot();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_EQ((*snapshot)->files().size(), replayed.size());
  for (const auto& [key, obj] : replayed) {
    ASSERT_EQ((*snapshot)->files().count(key), 1u) << key;
    EXPECT_EQ((*snapshot)->files().at(key).seq, obj.seq) << key;
  }
  // The snapshot's checks (what `iotad run` uses) find what the full verify finds.
  auto quick = VerifySnapshot(*lake_, VerifyOptions{.quick = true});
  ASSERT_TRUE(quick.ok()) << quick.status().message();
  EXPECT_EQ(Describe(*quick), Describe(Verify(/*quick=*/true)));
  EXPECT_EQ(quick->problems.size(), 3u) << Describe(*quick);  // missing, unbalanced, gold stale
}

TEST_F(VerifyLakeTest, ACheckpointThatDisagreesWithTheLogIsDamaged) {
  for (int i = 0; i < lake::kCheckpointInterval; ++i) {
    Publish("gold", {{fmt::format("gold/year=2024/month=01/day=01/hour=00/g-{}.parquet", i), "g"}},
            R"({"silver_seq":0,"fingerprint":"f"})");
  }
  EXPECT_TRUE(Verify().ok()) << Describe(Verify());
  // A checkpoint that parses but forgot a file: readers would not see it.
  const std::string key = lake::CheckpointKey(lake::kCheckpointInterval);
  auto text = lake_->store().Get(key);
  ASSERT_TRUE(text.ok());
  const std::string forgotten = "[\"gold/year=2024/month=01/day=01/hour=00/g-0.parquet\",1,1,";
  const size_t at = text->find(forgotten);
  ASSERT_NE(at, std::string::npos) << *text;
  std::string damaged = *text;
  damaged.erase(at, damaged.find(']', at) + 2 - at);
  ASSERT_TRUE(lake_->store().Put(key, damaged).ok());
  lake_.reset();
  auto reopened = lake::Lake::Open(root_);
  ASSERT_TRUE(reopened.ok());
  lake_ = std::move(*reopened);
  ASSERT_TRUE(lake_->BeginWrite().ok());
  const VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, ProblemKind::kDamaged);
  EXPECT_EQ(r.problems[0].key, key);
  EXPECT_NE(r.problems[0].message.find("g-0.parquet is missing from it"), std::string::npos) << r.problems[0].message;
}

TEST_F(VerifyLakeTest, ReportsAMissingSilverFileByName) {
  BuildHealthyLake();
  fs::remove(root_ / "silver/year=2024/month=01/day=01/hour=00/p-0.parquet");
  for (bool quick : {false, true}) {
    const VerifyReport r = Verify(quick);
    ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
    EXPECT_EQ(r.problems[0].kind, ProblemKind::kMissing);
    EXPECT_EQ(r.problems[0].key, "silver/year=2024/month=01/day=01/hour=00/p-0.parquet");
  }
  const Status intact = CheckSilverIntact(*lake_);
  EXPECT_FALSE(intact.ok());
  EXPECT_NE(intact.message().find("p-0.parquet"), std::string::npos) << intact.message();
}

TEST_F(VerifyLakeTest, SameSizeChangeIsFoundByTheChecksumNotByQuick) {
  BuildHealthyLake();
  ASSERT_TRUE(lake_->store().Put("silver/year=2024/month=01/day=01/hour=00/p-0.parquet", "silver rowz").ok());
  EXPECT_TRUE(Verify(/*quick=*/true).ok());
  const VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, ProblemKind::kDamaged);
  EXPECT_NE(r.problems[0].message.find("checksum"), std::string::npos);
}

TEST_F(VerifyLakeTest, TruncationIsFoundBySizeEvenWhenQuick) {
  BuildHealthyLake();
  ASSERT_TRUE(lake_->store().Put("quarantine/q-0.parquet", "quarant").ok());
  const VerifyReport r = Verify(/*quick=*/true);
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, ProblemKind::kDamaged);
  EXPECT_EQ(r.problems[0].key, "quarantine/q-0.parquet");
  EXPECT_NE(r.problems[0].message.find("7 bytes on disk"), std::string::npos) << r.problems[0].message;
}

TEST_F(VerifyLakeTest, StrayFilesInAnyLayerAreListedButRunsAndInternalsAreNot) {
  BuildHealthyLake();
  ASSERT_TRUE(lake_->store().Put("silver/year=2024/month=01/day=01/hour=01/evil.parquet", "x").ok());
  ASSERT_TRUE(lake_->store().Put("bronze/notes.txt", "x").ok());
  ASSERT_TRUE(lake_->store().Put("runs/r.json", "{}").ok());
  ASSERT_TRUE(lake_->store().Put("_iotad/whatever", "x").ok());
  const VerifyReport r = Verify(/*quick=*/true);
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, ProblemKind::kStray);
  EXPECT_EQ(r.problems[0].key, "bronze/notes.txt");
  EXPECT_EQ(r.problems[1].key, "silver/year=2024/month=01/day=01/hour=01/evil.parquet");
  EXPECT_FALSE(CheckSilverIntact(*lake_).ok());  // gold would read the silver stray
}

TEST_F(VerifyLakeTest, UnbalancedSilverAccountingIsReportedPerCommitAndPerFile) {
  Publish("silver", {{"silver/p-0.parquet", "a"}},
          R"({"accounting":{"rows":3000,"stored":2000,"quarantined":0,"duplicates":0},)"
          R"("files":[{"key":"bronze/a.csv","rows":3000,"stored":2000,"quarantined":0,"duplicates":0}]})");
  Publish("gold", {}, R"({"silver_seq":1,"fingerprint":"f"})");
  const VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, ProblemKind::kAccounting);
  EXPECT_NE(r.problems[0].message.find("3000 rows != 2000 stored + 0 quarantined + 0 duplicates"), std::string::npos)
      << r.problems[0].message;
  EXPECT_NE(r.problems[1].message.find("bronze/a.csv"), std::string::npos);
}

TEST_F(VerifyLakeTest, AMergedCounterCountsInTheBalanceWhenPresent) {
  Publish("silver", {{"silver/p-0.parquet", "a"}},
          R"({"accounting":{"rows":10,"stored":6,"quarantined":1,"duplicates":1,"merged":2}})");
  Publish("gold", {}, R"({"silver_seq":1,"fingerprint":"f"})");
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << Describe(r);
}

TEST_F(VerifyLakeTest, OnlySilverCommitsSinceTheLastRebuildAreAccounted) {
  Publish("silver", {{"silver/p-0.parquet", "a"}}, R"({"rebuild":false,"accounting":{"rows":2,"stored":1}})");
  Publish("silver", {{"silver/p-1.parquet", "b"}}, R"({"rebuild":true,"accounting":{"rows":1,"stored":1}})");
  Publish("gold", {}, R"({"silver_seq":2,"fingerprint":"f"})");
  fs::remove(root_ / "silver/p-0.parquet");  // what the rebuild's deletes would have done
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << Describe(r);
}

TEST_F(VerifyLakeTest, GoldBuiltFromAnOlderSilverCommitIsStale) {
  BuildHealthyLake();
  Publish("silver", {{"silver/year=2024/month=01/day=01/hour=01/p-1.parquet", "late"}}, kBalanced);
  const VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, ProblemKind::kGoldStale);
  EXPECT_NE(r.problems[0].message.find("built from silver commit 2, but silver is at commit 4"), std::string::npos)
      << r.problems[0].message;
}

TEST_F(VerifyLakeTest, RecordsWithoutStampsAreCheckedForExistenceOnly) {
  // A commit as iotad wrote them before stamps: [from, to] moves only.
  ASSERT_TRUE(lake_->store().Put("silver/p-old.parquet", "old bytes").ok());
  ASSERT_TRUE(lake_->store()
                  .Put("_iotad/log/000000000001.json",
                       R"({"seq":1,"stage":"silver","run_id":"r","committed_at":"2024-01-01T00:00:00Z",)"
                       R"("moves":[["_iotad/staging/r/silver/p-old.parquet","silver/p-old.parquet"]],"deletes":[],)"
                       R"("inputs":[],"meta":{"accounting":{"rows":1,"stored":1,"quarantined":0,"duplicates":0}}})"
                       "\n")
                  .ok());
  ASSERT_TRUE(lake_->store().Put("_iotad/applied", "1\n").ok());
  // A writer numbers commits from its snapshot: the record written by hand is seen by the next one.
  lake_.reset();
  auto reopened = lake::Lake::Open(root_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  lake_ = std::move(*reopened);
  ASSERT_TRUE(lake_->BeginWrite().ok());
  Publish("gold", {}, R"({"silver_seq":1,"fingerprint":"f"})");
  ASSERT_TRUE(lake_->store().Put("silver/p-old.parquet", "changed!").ok());  // not detectable without a stamp
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.unstamped, 1);
  fs::remove(root_ / "silver/p-old.parquet");
  r = Verify();
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  EXPECT_EQ(r.problems[0].kind, ProblemKind::kMissing);
}

}  // namespace
}  // namespace iotad::pipeline
