#pragma once
// The `iotad_bronze_lines(keys, paths)` table function behind the `bronze_rows` view: every
// physical line of the given bronze objects (gzip decompressed), as received, with its key and
// line number. It cannot fail on any bytes: invalid UTF-8 and NUL bytes are replaced by U+FFFD
// (`exact` is false), lines longer than kMaxLineText keep their first kMaxLineText bytes
// (`bytes` is the full length), unreadable files and damaged gzip give the lines they could read.
#include <cstddef>
#include <string_view>

#include "iotad/core/result.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/schema.h"

namespace iotad::lake {

inline constexpr size_t kMaxLineText = 16 << 20;

// Columns: schema.h's kBronzeLineColumns (key, line, bytes, text, exact), in that order.

/// Registers the function in the session (once).
Status RegisterBronzeLines(DuckSession& session);

}  // namespace iotad::lake
