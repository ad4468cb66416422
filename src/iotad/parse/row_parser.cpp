#include "iotad/parse/row_parser.h"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <iterator>
#include <optional>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fast_float/fast_float.h>
#include <simdjson.h>

namespace iotad::parse {
namespace {

constexpr size_t kMaxRawBytes = 4096;    // raw text handed to OnReject/OnCellReject
constexpr size_t kMaxShownBytes = 200;   // a cell quoted in a detail
constexpr int kTypeSampleRows = 2000;    // CSV rows read to type the columns of a file
constexpr size_t kDelimiterSampleLines = 5;
constexpr char kDelimiters[] = {',', ';', '\t', '|'};

// ---------------------------------------------------------------------------------------------
// Text: encodings, escaping for messages.

/// True when no byte has the high bit set and none is NUL (eight bytes at a time).
[[gnu::always_inline]] inline bool IsPlainAscii(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const char* p = s.data();
  size_t n = s.size();
  uint64_t bad = 0;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    bad |= w | ((w - kOnes) & ~w);  // the high bit of a byte, or a zero byte
    p += 8;
    n -= 8;
  }
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    bad |= c == 0 ? 0x80 : c;
  }
  return (bad & kHigh) == 0;
}

/// Length of the well-formed UTF-8 sequence at `p` (1..4), or 0 (invalid, truncated or NUL).
inline size_t Utf8Length(const unsigned char* p, size_t avail) {
  const unsigned c = p[0];
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  auto cont = [&](size_t i) { return i < avail && (p[i] & 0xC0) == 0x80; };
  if (c < 0xC2) return 0;
  if (c < 0xE0) return cont(1) ? 2 : 0;
  if (c < 0xF0) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) return 0;  // overlong, surrogate
    return 3;
  }
  if (c < 0xF5) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

