#pragma once
// Writes one Parquet file from columnar data through DuckDB: rows are appended chunk by chunk
// into a temporary table, then COPY'd to a local file (which the caller publishes through the
// object store). Timestamps are TIMESTAMPTZ, stored as INT64 microseconds adjusted to UTC.
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "iotad/lake/duck.h"

namespace iotad::lake {

struct ColumnSpec {
  std::string name;
  duckdb_type type;
};

class ParquetFileWriter {
 public:
  /// `table` must be unique within the session while this writer lives.
  static Result<std::unique_ptr<ParquetFileWriter>> Make(DuckSession& session, std::string table,
                                                         std::vector<ColumnSpec> columns,
                                                         std::string compression = "zstd");
  ~ParquetFileWriter();

  ChunkAppender& appender() { return *appender_; }
  int64_t rows() const { return rows_; }
  /// Appends the first `n` rows of the appender's chunk.
  Status CommitChunk(size_t n) {
    rows_ += static_cast<int64_t>(n);
    return appender_->Commit(n);
  }
  /// Writes everything appended so far to `local_file` and empties the table for reuse.
  Status Finish(const std::filesystem::path& local_file, std::string_view order_by = {});

 private:
  ParquetFileWriter(DuckSession& session) : session_(session) {}
  Status Reopen();

  DuckSession& session_;
  std::string table_;
  std::vector<ColumnSpec> columns_;
  std::string compression_;
  std::unique_ptr<ChunkAppender> appender_;
  int64_t rows_ = 0;
};

/// SQL type name of a DuckDB type id (for CREATE TABLE).
std::string SqlTypeName(duckdb_type type);

}  // namespace iotad::lake
