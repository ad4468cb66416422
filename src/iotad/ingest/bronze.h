#pragma once
// Landing raw files in bronze, unchanged: `bronze/<lake::BronzePartition>/<content hash>.<ext>`,
// under the hour of the file's rows (read as silver reads them) or its arrival hour.
// The name is the content's hash, so landing the same bytes twice is a no-op. Each file is
// streamed to staging while hashed (and, when gzip, decompressed to check it is complete), then
// all are published by one commit (atomic, crash-safe). A bad input file never aborts an ingest:
// it is reported in `IngestReport::bad_files`, left where it is, and the others are landed.
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/lake.h"
#include "iotad/parse/row_parser.h"

namespace iotad::ingest {

enum class FileFormat { kCsv, kJsonLines };

/// Format from a file name (`.csv`, `.tsv`, `.txt`: CSV-like; `.jsonl`, `.ndjson`, `.json`; each
/// optionally `.gz`).
std::optional<FileFormat> FormatFromName(std::string_view name);
bool IsGzipName(std::string_view name);

/// The bronze partition hour of a file: the most common hour of the rows that the parser (with
/// silver's `roles`: time and device columns, delimiter, encoding, default time zone) stores
/// from the file's first 2000 lines. Not simply the first row's: gateways often send held-back
/// (late) rows first. Nullopt when none of them has a time (the file then lands under its
/// arrival hour).
std::optional<TimestampUs> TypicalEventHour(std::string_view text, FileFormat format, const parse::ColumnRoles& roles);

struct LandedFile {
  std::string source;  // path given by the user
  std::string key;     // bronze key
  uint64_t bytes = 0;
  bool already_present = false;
};

/// An input file that could not be landed; it is left where it is (never deleted).
struct BadFile {
  std::string path;
  std::string reason;  // one sentence: "cannot read: Permission denied", "truncated gzip (...)", ...
};

struct IngestReport {
  std::vector<LandedFile> files;     // landed or already present (only these may be deleted)
  std::vector<std::string> skipped;  // "path: reason" for names that are not data files (ignored)
  std::vector<BadFile> bad_files;    // data files that could not be landed
  int64_t new_files = 0;
  int64_t duplicate_files = 0;
  uint64_t new_bytes = 0;
};

/// Lands files and folders (walked recursively; names starting with `_` or `.` are skipped,
/// as are files that are not CSV/JSONL). A data file that is unreadable, empty, named `.gz` but
/// not gzip, or a gzip that does not decompress completely (truncated, corrupt) goes to
/// `bad_files` with its reason; the others are landed. A path that does not exist is an error
/// (kNotFound), as is an explicitly named file with an unknown format (kInvalidArgument), or a
/// lake write that fails. Needs the lake's writer lock.
Result<IngestReport> IngestPaths(lake::Lake& lake, const std::vector<std::string>& paths,
                                 const std::string& run_id);

/// `[{"path":..,"reason":..}, ...]`: the report's bad files, for run records.
std::string BadFilesJson(const IngestReport& report);

/// Reads a bronze object's bytes into `out`, decompressing gzip (through `scratch`). Both
/// buffers keep their capacity from call to call. Contract on a gzip object that does not
/// decompress completely (truncated or corrupt; ingest refuses these, but older lakes may hold
/// them): the error (kParse) is returned AND `out` holds the decompressed prefix, so a caller can
/// use the prefix's complete lines and account for the rest. On a read error `out` is unspecified.
Status ReadBronzeObject(lake::Lake& lake, const std::string& key, std::string& out, std::string& scratch);

}  // namespace iotad::ingest
