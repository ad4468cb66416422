#pragma once
// Columnar buffer of one UTC hour's rows, and the dedup that runs when it is flushed.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "iotad/core/timestamp.h"

namespace iotad::clean {

/// Rows of one hour, columnar. Metric columns grow when a later file brings a new metric
/// (older rows read NaN = NULL there).
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
  std::vector<std::pair<uint32_t, uint32_t>> conflicts;  // (row, kept row it collides with)
};

/// Stable LSD radix sort of `keys`, permuting `index` alongside (equal keys keep their order).
void RadixSort(std::vector<uint64_t>& keys, std::vector<uint32_t>& index);
/// Sorts keys alone.
void RadixSort(std::vector<uint64_t>& keys);

/// Sorts by (device rank, time) and splits exact duplicates (same device, time and values:
/// dropped and counted) from conflicts (same device and time, other values: quarantined). The
/// first row in arrival order wins.
DedupResult Deduplicate(const HourBuffer& buffer, const std::vector<uint32_t>& device_rank);

}  // namespace iotad::clean
