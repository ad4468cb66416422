#include "iotad/ingest/parse_options.h"

namespace iotad::ingest {

char DelimiterFromConfig(const std::string& delimiter) {
  if (delimiter == "tab" || delimiter == "\t") return '\t';
  if (delimiter.size() == 1) return delimiter[0];
  return 0;  // "" or "auto" (the config accepts nothing else)
}

parse::ColumnRoles ColumnRolesFromConfig(const config::SilverConfig& silver) {
  parse::ColumnRoles roles;
  roles.time_columns = silver.time_columns;
  roles.device_columns = silver.device_columns;
  roles.dimension_columns = silver.dimension_columns;
  roles.delimiter = DelimiterFromConfig(silver.delimiter);
  roles.encoding = silver.encoding == "latin-1" ? parse::TextEncoding::kLatin1 : parse::TextEncoding::kUtf8;
  roles.null_tokens = silver.null_values;
  roles.max_line_bytes = static_cast<size_t>(silver.max_line_bytes);
  roles.json_flatten_depth = static_cast<int>(silver.json_flatten_depth);
  roles.default_utc_offset_minutes = silver.default_utc_offset_minutes;
  return roles;
}

}  // namespace iotad::ingest
