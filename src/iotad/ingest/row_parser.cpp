#include "iotad/ingest/row_parser.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fast_float/fast_float.h>
#include <simdjson.h>

namespace iotad::ingest {
namespace {

std::string Lower(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"' ||
                        static_cast<unsigned char>(s.front()) == 0xEF)) {
    // Also strips a UTF-8 BOM's first byte; the other two follow.
    if (static_cast<unsigned char>(s.front()) == 0xEF && s.size() >= 3) {
      s.remove_prefix(3);
      continue;
    }
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '"' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Parses a metric cell: empty -> NaN (NULL), finite number -> value, else false.
inline bool ParseMetric(std::string_view cell, double& out) {
  cell = Trim(cell);
  if (cell.empty()) {
    out = NAN;
    return true;
  }
  const char* first = cell.data();
  if (*first == '+') ++first;  // fast_float rejects a leading '+'
  auto [ptr, ec] = fast_float::from_chars(first, cell.data() + cell.size(), out);
  return ec == std::errc() && ptr == cell.data() + cell.size() && std::isfinite(out);
}

/// Column layout of one file.
struct Layout {
  int time_col = -1;
  int device_col = -1;
  std::vector<int> dim_of_col;     // column -> dimension index or -1
  std::vector<int> metric_of_col;  // column -> metric index or -1
  std::vector<std::string> dimension_names;
  std::vector<std::string> metric_names;
};

Layout MakeLayout(const std::vector<std::string>& names, const ColumnRoles& roles) {
  Layout l;
  l.dim_of_col.assign(names.size(), -1);
  l.metric_of_col.assign(names.size(), -1);
  // Dimensions keep the configured order so every file has the same dimension columns.
  l.dimension_names = roles.dimension_columns;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    if (l.time_col < 0 && Contains(roles.time_columns, n)) {
      l.time_col = static_cast<int>(i);
    } else if (l.device_col < 0 && Contains(roles.device_columns, n)) {
      l.device_col = static_cast<int>(i);
    } else if (Contains(roles.dimension_columns, n)) {
      l.dim_of_col[i] = static_cast<int>(
          std::find(roles.dimension_columns.begin(), roles.dimension_columns.end(), n) -
          roles.dimension_columns.begin());
    } else if (!n.empty() && !Contains(l.metric_names, n)) {
      l.metric_of_col[i] = static_cast<int>(l.metric_names.size());
      l.metric_names.push_back(n);
    }
  }
  return l;
}

/// Splits one CSV record into cells (views into `line`, or into `scratch` for quoted cells
/// with escaped quotes). Returns false on an unterminated quote.
bool SplitCsv(std::string_view line, std::vector<std::string_view>& cells, std::string& scratch) {
  cells.clear();
  size_t pos = 0;
  if (line.find('"') == std::string_view::npos) {
    for (;;) {
      const void* comma = std::memchr(line.data() + pos, ',', line.size() - pos);
      if (comma == nullptr) {
        cells.push_back(line.substr(pos));
        return true;
      }
      const size_t at = static_cast<const char*>(comma) - line.data();
      cells.push_back(line.substr(pos, at - pos));
      pos = at + 1;
    }
  }
  scratch.clear();
  scratch.reserve(line.size());  // views into scratch must stay valid: no reallocation
  while (true) {
    if (pos < line.size() && line[pos] == '"') {
      const size_t start = scratch.size();
      ++pos;
      bool closed = false;
      while (pos < line.size()) {
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            scratch += '"';
            pos += 2;
            continue;
          }
          closed = true;
          ++pos;
          break;
        }
        scratch += line[pos++];
      }
      if (!closed) return false;
      cells.emplace_back(scratch.data() + start, scratch.size() - start);
      // Anything between the closing quote and the comma is kept out (lenient).
      const size_t comma = line.find(',', pos);
      if (comma == std::string_view::npos) return true;
      pos = comma + 1;
    } else {
      const size_t comma = line.find(',', pos);
      if (comma == std::string_view::npos) {
        cells.push_back(line.substr(pos));
        return true;
      }
      cells.push_back(line.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
}

/// Finds the end of a CSV record starting at `pos` (a newline outside quotes).
size_t RecordEnd(std::string_view data, size_t pos, bool& has_quote) {
  const char* base = data.data();
  const size_t n = data.size();
  const void* nl = std::memchr(base + pos, '\n', n - pos);
  const size_t line_end = nl ? static_cast<const char*>(nl) - base : n;
  has_quote = std::memchr(base + pos, '"', line_end - pos) != nullptr;
  if (!has_quote) return line_end;
  bool in_quotes = false;
  for (size_t i = pos; i < n; ++i) {
    if (data[i] == '"') in_quotes = !in_quotes;
    else if (data[i] == '\n' && !in_quotes) return i;
  }
  return n;
}

}  // namespace

const char* ReasonCode(RejectReason reason) {
  switch (reason) {
    case RejectReason::kWrongColumnCount: return "wrong_column_count";
    case RejectReason::kBadTimestamp: return "bad_timestamp";
    case RejectReason::kMissingTimestamp: return "missing_timestamp";
    case RejectReason::kMissingDeviceId: return "missing_device_id";
    case RejectReason::kBadNumber: return "bad_number";
    case RejectReason::kBadHeader: return "bad_header";
    case RejectReason::kBadJson: return "bad_json";
    case RejectReason::kConflictingDuplicate: return "conflicting_duplicate";
    case RejectReason::kBadEncoding: return "bad_encoding";
    case RejectReason::kLineTooLong: return "line_too_long";
    case RejectReason::kUnterminatedQuote: return "unterminated_quote";
    case RejectReason::kUnreadableFile: return "unreadable_file";
    case RejectReason::kColumnLimit: return "column_limit";
    case RejectReason::kUnsupportedValue: return "unsupported_value";
  }
  return "unknown";
}

ParseCounts ParseCsv(std::string_view data, const ColumnRoles& roles, RowSink& sink) {
  ParseCounts counts;
  size_t pos = 0;
  int64_t line_no = 0;
  bool has_quote = false;
  std::vector<std::string_view> cells;
  std::string scratch;
  // Header: the first non-blank record.
  Layout layout;
  std::string header_problem;
  bool have_header = false;
  while (pos < data.size() && !have_header) {
    const size_t end = RecordEnd(data, pos, has_quote);
    const std::string_view rec = data.substr(pos, end - pos);
    ++line_no;
    pos = end + 1;
    if (Trim(rec).empty()) continue;
    have_header = true;
    if (!SplitCsv(rec, cells, scratch)) {
      header_problem = "the header line has an unterminated quote";
      break;
    }
    std::vector<std::string> names;
    for (auto c : cells) names.push_back(Lower(c));
    layout = MakeLayout(names, roles);
    if (layout.time_col < 0) {
      header_problem = fmt::format("the header has no time column (expected one of: {})",
                                   fmt::join(roles.time_columns, ", "));
    } else if (layout.device_col < 0) {
      header_problem = fmt::format("the header has no device column (expected one of: {})",
                                   fmt::join(roles.device_columns, ", "));
    }
  }
  if (!header_problem.empty()) {
    sink.OnSchema({}, {});
    while (pos < data.size()) {
      const size_t end = RecordEnd(data, pos, has_quote);
      const std::string_view rec = data.substr(pos, end - pos);
      ++line_no;
      pos = end + 1;
      if (Trim(rec).empty()) {
        ++counts.blank_lines;
        continue;
      }
      ++counts.rows;
      sink.OnReject(RejectReason::kBadHeader, header_problem, line_no, rec);
    }
    return counts;
  }
  sink.OnSchema(layout.dimension_names, layout.metric_names);
  const size_t ncols = layout.metric_of_col.size();
  std::vector<double> metrics(layout.metric_names.size());
  std::vector<std::string_view> dims(layout.dimension_names.size());
  ParsedRow row;
  row.metrics = metrics.data();
  row.dimensions = dims.data();
  const char* base = data.data();
  const size_t n = data.size();
  while (pos < n) {
    size_t end;
    const void* nl = std::memchr(base + pos, '\n', n - pos);
    end = nl ? static_cast<const char*>(nl) - base : n;
    std::string_view rec(base + pos, end - pos);
    if (std::memchr(rec.data(), '"', rec.size()) != nullptr) {
      end = RecordEnd(data, pos, has_quote);
      rec = data.substr(pos, end - pos);
    }
    ++line_no;
    const int64_t this_line = line_no;
    // Multi-line quoted records advance the line counter by their embedded newlines.
    line_no += std::count(rec.begin(), rec.end(), '\n');
    pos = end + 1;
    if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
    if (rec.empty() || Trim(rec).empty()) {
      ++counts.blank_lines;
      continue;
    }
    ++counts.rows;
    if (!SplitCsv(rec, cells, scratch)) {
      sink.OnReject(RejectReason::kWrongColumnCount, "unterminated quote", this_line, rec);
      continue;
    }
    if (cells.size() != ncols) {
      sink.OnReject(RejectReason::kWrongColumnCount,
                    fmt::format("expected {} columns, found {}", ncols, cells.size()), this_line, rec);
      continue;
    }
    const std::string_view ts_cell = Trim(cells[static_cast<size_t>(layout.time_col)]);
    if (ts_cell.empty()) {
      sink.OnReject(RejectReason::kMissingTimestamp, "event time is empty", this_line, rec);
      continue;
    }
    const auto ts = ParseTimestamp(ts_cell);
    if (!ts) {
      sink.OnReject(RejectReason::kBadTimestamp,
                    fmt::format("'{}' is not an ISO-8601 timestamp or epoch number", ts_cell),
                    this_line, rec);
      continue;
    }
    const std::string_view device = Trim(cells[static_cast<size_t>(layout.device_col)]);
    if (device.empty()) {
      sink.OnReject(RejectReason::kMissingDeviceId, "device id is empty", this_line, rec);
      continue;
    }
    bool ok = true;
    for (size_t c = 0; c < ncols; ++c) {
      const int m = layout.metric_of_col[c];
      if (m >= 0) {
        if (!ParseMetric(cells[c], metrics[static_cast<size_t>(m)])) {
          sink.OnReject(RejectReason::kBadNumber,
                        fmt::format("column '{}' is not a number: '{}'",
                                    layout.metric_names[static_cast<size_t>(m)], Trim(cells[c])),
                        this_line, rec);
          ok = false;
          break;
        }
      } else if (const int d = layout.dim_of_col[c]; d >= 0) {
        dims[static_cast<size_t>(d)] = Trim(cells[c]);
      }
    }
    if (!ok) continue;
    row.ts = *ts;
    row.device_id = device;
    row.line = this_line;
    sink.OnRow(row);
  }
  return counts;
}

ParseCounts ParseJsonLines(std::string_view data, const ColumnRoles& roles, RowSink& sink) {
  ParseCounts counts;
  // A UTF-8 BOM (Windows exports) would make the first line invalid JSON.
  if (data.substr(0, 3) == "\xEF\xBB\xBF") data.remove_prefix(3);
  simdjson::dom::parser parser;
  // Pass 1: the metric columns are every non-role key with a number (or numeric string) value.
  std::vector<std::string> metric_names;
  std::vector<std::string> dimension_names = roles.dimension_columns;
  auto role_of = [&](const std::string& key) {
    if (Contains(roles.time_columns, key)) return 0;
    if (Contains(roles.device_columns, key)) return 1;
    if (Contains(roles.dimension_columns, key)) return 2;
    return 3;
  };
  std::string padded;
  auto parse_line = [&](std::string_view line, simdjson::dom::element& out) {
    padded.assign(line);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    return parser.parse(padded.data(), line.size(), false).get(out);
  };
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t end = std::min(data.find('\n', pos), data.size());
    const std::string_view line = Trim(data.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    simdjson::dom::element doc;
    if (parse_line(line, doc) != simdjson::SUCCESS || !doc.is_object()) continue;
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) continue;
    for (auto field : object) {
      std::string key = Lower(field.key);
      if (role_of(key) != 3 || Contains(metric_names, key)) continue;
      if (field.value.is_number() || field.value.is_null() || field.value.is_string()) {
        metric_names.push_back(std::move(key));
      }
    }
  }
  sink.OnSchema(dimension_names, metric_names);
  std::vector<double> metrics(metric_names.size());
  std::vector<std::string_view> dims(dimension_names.size());
  std::vector<std::string> dim_storage(dimension_names.size());
  ParsedRow row;
  row.metrics = metrics.data();
  row.dimensions = dims.data();
  std::string device_storage;
  pos = 0;
  int64_t line_no = 0;
  while (pos < data.size()) {
    const size_t end = std::min(data.find('\n', pos), data.size());
    std::string_view raw = data.substr(pos, end - pos);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);  // CRLF: like CSV's raw
    const std::string_view line = Trim(raw);
    pos = end + 1;
    ++line_no;
    if (line.empty()) {
      ++counts.blank_lines;
      continue;
    }
    ++counts.rows;
    simdjson::dom::element doc;
    if (parse_line(line, doc) != simdjson::SUCCESS || !doc.is_object()) {
      sink.OnReject(RejectReason::kBadJson, "the line is not a JSON object", line_no, raw);
      continue;
    }
    std::fill(metrics.begin(), metrics.end(), NAN);
    std::fill(dims.begin(), dims.end(), std::string_view());
    std::optional<TimestampUs> ts;
    bool have_time = false;
    std::string_view device;
    std::string bad;
    RejectReason bad_reason = RejectReason::kBadNumber;
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) continue;  // is_object() said yes
    for (auto field : object) {
      const std::string key = Lower(field.key);
      const auto value = field.value;
      switch (role_of(key)) {
        case 0:
          if (have_time) break;
          have_time = !value.is_null();
          if (value.is_string()) {
            ts = ParseTimestamp(value.get_string().value_unsafe());
          } else if (value.is_number()) {
            ts = ParseTimestamp(fmt::format("{}", value.get_double().value_unsafe()));
            if (value.is_int64()) ts = ParseTimestamp(std::to_string(value.get_int64().value_unsafe()));
          }
          if (have_time && !ts && bad.empty()) {
            bad_reason = RejectReason::kBadTimestamp;
            bad = fmt::format("'{}' is not an ISO-8601 timestamp or epoch number",
                              simdjson::minify(value));
          }
          break;
        case 1:
          if (value.is_string()) {
            device = Trim(value.get_string().value_unsafe());
          } else if (value.is_number()) {
            device_storage = simdjson::minify(value);
            device = device_storage;
          }
          break;
        case 2: {
          const size_t d = static_cast<size_t>(
              std::find(dimension_names.begin(), dimension_names.end(), key) - dimension_names.begin());
          if (value.is_string()) {
            dims[d] = Trim(value.get_string().value_unsafe());
          } else if (!value.is_null()) {
            dim_storage[d] = simdjson::minify(value);
            dims[d] = dim_storage[d];
          }
          break;
        }
        default: {
          const auto it = std::find(metric_names.begin(), metric_names.end(), key);
          if (it == metric_names.end()) break;  // nested values are not metrics
          double& slot = metrics[static_cast<size_t>(it - metric_names.begin())];
          if (value.is_null()) {
            slot = NAN;
          } else if (value.is_number()) {
            slot = value.get_double().value_unsafe();
          } else if (value.is_string()) {
            if (!ParseMetric(value.get_string().value_unsafe(), slot) && bad.empty()) {
              bad = fmt::format("column '{}' is not a number: {}", key, simdjson::minify(value));
            }
          } else if (bad.empty()) {
            bad = fmt::format("column '{}' is not a number: {}", key, simdjson::minify(value));
          }
        }
      }
    }
    if (!have_time) {
      sink.OnReject(RejectReason::kMissingTimestamp, "event time is missing", line_no, raw);
    } else if (bad_reason == RejectReason::kBadTimestamp && !bad.empty()) {
      sink.OnReject(RejectReason::kBadTimestamp, bad, line_no, raw);
    } else if (device.empty()) {
      sink.OnReject(RejectReason::kMissingDeviceId, "device id is missing", line_no, raw);
    } else if (!bad.empty()) {
      sink.OnReject(RejectReason::kBadNumber, bad, line_no, raw);
    } else {
      row.ts = *ts;
      row.device_id = device;
      row.line = line_no;
      sink.OnRow(row);
    }
  }
  return counts;
}

}  // namespace iotad::ingest
