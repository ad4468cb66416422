#pragma once
// bronze -> silver: parse, type, validate, deduplicate, quarantine, write hourly Parquet.
#include <map>
#include <string>

#include "iotad/core/result.h"
#include "iotad/lake/lake.h"

namespace iotad::pipeline {

struct SilverOptions {
  bool rebuild = false;  // redo everything from bronze (replaces silver and quarantine)
};

/// Row accounting of one silver run: rows == stored + quarantined + duplicates + merged, always.
/// `merged` rows were absorbed into another row of the same device and time (each adding values
/// the other lacked). Per-cell quarantine records (a bad value in one column of a stored row)
/// are not rows: `cells_quarantined` counts them apart.
struct RowAccounting {
  int64_t rows = 0;
  int64_t stored = 0;
  int64_t quarantined = 0;
  int64_t duplicates = 0;
  int64_t merged = 0;
  int64_t cells_quarantined = 0;
  std::map<std::string, int64_t> quarantine_reasons;  // whole rows
  std::map<std::string, int64_t> cell_reasons;        // per-cell records
  bool Balanced() const { return rows == stored + quarantined + duplicates + merged; }
};

/// What the parser did to values on the way, summed over the run's files (stored, not errors).
struct ParseTotals {
  int64_t zoneless_timestamps = 0;  // times with no zone: silver.default_timezone applied
  int64_t rounded_timestamps = 0;   // sub-microsecond digits rounded to microseconds
  int64_t null_cells = 0;           // metric cells holding a null token (NaN, N/A, NULL, ...)
  int64_t replaced_characters = 0;  // invalid bytes replaced by U+FFFD in text
};

struct SilverReport {
  int64_t bronze_files = 0;     // new bronze files processed
  int64_t hours_written = 0;    // hour partitions that got a file
  int64_t late_rows = 0;        // rows appended to hours that already had data
  int64_t files_written = 0;
  int64_t commit_seq = 0;       // 0 when there was nothing to do
  RowAccounting accounting;
  ParseTotals parse;
  double seconds = 0;
  double parse_seconds = 0;  // parse thread: reading bronze and parsing
  double write_seconds = 0;  // writer and encoder threads: dedup and Parquet writing (overlaps parsing)
};

/// Processes bronze files not yet in silver (the bookmark is the set of bronze keys that
/// earlier silver commits consumed). Needs the writer lock.
Result<SilverReport> RunSilver(lake::Lake& lake, const SilverOptions& options, const std::string& run_id);

/// The accounting as a JSON object; with `parse`, its totals are added as top-level keys (the
/// run record's counts).
std::string AccountingJson(const RowAccounting& a, const ParseTotals* parse = nullptr);
/// The parse totals as a JSON object.
std::string ParseTotalsJson(const ParseTotals& p);

}  // namespace iotad::pipeline
