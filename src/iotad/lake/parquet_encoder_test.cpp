#include "iotad/lake/parquet_encoder.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "iotad/lake/duck.h"

namespace iotad::lake {
namespace {

namespace fs = std::filesystem;

/// One file's columns as the test writes them: timestamps, strings by id (0 = NULL) over one
/// table, doubles (NaN = NULL).
struct Columns {
  std::vector<int64_t> ts;
  std::vector<std::vector<uint32_t>> strings;
  std::vector<std::vector<double>> doubles;
  size_t size() const { return ts.size(); }
};

class ParquetEncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("iotad_parquet_encoder_{}", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = DuckSession::Open({});
    ASSERT_TRUE(s.ok()) << s.status().message();
    session_ = std::move(*s);
    table_ = {"", "dev-1", "dev-2", "Zürich", "", "a longer name than twelve bytes", std::string(300, 'x'),
              std::string(300, 'w')};
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<ColumnSpec> Specs(const Columns& c) {
    std::vector<ColumnSpec> specs{{"event_time", ColumnType::kTimestampTz}};
    for (size_t i = 0; i < c.strings.size(); ++i) specs.push_back({fmt::format("s{}", i), ColumnType::kVarchar});
    for (size_t i = 0; i < c.doubles.size(); ++i) specs.push_back({fmt::format("d{}", i), ColumnType::kDouble});
    return specs;
  }

  /// Writes `c` in row groups of the given sizes (the last one takes the rest).
  fs::path Write(const Columns& c, std::vector<size_t> groups, ParquetCodec codec = ParquetCodec::kZstd,
                 const std::string& name = "t.parquet") {
    ParquetEncoder enc(Specs(c), codec);
    size_t begin = 0, g = 0;
    do {
      const size_t n = g < groups.size() ? std::min(groups[g], c.size() - begin) : c.size() - begin;
      enc.BeginRowGroup(n);
      enc.AddTimestamps(std::span(c.ts).subspan(begin, n));
      for (const auto& s : c.strings) enc.AddStrings(std::span(s).subspan(begin, n), table_);
      for (const auto& d : c.doubles) enc.AddDoubles(std::span(d).subspan(begin, n));
      begin += n;
      ++g;
    } while (begin < c.size());
    const fs::path file = dir_ / name;
    Status st = enc.WriteTo(file);
    EXPECT_TRUE(st.ok()) << st.message();
    return file;
  }

  /// Reads the file back with DuckDB and checks every cell, in order.
  void ExpectReadsBack(const fs::path& file, const Columns& c) {
    auto r = session_->Query(fmt::format("SELECT * FROM read_parquet({}) ", SqlQuote(file.string())));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->ColumnCount(), 1 + c.strings.size() + c.doubles.size());
    EXPECT_EQ(r->ColumnType(0), DUCKDB_TYPE_TIMESTAMP_TZ);
    size_t row = 0;
    while (true) {
      auto chunk = r->Next();
      ASSERT_TRUE(chunk.ok()) << chunk.status().message();
      if (!*chunk) break;
      for (size_t i = 0; i < chunk->size(); ++i, ++row) {
        ASSERT_LT(row, c.size());
        ASSERT_EQ(chunk->Data<int64_t>(0)[i], c.ts[row]) << "row " << row;
        for (size_t s = 0; s < c.strings.size(); ++s) {
          const uint32_t id = c.strings[s][row];
          const bool valid = DuckChunk::IsValid(chunk->Validity(1 + s), i);
          ASSERT_EQ(valid, id != 0) << "row " << row << " s" << s;
          if (valid) {
            ASSERT_EQ(DuckChunk::StringAt(chunk->Data<duckdb_string_t>(1 + s), i), table_[id]) << "row " << row;
          }
        }
        for (size_t d = 0; d < c.doubles.size(); ++d) {
          const double want = c.doubles[d][row];
          const size_t col = 1 + c.strings.size() + d;
          const bool valid = DuckChunk::IsValid(chunk->Validity(col), i);
          ASSERT_EQ(valid, !std::isnan(want)) << "row " << row << " d" << d;
          if (valid) {
            const double got = chunk->Data<double>(col)[i];
            ASSERT_EQ(std::signbit(got), std::signbit(want)) << "row " << row;
            ASSERT_EQ(got, want) << "row " << row << " d" << d;
          }
        }
      }
    }
    EXPECT_EQ(row, c.size());
  }

  std::string Meta(const fs::path& file, const std::string& select, const std::string& where) {
    auto r = session_->Query(fmt::format("SELECT {} FROM parquet_metadata({}) WHERE {}", select,
                                         SqlQuote(file.string()), where));
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return "";
    auto chunk = r->Next();
    if (!chunk.ok() || !*chunk || chunk->size() == 0) return "<none>";
    if (!DuckChunk::IsValid(chunk->Validity(0), 0)) return "<null>";
    return std::string(DuckChunk::StringAt(chunk->Data<duckdb_string_t>(0), 0));
  }

