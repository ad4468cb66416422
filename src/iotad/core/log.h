#pragma once
// The process's one logger: diagnostics (warnings, stage progress, errors) on stderr, as text
// for people or as JSON lines for machines. Command output (reports, query results) is not a
// log and stays on stdout. spdlog does the writing and level filtering; this header keeps it out
// of every other file.
//
// Text: `iotad: <msg>`, the fields are not shown (the message says what a person needs).
// JSON: one object a line: {"ts":"<UTC, microseconds>","level":"info","msg":"...",<fields>}.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "iotad/core/clock.h"
#include "iotad/core/result.h"

namespace iotad::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

/// `debug`, `info`, `warn`, `error`, `off`.
Result<Level> ParseLevel(std::string_view text);
std::string_view LevelName(Level level);
/// `text`, `json`.
Result<Format> ParseFormat(std::string_view text);

/// One key-value field of a record. Holds views: valid for the duration of the logging call.
class Field {
 public:
  enum class Kind { kString, kInt, kDouble, kBool, kJson };
  Field(std::string_view key, std::string_view value) : key_(key), kind_(Kind::kString), text_(value) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, int64_t value) : key_(key), kind_(Kind::kInt), int_(value) {}
  Field(std::string_view key, int value) : Field(key, static_cast<int64_t>(value)) {}
  Field(std::string_view key, uint64_t value) : Field(key, static_cast<int64_t>(value)) {}
  Field(std::string_view key, double value) : key_(key), kind_(Kind::kDouble), double_(value) {}
  Field(std::string_view key, bool value) : key_(key), kind_(Kind::kBool), int_(value ? 1 : 0) {}
  /// A value that is already JSON text (an object of counts), inserted as is in JSON lines.
  static Field Json(std::string_view key, std::string_view json) {
    Field f(key, json);
    f.kind_ = Kind::kJson;
    return f;
  }
  std::string_view key() const { return key_; }
  /// Appends the value as JSON.
  void AppendJson(std::string& out) const;

 private:
  std::string_view key_;
  Kind kind_;
  std::string_view text_;
  int64_t int_ = 0;
  double double_ = 0;
};

using Fields = std::initializer_list<Field>;

/// Sets format, threshold and the clock that stamps JSON records (which must outlive the
/// logger; nullptr: the system clock). Call once at start, before any thread logs; until then
/// records are text at `warn`.
void Configure(Format format, Level level, const Clock* clock = nullptr);
Format CurrentFormat();
bool Enabled(Level level);

/// Writes one record if `level` passes the threshold. Thread-safe; one write per record.
void Write(Level level, std::string_view msg, std::span<const Field> fields);
inline void Write(Level level, std::string_view msg, Fields fields = {}) {
  Write(level, msg, std::span<const Field>(fields.begin(), fields.size()));
}
inline void Debug(std::string_view msg, Fields fields = {}) { Write(Level::kDebug, msg, fields); }
inline void Info(std::string_view msg, Fields fields = {}) { Write(Level::kInfo, msg, fields); }
inline void Warn(std::string_view msg, Fields fields = {}) { Write(Level::kWarn, msg, fields); }
inline void Error(std::string_view msg, Fields fields = {}) { Write(Level::kError, msg, fields); }

/// The line (without newline) a record becomes, for each format. `ts`, `level` and `msg` come
/// first; a field named like one of them is left out of the JSON.
std::string FormatJsonLine(TimestampUs ts, Level level, std::string_view msg, std::span<const Field> fields);
inline std::string FormatJsonLine(TimestampUs ts, Level level, std::string_view msg, Fields fields) {
  return FormatJsonLine(ts, level, msg, std::span<const Field>(fields.begin(), fields.size()));
}
std::string FormatTextLine(std::string_view msg);

}  // namespace iotad::log