bool IsValidUtf8(std::string_view s) {
  if (IsPlainAscii(s)) return true;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8Length(p + i, s.size() - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

inline void AppendLatin1Char(std::string& out, unsigned char c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

/// Appends `s` as valid UTF-8: Latin-1 transcoded, or UTF-8 with every invalid byte (and NUL)
/// replaced by U+FFFD. Returns the number of replacements.
int64_t AppendText(std::string& out, std::string_view s, TextEncoding encoding) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  int64_t replaced = 0;
  for (size_t i = 0; i < s.size();) {
    if (encoding == TextEncoding::kLatin1) {
      if (p[i] == 0) {
        out += "\xEF\xBF\xBD";
        ++replaced;
      } else {
        AppendLatin1Char(out, p[i]);
      }
      ++i;
      continue;
    }
    const size_t len = Utf8Length(p + i, s.size() - i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++replaced;
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return replaced;
}

/// Appends `s` for a message: valid UTF-8 (Latin-1 transcoded), with invalid bytes and control
/// characters other than tab, CR and LF written as \xNN. Stops after about `cap` bytes of
/// output; returns false when it stopped early.
bool AppendPrintable(std::string& out, std::string_view s, TextEncoding encoding, size_t cap) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t limit = out.size() + cap;
  for (size_t i = 0; i < s.size();) {
    if (out.size() >= limit) return false;
    const unsigned char c = p[i];
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      fmt::format_to(std::back_inserter(out), "\\x{:02X}", c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (encoding == TextEncoding::kLatin1) {
      AppendLatin1Char(out, c);
      ++i;
      continue;
    }
    const size_t len = Utf8Length(p + i, s.size() - i);
    if (len == 0) {
      fmt::format_to(std::back_inserter(out), "\\x{:02X}", c);
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return true;
}

/// A cell quoted in a detail: printable, at most ~200 bytes.
std::string Shown(std::string_view s, TextEncoding encoding) {
  std::string out;
  if (!AppendPrintable(out, s, encoding, kMaxShownBytes)) out += "...";
  return out;
}

/// Makes the `raw` text of a reject: the input itself when it is short, printable UTF-8,
/// else an escaped copy capped at 4 KiB with a "... (N bytes)" marker. Reuses one buffer.
class RawText {
 public:
  explicit RawText(TextEncoding encoding) : encoding_(encoding) {}
  std::string_view operator()(std::string_view s) {
    if (s.size() <= kMaxRawBytes && IsPlainAscii(s)) {
      bool controls = false;
      for (char c : s) controls = controls || (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
      if (!controls) return s;
    }
    buf_.clear();
    if (!AppendPrintable(buf_, s, encoding_, kMaxRawBytes)) {
      fmt::format_to(std::back_inserter(buf_), " ... ({} bytes)", s.size());
    }
    return buf_;
  }

 private:
  TextEncoding encoding_;
  std::string buf_;
};

// ---------------------------------------------------------------------------------------------
// Names and cells.

[[gnu::always_inline]] inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// A column name: trimmed, lower-cased (ASCII), valid UTF-8.
std::string ColumnName(std::string_view raw, TextEncoding encoding, int64_t& replaced) {
  std::string out;
  replaced += AppendText(out, Trim(raw), encoding);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

int IndexOf(const std::vector<std::string>& list, std::string_view name) {
  const auto it = std::find(list.begin(), list.end(), name);
  return it == list.end() ? -1 : static_cast<int>(it - list.begin());
}

/// Names a metric or dimension cannot have: the Hive partition columns and the silver view's
/// own columns.
bool IsReservedName(std::string_view name) {
  return name == "year" || name == "month" || name == "day" || name == "hour" || name == "event_time" ||
         name == "device_id";
}

/// The one renaming rule: a reserved name gets `_value` appended, then `_2`, `_3`... until the
/// name is not `taken` (by another column of the file or an earlier rename).
template <typename Taken>
std::string RenameReserved(const std::string& name, const Taken& taken) {
  if (!IsReservedName(name)) return name;
  std::string out = name + "_value";
  for (int k = 2; taken(out); ++k) out = fmt::format("{}_value_{}", name, k);
  return out;
}

/// Cells meaning "no value" (compared trimmed and case-insensitively).
class NullTokens {
 public:
  explicit NullTokens(const std::vector<std::string>& tokens) {
    for (const auto& t : tokens) {
      std::string lowered(Trim(t));
      for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lowered.empty()) continue;
      max_size_ = std::max(max_size_, lowered.size());
      first_[static_cast<unsigned char>(lowered[0])] = true;
      first_[static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(lowered[0])))] = true;
      tokens_.push_back(std::move(lowered));
    }
  }
  /// `cell` already trimmed. The empty cell is always NULL.
  [[gnu::always_inline]] bool Matches(std::string_view cell) const {
    if (cell.empty()) return true;
    if (cell.size() > max_size_ || !first_[static_cast<unsigned char>(cell[0])]) return false;
    return MatchesSlow(cell);
  }

 private:
  bool MatchesSlow(std::string_view cell) const {
    if (cell.size() > kMaxTokenSize) return false;
    char lowered[kMaxTokenSize];
    for (size_t i = 0; i < cell.size(); ++i) {
      lowered[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(cell[i])));
    }
    const std::string_view l(lowered, cell.size());
    for (const auto& t : tokens_) {
      if (t == l) return true;
    }
    return false;
  }

  std::vector<std::string> tokens_;
  bool first_[256] = {};
  static constexpr size_t kMaxTokenSize = 32;
  size_t max_size_ = 0;
};

/// The usual telemetry number, [-]digits[.digits] with at most 15 digits in all: the digits
/// as an integer m < 10^15 and the decimals d give m / 10^d, both exact doubles, so the one
/// division is correctly rounded: the value fast_float gives (Clinger's fast path), without
/// its general machinery. False for anything else (exponents, long or odd forms).
[[gnu::always_inline]] inline bool ParseShortDecimal(const char* p, const char* end, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const bool negative = p < end && *p == '-';
  p += negative;
  if (end - p > 16 || p == end) return false;  // 15 digits and a point at most
  uint64_t m = 0;
  const char* const int_start = p;
  while (p < end && static_cast<unsigned>(*p - '0') <= 9) m = m * 10 + static_cast<unsigned>(*p++ - '0');
  if (p == int_start) return false;
  int decimals = 0;
  if (p < end) {
    if (*p != '.') return false;
    const char* const frac_start = ++p;
    while (p < end && static_cast<unsigned>(*p - '0') <= 9) m = m * 10 + static_cast<unsigned>(*p++ - '0');
    decimals = static_cast<int>(p - frac_start);
    if (p != end || decimals == 0) return false;
  }
  if ((end - int_start) - (decimals > 0) > 15) return false;  // m < 10^15 < 2^53: exact
  const double v = static_cast<double>(m) / kPow10[decimals];
  out = negative ? -v : v;
  return true;
}

/// A finite number (no surrounding blanks; a leading '+' allowed).
[[gnu::always_inline]] inline bool ParseTrimmedNumber(std::string_view cell, double& out) {
  if (cell.empty()) return false;
  const char* first = cell.data();
  if (*first == '+') ++first;  // fast_float rejects a leading '+'
  if (ParseShortDecimal(first, cell.data() + cell.size(), out)) return true;
  auto [ptr, ec] = fast_float::from_chars(first, cell.data() + cell.size(), out);
  return ec == std::errc() && ptr == cell.data() + cell.size() && std::isfinite(out);
}

/// A finite number (surrounding blanks allowed, a leading '+' too).
inline bool ParseNumber(std::string_view cell, double& out) { return ParseTrimmedNumber(Trim(cell), out); }

/// `1,5` as 1.5: in files whose delimiter is not a comma, a decimal comma (one comma, no
/// point) is read as a decimal point.
bool ParseDecimalComma(std::string_view cell, double& out) {
  constexpr size_t kMaxDigits = 64;
  if (cell.size() > kMaxDigits || std::count(cell.begin(), cell.end(), ',') != 1 ||
      cell.find('.') != std::string_view::npos) {
    return false;
  }
  char buf[kMaxDigits];
  std::memcpy(buf, cell.data(), cell.size());
  *std::find(buf, buf + cell.size(), ',') = '.';
  return ParseTrimmedNumber(std::string_view(buf, cell.size()), out);
}

/// A number cell in a CSV file: trimmed, decimal commas allowed when `decimal_comma`.
inline bool ParseCsvNumber(std::string_view cell, bool decimal_comma, double& out) {
  cell = Trim(cell);
  return ParseTrimmedNumber(cell, out) || (decimal_comma && ParseDecimalComma(cell, out));
}

enum class CellResult { kValue, kNull, kBad };

/// A metric cell: a number, a null token (NaN), or bad (NaN too): not a number, or beyond
/// kMaxMetricMagnitude.
[[gnu::always_inline]] inline CellResult ParseMetricCell(std::string_view cell, const NullTokens& nulls,
                                                         double& out, bool decimal_comma = false) {
  cell = Trim(cell);
  if (ParseTrimmedNumber(cell, out) || (decimal_comma && ParseDecimalComma(cell, out))) {
    if (std::fabs(out) <= kMaxMetricMagnitude) return CellResult::kValue;
    out = NAN;
    return CellResult::kBad;
  }
  out = NAN;
  return nulls.Matches(cell) ? CellResult::kNull : CellResult::kBad;
}

/// Why a bad metric cell is bad, after its shown text: not a number, or a number too large to be
/// a reading (see kMaxMetricMagnitude). `number` is the cell read as a number, NaN if it is not.
std::string BadNumberDetail(std::string_view shown, double number) {
  if (std::isfinite(number)) return fmt::format("{} is beyond +-1e100: not a usable reading", shown);
  return fmt::format("{} is not a number", shown);
}

/// A CSV cell's value as ParseMetricCell reads it before the magnitude check (NaN when none).
double CsvCellNumber(std::string_view cell, bool decimal_comma) {
  double v = NAN;
  return ParseCsvNumber(cell, decimal_comma, v) ? v : NAN;
}

std::string DelimiterName(char d) {
  if (d == '\t') return "TAB";
  return fmt::format("'{}'", d);
}

std::string DelimiterConfig(char d) {
  if (d == '\t') return "\"\\t\"";
  return fmt::format("\"{}\"", d);
}

// ---------------------------------------------------------------------------------------------
// CSV records.

/// Splits one CSV record into cells (views into `rec`, or into `scratch` for quoted cells).
/// A quote opens a quoted cell only at the start of a cell (after blanks); elsewhere it is a
/// plain character (`12" pipe`). Text after a closing quote is kept, appended to the cell.
/// Returns false on a quote that does not close within `rec`.
bool SplitCsv(std::string_view rec, char delim, std::vector<std::string_view>& cells, std::string& scratch) {
  cells.clear();
  size_t pos = 0;
#if defined(__SSE2__)
  // No quote (the usual record): 16 bytes at a time, the delimiters' places as a bit mask. A
  // record is a few dozen bytes, so one memchr per cell cost more in calls than in scanning.
  {
    const char* p = rec.data();
    const size_t n = rec.size();
    const __m128i vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8('"');
    size_t i = 0;
    bool quote = false;
    for (; i + 16 <= n; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) != 0) {
        quote = true;
        break;
      }
      for (auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd))); m != 0; m &= m - 1) {
        const size_t at = i + static_cast<size_t>(__builtin_ctz(m));
        cells.push_back(rec.substr(pos, at - pos));
        pos = at + 1;
      }
    }
    for (; !quote && i < n; ++i) {
      if (p[i] == '"') quote = true;
      else if (p[i] == delim) cells.push_back(rec.substr(pos, i - pos)), pos = i + 1;
    }
    if (!quote) {
      cells.push_back(rec.substr(pos));
      return true;
    }
    cells.clear();  // quoted cells: the general path below
    pos = 0;
  }
#else
  if (std::memchr(rec.data(), '"', rec.size()) == nullptr) {
    for (;;) {
      const void* d = std::memchr(rec.data() + pos, delim, rec.size() - pos);
      if (d == nullptr) {
        cells.push_back(rec.substr(pos));
        return true;
      }
      const size_t at = static_cast<size_t>(static_cast<const char*>(d) - rec.data());
      cells.push_back(rec.substr(pos, at - pos));
      pos = at + 1;
    }
  }
#endif
  scratch.clear();
  scratch.reserve(rec.size());  // views into scratch must stay valid: no reallocation
  for (;;) {
    size_t q = pos;
    while (q < rec.size() && (rec[q] == ' ' || (rec[q] == '\t' && delim != '\t'))) ++q;
    if (q < rec.size() && rec[q] == '"') {
      const size_t start = scratch.size();
      size_t p = q + 1;
      for (;;) {
        const size_t close = rec.find('"', p);
        if (close == std::string_view::npos) return false;
        scratch.append(rec.substr(p, close - p));
        if (close + 1 < rec.size() && rec[close + 1] == '"') {
          scratch += '"';
          p = close + 2;
          continue;
        }
        p = close + 1;
        break;
      }
      const size_t d = rec.find(delim, p);
      scratch.append(rec.substr(p, d == std::string_view::npos ? std::string_view::npos : d - p));
      cells.emplace_back(scratch.data() + start, scratch.size() - start);
      if (d == std::string_view::npos) return true;
      pos = d + 1;
    } else {
      const size_t d = rec.find(delim, pos);
      if (d == std::string_view::npos) {
        cells.push_back(rec.substr(pos));
        return true;
      }
      cells.push_back(rec.substr(pos, d - pos));
      pos = d + 1;
    }
  }
}

