#include "iotad/lake/duck.h"

#include <filesystem>
#include <fstream>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace iotad::lake {
namespace {

namespace fs = std::filesystem;

class ReadOnlySessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("iotad_duck_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "lake" / "silver");
    fs::create_directories(root_ / "out");
    fs::create_directories(root_ / "other");
    std::ofstream(root_ / "other" / "x.csv") << "a\n1\n";
    auto s = DuckSession::Open({});
    ASSERT_TRUE(s.ok()) << s.status().message();
    session_ = std::move(*s);
    ASSERT_TRUE(session_
                    ->Exec("COPY (SELECT 42 AS v) TO " + SqlQuote((root_ / "lake" / "silver" / "a.parquet").string()))
                    .ok());
    ASSERT_TRUE(session_
                    ->Exec("CREATE VIEW silver AS SELECT * FROM read_parquet(" +
                           SqlQuote((root_ / "lake" / "silver" / "*.parquet").string()) + ")")
                    .ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  Status Restrict(bool with_writes) {
    return session_->RestrictToReadOnly({(root_ / "lake" / "silver").string()},
                                        with_writes ? (root_ / "out").string() : "");
  }
  std::string Silver() const { return (root_ / "lake" / "silver").string(); }
  std::string Out() const { return (root_ / "out").string(); }

  fs::path root_;
  std::unique_ptr<DuckSession> session_;
};

TEST_F(ReadOnlySessionTest, ReadingStatementsPass) {
  ASSERT_TRUE(Restrict(false).ok());
  for (const std::string& sql : std::vector<std::string>
       {"SELECT * FROM silver", "FROM silver", "DESCRIBE silver", "SUMMARIZE silver", "SHOW TABLES",
        "PRAGMA table_info('silver')", "EXPLAIN SELECT 1", "EXPLAIN ANALYZE SELECT count(*) FROM silver",
        "-- a comment\nEXPLAIN (FORMAT json) SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a", "VALUES (1)"}) {
    EXPECT_TRUE(session_->CheckStatement(sql).ok()) << sql << ": " << session_->CheckStatement(sql).message();
  }
  EXPECT_EQ(*session_->QueryInt("SELECT v FROM silver"), 42);
}

TEST_F(ReadOnlySessionTest, EverythingElseIsRefusedWithOneSentence) {
  ASSERT_TRUE(Restrict(false).ok());
  for (const std::string& sql : std::vector<std::string>
       {"COPY (SELECT 1) TO '" + Silver() + "/evil.parquet'", "EXPLAIN ANALYZE COPY (SELECT 1) TO '" + Silver() + "/e.csv'",
        "ATTACH '" + Silver() + "/x.db' AS x", "INSTALL httpfs", "LOAD parquet", "CREATE TABLE t (x INT)",
        "CREATE TEMP VIEW v AS SELECT 1", "SET enable_external_access = true", "SET threads = 1", "RESET threads",
        "CALL pragma_version()", "PRAGMA enable_profiling", "PREPARE p AS SELECT 1", "BEGIN", "DROP VIEW silver",
        "EXPORT DATABASE '" + Silver() + "/db'", "SELECT 1; SELECT 2", "", "SELEC 1"}) {
    const Status st = session_->CheckStatement(sql);
    EXPECT_FALSE(st.ok()) << sql;
    EXPECT_EQ(st.code(), Errc::kInvalidArgument) << sql;
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  }
}

TEST_F(ReadOnlySessionTest, DuckDbRefusesFilesOutsideTheAllowedFoldersAndSetsAreLocked) {
  ASSERT_TRUE(Restrict(false).ok());
  EXPECT_FALSE(session_->Exec("SELECT * FROM read_csv('" + (root_ / "other" / "x.csv").string() + "')").ok());
  EXPECT_FALSE(session_->Exec("SELECT * FROM read_text('/etc/hostname')").ok());
  EXPECT_FALSE(session_->Exec("SET enable_external_access = true").ok());
  EXPECT_FALSE(session_->Exec("SET allowed_directories = ['/']").ok());
  // A sibling folder whose name starts like an allowed one is not allowed.
  fs::create_directories(root_ / "lake" / "silver2");
  std::ofstream(root_ / "lake" / "silver2" / "y.csv") << "a\n1\n";
  EXPECT_FALSE(session_->Exec("SELECT * FROM read_csv('" + (root_ / "lake" / "silver2" / "y.csv").string() + "')").ok());
}

TEST_F(ReadOnlySessionTest, CopyWritesOnlyBelowTheWriteFolder) {
  ASSERT_TRUE(Restrict(true).ok());
  EXPECT_TRUE(session_->CheckStatement("COPY (SELECT 1 x) TO '" + Out() + "/a.csv' (HEADER)").ok());
  EXPECT_TRUE(session_->CheckStatement("copy silver to '" + Out() + "/sub/b.parquet'").ok());
  EXPECT_TRUE(session_->CheckStatement("COPY (SELECT ' TO ''/x''' AS \"to\") TO $$" + Out() + "/c.csv$$").ok());
  for (const std::string& sql : std::vector<std::string>{
           "COPY (SELECT 1) TO '" + Silver() + "/evil.parquet'",
           "COPY (SELECT 1) TO '" + Out() + "/../lake/silver/evil.parquet'",
           "COPY (SELECT 1) TO 'file://" + Silver() + "/evil.parquet'",
           "COPY (SELECT 1) TO '~/evil.csv'",
           "COPY (SELECT 1 x) TO '" + Out() + "/p' (FORMAT parquet, PARTITION_BY (x), FILENAME_PATTERN '../../lake/silver/e')",
           "COPY silver FROM '" + Out() + "/a.csv'",
           "COPY (SELECT '" + Out() + "/a.csv' AS p) TO '" + Silver() + "/evil.csv'",
           "/* TO '" + Out() + "/x' */ COPY (SELECT 1) TO '" + Silver() + "/evil.csv'",
       }) {
    const Status st = session_->CheckStatement(sql);
    EXPECT_FALSE(st.ok()) << sql;
    EXPECT_EQ(st.code(), Errc::kInvalidArgument) << sql;
  }
  ASSERT_TRUE(session_->Exec("COPY (SELECT 7 AS v) TO '" + Out() + "/a.csv' (HEADER)").ok());
  EXPECT_TRUE(fs::exists(root_ / "out" / "a.csv"));
}


// ---- bound parameters, shared connections, interrupts (the dashboard's query path) -------------

Result<std::string> FirstString(DuckResult& result) {
  IOTAD_ASSIGN_OR_RETURN(DuckChunk chunk, result.Next());
  if (!chunk || chunk.size() == 0) return std::string("<no rows>");
  if (!DuckChunk::IsValid(chunk.Validity(0), 0)) return std::string("<null>");
  return std::string(chunk.Strings(0)[0]);
}

TEST(DuckParamsTest, ValuesAreBoundNeverPasted) {
  auto s = DuckSession::Open({});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Exec("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('x'' OR ''1''=''1', 3)) v(k, n)").ok());
  // A hostile value is compared as text: it matches only the row holding exactly that text.
  auto r = (*s)->QueryParams("SELECT count(*)::VARCHAR FROM t WHERE k = ?", {std::string("x' OR '1'='1")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*FirstString(*r), "1");
  r = (*s)->QueryParams("SELECT count(*)::VARCHAR FROM t WHERE k = ?", {std::string("a' OR 'x'='x")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*FirstString(*r), "0");
  // Every kind of value binds with its type.
  r = (*s)->QueryParams("SELECT concat_ws('|', ?::VARCHAR, ?::VARCHAR, ?::VARCHAR, ?::VARCHAR, typeof(?), ?::VARCHAR)",
                        {int64_t{-7}, 2.5, true, DuckTimestamp{86'400'000'000}, DuckTimestamp{0}, nullptr});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*FirstString(*r), "-7|2.5|true|1970-01-02 00:00:00+00|TIMESTAMP WITH TIME ZONE");
}

// DuckStrings::Equal decides most pairs from the cell's 16 bytes: it must agree with comparing the
// text for short and long strings, equal ones at different addresses (a VALUES list) and at the
// same address (a Parquet dictionary), and ones alike in length and first 4 bytes.
TEST(DuckStringsTest, EqualAgreesWithTheTextWhereverTheStringsLive) {
  auto s = DuckSession::Open({});
  ASSERT_TRUE(s.ok());
  const std::string path = (fs::temp_directory_path() / ("iotad_duck_strings_" + std::to_string(::getpid()) + ".parquet")).string();
  const std::string values =
      "(VALUES (''), ('dev-1'), ('dev-1'), ('dev-2'), ('dev-10'), ('devX1'), ('twelve-bytes'), ('twelve-bytez'), "
      "('a-long-device-name-1'), ('a-long-device-name-1'), ('a-long-device-name-2'), ('a-long-device-name-10'), "
      "('b-long-device-name-1'), ('dev-1'), ('a-long-device-name-1')) v(d)";
  ASSERT_TRUE((*s)->Exec("COPY (SELECT d FROM " + values + ") TO " + SqlQuote(path)).ok());
  for (const std::string& from : {"SELECT d FROM " + values, "SELECT d FROM read_parquet(" + SqlQuote(path) + ")"}) {
    auto r = (*s)->Stream(from);
    ASSERT_TRUE(r.ok()) << r.status().message();
    auto chunk = r->Next();
    ASSERT_TRUE(chunk.ok());
    ASSERT_TRUE(*chunk);
    ASSERT_EQ(chunk->size(), 15u);
    const DuckStrings d = chunk->Strings(0);
    int equal_pairs = 0;
    for (size_t a = 0; a < chunk->size(); ++a) {
      for (size_t b = 0; b < chunk->size(); ++b) {
        EXPECT_EQ(d.Equal(a, b), d[a] == d[b]) << from << ": '" << d[a] << "' vs '" << d[b] << "'";
        equal_pairs += d[a] == d[b] ? 1 : 0;
      }
    }
    EXPECT_EQ(equal_pairs, 15 + 2 * (3 + 3));  // each with itself, and two triples
  }
  fs::remove(path);
}

TEST(DuckParamsTest, AWrongParameterCountIsAnError) {
  auto s = DuckSession::Open({});
  ASSERT_TRUE(s.ok());
  auto r = (*s)->QueryParams("SELECT ? + ?", {int64_t{1}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2 parameters, 1 were given"), std::string::npos) << r.status().message();
  EXPECT_FALSE((*s)->QueryParams("SELECT 1", {int64_t{1}}).ok());
}

TEST(DuckParamsTest, ConnectSharesTheDatabaseWhichOutlivesTheFirstSession) {
  auto s = DuckSession::Open({});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Exec("CREATE TABLE shared AS SELECT 'seen' AS v").ok());
  auto other = (*s)->Connect();
  ASSERT_TRUE(other.ok()) << other.status().message();
  s->reset();  // the first session goes; the database stays for the second
  auto r = (*other)->QueryParams("SELECT v FROM shared WHERE v = ?", {std::string("seen")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*FirstString(*r), "seen");
  auto third = (*other)->Connect();
  ASSERT_TRUE(third.ok());
  auto tz = (*third)->QueryParams("SELECT current_setting('TimeZone')", {});
  ASSERT_TRUE(tz.ok());
  EXPECT_EQ(*FirstString(*tz), "UTC");
}

TEST(DuckParamsTest, InterruptStopsARunningQueryFromAnotherThread) {
  auto s = DuckSession::Open({});
  ASSERT_TRUE(s.ok());
  DuckSession* session = s->get();
  std::atomic<bool> done{false};
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    while (!done.load()) {
      session->Interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const auto start = std::chrono::steady_clock::now();
  // Minutes of work if nothing stops it.
  auto r = session->QueryParams("SELECT count(*) FROM range(?) a, range(?) b WHERE a.range * b.range = -1",
                                {int64_t{1'000'000'000}, int64_t{1'000'000}});
  done = true;
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nterrupt"), std::string::npos) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // The session is usable after it.
  auto again = session->QueryParams("SELECT 'ok'", {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*FirstString(*again), "ok");
}

}  // namespace
}  // namespace iotad::lake
