#pragma once
// Printing what `iotad eval` computed: aligned tables for people, one JSON object for machines.
#include <string>

#include "iotad/core/json.h"
#include "iotad/eval/events.h"
#include "iotad/eval/nab_eval.h"

namespace iotad::eval {

/// The NAB table (one row per profile: normalised score, threshold, raw score, windows hit,
/// false-alarm events), per-file rows when asked, then the event-level table.
std::string FormatEvalTable(const EvalReport& report, bool per_file);
/// One JSON object with every figure (per-file figures when asked); NaN and infinity are null.
std::string FormatEvalJson(const EvalReport& report, bool per_file);

/// The event-level table alone (kinds, then alerts and false alarms per device-day).
std::string FormatEventTable(const EventMetrics& metrics);
/// The event-level figures as one JSON object value.
void WriteEventJson(JsonWriter& w, const EventMetrics& metrics);

}  // namespace iotad::eval