enum class RecordStatus { kOk, kTooLong, kUnterminatedQuote };

struct Record {
  std::string_view text;    // without the line break (and without a CR before it)
  int64_t first_line = 0;   // physical line number it starts on
  int64_t lines = 0;        // physical lines it spans
  size_t first_line_end = 0;  // offset just past the first physical line
  RecordStatus status = RecordStatus::kOk;
};

/// Reads records physical line by physical line; a quoted cell may span lines, but no record
/// (and no open quote) longer than max_line_bytes. Never copies a line.
class RecordReader {
 public:
  RecordReader(std::string_view data, char delim, size_t max_line_bytes)
      : data_(data), delim_(delim), max_(std::max<size_t>(max_line_bytes, 1)) {}

  bool Next(Record& r) {
    const size_t n = data_.size();
    if (pos_ >= n) return false;
    const char* base = data_.data();
    const void* nl = std::memchr(base + pos_, '\n', n - pos_);
    const size_t line_end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - base) : n;
    r.first_line = line_no_ + 1;
    r.first_line_end = std::min(line_end + 1, n);
    r.lines = 1;
    r.status = RecordStatus::kOk;
    size_t end = line_end;
    if (line_end - pos_ > max_) {
      r.status = RecordStatus::kTooLong;
    } else if (std::memchr(base + pos_, '"', line_end - pos_) != nullptr) {
      end = QuotedEnd(r.status);
      if (r.status != RecordStatus::kOk) end = line_end;
    }
    r.text = std::string_view(base + pos_, end - pos_);
    if (end != line_end) r.lines += std::count(r.text.begin(), r.text.end(), '\n');
    if (!r.text.empty() && r.text.back() == '\r') r.text.remove_suffix(1);
    line_no_ += r.lines;
    pos_ = std::min(end + 1, n);
    return true;
  }

  /// Goes back to just after the first physical line of `r` (a multi-line record that did not
  /// make a row: only its first line is rejected).
  void Rewind(const Record& r) {
    pos_ = r.first_line_end;
    line_no_ = r.first_line;
  }

  size_t pos() const { return pos_; }
  int64_t line_no() const { return line_no_; }
  void Reset(size_t pos, int64_t line_no) {
    pos_ = pos;
    line_no_ = line_no;
  }

 private:
  /// End of a record whose first line has a quote: the first newline outside a quoted cell.
  size_t QuotedEnd(RecordStatus& status) {
    const size_t n = data_.size();
    const size_t limit = std::min(n, pos_ + max_);
    bool at_cell_start = true;
    for (size_t i = pos_; i < n; ++i) {
      const char c = data_[i];
      if (c == '\n') return i;
      if (c == delim_) {
        at_cell_start = true;
      } else if (c == '"' && at_cell_start) {
        // Inside quotes: jump from quote to quote ("" is an escaped quote).
        size_t p = i + 1;
        for (;;) {
          const void* q = p < limit ? std::memchr(data_.data() + p, '"', limit - p) : nullptr;
          if (q == nullptr) {
            status = RecordStatus::kUnterminatedQuote;
            return n;
          }
          const size_t at = static_cast<size_t>(static_cast<const char*>(q) - data_.data());
          if (at + 1 < n && data_[at + 1] == '"') {
            p = at + 2;
            continue;
          }
          // A quoted cell that spans lines must close cleanly (before a delimiter or the end
          // of the line); a quote that closes mid-cell lines later pairs two stray quotes.
          if (std::memchr(data_.data() + i, '\n', at - i) != nullptr) {
            size_t after = at + 1;
            while (after < n && data_[after] == ' ') ++after;
            if (after < n && data_[after] != delim_ && data_[after] != '\n' && data_[after] != '\r') {
              status = RecordStatus::kUnterminatedQuote;
              return n;
            }
          }
          i = at;
          break;
        }
        at_cell_start = false;
      } else if (c != ' ' && !(c == '\t' && delim_ != '\t')) {
        at_cell_start = false;
      }
      if (i >= limit) {  // a quote closed on a later line, and the record goes on too long
        status = RecordStatus::kUnterminatedQuote;
        return n;
      }
    }
    return n;
  }

  std::string_view data_;
  char delim_;
  size_t max_;
  size_t pos_ = 0;
  int64_t line_no_ = 0;
};

/// The first physical line that is not blank, from `pos` (advances pos and line_no past it).
std::optional<std::string_view> HeaderLine(std::string_view data, size_t& pos, int64_t& line_no,
                                           int64_t& blank_lines) {
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? data.size() : nl;
    std::string_view line = data.substr(pos, end - pos);
    pos = nl == std::string_view::npos ? data.size() : nl + 1;
    ++line_no;
    if (Trim(line).empty()) {
      ++blank_lines;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }
  return std::nullopt;
}

struct HeaderSplit {
  char delim = ',';
  bool closed = true;
  std::vector<std::string> names;
  int time_col = -1;
  int device_col = -1;
  bool Valid() const { return closed && time_col >= 0 && device_col >= 0; }
};

HeaderSplit SplitHeader(std::string_view line, char delim, const ColumnRoles& roles, int64_t& replaced) {
  HeaderSplit h;
  h.delim = delim;
  std::vector<std::string_view> cells;
  std::string scratch;
  h.closed = SplitCsv(line, delim, cells, scratch);
  if (!h.closed) return h;
  for (const auto c : cells) h.names.push_back(ColumnName(c, roles.encoding, replaced));
  for (size_t i = 0; i < h.names.size(); ++i) {
    if (h.time_col < 0 && Contains(roles.time_columns, h.names[i])) {
      h.time_col = static_cast<int>(i);
    } else if (h.device_col < 0 && Contains(roles.device_columns, h.names[i])) {
      h.device_col = static_cast<int>(i);
    }
  }
  return h;
}

/// Picks the delimiter: one that gives a header with a time and a device column, then one
/// whose column count the first data lines share, then the one giving the most columns.
char DetectDelimiter(std::string_view header, std::string_view rest, const ColumnRoles& roles) {
  std::vector<std::string_view> sample;
  size_t pos = 0;
  while (pos < rest.size() && sample.size() < kDelimiterSampleLines) {
    const size_t nl = rest.find('\n', pos);
    const std::string_view line = rest.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? rest.size() : nl + 1;
    if (!Trim(line).empty()) sample.push_back(line);
  }
  char best = ',';
  std::tuple<bool, size_t, size_t> best_score{false, 0, 0};
  std::vector<std::string_view> cells;
  std::string scratch;
  for (const char d : kDelimiters) {
    int64_t ignored = 0;
    const HeaderSplit h = SplitHeader(header, d, roles, ignored);
    if (!h.closed || h.names.size() < 2) continue;
    size_t agreeing = 0;
    for (const auto line : sample) {
      if (SplitCsv(line, d, cells, scratch) && cells.size() == h.names.size()) ++agreeing;
    }
    const std::tuple<bool, size_t, size_t> score{h.Valid(), agreeing, h.names.size()};
    if (score > best_score) {
      best_score = score;
      best = d;
    }
  }
  return best;
}

std::string ListNames(const std::vector<std::string>& names) {
  constexpr size_t kShown = 8;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) {
    if (i > 0) out += ", ";
    fmt::format_to(std::back_inserter(out), "'{}'", Shown(names[i], TextEncoding::kUtf8));
  }
  if (names.size() > kShown) out += fmt::format(", ... ({} columns)", names.size());
  return out;
}

