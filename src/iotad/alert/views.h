#pragma once
// The SQL face of the alert log: tables `alerts`, `alert_deliveries` (one row per attempt, plus
// one with NULL attempt fields for a delivery never attempted) and `silences`, built in a DuckDB
// session from the folded state (temporary tables: the state is small, and the session may then
// be locked down to the lake's folders). Secrets are never in the state, so never here.
#include <string_view>

#include "iotad/alert/types.h"
#include "iotad/core/result.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"

namespace iotad::alert {

/// Whether `sql` names one of the alert tables (empty text: all of them).
bool NamesAlertViews(std::string_view sql);

/// Creates the tables from `state` (with `sql`, only those it names). `now_us` decides the
/// silences' `active` column.
Status CreateAlertViews(lake::DuckSession& session, const AlertState& state, TimestampUs now_us,
                        std::string_view sql = {});

/// Reads the lake's alert log and creates the tables (nothing is read when `sql` names none).
Status CreateAlertViews(lake::DuckSession& session, lake::Lake& lake, std::string_view sql = {});

}  // namespace iotad::alert
