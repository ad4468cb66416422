#pragma once
// Parsers from raw bytes (CSV with a header, or JSON lines) to typed rows, for whole files
// (bronze objects: ParseCsv, ParseJsonLines) and for one message at a time (an MQTT or HTTP
// payload: CsvMessageParser, JsonMessageParser). Both paths run the same code on a line, so a
// message gives the row or reject the whole-file path gives for that line. They never fail on a
// bad row: each one goes to the sink's OnReject with a reason code, so every line is accounted
// for. Hot path: no allocation per row. Depends on core, simdjson and fast_float only; options
// come in as a ColumnRoles value.
//
// Reserved names: a metric or dimension column may not be called `year`, `month`, `day`,
// `hour` (the Hive partition columns) or `event_time`, `device_id` (the silver view's own
// columns, when another column plays that role). Such a column is renamed by one rule: append
// `_value` (`hour` -> `hour_value`); if the file already has that name, append `_value_2`,
// `_value_3`... The names the sink gets (OnSchema) are the renamed ones.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/timestamp.h"

namespace iotad::parse {

enum class RejectReason {
  kWrongColumnCount,
  kBadTimestamp,
  kMissingTimestamp,
  kMissingDeviceId,
  kBadNumber,
  kBadHeader,
  kBadJson,
  kConflictingDuplicate,  // same device and time as a stored row, different values (clean/)
  kBadEncoding,           // text that is not valid in the file's encoding (a device id, say)
  kLineTooLong,           // a physical line (or a quote left open) longer than max_line_bytes
  kUnterminatedQuote,     // a quote that does not close within max_line_bytes: that line only
  kUnreadableFile,        // a bronze object that cannot be read or decompressed (the unreadable part)
  kColumnLimit,           // a cell of a metric column beyond silver.max_metric_columns
  kUnsupportedValue,      // a JSON array, or an object nested deeper than the flatten depth
};

enum class TextEncoding { kUtf8, kLatin1 };

/// Stable snake_case code stored in the quarantine table's `reason` column.
const char* ReasonCode(RejectReason reason);

/// The largest magnitude a metric value may have: beyond it (1e300 from a stuck register, a
/// float overflow printed by a gateway) no sensor is reading anything, and one such value would
/// blind every mean and deviation over its series. A cell beyond it is a bad_number ("not a
/// usable reading"), as a non-finite one is. The same bound as detect::kMaxUsableReading, where
/// readings that do not come through silver are flagged instead.
inline constexpr double kMaxMetricMagnitude = 1e100;

/// Which header names play which role, and how to read the bytes. Every other column is a
/// metric when its values are numbers and a dimension (text) when they are not, unless the lake
/// already stores it as one or the other (`known_metrics`, `dimension_columns`): a column keeps
/// its role for the life of the lake, so every silver file types it the same way.
struct ColumnRoles {
  std::vector<std::string> time_columns{"event_time", "timestamp", "ts", "time"};
  std::vector<std::string> device_columns{"device_id", "device", "deviceid"};
  /// Declared in the config, plus the ones the lake already has (auto-detected earlier).
  std::vector<std::string> dimension_columns{"location"};
  /// Columns the lake already stores as metrics (DOUBLE): text in them is a per-cell bad_number.
  std::vector<std::string> known_metrics;
  char delimiter = 0;  // CSV: 0 detects one of , ; TAB | from the header line
  TextEncoding encoding = TextEncoding::kUtf8;
  /// Cells that mean "no value" (compared case-insensitively, after trimming): NULL, not an error.
  std::vector<std::string> null_tokens{"", "na", "n/a", "null", "nan", "none", "-"};
  size_t max_line_bytes = 1 << 20;  // a longer line, or a quote open longer, is a reject
  int json_flatten_depth = 3;       // {"a":{"b":1}} -> a_b; deeper objects are per-cell rejects
  int32_t default_utc_offset_minutes = 0;  // applied to timestamps that carry no zone
};

/// One good row. Views point into the input buffer; metrics are indexed like the schema's
/// metric names, NaN meaning an empty cell (non-finite input values are rejected, so NaN is
/// never data).
struct ParsedRow {
  TimestampUs ts = 0;
  std::string_view device_id;
  const std::string_view* dimensions = nullptr;  // empty view = NULL
  const double* metrics = nullptr;
  int64_t line = 0;
};

/// Receives a file's rows. OnSchema comes first (once per file).
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void OnSchema(const std::vector<std::string>& dimension_names,
                        const std::vector<std::string>& metric_names) = 0;
  virtual void OnRow(const ParsedRow& row) = 0;
  /// A whole row that cannot be stored. `detail` and `raw` are valid UTF-8 (invalid bytes are
  /// shown as \xNN) and `raw` is at most a few KiB.
  virtual void OnReject(RejectReason reason, std::string_view detail, int64_t line,
                        std::string_view raw) = 0;
  /// One bad cell of a row that is otherwise stored (it comes through OnRow, with NULL = NaN
  /// in that metric). Not a row: counted apart from the row accounting.
  virtual void OnCellReject(RejectReason reason, std::string_view column, std::string_view detail,
                            int64_t line, std::string_view raw) = 0;
};

struct ParseCounts {
  int64_t rows = 0;            // data records seen (good + rejected)
  int64_t blank_lines = 0;     // not rows
  int64_t physical_lines = 0;  // header + rows' lines + blank lines: every line accounted for
  int64_t zoneless_timestamps = 0;  // stored rows whose time had no zone (default offset applied)
  int64_t rounded_timestamps = 0;   // stored rows whose time had sub-microsecond digits (rounded)
  int64_t null_cells = 0;           // metric cells that held a null token (or were empty)
  int64_t replaced_characters = 0;  // invalid bytes replaced by U+FFFD in text cells
  int64_t cell_rejects = 0;         // OnCellReject calls