/// Why a header cannot be used (empty when it can).
std::string HeaderProblem(const HeaderSplit& h, std::string_view line, const ColumnRoles& roles) {
  if (!h.closed) return "the header line has an unterminated quote";
  // Duplicates after lower-casing and trimming.
  std::vector<std::string> dups;
  for (size_t i = 0; i < h.names.size(); ++i) {
    if (h.names[i].empty()) continue;
    for (size_t j = i + 1; j < h.names.size(); ++j) {
      if (h.names[i] == h.names[j]) {
        dups.push_back(fmt::format("'{}' (columns {} and {})", Shown(h.names[i], TextEncoding::kUtf8), i + 1, j + 1));
      }
    }
  }
  if (!dups.empty()) {
    return fmt::format("the header has duplicate column names (compared lower-cased and trimmed): {}",
                       fmt::join(dups, ", "));
  }
  if (h.Valid()) return "";
  std::string problem =
      h.time_col < 0
          ? fmt::format("the header has no time column (expected one of: {})", fmt::join(roles.time_columns, ", "))
          : fmt::format("the header has no device column (expected one of: {})", fmt::join(roles.device_columns, ", "));
  problem += fmt::format("; split on {} it has {} column{}: {}", DelimiterName(h.delim), h.names.size(),
                         h.names.size() == 1 ? "" : "s", ListNames(h.names));
  for (const char d : kDelimiters) {
    if (d == h.delim) continue;
    int64_t ignored = 0;
    const HeaderSplit other = SplitHeader(line, d, roles, ignored);
    if (other.Valid()) {
      problem += fmt::format("; the header splits on {} into {}: set silver.delimiter = {}", DelimiterName(d),
                             ListNames(other.names), DelimiterConfig(d));
      break;
    }
  }
  return problem;
}

/// The typing rule for a column the lake does not know yet: a metric when at least half of its
/// non-null cells are numbers (or it has none), else a dimension. Half, not "all", so that a
/// typo in a numeric column (`21.5x`) makes a per-cell bad_number, not a text column for good;
/// a text column (`firmware`, `status`) is rarely half numbers.
bool IsMostlyNumeric(int64_t numbers, int64_t texts) { return numbers >= texts; }

enum class Kind : uint8_t { kIgnored, kTime, kDevice, kDimension, kMetric, kAuto };

struct CsvColumn {
  std::string name;  // final (renamed) name
  Kind kind = Kind::kIgnored;
  int index = -1;  // dimension or metric index
};

}  // namespace

struct CsvHeader::State {
  ColumnRoles roles;
  std::string problem;  // empty when the header can be used
  char delim = ',';
  std::vector<CsvColumn> columns;
  std::vector<std::string> dimension_names;
  std::vector<std::string> metric_names;
  int64_t replaced_characters = 0;
};

namespace {

/// Roles of the header's columns; auto columns stay kAuto (typed from the sample next).
void MakeLayout(const HeaderSplit& h, CsvHeader::State& s) {
  s.columns.resize(h.names.size());
  // Configured (and lake) dimensions first, in their order: every file has them.
  s.dimension_names = s.roles.dimension_columns;
  auto taken = [&](const std::string& n) {
    if (Contains(h.names, n)) return true;
    for (const auto& c : s.columns) {
      if (c.name == n) return true;
    }
    return false;
  };
  for (size_t i = 0; i < h.names.size(); ++i) {
    CsvColumn& c = s.columns[i];
    if (static_cast<int>(i) == h.time_col) {
      c.kind = Kind::kTime;
      c.name = h.names[i];
      continue;
    }
    if (static_cast<int>(i) == h.device_col) {
      c.kind = Kind::kDevice;
      c.name = h.names[i];
      continue;
    }
    if (h.names[i].empty()) continue;  // an unnamed column (a trailing delimiter): ignored
    c.name = RenameReserved(h.names[i], taken);
    if (const int d = IndexOf(s.roles.dimension_columns, c.name); d >= 0) {
      c.kind = Kind::kDimension;
      c.index = d;
    } else if (Contains(s.roles.known_metrics, c.name)) {
      c.kind = Kind::kMetric;
    } else {
      c.kind = Kind::kAuto;
    }
  }
}

/// Auto columns are metrics when most non-null cells of the sample's first rows are numbers (see
/// IsMostlyNumeric), else dimensions. Then metric indexes follow the column order.
void TypeAutoColumns(std::string_view sample, CsvHeader::State& s) {
  std::vector<size_t> open;
  for (size_t i = 0; i < s.columns.size(); ++i) {
    if (s.columns[i].kind == Kind::kAuto) open.push_back(i);
  }
  if (!open.empty()) {
    const NullTokens nulls(s.roles.null_tokens);
    RecordReader reader(sample, s.delim, s.roles.max_line_bytes);
    std::vector<std::string_view> cells;
    std::string scratch;
    std::vector<int64_t> numbers(s.columns.size(), 0);
    std::vector<int64_t> texts(s.columns.size(), 0);
    Record r;
    int sampled = 0;
    while (sampled < kTypeSampleRows && reader.Next(r)) {
      if (r.status != RecordStatus::kOk || Trim(r.text).empty()) continue;
      if (!SplitCsv(r.text, s.delim, cells, scratch) || cells.size() != s.columns.size()) {
        if (r.lines > 1) reader.Rewind(r);
        continue;
      }
      ++sampled;
      for (const size_t i : open) {
        const std::string_view cell = Trim(cells[i]);
        double v;
        if (ParseCsvNumber(cell, s.delim != ',', v)) {
          ++numbers[i];
        } else if (!nulls.Matches(cell)) {
          ++texts[i];
        }
      }
    }
    for (const size_t i : open) {
      const bool text = !IsMostlyNumeric(numbers[i], texts[i]);
      s.columns[i].kind = text ? Kind::kDimension : Kind::kMetric;
      if (text) {
        s.columns[i].index = static_cast<int>(s.dimension_names.size());
        s.dimension_names.push_back(s.columns[i].name);
      }
    }
  }
  for (auto& c : s.columns) {
    if (c.kind == Kind::kMetric) {
      c.index = static_cast<int>(s.metric_names.size());
      s.metric_names.push_back(c.name);
    }
  }
}

}  // namespace

CsvHeader CsvHeader::Make(std::string_view header_line, const ColumnRoles& roles, std::string_view sample) {
  auto s = std::make_shared<State>();
  s->roles = roles;
  if (!header_line.empty() && header_line.back() == '\r') header_line.remove_suffix(1);
  HeaderSplit h;
  if (header_line.size() > roles.max_line_bytes) {
    s->problem = fmt::format("the header line is longer than max_line_bytes ({} bytes)", roles.max_line_bytes);
  } else {
    s->delim = roles.delimiter != 0 ? roles.delimiter : DetectDelimiter(header_line, sample, roles);
    h = SplitHeader(header_line, s->delim, roles, s->replaced_characters);
    s->problem = HeaderProblem(h, header_line, roles);
  }
  if (s->problem.empty()) {
    MakeLayout(h, *s);
    TypeAutoColumns(sample, *s);
  } else {
    s->dimension_names.clear();
  }
  return CsvHeader(std::move(s));
}

const std::string& CsvHeader::problem() const { return state_->problem; }
char CsvHeader::delimiter() const { return state_->delim; }
const std::vector<std::string>& CsvHeader::dimension_names() const { return state_->dimension_names; }
const std::vector<std::string>& CsvHeader::metric_names() const { return state_->metric_names; }
int64_t CsvHeader::replaced_characters() const { return state_->replaced_characters; }

