#pragma once
// Landing raw files in bronze, unchanged: `bronze/dt=YYYY-MM-DD/hour=HH/<content hash>.<ext>`.
// The name is the content's hash, so landing the same bytes twice is a no-op. Each file is
// copied to staging while hashed, then published by one commit (atomic, crash-safe).
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/lake.h"

namespace iotad::ingest {

enum class FileFormat { kCsv, kJsonLines };

/// Format from a file name (`.csv`, `.tsv`, `.txt`: CSV-like; `.jsonl`, `.ndjson`, `.json`; each
/// optionally `.gz`).
std::optional<FileFormat> FormatFromName(std::string_view name);
bool IsGzipName(std::string_view name);

struct LandedFile {
  std::string source;  // path given by the user
  std::string key;     // bronze key
  uint64_t bytes = 0;
  bool already_present = false;
};

struct IngestReport {
  std::vector<LandedFile> files;
  std::vector<std::string> skipped;  // "path: reason"
  int64_t new_files = 0;
  int64_t duplicate_files = 0;
  uint64_t new_bytes = 0;
};

/// Lands files and folders (walked recursively; names starting with `_` or `.` are skipped,
/// as are files that are not CSV/JSONL). An explicitly named file that cannot be read or has
/// an unknown format is an error. Needs the lake's writer lock.
Result<IngestReport> IngestPaths(lake::Lake& lake, const std::vector<std::string>& paths,
                                 const std::string& run_id);

/// Reads a bronze object's bytes into `out`, decompressing gzip (through `scratch`). Both
/// buffers keep their capacity from call to call.
Status ReadBronzeObject(lake::Lake& lake, const std::string& key, std::string& out, std::string& scratch);

}  // namespace iotad::ingest
