#pragma once
// A small JSON writer for state files and run records (reading uses simdjson).
#include <cstdint>
#include <string>
#include <string_view>

#include "iotad/core/timestamp.h"

namespace iotad {

/// Appends `text` as a JSON string literal (quotes included).
void AppendJsonString(std::string& out, std::string_view text);

/// Builds one JSON object or array by appending; the caller keeps the nesting right.
class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  JsonWriter& Timestamp(TimestampUs value) { return String(FormatTimestamp(value)); }
  /// Inserts pre-built JSON text as a value.
  JsonWriter& Raw(std::string_view json);
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void Separate();
  std::string out_;
  bool need_comma_ = false;
  bool after_key_ = false;
};

}  // namespace iotad
