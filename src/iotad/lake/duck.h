#pragma once
// The one adapter over DuckDB's C API: sessions, materialized and streaming results, chunk access
// and chunk appends. Nothing else in iotad includes duckdb.h directly.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <duckdb.h>

#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/lake/schema.h"

namespace iotad::lake {

/// A VARCHAR column of a chunk, cell by cell (views valid while the chunk lives): readers need
/// not know DuckDB's string layout.
class DuckStrings {
 public:
  DuckStrings() = default;
  explicit DuckStrings(const duckdb_string_t* data) : data_(data) {}
  explicit operator bool() const { return data_ != nullptr; }
  std::string_view operator[](size_t row) const {
    const duckdb_string_t& s = data_[row];
    const uint32_t len = s.value.inlined.length;
    if (len <= 12) return {s.value.inlined.inlined, len};
    return {s.value.pointer.ptr, len};
  }
  /// Whether rows a and b hold the same string, mostly without reading the text: the first 8
  /// bytes of a cell are its length and first 4 bytes, the last 8 the rest of a short string
  /// (DuckDB pads it with zeros) or the pointer to a long one (the same pointer: the same text,
  /// as a dictionary-decoded column gives).
  bool Equal(size_t a, size_t b) const {
    static_assert(sizeof(duckdb_string_t) == 16);
    uint64_t x[2], y[2];
    std::memcpy(x, &data_[a], sizeof x);
    std::memcpy(y, &data_[b], sizeof y);
    if (x[0] != y[0]) return false;
    if (x[1] == y[1]) return true;
    const uint32_t len = data_[a].value.inlined.length;
    return len > 12 && std::memcmp(data_[a].value.pointer.ptr, data_[b].value.pointer.ptr, len) == 0;
  }

 private:
  const duckdb_string_t* data_ = nullptr;
};

/// One chunk of a result (up to 2048 rows); owns the DuckDB chunk.
class DuckChunk {
 public:
  DuckChunk() = default;
  explicit DuckChunk(duckdb_data_chunk chunk) : chunk_(chunk) {}
  DuckChunk(DuckChunk&& o) noexcept : chunk_(o.chunk_) { o.chunk_ = nullptr; }
  DuckChunk& operator=(DuckChunk&& o) noexcept {
    std::swap(chunk_, o.chunk_);
    return *this;
  }
  ~DuckChunk() {
    if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
  }
  explicit operator bool() const { return chunk_ != nullptr; }
  size_t size() const { return chunk_ ? duckdb_data_chunk_get_size(chunk_) : 0; }

  template <typename T>
  const T* Data(size_t col) const {
    return static_cast<const T*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk_, col)));
  }
  /// Null mask (nullptr means every row is valid).
  const uint64_t* Validity(size_t col) const {
    return duckdb_vector_get_validity(duckdb_data_chunk_get_vector(chunk_, col));
  }
  static bool IsValid(const uint64_t* validity, size_t row) {
    return validity == nullptr || ((validity[row >> 6] >> (row & 63)) & 1) != 0;
  }
  /// A VARCHAR column.
  DuckStrings Strings(size_t col) const { return DuckStrings(Data<duckdb_string_t>(col)); }
  /// A VARCHAR cell (view valid while the chunk lives).
  static std::string_view StringAt(const duckdb_string_t* data, size_t row) {
    const duckdb_string_t& s = data[row];
    const uint32_t len = s.value.inlined.length;
    if (len <= 12) return {s.value.inlined.inlined, len};
    return {s.value.pointer.ptr, len};
  }

 private:
  duckdb_data_chunk chunk_ = nullptr;
};

/// A query result; streaming or materialized depending on how it was produced.
class DuckResult {
 public:
  DuckResult() = default;
  explicit DuckResult(duckdb_result result) : result_(result), valid_(true) {}
  DuckResult(DuckResult&& o) noexcept : result_(o.result_), valid_(o.valid_) { o.valid_ = false; }
  DuckResult& operator=(DuckResult&& o) noexcept {
    std::swap(result_, o.result_);
    std::swap(valid_, o.valid_);
    return *this;
  }
  ~DuckResult() {
    if (valid_) duckdb_destroy_result(&result_);
  }

  size_t ColumnCount() { return duckdb_column_count(&result_); }
  std::string ColumnName(size_t col) { return duckdb_column_name(&result_, col); }
  duckdb_type ColumnType(size_t col) { return duckdb_column_type(&result_, col); }
  /// Next chunk, or an empty DuckChunk at the end. Errors while streaming come back as Status.
  Result<DuckChunk> Next();
  /// Rows changed by an INSERT/COPY, where DuckDB reports them.
  int64_t RowsChanged() { return static_cast<int64_t>(duckdb_rows_changed(&result_)); }

