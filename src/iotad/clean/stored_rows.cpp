#include "iotad/clean/stored_rows.h"

#include <algorithm>

namespace iotad::clean {

namespace {
const std::vector<std::string> kNoFiles;
}  // namespace

StoredHours::StoredHours(std::map<TimestampUs, std::vector<std::string>> files, size_t max_cached_keys)
    : files_(std::move(files)), unread_(files_), max_cached_keys_(max_cached_keys) {}

bool StoredHours::HasRows(TimestampUs hour) const {
  auto it = files_.find(hour);
  return it != files_.end() && !it->second.empty();
}

const std::vector<std::string>& StoredHours::Files(TimestampUs hour) const {
  auto it = files_.find(hour);
  return it == files_.end() ? kNoFiles : it->second;
}

const std::vector<std::string>& StoredHours::Unread(TimestampUs hour) const {
  auto it = unread_.find(hour);
  return it == unread_.end() ? kNoFiles : it->second;
}

std::vector<uint64_t> StoredHours::Keys(TimestampUs hour, std::vector<uint64_t> read_back) const {
  auto cached = written_keys_.find(hour);
  if (cached == written_keys_.end()) return read_back;
  std::vector<uint64_t> merged(read_back.size() + cached->second.size());
  std::merge(read_back.begin(), read_back.end(), cached->second.begin(), cached->second.end(), merged.begin());
  return merged;
}

void StoredHours::AddWritten(TimestampUs hour, const std::string& file, const HourBuffer& b,
                             const std::vector<uint32_t>& rows) {
  files_[hour].push_back(file);
  if (cached_keys_ + rows.size() > max_cached_keys_) {
    unread_[hour].push_back(file);
    return;
  }
  auto& cache = written_keys_[hour];
  // Silver writes rows grouped by device, each device's in time order: putting the devices' runs
  // in id order sorts the keys (a sort of the devices, not of every row). Any other order is
  // radix-sorted.
  struct Run {
    uint32_t device, begin, end;
  };
  std::vector<Run> runs;
  for (uint32_t i = 0; i < rows.size(); ++i) {
    if (runs.empty() || b.device[rows[i]] != runs.back().device) runs.push_back({b.device[rows[i]], i, i});
    runs.back().end = i + 1;
  }
  std::sort(runs.begin(), runs.end(), [](const Run& x, const Run& y) { return x.device < y.device; });
  std::vector<uint64_t> keys;
  keys.reserve(rows.size());
  for (const Run& run : runs) {
    for (uint32_t i = run.begin; i < run.end; ++i) keys.push_back(RowKey(b, rows[i]));
  }
  if (!std::is_sorted(keys.begin(), keys.end())) RadixSort(keys);
  std::vector<uint64_t> merged(cache.size() + keys.size());
  std::merge(cache.begin(), cache.end(), keys.begin(), keys.end(), merged.begin());
  cache.swap(merged);
  cached_keys_ += rows.size();
}

void StoredHours::Replace(TimestampUs hour, const std::string& old_file, const std::string& new_file) {
  auto& files = files_[hour];
  std::replace(files.begin(), files.end(), old_file, new_file);
  auto& unread = unread_[hour];
  std::replace(unread.begin(), unread.end(), old_file, new_file);
}

LateSplit SplitLateRows(const HourBuffer& b, const std::vector<uint32_t>& keep, const std::vector<uint64_t>& stored_keys) {
  LateSplit out;
  for (uint32_t i : keep) {
    if (std::binary_search(stored_keys.begin(), stored_keys.end(), RowKey(b, i))) out.colliding.push_back(i);
    else out.fresh.push_back(i);
  }
  return out;
}

StoredMatch MatchStored(const HourBuffer& b, uint32_t i, const std::vector<std::string>& dim_values,
                        const StoredRow& stored) {
  const auto& [metrics, dims] = stored;
  bool same = metrics.size() == b.metrics.size();
  for (size_t m = 0; same && m < b.metrics.size(); ++m) same = SameValue(b.metrics[m][i], metrics[m]);
  for (size_t d = 0; same && d < b.dims.size(); ++d) same = dim_values[b.dims[d][i]] == dims[d];
  if (same) return StoredMatch::kDuplicate;
  bool mergeable = metrics.size() == b.metrics.size();
  for (size_t m = 0; mergeable && m < b.metrics.size(); ++m) {
    const double v = b.metrics[m][i];
    mergeable = std::isnan(v) || std::isnan(metrics[m]) || v == metrics[m];
  }
  for (size_t d = 0; mergeable && d < b.dims.size(); ++d) {
    const std::string& v = dim_values[b.dims[d][i]];
    mergeable = v.empty() || dims[d].empty() || v == dims[d];
  }
  return mergeable ? StoredMatch::kMerge : StoredMatch::kConflict;
}

}  // namespace iotad::clean
