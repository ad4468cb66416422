#include "iotad/clean/hour_buffer.h"

#include <algorithm>

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
  for (size_t i = 0; i < n; ++i) {
    keys[i] = (static_cast<uint64_t>(device_rank[b.device[i]]) << 32) | b.offset[i];
    order[i] = static_cast<uint32_t>(i);
  }
  RadixSort(keys, order);
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