  /// Sums the counts of another file or message (a stream of messages counts as one file).
  ParseCounts& operator+=(const ParseCounts& o) {
    rows += o.rows;
    blank_lines += o.blank_lines;
    physical_lines += o.physical_lines;
    zoneless_timestamps += o.zoneless_timestamps;
    rounded_timestamps += o.rounded_timestamps;
    null_cells += o.null_cells;
    replaced_characters += o.replaced_characters;
    cell_rejects += o.cell_rejects;
    return *this;
  }
  bool operator==(const ParseCounts&) const = default;
};

/// CSV with a header line (RFC 4180 quoting, CRLF or LF; delimiter , ; TAB or | detected from
/// the header unless `roles.delimiter` says). Column names are lower-cased and trimmed. A
/// header with no time or device column, or with a name twice, makes every line a kBadHeader
/// reject (the detail names the delimiter used, the duplicates, or a delimiter that would
/// work). A quote opens a quoted cell only at the start of a cell; a quoted cell may span
/// lines, but one that does not close cleanly within max_line_bytes rejects only the line it
/// opened on (kUnterminatedQuote). Columns that are not known dimensions or metrics are typed
/// from the file's first 2000 rows: metrics when at least half of their non-null cells are
/// numbers (a decimal comma counts when the delimiter is not a comma), else dimensions; the other
/// cells of a metric are then per-cell bad_number rejects. Dimension names: the
/// configured ones first, in their order, then the file's new ones in column order.
ParseCounts ParseCsv(std::string_view data, const ColumnRoles& roles, RowSink& sink);

/// One JSON object per line. Keys play the same roles as CSV headers (the file's first
/// time-like and device-like keys are its time and device); nested objects flatten to
/// parent_child keys up to json_flatten_depth levels. Numbers, numeric strings and booleans
/// (0/1) are metrics, other text a dimension (a key is typed by the majority of its values in
/// the file, unless the lake knows it), null an empty cell. A line with a key twice (after lower-casing and flattening) is a kBadJson reject. The
/// schema comes after a first pass over every line's keys.
ParseCounts ParseJsonLines(std::string_view data, const ColumnRoles& roles, RowSink& sink);

/// A CSV source's header, resolved once: the delimiter, which column plays which role, and the
/// type of each other column. Immutable and cheap to copy (shared state); safe to share between
/// threads.
class CsvHeader {
 public:
  /// `header_line` is the header line (a trailing CR is dropped; no BOM). `sample`
  /// is data lines that come after it (any number, may be empty): as in ParseCsv, they pick the
  /// delimiter when `roles.delimiter` is 0 and type the columns the roles do not name (their
  /// first 2000 rows). A column with no sample cells is a metric. ParseCsv calls this with the
  /// rest of the file as the sample.
  static CsvHeader Make(std::string_view header_line, const ColumnRoles& roles, std::string_view sample = {});

  /// Why the header cannot be used (empty when it can): each line is then a kBadHeader reject
  /// with this detail, and the names are empty.
  const std::string& problem() const;
  char delimiter() const;
  /// The schema (what ParseCsv hands to OnSchema): configured dimensions first, then the file's.
  const std::vector<std::string>& dimension_names() const;
  const std::vector<std::string>& metric_names() const;
  /// Invalid bytes replaced by U+FFFD in the header's names (part of ParseCsv's count).
  int64_t replaced_characters() const;

  struct State;  // defined in row_parser.cpp
 private:
  explicit CsvHeader(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
  friend class CsvMessageParser;
};

/// Parses CSV data lines against a header, a message at a time (one per MQTT message or HTTP
/// body). Keeps its buffers from call to call; one per source and thread (not thread-safe).
class CsvMessageParser {
 public:
  explicit CsvMessageParser(CsvHeader header);
  ~CsvMessageParser();
  CsvMessageParser(CsvMessageParser&&) noexcept;
  CsvMessageParser& operator=(CsvMessageParser&&) noexcept;

  /// Parses `lines` (usually one record; several lines are parsed one after the other, and a
  /// quoted cell may span lines), numbering its first physical line `first_line`. The sink gets
  /// exactly the OnRow/OnReject/OnCellReject calls ParseCsv makes for these lines of a file with
  /// this header; the first call also sends OnSchema (the header's names) before them. An empty
  /// message is one blank line. Returns this call's counts (physical_lines: the lines of `lines`).
  ParseCounts Parse(std::string_view lines, int64_t first_line, RowSink& sink);
  const CsvHeader& header() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Parses JSON objects a message at a time, keeping the schema it has learnt. Keys are typed as
/// ParseJsonLines types them over a file: from `sample` (JSON lines given to the constructor,
/// may be empty) and then from each message that brings a key not seen before, typed by that
/// message's value. The schema only grows (names are appended, so indexes stay valid): the sink
/// gets OnSchema before the first message's row and again, with all names, before the row of a
/// message that grows it. One per source and thread (not thread-safe).
class JsonMessageParser {
 public:
  explicit JsonMessageParser(const ColumnRoles& roles, std::string_view sample = {});
  ~JsonMessageParser();
  JsonMessageParser(JsonMessageParser&&) noexcept;
  JsonMessageParser& operator=(JsonMessageParser&&) noexcept;

  /// Parses one message holding one JSON object (line breaks inside it are allowed; one at its
  /// end is dropped), numbering it `line`. Given the file's lines as the sample, the sink gets
  /// exactly the calls ParseJsonLines makes for that line. A blank message counts as a blank line.
  ParseCounts Parse(std::string_view message, int64_t line, RowSink& sink);
  const std::vector<std::string>& dimension_names() const;
  const std::vector<std::string>& metric_names() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iotad::parse
