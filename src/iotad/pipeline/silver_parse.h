#pragma once
// Silver's parse worker: reads the plan's bronze files in order, parses them into per-hour
// buffers (with dedup within each hour) and hands hours and quarantine records to the writer
// worker. Internal to pipeline/silver*.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "iotad/lake/lake.h"
#include "iotad/pipeline/silver.h"
#include "iotad/pipeline/silver_plan.h"
#include "iotad/pipeline/silver_state.h"

namespace iotad::pipeline::silver {

/// The parse worker's local state once it is done, for the combine step.
struct ParseResult {
  std::vector<FileCounts> per_file;  // by source id
  std::map<std::string, int64_t> reasons;       // whole rows quarantined
  std::map<std::string, int64_t> cell_reasons;  // per-cell records
  LakeColumns lake_columns;  // the lake's roles after this batch
  ParseTotals totals;
  double cpu_seconds = 0;  // reading and parsing (not waiting for the writer)
  /// Files the reader thread parsed with other column roles than the worker's, parsed again by
  /// the worker (never expected: both follow the same schemas; tests check it stays 0).
  int64_t files_parsed_again = 0;
};

/// Runs the parse worker on the calling thread: every input of the plan, in order. Tasks go to
/// `emit` (which may block: the queue is bounded); every hour has been emitted when it returns.
/// Reads bronze through the lake's store only.
ParseResult ParseBronze(lake::Lake& lake, const SilverPlan& plan, BufferPool& pool,
                        const std::function<void(Task)>& emit);

}  // namespace iotad::pipeline::silver
