#pragma once
// The parse module's options from the lake's `[silver]` config, so bronze's event hour reads a
// file the way silver reads its rows (silver builds the same roles from the same keys).
#include "iotad/config/config.h"
#include "iotad/parse/row_parser.h"

namespace iotad::ingest {

/// Column roles and reading options from `[silver]`: time_columns, device_columns,
/// dimension_columns, delimiter ("" or "auto" detects, "tab" or "\t", or one character),
/// encoding, null_values, max_line_bytes, json_flatten_depth, default_timezone (as its resolved
/// offset). Lake-learnt roles (known metrics, detected dimensions) are the caller's to add.
parse::ColumnRoles ColumnRolesFromConfig(const config::SilverConfig& silver);

/// `silver.delimiter` as a character: 0 to detect ("" or "auto"), TAB for "tab" or "\t".
char DelimiterFromConfig(const std::string& delimiter);

}  // namespace iotad::ingest
