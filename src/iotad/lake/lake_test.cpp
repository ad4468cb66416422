#include "iotad/lake/lake.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iotad/lake/counting_store.h"
#include "iotad/lake/snapshot.h"

namespace iotad::lake {
namespace {
namespace fs = std::filesystem;

// 2024-01-05T13:15:00Z
constexpr TimestampUs kT = (1'704'067'200 + 4 * 86'400 + 13 * 3600 + 15 * 60) * kMicrosPerSecond;

/// A fresh folder under the system temp folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / fmt::format("iotad-lake-test-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

/// A lake folder, initialized, and one Lake opened on it.
class LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "lake";
    const Status init = Lake::Init(root_);
    ASSERT_TRUE(init.ok()) << init.message();
    lake_ = OpenLake();
    ASSERT_NE(lake_, nullptr);
  }

  std::unique_ptr<Lake> OpenLake() {
    auto opened = Lake::Open(root_);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  bool Exists(const std::string& key) {
    auto exists = lake_->store().Exists(key);
    EXPECT_TRUE(exists.ok());
    return exists.ok() && *exists;
  }

  std::string Read(const std::string& key) {
    auto text = lake_->store().Get(key);
    EXPECT_TRUE(text.ok()) << text.status().message();
    return text.ok() ? *text : "";
  }

  void Stage(const std::string& key, const std::string& data) {
    ASSERT_TRUE(lake_->store().Put(key, data).ok());
  }

  TempDir dir_;
  fs::path root_;
  std::unique_ptr<Lake> lake_;
};

TEST_F(LakeTest, InitCreatesTheLayersAndTheConfig) {
  for (const char* layer :
       {"bronze", "silver", "gold", "gold_summary", "quarantine", "runs", "inbox"}) {
    EXPECT_TRUE(fs::is_directory(root_ / layer)) << layer;
  }
  EXPECT_TRUE(fs::is_regular_file(root_ / "iotad.toml"));
  EXPECT_EQ(Read("_iotad/applied"), "0\n");
  EXPECT_EQ(lake_->root(), root_);
  EXPECT_DOUBLE_EQ(lake_->config().gold.zscore_threshold, config::LakeConfig().gold.zscore_threshold);
  EXPECT_FALSE(lake_->writing());
}

TEST_F(LakeTest, InitTwiceIsAConflict) {
  const Status again = Lake::Init(root_);
  EXPECT_EQ(again.code(), Errc::kConflict);
  EXPECT_NE(again.message().find("iotad.toml"), std::string::npos) << again.message();
}

TEST(LakeOpenTest, MissingFolderIsNotFoundAndSuggestsInit) {
  TempDir dir;
  auto opened = Lake::Open(dir.path() / "nope");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Errc::kNotFound);
  EXPECT_NE(opened.status().message().find("iotad init"), std::string::npos)
      << opened.status().message();
}

TEST(LakeOpenTest, FolderWithoutConfigIsNotFoundAndSuggestsInit) {
  TempDir dir;
  auto opened = Lake::Open(dir.path());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Errc::kNotFound);
  EXPECT_NE(opened.status().message().find("iotad init"), std::string::npos)
      << opened.status().message();
  EXPECT_NE(opened.status().message().find("iotad.toml"), std::string::npos);
}

TEST_F(LakeTest, OpenAppliesTheConfigFile) {
  WriteFile(root_ / "iotad.toml", "[gold]\nzscore_threshold = 4.5\n");
  auto lake = OpenLake();
  ASSERT_NE(lake, nullptr);
  EXPECT_DOUBLE_EQ(lake->config().gold.zscore_threshold, 4.5);
}

TEST_F(LakeTest, BadConfigKeyIsInvalidArgumentNamingTheKey) {
  WriteFile(root_ / "iotad.toml", "[gold]\nzscore_treshold = 4\n");
  auto opened = Lake::Open(root_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Errc::kInvalidArgument);
  EXPECT_NE(opened.status().message().find("zscore_treshold"), std::string::npos)
      << opened.status().message();
  EXPECT_NE(opened.status().message().find("iotad.toml"), std::string::npos);
}

TEST(LakeLayoutTest, PartitionsNameTheUtcHour) {
  // Spark's form (no zero padding), so readers type the partitions as integers (issue 8).
  EXPECT_EQ(HourPartition(kT), "year=2024/month=1/day=5/hour=13");
  EXPECT_EQ(BronzePartition(kT), "dt=2024-01-05/hour=13");
  EXPECT_EQ(BronzePartition(kT - 8 * kMicrosPerHour), "dt=2024-01-05/hour=5");
  EXPECT_EQ(HourPartition(0), "year=1970/month=1/day=1/hour=0");
  EXPECT_EQ(Lake::StagingPrefix("run-1"), "_iotad/staging/run-1/");
}

