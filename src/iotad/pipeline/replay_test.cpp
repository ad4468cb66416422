// FindSilverColumns: silver's columns found by name and refused when a file types one otherwise
// than silver does (its cells would be misread), whichever reader (silver's own decoder or
// DuckDB's) the scan took.
#include "iotad/pipeline/replay.h"

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "iotad/lake/parquet_encoder.h"
#include "iotad/lake/silver_scan.h"

namespace iotad::pipeline {
namespace {

namespace fs = std::filesystem;
using lake::ColumnType;

class FindSilverColumnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("iotad_replay_test_{}", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = lake::DuckSession::Open({});
    ASSERT_TRUE(s.ok()) << s.status().message();
    session_ = std::move(*s);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A file of silver's encoder with columns event_time, device_id, location and temp_c, typed
  /// as silver types them but for `location`.
  std::string Encoded(const std::string& name, ColumnType location = ColumnType::kVarchar) {
    lake::ParquetEncoder enc({{"event_time", ColumnType::kTimestampTz},
                              {"device_id", ColumnType::kVarchar},
                              {"location", location},
                              {"temp_c", ColumnType::kDouble}},
                             lake::ParquetCodec::kZstd);
    const std::vector<std::string> table{"", "dev-1", "hall"};
    const std::vector<int64_t> times{1'700'000'000'000'000, 1'700'000'060'000'000}, numbers{7, 8};
    const std::vector<uint32_t> devices{1, 1}, locations{2, 2};
    const std::vector<double> values{20.5, 21.0};
    enc.BeginRowGroup(2);
    enc.AddTimestamps(times);
    enc.AddStrings(devices, table);
    if (location == ColumnType::kVarchar) {
      enc.AddStrings(locations, table);
    } else {
      enc.AddTimestamps(numbers);
    }
    enc.AddDoubles(values);
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(enc.WriteTo(path).ok());
    return path;
  }

  /// A file DuckDB writes from `select` (read back by DuckDB's reader).
  std::string Copied(const std::string& name, const std::string& select) {
    const std::string path = (dir_ / name).string();
    const Status s = session_->Exec(fmt::format("COPY ({}) TO {} (FORMAT parquet)", select, lake::SqlQuote(path)));
    EXPECT_TRUE(s.ok()) << s.message();
    return path;
  }

  Result<SilverColumns> Find(const std::string& path, bool native) {
    const std::vector<std::string> metrics{"temp_c"};
    const std::vector<std::string> columns = SilverColumnNames(metrics, 0, metrics.size());
    EXPECT_EQ(lake::ScansNatively({path}, columns), native) << path;
    auto stream = lake::ScanSilverFiles(*session_, {path}, columns);
    if (!stream.ok()) return stream.status();
    return FindSilverColumns(**stream, {path}, metrics);
  }

  fs::path dir_;
  std::unique_ptr<lake::DuckSession> session_;
};

TEST_F(FindSilverColumnsTest, FindsSilversColumnsThroughEitherReader) {
  const std::string good =
      "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_time, 'dev-1' AS device_id, 'hall' AS location, "
      "20.5::DOUBLE AS temp_c";
  for (const auto& [path, native] : {std::pair{Encoded("ours.parquet"), true},
                                     std::pair{Copied("duckdb.parquet", good), false},
                                     // An older lake's naive timestamp: microseconds too.
                                     std::pair{Copied("naive.parquet",
                                                      "SELECT TIMESTAMP '2024-01-01' AS event_time, 'dev-1' AS "
                                                      "device_id, 'hall' AS location, 20.5::DOUBLE AS temp_c"),
                                               false}}) {
    SCOPED_TRACE(path);
    auto layout = Find(path, native);
    ASSERT_TRUE(layout.ok()) << layout.status().message();
    EXPECT_GE(layout->ts, 0);
    EXPECT_GE(layout->device, 0);
    EXPECT_GE(layout->location, 0);
    ASSERT_EQ(layout->metric.size(), 1u);
    EXPECT_GE(layout->metric[0], 0);
  }
}

TEST_F(FindSilverColumnsTest, AColumnTypedOtherwiseThanSilverTypesItIsRefusedAsCorrupt) {
  // `what`: the column and its types, as the message says them; the message names the file.
  const auto refused = [&](const std::string& path, bool native, const std::string& what) {
    SCOPED_TRACE(path);
    auto layout = Find(path, native);
    ASSERT_FALSE(layout.ok());
    EXPECT_EQ(layout.status().code(), Errc::kCorrupt);
    EXPECT_EQ(layout.status().message(),
              "silver column " + what + ", in " + path + " (a file silver did not write?)");
  };
  // Silver's own decoder: a file naming iotad as its writer that stores location as INT64 (what
  // the fuzzer found; its cells came as 8-byte numbers, read as 16-byte strings).
  refused(Encoded("ours-location.parquet", ColumnType::kTimestampTz), true,
          "'location' is TIMESTAMPTZ, not VARCHAR");
  // DuckDB's reader: each of silver's columns typed otherwise by a file written by hand.
  const std::string ts = "TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_time";
  refused(Copied("location.parquet", "SELECT " + ts + ", 'dev-1' AS device_id, 7::BIGINT AS location, 1.0 AS temp_c"),
          false, "'location' is BIGINT, not VARCHAR");
  refused(Copied("device.parquet", "SELECT " + ts + ", 7::INTEGER AS device_id, 'hall' AS location, 1.0 AS temp_c"),
          false, "'device_id' is INTEGER, not VARCHAR");
  refused(Copied("metric.parquet",
                 "SELECT " + ts + ", 'dev-1' AS device_id, 'hall' AS location, 1.5::FLOAT AS temp_c"),
          false, "'temp_c' is FLOAT, not DOUBLE");
  // Nanoseconds would be read as microseconds: a thousand times too late.
  refused(Copied("nanos.parquet",
                 "SELECT TIMESTAMP_NS '2024-01-01 00:00:00' AS event_time, 'dev-1' AS device_id, 'hall' AS "
                 "location, 1.0 AS temp_c"),
          false, "'event_time' is TIMESTAMP_NS, not TIMESTAMPTZ");
}

}  // namespace
}  // namespace iotad::pipeline
