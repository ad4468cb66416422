#pragma once
// Writes Parquet straight from our columnar buffers: a ChunkSource is exposed to DuckDB as a
// table function (`iotad_rows(id)`), and `COPY (SELECT * FROM iotad_rows(id)) TO file` streams
// it chunk by chunk into the Parquet writer, with no intermediate table. Timestamps are
// TIMESTAMPTZ, stored as INT64 microseconds adjusted to UTC.
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/schema.h"

namespace iotad::lake {

class DuckSession;

/// The output chunk a ChunkSource fills (up to Capacity() rows). Opaque over DuckDB's chunk, so
/// writers need only the lake's column types (schema.h), not DuckDB's header.
class ChunkFiller {
 public:
  explicit ChunkFiller(void* chunk) : chunk_(chunk) {}
  static constexpr size_t Capacity() { return 2048; }
  /// The column's values: int64_t for BIGINT and TIMESTAMPTZ (microseconds since the epoch, UTC),
  /// int32_t for INTEGER and DATE (days), double for DOUBLE, bool for BOOLEAN.
  template <typename T>
  T* Column(size_t col) {
    return static_cast<T*>(ColumnData(col));
  }
  void SetNull(size_t col, size_t row);
  void SetString(size_t col, size_t row, std::string_view value);
  /// A DOUBLE cell; NaN and infinities are stored as NULL (an absent value is NULL, never NaN).
  void SetDouble(size_t col, size_t row, double value) {
    Column<double>(col)[row] = value;
    if (!std::isfinite(value)) SetNull(col, row);
  }

 private:
  void* ColumnData(size_t col);
  void* chunk_;
};

/// Rows to hand to DuckDB, in order. Called from the thread that runs the query.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual const std::vector<ColumnSpec>& columns() const = 0;
  /// Writes the next rows (at most ChunkFiller::Capacity()) and returns how many; 0 at the end.
  virtual size_t Fill(ChunkFiller& out) = 0;
};

/// Writes every row of `source` to a local Parquet file.
Status WriteParquet(DuckSession& session, ChunkSource& source, const std::filesystem::path& local_file,
                    std::string_view compression = "zstd");

}  // namespace iotad::lake