TEST(LakeLayoutTest, HourFromKeyInvertsHourPartition) {
  EXPECT_EQ(HourFromKey("silver/" + HourPartition(kT) + "/part-1.parquet"), HourStart(kT));
  EXPECT_EQ(HourFromKey(HourPartition(kT)), HourStart(kT));
  std::mt19937_64 rng(3);
  for (int i = 0; i < 500; ++i) {
    const TimestampUs ts = static_cast<TimestampUs>(rng() % (4'000'000'000ULL * kMicrosPerSecond));
    ASSERT_EQ(HourFromKey("gold/" + HourPartition(ts) + "/x.parquet"), HourStart(ts))
        << FormatTimestamp(ts);
  }
}

TEST(LakeLayoutTest, HourFromKeyReadsPaddedFoldersOfOlderLakesToo) {
  EXPECT_EQ(HourFromKey("silver/year=2024/month=01/day=05/hour=13/p.parquet"), HourStart(kT));
  EXPECT_EQ(HourFromKey("silver/year=2024/month=1/day=5/hour=13/p.parquet"), HourStart(kT));
  EXPECT_EQ(HourFromKey("gold/year=1970/month=01/day=01/hour=00/a.parquet"), 0);
}

TEST(LakeLayoutTest, HourFromKeyRejectsKeysWithoutAllParts) {
  EXPECT_EQ(HourFromKey("silver/part.parquet"), std::nullopt);
  EXPECT_EQ(HourFromKey("bronze/dt=2024-01-05/hour=13/batch.csv"), std::nullopt);
  EXPECT_EQ(HourFromKey("silver/year=2024/month=01/day=05/part.parquet"), std::nullopt);
  EXPECT_EQ(HourFromKey("silver/year=/month=01/day=05/hour=13/p"), std::nullopt);
}

TEST(LakeLayoutTest, RunIdsAreUtcTimeAndSuffix) {
  const std::string id = NewRunId();
  ASSERT_EQ(id.size(), 21u) << id;
  EXPECT_EQ(id[8], 'T');
  EXPECT_EQ(id[15], 'Z');
  EXPECT_EQ(id[16], '-');
}

TEST(CommitJsonTest, RoundTripsEveryField) {
  Commit c;
  c.seq = 42;
  c.stage = "silver";
  c.run_id = "20240105T131500Z-3f2a";
  c.committed_at_us = kT + 123'456;
  c.moves = {{"_iotad/staging/r/we\"ird\\name.parquet", "silver/a b/\xC3\xBC\tx.parquet"},
             {"_iotad/staging/r/2", "silver/line\nbreak"}};
  c.deletes = {"silver/old \"one\".parquet", "silver/\x01"};
  c.inputs = {"bronze/dt=2024-01-05/hour=13/x.csv"};
  c.meta_json = R"({"rows":3,"nested":{"a":[1,2.5,"s"]}})";
  const std::string json = CommitToJson(c);
  auto back = CommitFromJson(json, "_iotad/log/000000000042.json");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << json;
  EXPECT_EQ(back->seq, c.seq);
  EXPECT_EQ(back->stage, c.stage);
  EXPECT_EQ(back->run_id, c.run_id);
  EXPECT_EQ(back->committed_at_us, c.committed_at_us);
  EXPECT_EQ(back->moves, c.moves);
  EXPECT_EQ(back->deletes, c.deletes);
  EXPECT_EQ(back->inputs, c.inputs);
  EXPECT_EQ(back->meta_json, c.meta_json);
}

TEST(CommitJsonTest, EmptyListsAndMetaRoundTrip) {
  Commit c;
  c.stage = "gold";
  c.meta_json = "";
  auto back = CommitFromJson(CommitToJson(c), "k");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->moves.empty());
  EXPECT_TRUE(back->deletes.empty());
  EXPECT_EQ(back->meta_json, "{}");
}

TEST(CommitJsonTest, BrokenRecordsAreCorrupt) {
  auto invalid = CommitFromJson("{\"seq\": ", "_iotad/log/000000000007.json");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), Errc::kCorrupt);
  EXPECT_NE(invalid.status().message().find("000000000007"), std::string::npos);

  auto missing = CommitFromJson(R"({"seq":1,"stage":"silver"})", "k");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Errc::kCorrupt);
}

TEST(CommitJsonTest, StampsRoundTripAsTheThirdAndFourthMoveElements) {
  Commit c;
  c.stage = "silver";
  c.moves = {{"_iotad/staging/r/silver/a.parquet", "silver/a.parquet"}, {"_iotad/staging/r/b", "quarantine/b"}};
  c.stamps["silver/a.parquet"] = ObjectStamp{1234, ObjectHashHex("abc")};
  const std::string json = CommitToJson(c);
  EXPECT_NE(json.find(fmt::format(R"(["_iotad/staging/r/silver/a.parquet","silver/a.parquet",1234,"{}"])",
                                  ObjectHashHex("abc"))),
            std::string::npos)
      << json;
  auto back = CommitFromJson(json, "k");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->moves, c.moves);
  ASSERT_EQ(back->stamps.size(), 1u);  // the unstamped move stays unstamped
  EXPECT_EQ(back->stamps.at("silver/a.parquet").size_bytes, 1234u);
  EXPECT_EQ(back->stamps.at("silver/a.parquet").hash, ObjectHashHex("abc"));
  EXPECT_EQ(ObjectHashHex("abc").size(), 32u);
}

