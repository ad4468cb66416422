#pragma once
// Dedup against rows already stored: late rows (for an hour that already has files, from earlier
// runs or earlier flushes of this one) are checked by key against the stored rows; a key already
// there is a duplicate, a merge or a conflict. The lake's reading is the caller's: this knows the
// files only by name.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "iotad/clean/hour_buffer.h"

namespace iotad::clean {

/// A row's key within its hour: device id (in the batch's numbering) << 32 | offset.
inline uint64_t RowKey(uint32_t device, uint32_t offset) {
  return (static_cast<uint64_t>(device) << 32) | offset;
}
inline uint64_t RowKey(const HourBuffer& b, uint32_t i) { return RowKey(b.device[i], b.offset[i]); }

/// Per hour, the files holding its stored rows, and the keys of the rows this run wrote: late
/// rows are checked against those keys without reading the files back. The key cache is bounded
/// (beyond it, a written file joins the files to read back).
class StoredHours {
 public:
  static constexpr size_t kMaxCachedKeys = 8'000'000;

  /// `files`: hour -> files stored before this run (their keys are read back when needed).
  explicit StoredHours(std::map<TimestampUs, std::vector<std::string>> files, size_t max_cached_keys = kMaxCachedKeys);

  /// True when rows for `hour` are late: it already has stored rows.
  bool HasRows(TimestampUs hour) const;
  /// Every file holding rows of `hour`.
  const std::vector<std::string>& Files(TimestampUs hour) const;
  /// The files of `hour` whose keys are not cached: the caller reads their keys back.
  const std::vector<std::string>& Unread(TimestampUs hour) const;
  /// The hour's stored keys, sorted: `read_back` (the sorted keys of the Unread files) with the
  /// cached keys merged in.
  std::vector<uint64_t> Keys(TimestampUs hour, std::vector<uint64_t> read_back) const;

  /// A file this run wrote for `hour`, holding rows `rows` of `b`: later rows are checked against it.
  void AddWritten(TimestampUs hour, const std::string& file, const HourBuffer& b, const std::vector<uint32_t>& rows);
  /// `old_file` was rewritten as `new_file` (late partial rows merged in; the keys are the same).
  void Replace(TimestampUs hour, const std::string& old_file, const std::string& new_file);

  size_t cached_keys() const { return cached_keys_; }

 private:
  std::map<TimestampUs, std::vector<std::string>> files_;
  std::map<TimestampUs, std::vector<std::string>> unread_;
  std::map<TimestampUs, std::vector<uint64_t>> written_keys_;  // sorted, per hour
  size_t max_cached_keys_;
  size_t cached_keys_ = 0;
};

/// The kept rows of a late hour split by their key: `fresh` ones are new to silver (the late
/// rows), `colliding` ones share a key with a stored row. Both keep `keep`'s order.
struct LateSplit {
  std::vector<uint32_t> fresh;
  std::vector<uint32_t> colliding;
};
LateSplit SplitLateRows(const HourBuffer& b, const std::vector<uint32_t>& keep, const std::vector<uint64_t>& stored_keys);

/// A stored row's values in the batch's column order (metrics NaN = NULL, dimensions "" = NULL).
/// Empty `metrics` when the row was not found.
struct StoredRow {
  std::vector<double> metrics;
  std::vector<std::string> dims;
};

/// What a late row is to the stored row with its key.
enum class StoredMatch {
  kDuplicate,  // the same values: dropped and counted
  kMerge,      // only adds values the stored row lacks: the stored file is rewritten with them
  kConflict,   // other values: quarantined (conflicting_duplicate)
};
StoredMatch MatchStored(const HourBuffer& b, uint32_t i, const std::vector<std::string>& dim_values,
                        const StoredRow& stored);

}  // namespace iotad::clean