 private:
  duckdb_result result_{};
  bool valid_ = false;
};

/// A value bound to a prepared statement's `?` (or `$n`) parameter: values from a user reach
/// DuckDB only this way, never pasted into SQL text. A `DuckTimestamp` binds as TIMESTAMPTZ.
struct DuckTimestamp {
  TimestampUs us = 0;
};
using DuckParam = std::variant<std::nullptr_t, bool, int64_t, double, std::string, DuckTimestamp>;

struct DuckSessionOptions {
  int64_t threads = 0;  // 0: DuckDB's default (all cores)
  std::string memory_limit = "1GB";
  std::string temp_directory;  // spill folder; empty: DuckDB's default
};

/// An in-memory DuckDB database with one connection. Not thread-safe.
class DuckSession {
 public:
  static Result<std::unique_ptr<DuckSession>> Open(const DuckSessionOptions& options);
  ~DuckSession();

  /// Runs statements, discarding results.
  Status Exec(std::string_view sql);
  /// Runs one query and materializes its result (small results only).
  Result<DuckResult> Query(std::string_view sql);
  /// Runs one query and streams its result chunk by chunk (bounded memory).
  Result<DuckResult> Stream(std::string_view sql);
  /// Single integer (e.g. count(*)); NULL gives 0.
  Result<int64_t> QueryInt(std::string_view sql);
  /// Prepares `sql` and runs it with `params` bound in order to its `?` / `$1..` parameters, and
  /// materializes the result. A wrong parameter count is an error, never a silent NULL.
  Result<DuckResult> QueryParams(std::string_view sql, const std::vector<DuckParam>& params);

  /// Another connection to this session's database (same catalog, views and settings), for use
  /// by another thread; the database lives until its last session is gone.
  Result<std::unique_ptr<DuckSession>> Connect();
  /// Interrupts the query running on this session's connection (safe from any thread); it then
  /// fails with DuckDB's "Interrupted" error. Used for per-request time limits.
  void Interrupt();

  /// Locks the session down for SQL from a user (`iotad sql`, the dashboard). Call it after the
  /// views are created. DuckDB's external access is switched off except for `read_dirs` (the
  /// folders the views read) and `write_dir` (empty: none), extension install/load stays off,
  /// and the configuration is locked so no SET can undo it. DuckDB itself does not tell reads
  /// from writes in an allowed folder, so CheckStatement (below) is the other half.
  Status RestrictToReadOnly(const std::vector<std::string>& read_dirs, const std::string& write_dir);
  /// After RestrictToReadOnly: Ok for a statement that only reads (SELECT, EXPLAIN of one,
  /// DESCRIBE, SHOW, SUMMARIZE, PRAGMA table_info and the like, which DuckDB plans as SELECT),
  /// and for `COPY ... TO 'path'` into the write folder; an error of one sentence
  /// (kInvalidArgument) for anything else: writes, ATTACH, INSTALL/LOAD, CREATE, SET, CALL...
  Status CheckStatement(std::string_view sql);

  duckdb_connection connection() { return connection_; }
  bool HasTableFunction(const std::string& name) const {
    return std::find(table_functions_.begin(), table_functions_.end(), name) != table_functions_.end();
  }
  void MarkTableFunction(std::string name) { table_functions_.push_back(std::move(name)); }

 private:
  DuckSession() = default;
  Status CheckOne(duckdb_extracted_statements extracted, idx_t index, std::string_view sql, int depth);
  Status CheckCopyTarget(std::string_view sql);

  std::vector<std::string> table_functions_;
  bool restricted_ = false;
  std::string write_dir_;  // canonical; empty: no writes
  duckdb_database database_ = nullptr;
  std::shared_ptr<void> database_owner_;  // closes database_ when the last session sharing it goes
  duckdb_connection connection_ = nullptr;
};

/// DuckDB's type for a lake column type (JSON is written as VARCHAR).
duckdb_type DuckTypeOf(ColumnType type);

/// 'text' with quotes doubled: a SQL string literal.
std::string SqlQuote(std::string_view text);
/// "name" with quotes doubled: a SQL identifier.
std::string SqlIdent(std::string_view name);
/// ['a', 'b'] list literal of quoted paths.
std::string SqlList(const std::vector<std::string>& items);

}  // namespace iotad::lake
