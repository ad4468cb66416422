#pragma once
// Interns short strings (device ids, locations) to dense uint32 ids, so hot loops move ids and
// not strings. Id 0 is reserved for NULL / empty. Open addressing with a short-string hash: this
// is on the per-row path of silver.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/hash.h"

namespace iotad::clean {

class StringDict {
 public:
  StringDict() : slots_(1024, 0) { values_.emplace_back(); }

  /// Id of `s`, adding it when new; "" gives 0.
  uint32_t Intern(std::string_view s) {
    if (s.empty()) return 0;
    const size_t mask = slots_.size() - 1;
    for (size_t i = HashShort(s) & mask;; i = (i + 1) & mask) {
      const uint32_t id = slots_[i];
      if (id == 0) return Insert(s, i);
      if (values_[id] == s) return id;
    }
  }
  std::string_view Get(uint32_t id) const { return values_[id]; }
  size_t size() const { return values_.size(); }
  /// A copy of every string, by id (for another thread to read while this one interns).
  std::vector<std::string> Snapshot() const { return {values_.begin(), values_.end()}; }

 private:
  uint32_t Insert(std::string_view s, size_t slot) {
    const auto id = static_cast<uint32_t>(values_.size());
    values_.emplace_back(s);
    slots_[slot] = id;
    if (values_.size() * 2 > slots_.size()) Grow();
    return id;
  }
  void Grow() {
    std::vector<uint32_t> bigger(slots_.size() * 2, 0);
    const size_t mask = bigger.size() - 1;
    for (uint32_t id = 1; id < values_.size(); ++id) {
      size_t i = HashShort(values_[id]) & mask;
      while (bigger[i] != 0) i = (i + 1) & mask;
      bigger[i] = id;
    }
    slots_.swap(bigger);
  }

  std::deque<std::string> values_;
  std::vector<uint32_t> slots_;
};

/// rank[id] = position of strings[id] in sorted order (0 for the empty string at id 0).
inline std::vector<uint32_t> SortedRanks(const std::vector<std::string>& strings) {
  std::vector<uint32_t> order(strings.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return strings[a] < strings[b]; });
  std::vector<uint32_t> ranks(strings.size());
  for (uint32_t r = 0; r < order.size(); ++r) ranks[order[r]] = r;
  return ranks;
}

}  // namespace iotad::clean