/// The per-line work of the CSV path, shared by ParseCsv (a file's data lines) and messages.
struct CsvMessageParser::Impl {
  explicit Impl(CsvHeader h)
      : header(std::move(h)),
        s(*header.state_),
        nulls(s.roles.null_tokens),
        raw(s.roles.encoding),
        metrics(s.metric_names.size(), NAN),
        dims(s.dimension_names.size()) {
    topts.default_utc_offset_minutes = s.roles.default_utc_offset_minutes;
    bad_cells.reserve(s.columns.size());
  }

  ParseCounts Parse(std::string_view data, int64_t first_line, RowSink& sink) {
    counts = ParseCounts();
    RecordReader reader(data, s.delim, s.roles.max_line_bytes);
    reader.Reset(0, first_line - 1);
    if (!s.problem.empty()) {
      RejectAll(reader, sink);
    } else {
      ParseRows(reader, sink);
    }
    counts.physical_lines = reader.line_no() - (first_line - 1);
    return counts;
  }

  void RejectAll(RecordReader& reader, RowSink& sink) {
    Record r;
    while (reader.Next(r)) {
      if (Trim(r.text).empty() && r.status == RecordStatus::kOk) {
        ++counts.blank_lines;
        continue;
      }
      ++counts.rows;
      sink.OnReject(RejectReason::kBadHeader, s.problem, r.first_line, raw(r.text));
    }
  }

  void ParseRows(RecordReader& reader, RowSink& sink) {
    const size_t ncols = s.columns.size();
    const char delim = s.delim;
    const ColumnRoles& roles = s.roles;
    ParsedRow row;
    row.metrics = metrics.data();
    row.dimensions = dims.data();
    const bool latin1 = roles.encoding == TextEncoding::kLatin1;
    const bool decimal_comma = delim != ',';
    Record r;
    while (reader.Next(r)) {
      const int64_t line = r.first_line;
      if (r.status == RecordStatus::kOk && Trim(r.text).empty()) {
        counts.blank_lines += r.lines;
        continue;
      }
      if (r.status == RecordStatus::kTooLong) {
        ++counts.rows;
        sink.OnReject(RejectReason::kLineTooLong,
                      fmt::format("the line is {} bytes, longer than max_line_bytes ({})", r.text.size(),
                                  roles.max_line_bytes),
                      line, raw(r.text));
        continue;
      }
      if (r.status == RecordStatus::kUnterminatedQuote) {
        ++counts.rows;
        sink.OnReject(RejectReason::kUnterminatedQuote,
                      fmt::format("a quote opened on this line does not close cleanly within max_line_bytes ({}) or "
                                  "before the end of the file; only this line is rejected",
                                  roles.max_line_bytes),
                      line, raw(r.text));
        continue;
      }
      const bool split = SplitCsv(r.text, delim, cells, scratch);
      if (r.lines > 1 && (!split || cells.size() != ncols)) {
        // A quote that closes lines later but does not make a row: a stray quote. Only the
        // line it opened on is rejected; parsing resumes on the next line.
        reader.Rewind(r);
        ++counts.rows;
        const std::string_view first = r.text.substr(0, r.text.find('\n'));
        sink.OnReject(RejectReason::kUnterminatedQuote,
                      fmt::format("a quote opened on this line closes {} lines later without making a row of "
                                  "{} columns; only this line is rejected",
                                  r.lines - 1, ncols),
                      line, raw(first.substr(0, first.size() - (first.ends_with('\r') ? 1 : 0))));
        continue;
      }
      ++counts.rows;
      if (!split) {
        sink.OnReject(RejectReason::kUnterminatedQuote, "unterminated quote", line, raw(r.text));
        continue;
      }
      if (cells.size() != ncols) {
        sink.OnReject(RejectReason::kWrongColumnCount,
                      fmt::format("expected {} columns, found {} (split on {})", ncols, cells.size(),
                                  DelimiterName(delim)),
                      line, raw(r.text));
        continue;
      }
      const bool plain = IsPlainAscii(r.text);
      const bool valid = plain || (!latin1 && simdjson::validate_utf8(r.text.data(), r.text.size()) &&
                                   std::memchr(r.text.data(), '\0', r.text.size()) == nullptr);
      if (!plain) {
        text.clear();
        text.reserve(3 * r.text.size() + 16);  // views into text must stay valid
      }
      std::string_view device;
      std::optional<TimestampUs> ts;
      TimestampInfo ts_info;
      bool rejected = false;
      int good = 0;
      bad_cells.clear();
      for (size_t c = 0; c < ncols && !rejected; ++c) {
        const CsvColumn& col = s.columns[c];
        switch (col.kind) {
          case Kind::kMetric: {
            switch (ParseMetricCell(cells[c], nulls, metrics[static_cast<size_t>(col.index)], decimal_comma)) {
              case CellResult::kValue: ++good; break;
              case CellResult::kNull: ++counts.null_cells; break;
              case CellResult::kBad: bad_cells.push_back(c); break;
            }
            break;
          }
          case Kind::kDimension: {
            std::string_view v = Trim(cells[c]);
            if (nulls.Matches(v)) {
              v = {};
            } else if (!valid) {
              const size_t start = text.size();
              counts.replaced_characters += AppendText(text, v, roles.encoding);
              v = std::string_view(text.data() + start, text.size() - start);
            }
            dims[static_cast<size_t>(col.index)] = v;
            break;
          }
          case Kind::kTime: {
            const std::string_view cell = Trim(cells[c]);
            if (nulls.Matches(cell)) {
              sink.OnReject(RejectReason::kMissingTimestamp, "event time is empty", line, raw(r.text));
              rejected = true;
              break;
            }
            ts = ParseTimestamp(cell, topts, &ts_info);
            if (!ts) {
              sink.OnReject(RejectReason::kBadTimestamp, DescribeBadTimestamp(cell), line, raw(r.text));
              rejected = true;
            }
            break;
          }
          case Kind::kDevice: {
            device = Trim(cells[c]);
            if (device.empty()) {
              sink.OnReject(RejectReason::kMissingDeviceId, "device id is empty", line, raw(r.text));
              rejected = true;
            } else if (!valid) {
              if (!latin1 && !IsValidUtf8(device)) {
                sink.OnReject(RejectReason::kBadEncoding,
                              fmt::format("device id '{}' is not valid UTF-8 (set silver.encoding = \"latin-1\" "
                                          "for Latin-1 files)",
                                          Shown(device, roles.encoding)),
                              line, raw(r.text));
                rejected = true;
              } else if (latin1) {
                const size_t start = text.size();
                AppendText(text, device, roles.encoding);
                device = std::string_view(text.data() + start, text.size() - start);
              }
            }
            break;
          }
          case Kind::kAuto:
          case Kind::kIgnored: break;
        }
      }
      if (rejected) continue;
      if (!bad_cells.empty()) {
        if (good == 0) {
          const size_t c = bad_cells[0];
          sink.OnReject(RejectReason::kBadNumber,
                        fmt::format("column '{}': {}{}", s.columns[c].name,
                                    BadNumberDetail(fmt::format("'{}'", Shown(Trim(cells[c]), roles.encoding)),
                                                    CsvCellNumber(cells[c], decimal_comma)),
                                    bad_cells.size() > 1 ? fmt::format(" (and {} more)", bad_cells.size() - 1) : ""),
                        line, raw(r.text));
          continue;
        }
        for (const size_t c : bad_cells) {
          ++counts.cell_rejects;
          sink.OnCellReject(RejectReason::kBadNumber, s.columns[c].name,
                            BadNumberDetail(fmt::format("'{}'", Shown(Trim(cells[c]), roles.encoding)),
                                            CsvCellNumber(cells[c], decimal_comma)),
                            line, raw(r.text));
        }
      }
      if (!ts_info.had_zone) ++counts.zoneless_timestamps;
      if (ts_info.rounded) ++counts.rounded_timestamps;
      row.ts = *ts;
      row.device_id = device;
      row.line = line;
      sink.OnRow(row);
    }
  }

