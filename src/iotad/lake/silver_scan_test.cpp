#include "iotad/lake/silver_scan.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "iotad/lake/parquet_encoder.h"

namespace iotad::lake {
namespace {

namespace fs = std::filesystem;

/// A stream's contents, column by column name: each cell as text ("NULL" for NULL), in order.
using Table = std::map<std::string, std::vector<std::string>>;

Table ReadAll(ChunkStream& s) {
  Table t;
  std::vector<std::string> names;
  for (size_t c = 0; c < s.ColumnCount(); ++c) names.push_back(s.ColumnName(c));
  for (const auto& n : names) t[n];
  while (true) {
    auto chunk = s.Next();
    EXPECT_TRUE(chunk.ok()) << chunk.status().message();
    if (!chunk.ok() || !*chunk) break;
    EXPECT_LE(chunk->size(), 2048u);
    for (size_t c = 0; c < names.size(); ++c) {
      auto& out = t[names[c]];
      for (size_t r = 0; r < chunk->size(); ++r) {
        if (!DuckChunk::IsValid(chunk->Validity(c), r)) {
          out.push_back("NULL");
        } else if (names[c] == "event_time") {
          out.push_back(fmt::format("t{}", chunk->Data<int64_t>(c)[r]));
        } else if (names[c][0] == 's' || names[c] == "device_id") {
          const DuckStrings strings = chunk->Strings(c);
          out.push_back(fmt::format("'{}'", strings[r]));
          // Equal cells compare equal from their 16 bytes (the replay's device runs rely on it).
          if (r > 0 && DuckChunk::IsValid(chunk->Validity(c), r - 1)) {
            EXPECT_EQ(strings.Equal(r, r - 1), strings[r] == strings[r - 1]);
          }
        } else {
          const double v = chunk->Data<double>(c)[r];
          out.push_back(fmt::format("{}{}", std::signbit(v) ? "-" : "+", std::fabs(v)));
        }
      }
    }
  }
  return t;
}

class SilverScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("iotad_silver_scan_{}", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = DuckSession::Open({});
    ASSERT_TRUE(s.ok()) << s.status().message();
    session_ = std::move(*s);
    ASSERT_TRUE(session_->Exec("SET threads = 1").ok());
    table_ = {"", "dev-1", "dev-2", "Zürich", "", "a longer name than twelve bytes", std::string(300, 'x')};
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A file of `rows` rows from silver's encoder: event_time, device_id, then string columns
  /// `strings` and double columns `doubles` (names), values from `seed`.
  std::string Encoded(const std::string& name, size_t rows, const std::vector<std::string>& strings,
                      const std::vector<std::string>& doubles, uint64_t seed, ParquetCodec codec = ParquetCodec::kZstd,
                      size_t group = ParquetEncoder::kRowGroupRows) {
    std::vector<ColumnSpec> specs{{"event_time", ColumnType::kTimestampTz}, {"device_id", ColumnType::kVarchar}};
    for (const auto& s : strings) specs.push_back({s, ColumnType::kVarchar});
    for (const auto& d : doubles) specs.push_back({d, ColumnType::kDouble});
    ParquetEncoder enc(specs, codec);
    std::mt19937_64 rng(seed);
    for (size_t begin = 0; begin < rows; begin += group) {
      const size_t n = std::min(group, rows - begin);
      enc.BeginRowGroup(n);
      std::vector<int64_t> ts(n);
      std::vector<uint32_t> dev(n);
      for (size_t i = 0; i < n; ++i) {
        ts[i] = 1'700'000'000'000'000 + static_cast<int64_t>((begin + i) * 1000);
        dev[i] = 1 + static_cast<uint32_t>((begin + i) / 37) % 2;
      }
      enc.AddTimestamps(ts);
      enc.AddStrings(dev, table_);
      for (size_t c = 0; c < strings.size(); ++c) {
        std::vector<uint32_t> ids(n);
        for (auto& id : ids) id = static_cast<uint32_t>(rng() % table_.size());
        enc.AddStrings(ids, table_);
      }
      for (size_t c = 0; c < doubles.size(); ++c) {
        std::vector<double> v(n);
        for (auto& x : v) {
          const uint64_t r = rng();
          x = r % 9 == 0 ? NAN : (c == 0 ? static_cast<double>(r % 50) - 25 : std::ldexp(static_cast<double>(r), -50));
        }
        enc.AddDoubles(v);
      }
    }
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(enc.WriteTo(path).ok());
    return path;
  }

  /// The same files and columns through DuckDB's own reader.
  Table ThroughDuckDb(const std::vector<std::string>& files, const std::vector<std::string>& columns) {
    auto r = session_->Stream(fmt::format(
        "SELECT COLUMNS(c -> list_contains({}, c)) FROM read_parquet({}, union_by_name = true)", SqlList(columns),
        SqlList(files)));
    EXPECT_TRUE(r.ok()) << r.status().message();
    struct Wrapped final : ChunkStream {
      DuckResult r;
      size_t ColumnCount() override { return r.ColumnCount(); }
      std::string ColumnName(size_t c) override { return r.ColumnName(c); }
      duckdb_type ColumnType(size_t c) override { return r.ColumnType(c); }
      Result<DuckChunk> Next() override { return r.Next(); }
    } w;
    w.r = std::move(*r);
    return ReadAll(w);
  }

  Table Scanned(const std::vector<std::string>& files, const std::vector<std::string>& columns) {
    auto s = ScanSilverFiles(*session_, files, columns);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? ReadAll(**s) : Table{};
  }

  fs::path dir_;
  std::unique_ptr<DuckSession> session_;
  std::vector<std::string> table_;
};

TEST_F(SilverScanTest, ReadsWhatDuckDbReadsFromTheEncodersFiles) {
  const std::vector<std::string> columns{"event_time", "device_id", "s_loc", "s_long", "m_a", "m_b", "m_none"};
  for (ParquetCodec codec : {ParquetCodec::kZstd, ParquetCodec::kSnappy, ParquetCodec::kGzip, ParquetCodec::kUncompressed}) {
    SCOPED_TRACE(static_cast<int>(codec));
    // Two files of one hour: the second lacks m_b and has s_long; row groups of odd sizes.
    const std::vector<std::string> files{
        Encoded("a.parquet", 5000, {"s_loc"}, {"m_a", "m_b"}, 1, codec, 1999),
        Encoded("b.parquet", 3000, {"s_loc", "s_long"}, {"m_a"}, 2, codec)};
    ASSERT_TRUE(ScansNatively(files, columns));
    const Table want = ThroughDuckDb(files, columns);
    ASSERT_EQ(want.count("m_none"), 0u);  // no file has it: not a column
    ASSERT_EQ(want.at("event_time").size(), 8000u);
    EXPECT_EQ(Scanned(files, columns), want);
  }
}

// A device range skips the row groups whose device_id statistics exclude it, and only those:
// every row in the range still comes, in file order.
TEST_F(SilverScanTest, ADeviceRangeSkipsOnlyRowGroupsWhoseStatisticsExcludeIt) {
  // Row groups of 500 rows: dev-1 only; dev-1 and dev-2; dev-2 only; a 300-byte name (strings
  // that long get no statistics, so that group can never be skipped).
  ParquetEncoder enc({{"event_time", ColumnType::kTimestampTz}, {"device_id", ColumnType::kVarchar},
                      {"m_a", ColumnType::kDouble}},
                     ParquetCodec::kZstd);
  const std::vector<std::vector<uint32_t>> groups{std::vector<uint32_t>(500, 1), {}, std::vector<uint32_t>(500, 2),
                                                  std::vector<uint32_t>(500, 6)};
  int64_t t = 1'700'000'000'000'000;
  for (auto ids : groups) {
    if (ids.empty()) {
      for (uint32_t i = 0; i < 500; ++i) ids.push_back(1 + i / 250);
    }
    enc.BeginRowGroup(ids.size());
    std::vector<int64_t> ts(ids.size());
    std::vector<double> v(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) ts[i] = t++, v[i] = static_cast<double>(i);
    enc.AddTimestamps(ts);
    enc.AddStrings(ids, table_);
    enc.AddDoubles(v);
  }
  const std::string path = (dir_ / "ranged.parquet").string();
  ASSERT_TRUE(enc.WriteTo(path).ok());
  const std::vector<std::string> columns{"event_time", "device_id", "m_a"};
  const Table all = Scanned({path}, columns);
  ASSERT_EQ(all.at("event_time").size(), 2000u);
  const auto ranged = [&](const std::string& lo, const std::string& hi) {
    const ScanRange range{"device_id", lo, hi};
    auto s = ScanSilverFiles(*session_, {path}, columns, &range);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? ReadAll(**s) : Table{};
  };
  // The rows of `t` whose device lies in [lo, hi], as "time device value".
  const auto in_range = [](const Table& t, const std::string& lo, const std::string& hi) {
    std::vector<std::string> rows;
    for (size_t r = 0; r < t.at("device_id").size(); ++r) {
      const std::string& d = t.at("device_id")[r];
      const std::string name = d.substr(1, d.size() - 2);
      if (name >= lo && name <= hi) rows.push_back(t.at("event_time")[r] + " " + d + " " + t.at("m_a")[r]);
    }
    return rows;
  };
  for (const auto& [lo, hi, rows] : std::vector<std::tuple<std::string, std::string, size_t>>{
           {"dev-2", "dev-2", 1500},       // skips dev-1's group
           {"dev-1", "dev-1", 1500},       // skips dev-2's group
           {"dev-1", "dev-2", 2000},       // skips none
           {"b", "c", 500},                // no device of the first three groups: only the one without statistics
           {"Zürich", "dev-1", 1500}}) {   // bounds need not be devices
    SCOPED_TRACE(lo + ".." + hi);
    const Table got = ranged(lo, hi);
    EXPECT_EQ(got.at("event_time").size(), rows);
    EXPECT_EQ(in_range(got, lo, hi), in_range(all, lo, hi));
  }
}

TEST_F(SilverScanTest, FilesDuckDbWroteAreReadByDuckDb) {
  const std::string ours = Encoded("ours.parquet", 3000, {"s_loc"}, {"m_a"}, 3);
  const std::string theirs = (dir_ / "theirs.parquet").string();
  ASSERT_TRUE(session_
                  ->Exec(fmt::format("COPY (SELECT * FROM read_parquet({})) TO {} (FORMAT parquet)", SqlQuote(ours),
                                     SqlQuote(theirs)))
                  .ok());
  const std::vector<std::string> columns{"event_time", "device_id", "s_loc", "m_a"};
  EXPECT_FALSE(ScansNatively({theirs}, columns));
  EXPECT_FALSE(ScansNatively({ours, theirs}, columns));
  EXPECT_FALSE(ScansNatively({(dir_ / "missing.parquet").string()}, columns));
  EXPECT_EQ(Scanned({ours, theirs}, columns), ThroughDuckDb({ours, theirs}, columns));
  EXPECT_EQ(Scanned({theirs}, columns), Scanned({ours}, columns));
}

TEST_F(SilverScanTest, ADamagedFileIsAnErrorNeverACrash) {
  const std::string good = Encoded("good.parquet", 4000, {"s_loc"}, {"m_a", "m_b"}, 4);
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::vector<std::string> columns{"event_time", "device_id", "s_loc", "m_a", "m_b"};
  std::mt19937 rng(5);
  int errors = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string damaged = bytes;
    // Page bytes only (the footer names the file ours; a damaged footer is DuckDB's to read).
    const size_t footer = damaged.size() - 8 - 600;
    for (int k = 0; k < 1 + trial % 4; ++k) damaged[4 + rng() % (footer - 4)] = static_cast<char>(rng());
    const std::string path = (dir_ / "damaged.parquet").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    auto s = ScanSilverFiles(*session_, {path}, columns);
    if (!s.ok()) {
      ++errors;
      continue;
    }
    while (true) {
      auto chunk = (*s)->Next();
      if (!chunk.ok()) {
        EXPECT_EQ(chunk.status().code(), Errc::kCorrupt) << chunk.status().message();
        ++errors;
        break;
      }
      if (!*chunk) break;
    }
  }
  // Damage inside compressed bytes can decode to other values (zstd frames carry no checksum,
  // as with DuckDB's reader); damage to a page header, its sizes, levels or indices is caught.
  EXPECT_GT(errors, 30);
}

}  // namespace
}  // namespace iotad::lake