TEST(CommitJsonTest, RecordsWrittenBeforeStampsReadWithoutThem) {
  // The form every commit had before stamps: moves are [from, to] pairs.
  const std::string old_record =
      R"({"seq":3,"stage":"silver","run_id":"r","committed_at":"2024-01-05T13:15:00Z",)"
      R"("moves":[["_iotad/staging/r/silver/a.parquet","silver/a.parquet"]],"deletes":["silver/old.parquet"],)"
      R"("inputs":["bronze/x.csv"],"meta":{"accounting":{"rows":1,"stored":1,"quarantined":0,"duplicates":0}}})";
  auto c = CommitFromJson(old_record, "_iotad/log/000000000003.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->moves.size(), 1u);
  EXPECT_EQ(c->moves[0].second, "silver/a.parquet");
  EXPECT_TRUE(c->stamps.empty());
  EXPECT_EQ(c->deletes, std::vector<std::string>{"silver/old.parquet"});
}

TEST_F(LakeTest, PublishStampsEachObjectWithItsSizeAndHashBeforeTheCommitPoint) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  const std::string data = "parquet bytes, or any bytes";
  Stage("_iotad/staging/r1/silver/year=2024/month=01/day=05/hour=13/p.parquet", data);
  Commit c;
  c.stage = "silver";
  c.run_id = "r1";
  c.moves = {{"_iotad/staging/r1/silver/year=2024/month=01/day=05/hour=13/p.parquet",
              "silver/year=2024/month=01/day=05/hour=13/p.parquet"}};
  auto seq = lake_->Publish(c);
  ASSERT_TRUE(seq.ok()) << seq.status().message();
  auto commits = lake_->ReadCommits();
  ASSERT_TRUE(commits.ok());
  ASSERT_EQ(commits->size(), 1u);
  const auto& stamps = commits->front().stamps;
  ASSERT_EQ(stamps.count("silver/year=2024/month=01/day=05/hour=13/p.parquet"), 1u);
  EXPECT_EQ(stamps.begin()->second.size_bytes, data.size());
  EXPECT_EQ(stamps.begin()->second.hash, ObjectHashHex(data));
  EXPECT_EQ(Read("silver/year=2024/month=01/day=05/hour=13/p.parquet"), data);
}

TEST_F(LakeTest, PublishRequiresTheWriterLock) {
  auto seq = lake_->Publish(Commit{});
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(seq.status().code(), Errc::kInternal);
}

TEST_F(LakeTest, OnlyOneWriterAtATime) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  EXPECT_TRUE(lake_->writing());
  EXPECT_TRUE(lake_->BeginWrite().ok());  // already held: no-op
  auto other = OpenLake();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->BeginWrite().code(), Errc::kConflict);
  EXPECT_FALSE(other->writing());
  lake_.reset();
  EXPECT_TRUE(other->BeginWrite().ok());
}

TEST_F(LakeTest, PublishMovesDeletesAndNumbersCommits) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  const std::string staging = Lake::StagingPrefix("run-1");
  const std::string final_a = "silver/" + HourPartition(kT) + "/a.parquet";
  Stage(staging + "a.parquet", "A");
  Stage("silver/old.parquet", "old");

  Commit first;
  first.stage = "silver";
  first.run_id = "run-1";
  first.moves = {{staging + "a.parquet", final_a}};
  first.deletes = {"silver/old.parquet"};
  auto seq1 = lake_->Publish(first);
  ASSERT_TRUE(seq1.ok()) << seq1.status().message();
  EXPECT_EQ(*seq1, 1);
  EXPECT_EQ(Read(final_a), "A");
  EXPECT_FALSE(Exists(staging + "a.parquet"));
  EXPECT_FALSE(Exists("silver/old.parquet"));
  EXPECT_TRUE(Exists("_iotad/log/000000000001.json"));
  EXPECT_EQ(Read("_iotad/applied"), "1\n");

  const std::string staging2 = Lake::StagingPrefix("run-2");
  Stage(staging2 + "b.parquet", "B");
  Commit second;
  second.stage = "gold";
  second.run_id = "run-2";
  second.moves = {{staging2 + "b.parquet", "gold/b.parquet"}};
  auto seq2 = lake_->Publish(second);
  ASSERT_TRUE(seq2.ok()) << seq2.status().message();
  EXPECT_EQ(*seq2, 2);
  EXPECT_EQ(Read("gold/b.parquet"), "B");
  EXPECT_EQ(Read("_iotad/applied"), "2\n");

  auto commits = lake_->ReadCommits();
  ASSERT_TRUE(commits.ok()) << commits.status().message();
  ASSERT_EQ(commits->size(), 2u);
  EXPECT_EQ((*commits)[0].seq, 1);
  EXPECT_EQ((*commits)[0].moves, first.moves);
  EXPECT_EQ((*commits)[0].deletes, first.deletes);
  EXPECT_GT((*commits)[0].committed_at_us, 0);
  EXPECT_EQ((*commits)[1].seq, 2);
}