  CsvHeader header;
  const CsvHeader::State& s;
  NullTokens nulls;
  RawText raw;
  TimestampOptions topts;
  ParseCounts counts;
  std::vector<double> metrics;
  std::vector<std::string_view> dims;
  std::vector<size_t> bad_cells;
  std::vector<std::string_view> cells;
  std::string scratch;
  std::string text;  // transcoded or repaired text cells of one row
  bool schema_sent = false;
};

CsvMessageParser::CsvMessageParser(CsvHeader header) : impl_(std::make_unique<Impl>(std::move(header))) {}
CsvMessageParser::~CsvMessageParser() = default;
CsvMessageParser::CsvMessageParser(CsvMessageParser&&) noexcept = default;
CsvMessageParser& CsvMessageParser::operator=(CsvMessageParser&&) noexcept = default;

ParseCounts CsvMessageParser::Parse(std::string_view lines, int64_t first_line, RowSink& sink) {
  if (!impl_->schema_sent) {
    sink.OnSchema(impl_->s.dimension_names, impl_->s.metric_names);
    impl_->schema_sent = true;
  }
  if (lines.empty()) {  // an empty message is one blank line (the record reader sees none)
    ParseCounts blank;
    blank.blank_lines = 1;
    blank.physical_lines = 1;
    return blank;
  }
  return impl_->Parse(lines, first_line, sink);
}

const CsvHeader& CsvMessageParser::header() const { return impl_->header; }

namespace {

// ---------------------------------------------------------------------------------------------
// JSON lines.

struct JsonField {
  std::string key;      // lower-cased, flattened (parent_child)
  std::string_view original;  // the key as written (last level), for messages
  simdjson::dom::element value;
  bool too_deep = false;  // an object nested deeper than the flatten depth
};

/// BadNumberDetail for a JSON metric value: a number is bad only by its magnitude, a string as a
/// CSV cell is.
std::string JsonBadNumberDetail(const simdjson::dom::element& value) {
  const std::string shown = Shown(simdjson::minify(value), TextEncoding::kUtf8);
  if (value.is_number()) return BadNumberDetail(shown, value.get_double().value_unsafe());
  if (value.is_string()) return BadNumberDetail(shown, CsvCellNumber(value.get_string().value_unsafe(), false));
  return BadNumberDetail(shown, NAN);
}

/// Flattens `object` into `fields` (objects nested up to `depth` levels become parent_child
/// keys). Reuses the strings already in `fields` beyond `count`.
void Flatten(simdjson::dom::object object, std::string& prefix, int level, int depth,
             std::vector<JsonField>& fields, size_t& count) {
  for (auto field : object) {
    const size_t mark = prefix.size();
    prefix.append(field.key);
    if (field.value.is_object() && level < depth) {
      prefix += '_';
      Flatten(field.value.get_object().value_unsafe(), prefix, level + 1, depth, fields, count);
    } else {
      if (count == fields.size()) fields.emplace_back();
      JsonField& f = fields[count++];
      f.key.assign(prefix);
      for (char& c : f.key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // Trim like CSV names.
      const std::string_view t = Trim(f.key);
      if (t.size() != f.key.size()) f.key = std::string(t);
      f.original = field.key;
      f.value = field.value;
      f.too_deep = field.value.is_object();
    }
    prefix.resize(mark);
  }
}

/// The first key that appears twice (after lower-casing and flattening), or empty.
std::string DuplicateKey(const std::vector<JsonField>& fields, size_t count, std::vector<size_t>& order) {
  order.resize(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fields[a].key < fields[b].key; });
  for (size_t i = 1; i < count; ++i) {
    if (fields[order[i]].key == fields[order[i - 1]].key) return fields[order[i]].key;
  }
  return "";
}

bool IsUnsupported(const JsonField& f) { return f.too_deep || f.value.is_array(); }

std::string UnsupportedDetail(const JsonField& f, int depth) {
  if (f.value.is_array()) return "an array is not a supported value (numbers, text, booleans and nested objects are)";
  return fmt::format("an object nested deeper than json_flatten_depth ({}) is not flattened", depth);
}

/// The JSON path's state: the keys seen so far with their types and roles, and the buffers of
/// one line. ParseJsonLines counts every line's keys first (CountKeys), then assigns roles once;
/// a message parser does both for each message, so a key seen first in a message is typed by it.
class JsonLineState {
 public:
  explicit JsonLineState(const ColumnRoles& roles)
      : roles_(roles), nulls_(roles_.null_tokens), raw_(roles_.encoding), dimension_names_(roles_.dimension_columns) {
    topts_.default_utc_offset_minutes = roles_.default_utc_offset_minutes;
  }

  enum class LineStatus { kOk, kBlank, kTooLong, kBadJson, kDuplicateKey };

  /// Parses one line into fields_ [0, nfields_).
  LineStatus ParseLine(std::string_view line) {
    if (line.size() > roles_.max_line_bytes) return LineStatus::kTooLong;
    const std::string_view trimmed = Trim(line);
    if (trimmed.empty()) return LineStatus::kBlank;
    padded_.clear();
    replaced_ = 0;
    if (roles_.encoding == TextEncoding::kLatin1 && !IsPlainAscii(trimmed)) {
      AppendText(padded_, trimmed, TextEncoding::kLatin1);
    } else if (!simdjson::validate_utf8(trimmed.data(), trimmed.size())) {
      // Invalid bytes become U+FFFD (a device id that had some is rejected later).
      replaced_ = AppendText(padded_, trimmed, TextEncoding::kUtf8);
    } else {
      padded_.assign(trimmed);
    }
    const size_t len = padded_.size();
    padded_.append(simdjson::SIMDJSON_PADDING, '\0');
    simdjson::dom::element doc;
    if (parser_.parse(padded_.data(), len, false).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return LineStatus::kBadJson;
    }
    nfields_ = 0;
    prefix_.clear();
    Flatten(doc.get_object().value_unsafe(), prefix_, 0, std::max(roles_.json_flatten_depth, 0), fields_,
            nfields_);
    duplicate_ = DuplicateKey(fields_, nfields_, order_);
    return duplicate_.empty() ? LineStatus::kOk : LineStatus::kDuplicateKey;
  }

  /// Counts the values of the line just parsed (kOk) by key: numbers (and numeric strings,
  /// booleans, nulls) make a metric, other text a dimension.
  void CountKeys() {
    for (size_t i = 0; i < nfields_; ++i) {
      const JsonField& f = fields_[i];
      auto [it, inserted] = key_index_.try_emplace(f.key, keys_.size());
      if (inserted) {
        keys_.emplace_back();
        key_order_.push_back(f.key);
      }
      KeyInfo& k = keys_[it->second];
      if (IsUnsupported(f)) continue;
      k.scalar = true;
      if (f.value.is_string()) {
        const std::string_view s = Trim(f.value.get_string().value_unsafe());
        double v;
        if (ParseNumber(s, v)) {
          ++k.numbers;
        } else if (!nulls_.Matches(s)) {
          ++k.texts;
        }
      } else if (f.value.is_number() || f.value.is_bool()) {
        ++k.numbers;
      }
    }
  }