  fs::path dir_;
  std::unique_ptr<DuckSession> session_;
  std::vector<std::string> table_;
};

TEST_F(ParquetEncoderTest, EveryCellReadsBackWithItsTypeAndNullsWhateverTheCodecAndRowGroups) {
  Columns c;
  std::mt19937_64 rng(7);
  const size_t n = 5000;
  c.strings.resize(4);
  c.doubles.resize(5);
  for (size_t i = 0; i < n; ++i) {
    c.ts.push_back(1'700'000'000'000'000 + static_cast<int64_t>(rng() % 3'600'000'000));
    c.strings[0].push_back(1 + static_cast<uint32_t>(i / 700) % 2);          // runs, never NULL
    c.strings[1].push_back(static_cast<uint32_t>(rng() % table_.size()));   // NULLs, long and empty strings
    c.strings[2].push_back(0);                                              // all NULL
    c.strings[3].push_back(6 + static_cast<uint32_t>(rng() % 2));           // 300 bytes: no statistics
    c.doubles[0].push_back(std::round(static_cast<double>(rng() % 4000)) / 100 - 20);  // few values
    c.doubles[1].push_back(rng() % 5 == 0 ? NAN : std::ldexp(static_cast<double>(rng()), -40));  // unique: PLAIN
    c.doubles[2].push_back(NAN);                                                               // all NULL
    c.doubles[3].push_back(i % 3 == 0 ? -0.0 : (i % 3 == 1 ? 0.0 : -std::numeric_limits<double>::infinity()));
    c.doubles[4].push_back(42.5);  // one value
  }
  for (ParquetCodec codec : {ParquetCodec::kZstd, ParquetCodec::kSnappy, ParquetCodec::kGzip, ParquetCodec::kUncompressed}) {
    SCOPED_TRACE(static_cast<int>(codec));
    for (const std::vector<size_t>& groups : std::vector<std::vector<size_t>>{{n}, {1, 7, 8, 9, 1024, 3000}}) {
      const fs::path file = Write(c, groups, codec);
      ExpectReadsBack(file, c);
    }
  }
}

TEST_F(ParquetEncoderTest, IndexRunsOfEveryLengthAtEveryAlignmentReadBack) {
  // The RLE/bit-packed hybrid switches between runs and packed groups of 8: runs of 1 to 20 equal
  // values, starting at every offset modulo 8, over dictionaries of 2 to 70,000 values (bit
  // widths 1 to 17; above 65,536 values the chunk is PLAIN).
  for (size_t distinct : {2u, 3u, 255u, 256u, 257u, 4096u, 65536u, 70000u}) {
    SCOPED_TRACE(distinct);
    Columns c;
    std::mt19937_64 rng(distinct);
    size_t next = 0;
    for (size_t len = 1; len <= 20; ++len) {
      for (size_t offset = 0; offset < 8; ++offset) {
        for (size_t k = 0; k < offset; ++k) c.ts.push_back(static_cast<int64_t>(next++ % distinct));
        const auto v = static_cast<int64_t>(rng() % distinct);
        for (size_t k = 0; k < len; ++k) c.ts.push_back(v);
      }
    }
    while (c.ts.size() < 2 * distinct) c.ts.push_back(static_cast<int64_t>(next++ % distinct));
    const fs::path file = Write(c, {});
    ExpectReadsBack(file, c);
    EXPECT_EQ(Meta(file, "encodings", "path_in_schema = 'event_time'"),
              distinct <= 65536 ? "PLAIN_DICTIONARY, RLE" : "PLAIN, RLE");
  }
}