TEST_F(LakeTest, PublishKeepsADeletedKeyThatIsAlsoAMoveTarget) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  const std::string target = "gold/" + HourPartition(kT) + "/same-name.parquet";
  Stage(target, "previous");
  Stage("gold/other.parquet", "other");
  const std::string staged = Lake::StagingPrefix("run") + "same-name.parquet";
  Stage(staged, "republished");

  Commit c;
  c.stage = "gold";
  c.moves = {{staged, target}};
  c.deletes = {target, "gold/other.parquet"};
  auto seq = lake_->Publish(c);
  ASSERT_TRUE(seq.ok()) << seq.status().message();
  EXPECT_EQ(Read(target), "republished");
  EXPECT_FALSE(Exists("gold/other.parquet"));

  // The log records what was applied: the target is not in its deletes.
  auto commits = lake_->ReadCommits();
  ASSERT_TRUE(commits.ok());
  ASSERT_EQ(commits->size(), 1u);
  EXPECT_EQ((*commits)[0].deletes, std::vector<std::string>{"gold/other.parquet"});
}

TEST_F(LakeTest, ReadCommitsFiltersByStage) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  for (const char* stage : {"ingest", "silver", "gold", "silver"}) {
    Commit c;
    c.stage = stage;
    ASSERT_TRUE(lake_->Publish(c).ok());
  }
  auto all = lake_->ReadCommits();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  auto silver = lake_->ReadCommits("silver");
  ASSERT_TRUE(silver.ok());
  ASSERT_EQ(silver->size(), 2u);
  EXPECT_EQ((*silver)[0].seq, 2);
  EXPECT_EQ((*silver)[1].seq, 4);
  auto none = lake_->ReadCommits("alert");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(LakeTest, RecoverRollsForwardALoggedCommitAndRemovesOrphans) {
  store::ObjectStore& store = lake_->store();
  // Commit 1 is applied already; re-applying it would fail (its files are gone).
  Commit applied;
  applied.seq = 1;
  applied.stage = "silver";
  applied.moves = {{"_iotad/staging/gone/x.parquet", "silver/never-here.parquet"}};
  ASSERT_TRUE(store.Put("_iotad/log/000000000001.json", CommitToJson(applied)).ok());
  // Commit 2 is logged, but the crash came before its moves and deletes.
  const std::string staged = "_iotad/staging/run-2/f.parquet";
  const std::string final_key = "silver/" + HourPartition(kT) + "/f.parquet";
  Stage(staged, "F");
  Stage("silver/replaced.parquet", "old");
  Commit pending;
  pending.seq = 2;
  pending.stage = "silver";
  pending.run_id = "run-2";
  pending.moves = {{staged, final_key}};
  pending.deletes = {"silver/replaced.parquet"};
  ASSERT_TRUE(store.Put("_iotad/log/000000000002.json", CommitToJson(pending)).ok());
  ASSERT_TRUE(store.Put("_iotad/applied", "1\n").ok());
  // Leftovers of a run that never committed.
  Stage("_iotad/staging/run-orphan/g.parquet", "G");
  auto scratch = store.ScratchDir();
  ASSERT_TRUE(scratch.ok());
  WriteFile(*scratch / "half-written.parquet", "partial");

  auto fresh = OpenLake();
  ASSERT_NE(fresh, nullptr);
  const Status began = fresh->BeginWrite();
  ASSERT_TRUE(began.ok()) << began.message();

  EXPECT_EQ(Read(final_key), "F");
  EXPECT_FALSE(Exists(staged));
  EXPECT_FALSE(Exists("silver/replaced.parquet"));
  EXPECT_EQ(Read("_iotad/applied"), "2\n");
  EXPECT_FALSE(Exists("silver/never-here.parquet"));
  EXPECT_FALSE(Exists("_iotad/staging/run-orphan/g.parquet"));
  auto staging_left = store.List("_iotad/staging/");
  ASSERT_TRUE(staging_left.ok());
  EXPECT_TRUE(staging_left->empty());
  EXPECT_TRUE(fs::is_empty(*scratch));

  // The next commit continues the sequence.
  auto seq = fresh->Publish(Commit{});
  ASSERT_TRUE(seq.ok()) << seq.status().message();
  EXPECT_EQ(*seq, 3);
}

