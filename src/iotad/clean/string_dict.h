#pragma once
// Interns short strings (device ids, locations) to dense uint32 ids, so hot loops move ids and
// not strings. Id 0 is reserved for NULL / empty.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace iotad::clean {

class StringDict {
 public:
  StringDict() { values_.emplace_back(); }

  /// Id of `s`, adding it when new; "" gives 0.
  uint32_t Intern(std::string_view s) {
    if (s.empty()) return 0;
    if (s == last_) return last_id_;  // rows of one device often come together
    auto it = index_.find(s);
    uint32_t id;
    if (it != index_.end()) {
      id = it->second;
    } else {
      id = static_cast<uint32_t>(values_.size());
      values_.emplace_back(s);
      index_.emplace(values_.back(), id);
    }
    last_ = values_[id];
    last_id_ = id;
    return id;
  }
  std::string_view Get(uint32_t id) const { return values_[id]; }
  size_t size() const { return values_.size(); }

  /// rank[id] = position of the string in sorted order (for output sorted by device id).
  const std::vector<uint32_t>& SortedRanks() {
    if (ranks_.size() != values_.size()) {
      std::vector<uint32_t> order(values_.size());
      for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return values_[a] < values_[b]; });
      ranks_.assign(values_.size(), 0);
      for (uint32_t r = 0; r < order.size(); ++r) ranks_[order[r]] = r;
    }
    return ranks_;
  }

 private:
  std::deque<std::string> values_;  // stable addresses: index_ keys view into them
  std::unordered_map<std::string_view, uint32_t> index_;
  std::string_view last_;
  uint32_t last_id_ = 0;
  std::vector<uint32_t> ranks_;
};

}  // namespace iotad::clean
