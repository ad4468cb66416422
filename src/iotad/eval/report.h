#pragma once
// Printing what `iotad eval` computed: aligned tables for people, one JSON object for machines.
#include <string>
#include <vector>

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

/// Each labelled event (`labels`, as given to ComputeEventMetrics) found or missed, when its first
/// detection came and what it said; then each false alert: for finding out why a detector misses
/// what it misses.
std::string FormatEventListing(const EventMetrics& metrics, const std::vector<LabelledEvent>& labels);
/// The same as two JSON arrays, the values of keys "per_event" and "false_alerts" of the object
/// being written.
void WriteEventListingJson(JsonWriter& w, const EventMetrics& metrics, const std::vector<LabelledEvent>& labels);

}  // namespace iotad::eval
