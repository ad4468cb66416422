#pragma once
// Writes Parquet straight from our columnar buffers: a ChunkSource is exposed to DuckDB as a
// table function (`iotad_rows(id)`), and `COPY (SELECT * FROM iotad_rows(id)) TO file` streams
// it chunk by chunk into the Parquet writer, with no intermediate table. Timestamps are
// TIMESTAMPTZ, stored as INT64 microseconds adjusted to UTC.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/lake/duck.h"

namespace iotad::lake {

struct ColumnSpec {
  std::string name;
  duckdb_type type;
};

/// The output chunk a ChunkSource fills (up to Capacity() rows).
class ChunkFiller {
 public:
  explicit ChunkFiller(duckdb_data_chunk chunk) : chunk_(chunk) {}
  static constexpr size_t Capacity() { return 2048; }
  template <typename T>
  T* Column(size_t col) {
    return static_cast<T*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk_, col)));
  }
  void SetNull(size_t col, size_t row) {
    duckdb_vector v = duckdb_data_chunk_get_vector(chunk_, col);
    duckdb_vector_ensure_validity_writable(v);
    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
  }
  void SetString(size_t col, size_t row, std::string_view value) {
    duckdb_vector_assign_string_element_len(duckdb_data_chunk_get_vector(chunk_, col), row, value.data(),
                                            value.size());
  }

 private:
  duckdb_data_chunk chunk_;
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
