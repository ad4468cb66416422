#include "iotad/lake/schema.h"

#include <fmt/format.h>

namespace iotad::lake {

std::vector<ColumnSpec> ColumnSpecs(std::span<const Column> columns) {
  std::vector<ColumnSpec> out;
  out.reserve(columns.size());
  for (const Column& c : columns) out.push_back({std::string(c.name), c.type});
  return out;
}

std::string NullSelectList(std::span<const Column> columns) {
  std::string out;
  for (const Column& c : columns) {
    out += fmt::format("{}NULL::{} AS \"{}\"", out.empty() ? "" : ", ", SqlTypeName(c.type), c.name);
  }
  return out;
}

std::string ColumnsStruct(std::span<const Column> columns) {
  std::string out;
  for (const Column& c : columns) {
    out += fmt::format("{}\"{}\": '{}'", out.empty() ? "{" : ", ", c.name, SqlTypeName(c.type));
  }
  return out + "}";
}

}  // namespace iotad::lake
