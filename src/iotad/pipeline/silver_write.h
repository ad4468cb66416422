#pragma once
// Silver's writer worker: dedups each hour against rows already stored (clean/stored_rows),
// streams the kept rows to Parquet in staging, writes the quarantine records, and keeps the
// moves for the commit. Owns the DuckDB session while it runs. Internal to pipeline/silver*.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"
#include "iotad/pipeline/silver_plan.h"
#include "iotad/pipeline/silver_state.h"

namespace iotad::pipeline::silver {

/// The writer worker's local state once it is done, for the combine and finalize steps.
struct WriteResult {
  Status status;                     // the first error; later tasks were drained, not handled
  std::vector<FileCounts> per_file;  // by source id
  std::map<std::string, int64_t> reasons;  // whole rows quarantined here (conflicts)
  std::vector<std::pair<std::string, std::string>> moves;  // staged -> final
  std::vector<std::string> deletes;  // committed files replaced by a rewrite (late partial rows)
  int64_t late_rows = 0;
  int64_t hours_written = 0;
  double cpu_seconds = 0;
};

/// Runs the writer worker on the calling thread until `state.queue` is closed and drained.
WriteResult WriteSilver(lake::Lake& lake, lake::DuckSession& session, const SilverPlan& plan, GlobalState& state);

}  // namespace iotad::pipeline::silver