TEST_F(LakeTest, RecoverIsIdempotentWhenMovesWereAlreadyApplied) {
  // Crash after the moves but before the applied marker: the sources are gone, the targets exist.
  Stage("silver/done.parquet", "D");
  Commit c;
  c.seq = 1;
  c.stage = "silver";
  c.moves = {{"_iotad/staging/run/done.parquet", "silver/done.parquet"}};
  ASSERT_TRUE(lake_->store().Put("_iotad/log/000000000001.json", CommitToJson(c)).ok());
  const Status began = lake_->BeginWrite();
  ASSERT_TRUE(began.ok()) << began.message();
  EXPECT_EQ(Read("silver/done.parquet"), "D");
  EXPECT_EQ(Read("_iotad/applied"), "1\n");
}

TEST_F(LakeTest, RecoverReportsACommitWhoseFileIsLost) {
  Commit c;
  c.seq = 1;
  c.stage = "silver";
  c.moves = {{"_iotad/staging/run/lost.parquet", "silver/lost.parquet"}};
  ASSERT_TRUE(lake_->store().Put("_iotad/log/000000000001.json", CommitToJson(c)).ok());
  const Status began = lake_->BeginWrite();
  EXPECT_EQ(began.code(), Errc::kCorrupt);
  EXPECT_NE(began.message().find("recovery"), std::string::npos) << began.message();
  // A failed recovery does not leave a writer behind that could publish on a broken lake.
  EXPECT_FALSE(lake_->writing());
  EXPECT_EQ(lake_->BeginWrite().code(), Errc::kCorrupt);
  EXPECT_EQ(lake_->Publish(Commit{}).status().code(), Errc::kInternal);
}

TEST_F(LakeTest, EmptyLakeHasEmptyTypedViews) {
  auto session = lake_->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status().message();
  DuckSession& s = **session;
  auto count = s.QueryInt("SELECT count(*) FROM silver");
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(*count, 0);

  auto silver = s.Query("SELECT event_time, device_id, location, year, month, day, hour FROM silver");
  ASSERT_TRUE(silver.ok()) << silver.status().message();
  ASSERT_EQ(silver->ColumnCount(), 7u);
  EXPECT_EQ(silver->ColumnType(0), DUCKDB_TYPE_TIMESTAMP_TZ);
  EXPECT_EQ(silver->ColumnType(1), DUCKDB_TYPE_VARCHAR);
  EXPECT_EQ(silver->ColumnType(2), DUCKDB_TYPE_VARCHAR);

  for (const char* sql :
       {"SELECT * FROM anomalies", "SELECT * FROM quarantine", "SELECT * FROM gold_summary",
        "SELECT * FROM runs", "SELECT * FROM bronze"}) {
    auto result = s.Query(sql);
    ASSERT_TRUE(result.ok()) << sql << ": " << result.status().message();
    EXPECT_GT(result->ColumnCount(), 0u) << sql;
  }
  for (const char* table : {"anomalies", "quarantine", "gold_summary", "runs", "bronze"}) {
    auto n = s.QueryInt(fmt::format("SELECT count(*) FROM {}", table));
    ASSERT_TRUE(n.ok()) << table << ": " << n.status().message();
    EXPECT_EQ(*n, 0) << table;
  }
  auto z = s.Query("SELECT z, reason FROM anomalies, quarantine");
  EXPECT_TRUE(z.ok()) << z.status().message();
}

TEST_F(LakeTest, SessionForOneQueryCreatesOnlyTheViewsItNames) {
  auto session = lake_->OpenSession(true, "SELECT count(*) FROM Silver");
  ASSERT_TRUE(session.ok()) << session.status().message();
  EXPECT_TRUE((*session)->QueryInt("SELECT count(*) FROM silver").ok());
  EXPECT_FALSE((*session)->QueryInt("SELECT count(*) FROM runs").ok());
}

TEST_F(LakeTest, BronzeViewListsRawFilesWithTheirPartition) {
  Stage("bronze/" + BronzePartition(kT) + "/batch-1.csv",
        "event_time,device_id,temp\n2024-01-05T13:15:00Z,d1,1\n2024-01-05T13:16:00Z,d2,2\n");
  auto session = lake_->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status().message();
  DuckSession& s = **session;
  auto files = s.QueryInt("SELECT count(*) FROM bronze WHERE format = 'csv'");
  ASSERT_TRUE(files.ok()) << files.status().message();
  EXPECT_EQ(*files, 1);
  auto hour = s.QueryInt("SELECT hour FROM bronze WHERE dt = DATE '2024-01-05'");
  ASSERT_TRUE(hour.ok()) << hour.status().message();
  EXPECT_EQ(*hour, 13);
  auto rows = s.QueryInt("SELECT count(*) FROM bronze_rows WHERE line > 1");  // line 1: the header
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(*rows, 2);
}


