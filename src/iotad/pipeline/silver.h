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

/// Row accounting of one silver run: rows == stored + quarantined + duplicates, always.
struct RowAccounting {
  int64_t rows = 0;
  int64_t stored = 0;
  int64_t quarantined = 0;
  int64_t duplicates = 0;
  std::map<std::string, int64_t> quarantine_reasons;
  bool Balanced() const { return rows == stored + quarantined + duplicates; }
};

struct SilverReport {
  int64_t bronze_files = 0;     // new bronze files processed
  int64_t hours_written = 0;    // hour partitions that got a file
  int64_t late_rows = 0;        // rows appended to hours that already had data
  int64_t files_written = 0;
  int64_t commit_seq = 0;       // 0 when there was nothing to do
  RowAccounting accounting;
  double seconds = 0;
  double parse_seconds = 0;  // parse thread: reading bronze and parsing
  double write_seconds = 0;  // writer thread: dedup and Parquet writing (overlaps parsing)
};

/// Processes bronze files not yet in silver (the bookmark is the set of bronze keys that
/// earlier silver commits consumed). Needs the writer lock.
Result<SilverReport> RunSilver(lake::Lake& lake, const SilverOptions& options, const std::string& run_id);

/// The accounting as a JSON object.
std::string AccountingJson(const RowAccounting& a);

}  // namespace iotad::pipeline