TEST_F(ParquetEncoderTest, StatisticsAreExactAndPruneAsTheValuesSay) {
  Columns c;
  c.strings.resize(2);
  c.doubles.resize(2);
  for (int64_t i = 0; i < 3000; ++i) {
    c.ts.push_back(i * 1'000'000);
    c.strings[0].push_back(i < 1500 ? 1 : 3);  // dev-1, then Zürich
    c.strings[1].push_back(i % 10 == 0 ? 0 : 6);
    c.doubles[0].push_back(i % 7 == 0 ? NAN : static_cast<double>(i) - 100.5);
    c.doubles[1].push_back(i % 2 == 0 ? 0.0 : -0.0);
  }
  const fs::path file = Write(c, {1000, 1000});
  ASSERT_EQ(Meta(file, "count(*)::VARCHAR", "true"), "15");
  EXPECT_EQ(Meta(file, "stats_min", "row_group_id = 1 AND path_in_schema = 'event_time'"), "1970-01-01 00:16:40+00");
  EXPECT_EQ(Meta(file, "stats_max", "row_group_id = 1 AND path_in_schema = 'event_time'"), "1970-01-01 00:33:19+00");
  // Strings: byte order, in min_value/max_value only (the deprecated min/max are signed).
  EXPECT_EQ(Meta(file, "stats_min_value", "row_group_id = 1 AND path_in_schema = 's0'"), "Zürich");
  EXPECT_EQ(Meta(file, "stats_max_value", "row_group_id = 1 AND path_in_schema = 's0'"), "dev-1");
  EXPECT_EQ(Meta(file, "stats_max_value", "row_group_id = 0 AND path_in_schema = 's0'"), "dev-1");
  EXPECT_EQ(Meta(file, "stats_min", "row_group_id = 0 AND path_in_schema = 's0'"), "<null>");
  EXPECT_EQ(Meta(file, "stats_null_count::VARCHAR", "row_group_id = 2 AND path_in_schema = 's1'"), "100");
  EXPECT_EQ(Meta(file, "stats_min_value", "row_group_id = 2 AND path_in_schema = 's1'"), "<null>");  // 300 bytes
  EXPECT_EQ(Meta(file, "stats_min", "row_group_id = 0 AND path_in_schema = 'd0'"), "-99.5");
  EXPECT_EQ(Meta(file, "stats_max", "row_group_id = 0 AND path_in_schema = 'd0'"), "898.5");
  EXPECT_EQ(Meta(file, "stats_null_count::VARCHAR", "row_group_id = 0 AND path_in_schema = 'd0'"), "143");
  EXPECT_EQ(Meta(file, "stats_min", "row_group_id = 0 AND path_in_schema = 'd1'"), "-0.0");
  EXPECT_EQ(Meta(file, "stats_max", "row_group_id = 0 AND path_in_schema = 'd1'"), "0.0");
  // Filters that the statistics decide give the same answers as reading every row.
  for (const std::string_view where : {"event_time >= TIMESTAMPTZ '1970-01-01 00:40:00+00'", "s0 = 'dev-1'",
                                   "d0 > 2000", "d0 < -99", "s0 > 'dev-0' AND d0 IS NULL"}) {
    auto pruned = session_->QueryInt(
        fmt::format("SELECT count(*) FROM read_parquet({}) WHERE {}", SqlQuote(file.string()), where));
    auto scanned = session_->QueryInt(fmt::format(
        "SELECT count(*) FROM (SELECT * FROM read_parquet({}) OFFSET 0) WHERE {}", SqlQuote(file.string()), where));
    ASSERT_TRUE(pruned.ok() && scanned.ok()) << where;
    EXPECT_EQ(*pruned, *scanned) << where;
  }
  EXPECT_EQ(*session_->QueryInt(fmt::format("SELECT count(*) FROM read_parquet({}) WHERE s0 = 'dev-1'",
                                            SqlQuote(file.string()))),
            1500);
}

TEST_F(ParquetEncoderTest, LongPlainStringsAreSplitIntoPagesWithTheirOwnLevels) {
  // Over 64 MiB of distinct strings (no dictionary pays): several PLAIN pages, NULLs among them.
  for (int i = 0; i < 80; ++i) table_.push_back(std::string(1 << 20, static_cast<char>('a' + i % 26)) + std::to_string(i));
  Columns c;
  c.strings.resize(1);
  const auto first = static_cast<uint32_t>(table_.size() - 80);
  for (uint32_t i = 0; i < 80; ++i) {
    c.ts.push_back(i);
    c.strings[0].push_back(i % 9 == 4 ? 0 : first + i);
  }
  const fs::path file = Write(c, {}, ParquetCodec::kUncompressed);
  ExpectReadsBack(file, c);
  EXPECT_EQ(Meta(file, "encodings", "path_in_schema = 's0'"), "PLAIN, RLE");
}

TEST_F(ParquetEncoderTest, AFileThatCannotBeWrittenIsAnError) {
  Columns c;
  c.ts = {1, 2, 3};
  ParquetEncoder enc(Specs(c), ParquetCodec::kZstd);
  enc.BeginRowGroup(3);
  enc.AddTimestamps(c.ts);
  Status st = enc.WriteTo(dir_ / "no" / "such" / "dir.parquet");
  EXPECT_EQ(st.code(), Errc::kIo);
  ParquetEncoder other({{"n", ColumnType::kBigint}}, ParquetCodec::kZstd);  // a type it does not write
  EXPECT_EQ(other.WriteTo(dir_ / "n.parquet").code(), Errc::kInternal);
  EXPECT_FALSE(ParquetCodecNamed("lz4").ok());
  EXPECT_EQ(*ParquetCodecNamed("snappy"), ParquetCodec::kSnappy);
}

}  // namespace
}  // namespace iotad::lake
