#pragma once
// Reading silver's hour files back, column by name, as DuckDB chunks. Files written by silver's
// own encoder (parquet_encoder.h: `created_by` "iotad version ...", flat OPTIONAL columns,
// PLAIN or dictionary pages) are decoded here directly; any other set of files (written by
// DuckDB: merged late rows, older lakes; or not on local disk) is read by DuckDB with the same
// projection. Either way a consumer sees the same columns, rows, order and values.
#include <memory>
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/duck.h"

namespace iotad::lake {

/// Chunks (up to 2048 rows) with named columns, in the files' row order.
class ChunkStream {
 public:
  virtual ~ChunkStream() = default;
  virtual size_t ColumnCount() = 0;
  virtual std::string ColumnName(size_t col) = 0;
  /// The column's type, as every chunk has it: a consumer checks it before it reads a cell (a
  /// file may type any column as it likes).
  virtual duckdb_type ColumnType(size_t col) = 0;
  /// The next chunk, or an empty DuckChunk at the end. A chunk's strings stay valid while the
  /// stream lives.
  virtual Result<DuckChunk> Next() = 0;
};

/// A hint that only rows whose text column `column` lies in [lo, hi] (byte order) are wanted:
/// row groups whose statistics show none are skipped. Rows outside the range may still come
/// (the rest of a group that has some, or files DuckDB reads): the caller filters rows itself.
struct ScanRange {
  std::string column;
  std::string lo, hi;
};

/// The columns of `files` (local paths, read in order) named in `columns`, as
/// `SELECT COLUMNS(c -> list_contains(columns, c)) FROM read_parquet(files, union_by_name = true)`
/// gives them: a name no file has is not a column; a file lacking one gives NULLs. With `range`,
/// fewer rows may come (see ScanRange).
Result<std::unique_ptr<ChunkStream>> ScanSilverFiles(DuckSession& session, const std::vector<std::string>& files,
                                                     const std::vector<std::string>& columns,
                                                     const ScanRange* range = nullptr);

/// Whether ScanSilverFiles reads `files` itself (every one written by silver's encoder), for tests.
bool ScansNatively(const std::vector<std::string>& files, const std::vector<std::string>& columns);

}  // namespace iotad::lake
