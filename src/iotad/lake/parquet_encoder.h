#pragma once
// Silver's own Parquet encoder: writes an hour's columns straight from silver's buffers, with no
// database in between. Silver's strings are already interned (a device id is a number), so a
// column's dictionary comes from those numbers instead of hashing every string again, which is
// most of what a general writer spends on silver's files.
//
// The files are plain Parquet 1.0 (what DuckDB, Spark, Trino, Athena and pyarrow all read): every
// column OPTIONAL; per column chunk a dictionary page (PLAIN_DICTIONARY) and one data page of
// RLE/bit-packed indices when a dictionary is smaller than the plain values, else one PLAIN data
// page; definition levels RLE; statistics (min, max, null count) for pruning; TIMESTAMPTZ as INT64
// microseconds adjusted to UTC, strings as UTF8 byte arrays. Writers of other tables go through
// DuckDB (parquet_writer.h).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/schema.h"

namespace iotad::lake {

/// silver.compression's values.
enum class ParquetCodec : uint8_t { kUncompressed, kSnappy, kGzip, kZstd };
Result<ParquetCodec> ParquetCodecNamed(std::string_view name);

class ParquetEncoder {
 public:
  /// Rows per row group: DuckDB's default, so every reader splits silver's files as before.
  static constexpr size_t kRowGroupRows = 122'880;

  /// `columns`: kTimestampTz, kDouble and kVarchar only.
  ParquetEncoder(std::vector<ColumnSpec> columns, ParquetCodec codec);
  ~ParquetEncoder();
  ParquetEncoder(const ParquetEncoder&) = delete;
  ParquetEncoder& operator=(const ParquetEncoder&) = delete;

  /// Starts a row group of `rows` rows. Then each column's values, once per column, in order.
  void BeginRowGroup(size_t rows);
  /// A kTimestampTz column: microseconds since the epoch, never NULL.
  void AddTimestamps(std::span<const int64_t> values);
  /// A kDouble column: NaN is NULL (the lake's absent value).
  void AddDoubles(std::span<const double> values);
  /// A kVarchar column: `table[id]` for each id; id 0 is NULL.
  void AddStrings(std::span<const uint32_t> ids, std::span<const std::string> table);

  /// The file so far plus its footer, written to `file`.
  Status WriteTo(const std::filesystem::path& file);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iotad::lake