// --- snapshots and checkpoints -------------------------------------------------------------

/// A lake whose store counts every call, for tests that hold the log's read cost to a bound.
class SnapshotTest : public LakeTest {
 protected:
  std::unique_ptr<Lake> OpenCounted(std::shared_ptr<StoreCounts>& counts) {
    counts = std::make_shared<StoreCounts>();
    auto local = store::OpenLocalStore(root_);
    EXPECT_TRUE(local.ok());
    auto opened = Lake::Open(root_, std::make_unique<CountingStore>(std::move(*local), counts));
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  /// Publishes one small commit: a new gold file, and the delete of the one before it.
  int64_t PublishSmall(Lake& lake, int i) {
    const std::string staged = Lake::StagingPrefix("r") + fmt::format("f{}.parquet", i);
    EXPECT_TRUE(lake.store().Put(staged, fmt::format("file {}", i)).ok());
    Commit c;
    c.stage = i % 2 == 0 ? "gold" : "silver";
    c.run_id = fmt::format("run-{}", i);
    c.moves = {{staged, "gold/" + HourPartition(kT) + fmt::format("/f{}.parquet", i)}};
    if (i > 0) c.deletes = {"gold/" + HourPartition(kT) + fmt::format("/f{}.parquet", i - 1)};
    c.meta_json = c.stage == "gold" ? fmt::format(R"({{"silver_seq":{},"fingerprint":"f"}})", i)
                                    : R"({"accounting":{"rows":1,"stored":1,"quarantined":0,"duplicates":0}})";
    auto seq = lake.Publish(std::move(c));
    EXPECT_TRUE(seq.ok()) << seq.status().message();
    return seq.ok() ? *seq : -1;
  }

  /// The snapshot a fresh reader builds, and what building it read.
  Snapshot FreshSnapshot(SnapshotLoadStats* stats = nullptr) {
    auto applied = ReadAppliedSeq(lake_->store());
    EXPECT_TRUE(applied.ok());
    auto snap = LoadSnapshot(lake_->store(), *applied, stats);
    EXPECT_TRUE(snap.ok()) << snap.status().message();
    return snap.ok() ? std::move(*snap) : Snapshot{};
  }
};

TEST_F(SnapshotTest, PublishAdvancesTheCachedSnapshotToWhatAFreshReaderBuilds) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  for (int i = 0; i < 5; ++i) PublishSmall(*lake_, i);
  auto cached = lake_->snapshot();
  ASSERT_TRUE(cached.ok());
  const Snapshot fresh = FreshSnapshot();
  EXPECT_EQ((*cached)->seq(), 5);
  EXPECT_TRUE(**cached == fresh);
  // One live gold file (each commit deleted the one before), stamped by Publish.
  const auto gold = fresh.Keys(kGoldPrefix);
  ASSERT_EQ(gold.size(), 1u);
  EXPECT_EQ(gold[0], "gold/" + HourPartition(kT) + "/f4.parquet");
  ASSERT_TRUE(fresh.files().at(gold[0]).stamp.has_value());
  EXPECT_EQ(fresh.files().at(gold[0]).stamp->size_bytes, 6u);
  EXPECT_EQ(fresh.LastSeq("gold"), 5);
  EXPECT_EQ(fresh.LastSeq("silver"), 4);
  EXPECT_EQ(fresh.Last("gold")->run_id, "run-4");
  auto gold_meta = fresh.LastGoldMeta();
  ASSERT_TRUE(gold_meta.ok() && gold_meta->has_value());
  EXPECT_EQ((*gold_meta)->silver_seq, 4);
}

TEST_F(SnapshotTest, CheckpointsAreWrittenEveryIntervalAndOnlyTheNewestAreKept) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  for (int i = 0; i < 3 * kCheckpointInterval + 5; ++i) PublishSmall(*lake_, i);
  EXPECT_EQ(Read(std::string(kLastCheckpointKey)), fmt::format("{}\n", 3 * kCheckpointInterval));
  EXPECT_TRUE(Exists(CheckpointKey(3 * kCheckpointInterval)));
  EXPECT_TRUE(Exists(CheckpointKey(2 * kCheckpointInterval)));
  EXPECT_FALSE(Exists(CheckpointKey(kCheckpointInterval)));
  SnapshotLoadStats stats;
  const Snapshot fresh = FreshSnapshot(&stats);
  EXPECT_EQ(stats.checkpoint_seq, 3 * kCheckpointInterval);
  EXPECT_EQ(stats.commits_read, 5);
  auto cached = lake_->snapshot();
  ASSERT_TRUE(cached.ok());
  EXPECT_TRUE(**cached == fresh);
  // Writing the same checkpoint again gives the same bytes.
  const std::string before = Read(CheckpointKey(3 * kCheckpointInterval));
  auto at = LoadSnapshot(lake_->store(), 3 * kCheckpointInterval);
  ASSERT_TRUE(at.ok());
  ASSERT_TRUE(WriteCheckpoint(lake_->store(), *at).ok());
  EXPECT_EQ(Read(CheckpointKey(3 * kCheckpointInterval)), before);
}