  /// Gives a role to each key counted since the last call, in the order keys were first seen,
  /// unless the lake already has the column. Returns true when a dimension or metric was added.
  bool AssignRoles() {
    const size_t names_before = dimension_names_.size() + metric_names_.size();
    auto taken = [&](const std::string& n) {
      if (key_index_.count(n) > 0) return true;
      for (const auto& k : keys_) {
        if (k.name == n) return true;
      }
      return false;
    };
    for (; assigned_ < keys_.size(); ++assigned_) {
      KeyInfo& k = keys_[assigned_];
      const std::string& key = key_order_[assigned_];
      // The first time-like and device-like keys play those roles.
      if (!have_time_ && Contains(roles_.time_columns, key)) {
        k.role = Role::kTime;
        k.name = key;
        have_time_ = true;
        continue;
      }
      if (!have_device_ && Contains(roles_.device_columns, key)) {
        k.role = Role::kDevice;
        k.name = key;
        have_device_ = true;
        continue;
      }
      if (!k.scalar || key.empty()) continue;  // only arrays / deep objects: per-cell rejects
      k.name = RenameReserved(key, taken);
      if (const int d = IndexOf(roles_.dimension_columns, k.name); d >= 0) {
        k.role = Role::kDimension;
        k.index = d;
      } else if (!IsMostlyNumeric(k.numbers, k.texts) && !Contains(roles_.known_metrics, k.name)) {
        k.role = Role::kDimension;
        k.index = static_cast<int>(dimension_names_.size());
        dimension_names_.push_back(k.name);
      } else {
        k.role = Role::kMetric;
        k.index = static_cast<int>(metric_names_.size());
        metric_names_.push_back(k.name);
      }
    }
    return dimension_names_.size() + metric_names_.size() != names_before;
  }

  /// Reports the line ParseLine just parsed (with `status`) to the sink: one row, one reject, or
  /// a blank line.
  void Row(LineStatus status, std::string_view line, int64_t line_no, RowSink& sink) {
    if (status == LineStatus::kBlank) {
      ++counts_.blank_lines;
      return;
    }
    ++counts_.rows;
    switch (status) {
      case LineStatus::kTooLong:
        sink.OnReject(RejectReason::kLineTooLong,
                      fmt::format("the line is {} bytes, longer than max_line_bytes ({})", line.size(),
                                  roles_.max_line_bytes),
                      line_no, raw_(line));
        return;
      case LineStatus::kBadJson:
        sink.OnReject(RejectReason::kBadJson, "the line is not a JSON object", line_no, raw_(line));
        return;
      case LineStatus::kDuplicateKey:
        sink.OnReject(RejectReason::kBadJson,
                      fmt::format("the object has the key '{}' more than once (keys are compared lower-cased, "
                                  "nested ones as parent_child)",
                                  Shown(duplicate_, TextEncoding::kUtf8)),
                      line_no, raw_(line));
        return;
      default: break;
    }
    if (metrics_.size() != metric_names_.size()) metrics_.resize(metric_names_.size());
    if (dims_.size() != dimension_names_.size()) {
      dims_.resize(dimension_names_.size());
      dim_storage_.resize(dimension_names_.size());
    }
    std::fill(metrics_.begin(), metrics_.end(), NAN);
    std::fill(dims_.begin(), dims_.end(), std::string_view());
    const int depth = std::max(roles_.json_flatten_depth, 0);
    std::optional<TimestampUs> ts;
    TimestampInfo ts_info;
    bool have_time = false;
    std::string bad_time;
    std::string_view device;
    int good = 0;
    bad_cells_.clear();
    unsupported_.clear();
    for (size_t i = 0; i < nfields_; ++i) {
      const JsonField& f = fields_[i];
      const auto found = key_index_.find(f.key);
      const KeyInfo* k = found == key_index_.end() ? nullptr : &keys_[found->second];
      const auto value = f.value;
      if (IsUnsupported(f)) {
        unsupported_.push_back(i);
        continue;
      }
      if (k == nullptr) continue;  // cannot happen: every key was counted before its row
      switch (k->role) {
        case Role::kTime:
          if (value.is_null()) break;
          have_time = true;
          if (value.is_string()) {
            const std::string_view s = value.get_string().value_unsafe();
            if (nulls_.Matches(Trim(s))) {
              have_time = false;
              break;
            }
            ts = ParseTimestamp(s, topts_, &ts_info);
          } else if (value.is_int64()) {
            ts = ParseTimestamp(std::to_string(value.get_int64().value_unsafe()), topts_, &ts_info);
          } else if (value.is_number()) {
            ts = ParseTimestamp(fmt::format("{}", value.get_double().value_unsafe()), topts_, &ts_info);
          }
          if (!ts) {
            bad_time = value.is_string() ? DescribeBadTimestamp(value.get_string().value_unsafe())
                                         : DescribeBadTimestamp(simdjson::minify(value));
          }
          break;
        case Role::kDevice:
          if (value.is_string()) {
            device = Trim(value.get_string().value_unsafe());
          } else if (value.is_number()) {
            device_storage_ = simdjson::minify(value);
            device = device_storage_;
          }
          break;
        case Role::kDimension: {
          const size_t d = static_cast<size_t>(k->index);
          if (value.is_string()) {
            const std::string_view s = Trim(value.get_string().value_unsafe());
            dims_[d] = nulls_.Matches(s) ? std::string_view() : s;
          } else if (!value.is_null()) {
            dim_storage_[d] = simdjson::minify(value);
            dims_[d] = dim_storage_[d];
          }
          break;
        }
        case Role::kMetric: {
          double& slot = metrics_[static_cast<size_t>(k->index)];
          if (value.is_null()) {
            ++counts_.null_cells;
          } else if (value.is_bool()) {
            slot = value.get_bool().value_unsafe() ? 1 : 0;
            ++good;
          } else if (value.is_number()) {
            slot = value.get_double().value_unsafe();
            if (std::fabs(slot) <= kMaxMetricMagnitude) {
              ++good;
            } else {
              slot = NAN;
              bad_cells_.push_back(i);
            }
          } else if (value.is_string()) {
            switch (ParseMetricCell(value.get_string().value_unsafe(), nulls_, slot)) {
              case CellResult::kValue: ++good; break;
              case CellResult::kNull: ++counts_.null_cells; break;
              case CellResult::kBad: bad_cells_.push_back(i); break;
            }
          }
          break;
        }
        case Role::kNone: break;
      }
    }
    const std::string_view raw = raw_(line);
    if (!have_time) {
      sink.OnReject(RejectReason::kMissingTimestamp, "event time is missing", line_no, raw);
    } else if (!ts) {
      sink.OnReject(RejectReason::kBadTimestamp, bad_time, line_no, raw);
    } else if (device.empty()) {
      sink.OnReject(RejectReason::kMissingDeviceId, "device id is missing", line_no, raw);
    } else if (replaced_ > 0 && device.find("\xEF\xBF\xBD") != std::string_view::npos) {
      sink.OnReject(RejectReason::kBadEncoding,
                    fmt::format("device id '{}' is not valid UTF-8 (set silver.encoding = \"latin-1\" for "
                                "Latin-1 files)",
                                Shown(device, TextEncoding::kUtf8)),
                    line_no, raw);
    } else if (!bad_cells_.empty() && good == 0) {
      const JsonField& f = fields_[bad_cells_[0]];
      sink.OnReject(RejectReason::kBadNumber,
                    fmt::format("column '{}': {}{}", keys_[key_index_[f.key]].name, JsonBadNumberDetail(f.value),
                                bad_cells_.size() > 1 ? fmt::format(" (and {} more)", bad_cells_.size() - 1) : ""),
                    line_no, raw);
    } else {
      for (const size_t i : bad_cells_) {
        const JsonField& f = fields_[i];
        ++counts_.cell_rejects;
        sink.OnCellReject(RejectReason::kBadNumber, keys_[key_index_[f.key]].name, JsonBadNumberDetail(f.value),
                          line_no, raw);
      }
      for (const size_t i : unsupported_) {
        const JsonField& f = fields_[i];
        ++counts_.cell_rejects;
        sink.OnCellReject(RejectReason::kUnsupportedValue, f.key, UnsupportedDetail(f, depth), line_no, raw);
      }
      if (!ts_info.had_zone) ++counts_.zoneless_timestamps;
      if (ts_info.rounded) ++counts_.rounded_timestamps;
      counts_.replaced_characters += replaced_;
      ParsedRow row;
      row.metrics = metrics_.data();
      row.dimensions = dims_.data();
      row.ts = *ts;
      row.device_id = device;
      row.line = line_no;
      sink.OnRow(row);
    }
  }

