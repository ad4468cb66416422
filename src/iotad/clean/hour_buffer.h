#pragma once
// Columnar buffer of one UTC hour's rows, and the dedup that runs when it is flushed.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "iotad/core/timestamp.h"

namespace iotad::clean {

/// Rows of one hour, columnar. Metric and dimension columns grow when a later file brings a new
/// one (older rows read NaN / 0 = NULL there).
struct HourBuffer {
  TimestampUs hour_start = 0;
  std::vector<uint32_t> device;   // StringDict id
  std::vector<uint32_t> offset;   // microseconds since hour_start (< 3.6e9, fits 32 bits)
  std::vector<uint32_t> source;   // index of the bronze file
  std::vector<uint32_t> line;     // line in that file
  std::vector<std::vector<uint32_t>> dims;    // per dimension: StringDict id, 0 = NULL
  std::vector<std::vector<double>> metrics;   // per metric: value, NaN = NULL

  size_t size() const { return device.size(); }
  /// Empties the buffer but keeps its memory, for reuse by the next hour.
  void Clear() {
    device.clear();
    offset.clear();
    source.clear();
    line.clear();
    for (auto& d : dims) d.clear();
    for (auto& m : metrics) m.clear();
  }
  void EnsureMetrics(size_t n) {
    while (metrics.size() < n) metrics.emplace_back(device.size(), NAN);
  }
  void EnsureDims(size_t n) {
    while (dims.size() < n) dims.emplace_back(device.size(), 0);
  }
};

/// Bitwise equality that treats NULL (NaN) as equal to NULL.
inline bool SameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b;
}

/// The order to write a buffer in (by device rank, then time) and which rows are duplicates.
struct DedupResult {
  std::vector<uint32_t> keep;                // row indices to write, sorted
  std::vector<uint32_t> duplicates;          // exact copies of a kept row
  std::vector<uint32_t> merged;              // partial rows absorbed into a kept row
  std::vector<std::pair<uint32_t, uint32_t>> conflicts;  // (row, kept row it collides with)
};

/// Stable LSD radix sort of `keys`, permuting `index` alongside (equal keys keep their order).
void RadixSort(std::vector<uint64_t>& keys, std::vector<uint32_t>& index);
/// Sorts keys alone.
void RadixSort(std::vector<uint64_t>& keys);

/// Sorts by (device rank, time) and sorts the rows that share a key: an exact copy of the kept
/// row is a duplicate (dropped and counted); a row that only adds values the kept row lacks
/// (every metric and dimension equal or NULL on one side: one message per metric, say) is merged
/// into the kept row, which is updated in place; any other is a conflict (quarantined). The first
/// row in arrival order is the kept one.
DedupResult Deduplicate(HourBuffer& buffer, const std::vector<uint32_t>& device_rank);

/// True when row `y` adds to row `x` without contradicting it (each value equal or NULL on one side).
bool Mergeable(const HourBuffer& b, uint32_t x, uint32_t y);

}  // namespace iotad::clean