TEST_F(SnapshotTest, DamagedOrMissingCheckpointsFallBackToAnOlderOneOrToReplay) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  for (int i = 0; i < 2 * kCheckpointInterval + 3; ++i) PublishSmall(*lake_, i);
  const Snapshot good = FreshSnapshot();
  // The newest checkpoint is damaged: the one before it is used.
  Stage(CheckpointKey(2 * kCheckpointInterval), "{\"checkpoint_format\":1,\"seq\":");
  SnapshotLoadStats stats;
  EXPECT_TRUE(FreshSnapshot(&stats) == good);
  EXPECT_EQ(stats.checkpoint_seq, kCheckpointInterval);
  EXPECT_EQ(stats.commits_read, kCheckpointInterval + 3);
  // No checkpoint and no pointer: the log is replayed from commit 1.
  ASSERT_TRUE(lake_->store().Delete(CheckpointKey(2 * kCheckpointInterval)).ok());
  ASSERT_TRUE(lake_->store().Delete(CheckpointKey(kCheckpointInterval)).ok());
  ASSERT_TRUE(lake_->store().Delete(std::string(kLastCheckpointKey)).ok());
  stats = {};
  EXPECT_TRUE(FreshSnapshot(&stats) == good);
  EXPECT_EQ(stats.checkpoint_seq, 0);
  EXPECT_EQ(stats.commits_read, 2 * kCheckpointInterval + 3);
  // The next writer writes the checkpoint the lake lacks.
  lake_.reset();
  lake_ = OpenLake();
  ASSERT_TRUE(lake_->BeginWrite().ok());
  EXPECT_EQ(Read(std::string(kLastCheckpointKey)), fmt::format("{}\n", 2 * kCheckpointInterval + 3));
}

TEST_F(SnapshotTest, AReaderSeesOnlyAppliedCommits) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  PublishSmall(*lake_, 0);
  // Commit 2 is logged but not applied (a writer between its record and its marker).
  Commit pending;
  pending.seq = 2;
  pending.stage = "gold";
  pending.moves = {{"_iotad/staging/x/g.parquet", "gold/g.parquet"}};
  ASSERT_TRUE(lake_->store().PutIfAbsent(LogKey(2), CommitToJson(pending)).ok());
  auto reader = OpenLake();
  auto snap = reader->snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_EQ((*snap)->seq(), 1);
  EXPECT_EQ((*snap)->files().count("gold/g.parquet"), 0u);
  // Asked for the committed head, it sees commit 2 (sql does that after a file of its snapshot vanished).
  auto moved = reader->RefreshSnapshot(/*committed_head=*/true);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(*moved);
  EXPECT_EQ((*reader->snapshot())->seq(), 2);
}

TEST_F(SnapshotTest, FiveHundredSmallCommitsKeepPublishAndSnapshotCostFlat) {
  std::shared_ptr<StoreCounts> counts;
  auto lake = OpenCounted(counts);
  ASSERT_NE(lake, nullptr);
  ASSERT_TRUE(lake->BeginWrite().ok());
  std::vector<int64_t> calls;  // store calls of each Publish
  for (int i = 0; i < 500; ++i) {
    const int64_t before = counts->Total();
    const int64_t log_reads = counts->GetsUnder(kLogPrefix);
    const int64_t lists = counts->lists;
    ASSERT_EQ(PublishSmall(*lake, i), i + 1);
    calls.push_back(counts->Total() - before - 1);  // less the test's own staging Put
    // Publish reads no commit record and lists nothing but, at a checkpoint, the checkpoints.
    EXPECT_EQ(counts->GetsUnder(kLogPrefix), log_reads) << "commit " << i + 1;
    EXPECT_LE(counts->lists - lists, (i + 1) % kCheckpointInterval == 0 ? 1 : 0) << "commit " << i + 1;
  }
  EXPECT_EQ(counts->lists_by_prefix.count(std::string(kLogPrefix)), 0u);
  const int64_t first = *std::max_element(calls.begin(), calls.begin() + 50);
  const int64_t last = *std::max_element(calls.end() - 50, calls.end());
  // From the third checkpoint on, writing one also deletes the oldest kept: one call more.
  EXPECT_LE(last, first + 1);
  EXPECT_LE(first, 12);
  // A reader opened after 500 commits reads the checkpoint and at most an interval of records.
  std::shared_ptr<StoreCounts> reader_counts;
  auto reader = OpenCounted(reader_counts);
  auto snap = reader->snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_EQ((*snap)->seq(), 500);
  EXPECT_LT(reader_counts->GetsUnder(kLogPrefix), kCheckpointInterval);
  EXPECT_EQ(reader_counts->lists, 0);
  EXPECT_LE(reader_counts->Total(), kCheckpointInterval + 3);
  // And a writer's recovery probes forward from the applied marker: one missing record, no listing.
  std::shared_ptr<StoreCounts> writer_counts;
  lake.reset();
  auto writer = OpenCounted(writer_counts);
  ASSERT_TRUE(writer->BeginWrite().ok());
  EXPECT_EQ(writer_counts->lists_by_prefix.count(std::string(kLogPrefix)), 0u);
  EXPECT_LT(writer_counts->GetsUnder(kLogPrefix), kCheckpointInterval);
}

