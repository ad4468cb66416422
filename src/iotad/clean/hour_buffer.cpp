#include "iotad/clean/hour_buffer.h"

#include <algorithm>
#include <tuple>

namespace iotad::clean {
namespace {

bool SameRow(const HourBuffer& b, uint32_t x, uint32_t y) {
  for (const auto& m : b.metrics) {
    if (!SameValue(m[x], m[y])) return false;
  }
  for (const auto& d : b.dims) {
    if (d[x] != d[y]) return false;
  }
  return true;
}

/// Fills the NULLs of row x with row y's values (y is Mergeable into x).
void MergeInto(HourBuffer& b, uint32_t x, uint32_t y) {
  for (auto& m : b.metrics) {
    if (std::isnan(m[x])) m[x] = m[y];
  }
  for (auto& d : b.dims) {
    if (d[x] == 0) d[x] = d[y];
  }
}

/// Rows in (device rank, offset) order, equal keys in row order: `keys` the sorted keys,
/// `order` the rows. A counting sort by device (one pass; the rows of an hour come in time order
/// in the usual case), then a device whose own rows are out of time order is sorted alone.
/// Three radix passes over the whole hour cost several times more. With few rows for many
/// devices (a late-row buffer), the radix sort is cheaper than the counters.
void DeviceTimeSort(const HourBuffer& b, const std::vector<uint32_t>& device_rank, std::vector<uint64_t>& keys,
                    std::vector<uint32_t>& order) {
  const size_t n = b.size(), nd = device_rank.size();
  if (n < nd / 4) {
    for (size_t i = 0; i < n; ++i) {
      keys[i] = (static_cast<uint64_t>(device_rank[b.device[i]]) << 32) | b.offset[i];
      order[i] = static_cast<uint32_t>(i);
    }
    RadixSort(keys, order);
    return;
  }
  std::vector<uint32_t> start(nd + 1, 0);
  for (size_t i = 0; i < n; ++i) ++start[device_rank[b.device[i]] + 1];
  for (size_t r = 0; r < nd; ++r) start[r + 1] += start[r];
  std::vector<uint32_t> next(start.begin(), start.end() - 1);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t rank = device_rank[b.device[i]];
    const uint32_t slot = next[rank]++;
    keys[slot] = (static_cast<uint64_t>(rank) << 32) | b.offset[i];
    order[slot] = static_cast<uint32_t>(i);
  }
  std::vector<std::pair<uint64_t, uint32_t>> run;
  for (size_t rank = 0; rank < nd; ++rank) {
    const auto first = keys.begin() + start[rank], last = keys.begin() + start[rank + 1];
    if (std::is_sorted(first, last)) continue;
    run.clear();
    for (size_t i = start[rank]; i < start[rank + 1]; ++i) run.emplace_back(keys[i], order[i]);
    std::stable_sort(run.begin(), run.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 0; i < run.size(); ++i) std::tie(keys[start[rank] + i], order[start[rank] + i]) = run[i];
  }
}

}  // namespace

bool Mergeable(const HourBuffer& b, uint32_t x, uint32_t y) {
  for (const auto& m : b.metrics) {
    if (!std::isnan(m[x]) && !std::isnan(m[y]) && m[x] != m[y]) return false;
  }
  for (const auto& d : b.dims) {
    if (d[x] != 0 && d[y] != 0 && d[x] != d[y]) return false;
  }
  return true;
}

void RadixSort(std::vector<uint64_t>& keys) {
  std::vector<uint32_t> none;
  RadixSort(keys, none);
}

void RadixSort(std::vector<uint64_t>& keys, std::vector<uint32_t>& idx) {
  const bool with_index = !idx.empty();
  const size_t n = keys.size();
  std::vector<uint64_t> k2(n);
  std::vector<uint32_t> i2(with_index ? n : 0);
  uint64_t all_or = 0;
  for (uint64_t k : keys) all_or |= k;
  for (int shift = 0; shift < 64; shift += 16) {
    if (((all_or >> shift) & 0xffff) == 0) continue;  // no bits here: already in order
    std::vector<uint32_t> count(65537, 0);
    for (uint64_t k : keys) ++count[((k >> shift) & 0xffff) + 1];
    for (size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
    for (size_t i = 0; i < n; ++i) {
      const uint32_t slot = count[(keys[i] >> shift) & 0xffff]++;
      k2[slot] = keys[i];
      if (with_index) i2[slot] = idx[i];
    }
    keys.swap(k2);
    if (with_index) idx.swap(i2);
  }
}

DedupResult Deduplicate(HourBuffer& b, const std::vector<uint32_t>& device_rank) {
  const size_t n = b.size();
  std::vector<uint64_t> keys(n);
  std::vector<uint32_t> order(n);
  DeviceTimeSort(b, device_rank, keys, order);
  DedupResult r;
  r.keep.reserve(n);
  size_t i = 0;
  while (i < n) {
    const uint32_t first = order[i];
    r.keep.push_back(first);
    size_t j = i + 1;
    while (j < n && keys[j] == keys[i]) {
      const uint32_t other = order[j];
      if (SameRow(b, first, other)) {
        r.duplicates.push_back(other);
      } else if (Mergeable(b, first, other)) {
        MergeInto(b, first, other);
        r.merged.push_back(other);
      } else {
        r.conflicts.emplace_back(other, first);
      }
      ++j;
    }
    i = j;
  }
  return r;
}

}  // namespace iotad::clean
