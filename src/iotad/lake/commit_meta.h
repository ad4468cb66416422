#pragma once
// Typed `meta` of the commit records each stage writes: one struct per stage with ToJson and
// FromJson, so readers compare fields instead of searching the JSON text. FromJson accepts every
// record written so far (fields added later are optional: a lake written by an older iotad still
// reads), and ignores fields it does not know.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"

namespace iotad::lake {

/// Row counts whose balance is checked: rows == stored + quarantined + duplicates (+ merged).
/// A counter absent from a record is nullopt (and counts 0); older records have no `merged`.
struct SilverRowCounts {
  std::optional<int64_t> rows, stored, quarantined, duplicates, merged;
  int64_t cells_quarantined = 0;

  /// "" when the counts balance, else why not ("10 rows != 4 stored + 5 quarantined").
  std::string Unbalanced() const;
};

/// One bronze file's counts in a silver commit.
struct SilverFileCounts : SilverRowCounts {
  std::string key;
};

/// `meta` of a silver commit.
struct SilverCommitMeta {
  std::string batch;
  bool rebuild = false;
  std::optional<SilverRowCounts> accounting;  // nullopt: the record has none (a damaged lake)
  std::map<std::string, int64_t> quarantine_reasons, cell_reasons;
  /// Parse totals (`zoneless_timestamps`, `rounded_timestamps`, `null_cells`,
  /// `replaced_characters`), absent in early records.
  std::map<std::string, int64_t> parse;
  /// The column roles silver had after this commit; absent in early records.
  struct Columns {
    std::vector<std::string> metrics, dimensions;
  };
  std::optional<Columns> columns;
  std::vector<SilverFileCounts> files;

  std::string ToJson() const;
  static Result<SilverCommitMeta> FromJson(std::string_view json);
};

/// `meta` of a gold commit: what gold was built from, and what it found.
struct GoldCommitMeta {
  int64_t silver_seq = 0;   // the last silver commit when gold ran
  std::string fingerprint;  // detectors, versions and parameters
  int64_t rows_scanned = 0;
  int64_t summary_rows = 0;
  std::map<std::string, int64_t> anomalies;  // per detector

  std::string ToJson() const;
  static Result<GoldCommitMeta> FromJson(std::string_view json);
};

/// `meta` of an ingest commit: where each landed file came from.
struct IngestCommitMeta {
  struct File {
    std::string source, key;
    int64_t bytes = 0;
  };
  std::vector<File> files;

  std::string ToJson() const;
  static Result<IngestCommitMeta> FromJson(std::string_view json);
};

/// `meta` of a repair commit (`verify --repair` dropping lost gold files from the log).
struct RepairCommitMeta {
  std::string reason;

  std::string ToJson() const;
  static Result<RepairCommitMeta> FromJson(std::string_view json);
};

}  // namespace iotad::lake