TEST_F(SnapshotTest, RecoverWithoutListingTheLogFinishesAPendingCommit) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  PublishSmall(*lake_, 0);
  // A writer that crashed after logging commit 2, before applying it.
  Stage("_iotad/staging/run-2/g.parquet", "G");
  Commit pending;
  pending.seq = 2;
  pending.stage = "gold";
  pending.moves = {{"_iotad/staging/run-2/g.parquet", "gold/g.parquet"}};
  ASSERT_TRUE(lake_->store().PutIfAbsent(LogKey(2), CommitToJson(pending)).ok());
  lake_.reset();
  std::shared_ptr<StoreCounts> counts;
  auto lake = OpenCounted(counts);
  ASSERT_TRUE(lake->BeginWrite().ok());
  EXPECT_EQ(counts->lists_by_prefix.count(std::string(kLogPrefix)), 0u);
  EXPECT_EQ(counts->gets_by_key[LogKey(2)], 1);  // read once: recovery and the snapshot share it
  EXPECT_EQ(counts->gets_by_key[LogKey(1)], 1);
  auto snap = lake->snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->seq(), 2);
  EXPECT_EQ((*snap)->files().count("gold/g.parquet"), 1u);
  EXPECT_EQ(PublishSmall(*lake, 1), 3);
}

TEST_F(SnapshotTest, ViewsReadTheSnapshotsFilesNotTheFolder) {
  ASSERT_TRUE(lake_->BeginWrite().ok());
  auto scratch = lake_->store().ScratchDir();
  ASSERT_TRUE(scratch.ok());
  auto session = lake_->OpenSession(/*with_views=*/false);
  ASSERT_TRUE(session.ok());
  // Two Parquet files of 3 rows in two hours, committed; a third in the folder, not committed.
  const std::string hour_a = HourPartition(kT), hour_b = HourPartition(kT + kMicrosPerHour);
  auto write = [&](const std::string& key) {
    const fs::path local = *scratch / "f.parquet";
    ASSERT_TRUE((*session)->Exec(fmt::format("COPY (SELECT range AS v FROM range(3)) TO {} (FORMAT parquet)",
                                             SqlQuote(local.string()))).ok());
    ASSERT_TRUE(lake_->store().PutFile(key, local).ok());
  };
  write("_iotad/staging/r/a.parquet");
  write("_iotad/staging/r/b.parquet");
  Commit c;
  c.stage = "gold";
  c.meta_json = R"({"silver_seq":0,"fingerprint":"f"})";
  c.moves = {{"_iotad/staging/r/a.parquet", "gold/" + hour_a + "/a.parquet"},
             {"_iotad/staging/r/b.parquet", "gold/" + hour_b + "/b.parquet"}};
  ASSERT_TRUE(lake_->Publish(c).ok());
  write("gold/" + hour_a + "/stray.parquet");
  auto reader = OpenLake();
  auto views = reader->OpenSession();
  ASSERT_TRUE(views.ok()) << views.status().message();
  auto all = (*views)->QueryInt("SELECT count(*) FROM anomalies");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(*all, 6);
  // Partition filters still prune through the file list: only one file is read.
  auto plan = (*views)->Query("EXPLAIN ANALYZE SELECT count(*) FROM anomalies WHERE hour = 14");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  std::string text;
  while (true) {
    auto chunk = plan->Next();
    ASSERT_TRUE(chunk.ok());
    if (!*chunk) break;
    for (size_t r = 0; r < chunk->size(); ++r) {
      text += DuckChunk::StringAt(chunk->Data<duckdb_string_t>(1), r);
    }
  }
  EXPECT_NE(text.find("Total Files Read: 1"), std::string::npos) << text;
  auto hour14 = (*views)->QueryInt("SELECT count(*) FROM anomalies WHERE hour = 14");
  ASSERT_TRUE(hour14.ok());
  EXPECT_EQ(*hour14, 3);
}

}  // namespace
}  // namespace iotad::lake
