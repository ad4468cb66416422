#pragma once
// Reading optional fields of a parsed JSON object (simdjson's DOM): records of the lake (commit
// meta, run records) whose fields were added over time, so an absent or mistyped field reads as
// empty rather than failing the whole record.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace iotad::lake::json_fields {

/// The string at `key`; empty when absent or not a string.
inline std::string Str(simdjson::dom::element obj, std::string_view key) {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

/// The object at `key` as name -> integer; fields that are not integers are left out.
inline std::map<std::string, int64_t> IntMap(simdjson::dom::element obj, std::string_view key) {
  std::map<std::string, int64_t> out;
  simdjson::dom::object map;
  if (obj[key].get_object().get(map) != simdjson::SUCCESS) return out;
  for (auto field : map) {
    int64_t v = 0;
    if (field.value.get_int64().get(v) == simdjson::SUCCESS) out[std::string(field.key)] = v;
  }
  return out;
}

}  // namespace iotad::lake::json_fields