  ParseCounts& counts() { return counts_; }
  const std::vector<std::string>& dimension_names() const { return dimension_names_; }
  const std::vector<std::string>& metric_names() const { return metric_names_; }

 private:
  enum class Role : uint8_t { kTime, kDevice, kDimension, kMetric, kNone };
  struct KeyInfo {
    int64_t numbers = 0;   // values that are numbers (or numeric strings, booleans)
    int64_t texts = 0;     // strings that are neither numbers nor null tokens
    bool scalar = false;   // any value that can be stored (not only arrays / deep objects)
    Role role = Role::kNone;
    int index = -1;
    std::string name;      // final (renamed) column name
  };

  const ColumnRoles roles_;
  NullTokens nulls_;
  RawText raw_;
  TimestampOptions topts_;
  ParseCounts counts_;
  simdjson::dom::parser parser_;
  std::string padded_;
  std::string prefix_;
  std::vector<JsonField> fields_;
  size_t nfields_ = 0;
  std::vector<size_t> order_;
  std::string duplicate_;
  int64_t replaced_ = 0;  // invalid bytes replaced in the current line
  std::unordered_map<std::string, size_t> key_index_;
  std::vector<std::string> key_order_;
  std::vector<KeyInfo> keys_;
  size_t assigned_ = 0;  // keys_ [0, assigned_) have their role
  bool have_time_ = false;
  bool have_device_ = false;
  std::vector<std::string> dimension_names_;
  std::vector<std::string> metric_names_;
  // One row's values.
  std::vector<double> metrics_;
  std::vector<std::string_view> dims_;
  std::vector<std::string> dim_storage_;
  std::vector<size_t> bad_cells_;
  std::vector<size_t> unsupported_;
  std::string device_storage_;
};

/// Physical lines of a text, without their CR.
class LineCursor {
 public:
  explicit LineCursor(std::string_view data) : data_(data) {}
  bool Next(std::string_view& line) {
    if (pos_ >= data_.size()) return false;
    const size_t nl = data_.find('\n', pos_);
    const size_t end = nl == std::string_view::npos ? data_.size() : nl;
    line = data_.substr(pos_, end - pos_);
    pos_ = nl == std::string_view::npos ? data_.size() : nl + 1;
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
  }
  int64_t line_no() const { return line_no_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  int64_t line_no_ = 0;
};

}  // namespace

struct JsonMessageParser::Impl : JsonLineState {
  using JsonLineState::JsonLineState;
  bool schema_sent = false;
};

JsonMessageParser::JsonMessageParser(const ColumnRoles& roles, std::string_view sample)
    : impl_(std::make_unique<Impl>(roles)) {
  if (sample.substr(0, 3) == "\xEF\xBB\xBF") sample.remove_prefix(3);  // as ParseJsonLines does
  LineCursor lines(sample);
  std::string_view line;
  while (lines.Next(line)) {
    if (impl_->ParseLine(line) == JsonLineState::LineStatus::kOk) impl_->CountKeys();
  }
  impl_->AssignRoles();
}
JsonMessageParser::~JsonMessageParser() = default;
JsonMessageParser::JsonMessageParser(JsonMessageParser&&) noexcept = default;
JsonMessageParser& JsonMessageParser::operator=(JsonMessageParser&&) noexcept = default;

ParseCounts JsonMessageParser::Parse(std::string_view message, int64_t line, RowSink& sink) {
  Impl& p = *impl_;
  if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  if (!message.empty() && message.back() == '\r') message.remove_suffix(1);
  p.counts() = ParseCounts();
  const auto status = p.ParseLine(message);
  if (status == JsonLineState::LineStatus::kOk) {
    p.CountKeys();
    if (p.AssignRoles()) p.schema_sent = false;
  }
  if (!p.schema_sent) {
    sink.OnSchema(p.dimension_names(), p.metric_names());
    p.schema_sent = true;
  }
  p.Row(status, message, line, sink);
  p.counts().physical_lines = 1 + std::count(message.begin(), message.end(), '\n');
  return p.counts();
}

const std::vector<std::string>& JsonMessageParser::dimension_names() const { return impl_->dimension_names(); }
const std::vector<std::string>& JsonMessageParser::metric_names() const { return impl_->metric_names(); }

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

namespace {
/// A file that holds only a UTF-8 BOM (and so nothing once it is stripped) still has one line:
/// a blank one (found by fuzz/jsonl).
ParseCounts CountBomOnlyLine(std::string_view data, ParseCounts counts) {
  if (data == "\xEF\xBB\xBF" && counts.physical_lines == 0) {
    counts.physical_lines = 1;
    counts.blank_lines += 1;
  }
  return counts;
}

}  // namespace

// The whole-file paths are the message paths run over a file: a header (CSV) or the keys of
// every line (JSON) first, then each line through the same code a message takes.
ParseCounts ParseCsv(std::string_view data, const ColumnRoles& roles, RowSink& sink) {
  std::string_view text = data;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  ParseCounts counts;
  size_t pos = 0;
  int64_t line_no = 0;
  const auto header_line = HeaderLine(text, pos, line_no, counts.blank_lines);
  if (!header_line) {
    counts.physical_lines = line_no;
    sink.OnSchema({}, {});
    return CountBomOnlyLine(data, counts);
  }
  const std::string_view rest = text.substr(pos);
  CsvHeader header = CsvHeader::Make(*header_line, roles, rest);
  counts.replaced_characters = header.replaced_characters();
  if (rest.empty()) {  // a header and nothing else
    sink.OnSchema(header.dimension_names(), header.metric_names());
    counts.physical_lines = line_no;
    return counts;
  }
  CsvMessageParser parser(std::move(header));  // sends OnSchema first
  counts += parser.Parse(rest, line_no + 1, sink);
  counts.physical_lines += line_no;
  return counts;
}

ParseCounts ParseJsonLines(std::string_view data, const ColumnRoles& roles, RowSink& sink) {
  std::string_view text = data;
  // A UTF-8 BOM (Windows exports) would make the first line invalid JSON.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  JsonLineState state(roles);
  std::string_view line;
  // Pass 1: every key of the file, typed.
  for (LineCursor lines(text); lines.Next(line);) {
    if (state.ParseLine(line) == JsonLineState::LineStatus::kOk) state.CountKeys();
  }
  state.AssignRoles();
  sink.OnSchema(state.dimension_names(), state.metric_names());
  LineCursor lines(text);
  while (lines.Next(line)) state.Row(state.ParseLine(line), line, lines.line_no(), sink);
  state.counts().physical_lines = lines.line_no();
  return CountBomOnlyLine(data, state.counts());
}

}  // namespace iotad::parse
