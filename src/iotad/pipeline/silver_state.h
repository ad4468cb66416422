#pragma once
// Silver's global state (what the workers share: the queue of tasks from the parse worker to the
// writer worker, and the pool their hour buffers cycle through) and the tasks themselves.
// Internal to pipeline/silver*.
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "iotad/clean/hour_buffer.h"
#include "iotad/clean/quarantine.h"
#include "iotad/core/buffer_pool.h"
#include "iotad/core/queue.h"

namespace iotad::pipeline::silver {

/// Per bronze file. rows == stored + quarantined + duplicates + merged; cells (per-cell
/// quarantine records) are not rows.
struct FileCounts {
  int64_t rows = 0, stored = 0, quarantined = 0, duplicates = 0, merged = 0, cells = 0;
  void Add(const FileCounts& o) {
    rows += o.rows, stored += o.stored, quarantined += o.quarantined, duplicates += o.duplicates;
    merged += o.merged, cells += o.cells;
  }
};

using Strings = std::shared_ptr<const std::vector<std::string>>;

/// One hour handed from the parse worker to the writer worker, with the names its ids refer to.
struct HourTask {
  clean::HourBuffer buffer;
  Strings devices;
  Strings dim_values;
  std::vector<std::string> dim_names;
  std::vector<std::string> metric_names;
  // Sorted-order rank of each device id, for the writer's Deduplicate (done there: the parse
  // worker is silver's one serial chain; the writer and its encoders have time to spare).
  std::shared_ptr<const std::vector<uint32_t>> ranks;
};
struct QuarantineTask {
  std::vector<clean::QuarantineRow> rows;
};
using Task = std::variant<HourTask, QuarantineTask>;

using TaskQueue = BoundedQueue<Task>;
using BufferPool = iotad::BufferPool<clean::HourBuffer>;

/// What the two workers share.
struct GlobalState {
  // Two hours in flight at most besides the open buffers: memory stays bounded.
  TaskQueue queue{1};
  BufferPool pool;
};

/// CPU seconds used so far by the calling thread (wall time would count waiting for the other).
double ThreadCpuSeconds();

}  // namespace iotad::pipeline::silver
