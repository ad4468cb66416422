#pragma once
// Helpers of the data endpoints (api_meta/overview/device.cpp): WHERE clauses whose values are
// bound parameters, and reading result cells.
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/lake/duck.h"
#include "iotad/serve/api_internal.h"

namespace iotad::serve::sql {

/// A conjunction of conditions and the values bound to its `?`s, in order.
struct Where {
  std::vector<std::string> conditions;
  std::vector<lake::DuckParam> params;

  /// `column IN (?, ?, ...)` over `values` (nothing when empty). `column` is our own text.
  void In(std::string_view column, const std::vector<std::string>& values) {
    if (values.empty()) return;
    std::string c = std::string(column) + " IN (";
    for (size_t i = 0; i < values.size(); ++i) {
      c += i ? ", ?" : "?";
      params.emplace_back(values[i]);
    }
    conditions.push_back(c + ")");
  }
  /// `column >= ? AND column < ?` over a time column (TIMESTAMPTZ).
  void Between(std::string_view column, TimestampUs from, TimestampUs to) {
    conditions.push_back(fmt::format("{} >= ? AND {} < ?", column, column));
    params.emplace_back(lake::DuckTimestamp{from});
    params.emplace_back(lake::DuckTimestamp{to});
  }
  void Add(std::string condition, std::vector<lake::DuckParam> values = {}) {
    conditions.push_back(std::move(condition));
    for (auto& v : values) params.push_back(std::move(v));
  }
  std::string Sql() const {
    if (conditions.empty()) return "true";
    std::string out;
    for (size_t i = 0; i < conditions.size(); ++i) {
      if (i) out += " AND ";
      out += "(" + conditions[i] + ")";
    }
    return out;
  }
};

/// Every row of a result, chunk by chunk: `fn(chunk, row)`.
template <typename Fn>
Status ForEachRow(lake::DuckResult& result, Fn&& fn) {
  for (;;) {
    IOTAD_ASSIGN_OR_RETURN(lake::DuckChunk chunk, result.Next());
    if (!chunk || chunk.size() == 0) return Status::Ok();
    for (size_t row = 0; row < chunk.size(); ++row) IOTAD_TRY(fn(chunk, row));
  }
}

inline std::optional<int64_t> Int(const lake::DuckChunk& c, size_t col, size_t row) {
  if (!lake::DuckChunk::IsValid(c.Validity(col), row)) return std::nullopt;
  return c.Data<int64_t>(col)[row];
}
inline std::optional<double> Dbl(const lake::DuckChunk& c, size_t col, size_t row) {
  if (!lake::DuckChunk::IsValid(c.Validity(col), row)) return std::nullopt;
  return c.Data<double>(col)[row];
}
inline std::optional<std::string> Str(const lake::DuckChunk& c, size_t col, size_t row) {
  if (!lake::DuckChunk::IsValid(c.Validity(col), row)) return std::nullopt;
  return std::string(c.Strings(col)[row]);
}

inline void OptDouble(JsonWriter& json, std::optional<double> v) {
  (v && std::isfinite(*v)) ? json.Double(*v) : json.Null();
}
inline void OptString(JsonWriter& json, const std::optional<std::string>& v) { v ? json.String(*v) : json.Null(); }

inline Response JsonResponse(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

}  // namespace iotad::serve::sql
