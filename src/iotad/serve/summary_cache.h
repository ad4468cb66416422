#pragma once
// gold_summary partitions decoded once and kept in memory, so the fleet views (totals' devices,
// heatmap, summary, filters) aggregate a few hundred thousand rows in a loop instead of
// re-decoding Parquet per request. A gold_summary file is immutable (its key holds its content
// hash), so a part stays valid as long as the file is live; parts of files that left the lake
// are dropped, and a budget on rows bounds the memory (over it, the callers query DuckDB).
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "iotad/serve/api_internal.h"

namespace iotad::serve {

/// Names to small ids, append-only, thread-safe.
class NameIds {
 public:
  uint32_t Id(std::string_view name);
  /// The id of `name`, or -1 when never seen.
  int64_t Find(std::string_view name) const;
  std::string Name(uint32_t id) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::deque<std::string> names_;
};

/// One gold_summary file, column by column.
struct SummaryPart {
  std::vector<TimestampUs> hour;
  std::vector<uint32_t> device, metric;
  std::vector<int32_t> location;  // -1: NULL
  std::vector<int64_t> rows, anomalies;
  std::vector<double> mean, std, min, max;  // NaN: NULL
  size_t size() const { return hour.size(); }
};

class SummaryStore {
 public:
  static constexpr int64_t kMaxRows = 8'000'000;  // ~500 MB of parts at most
  /// The budget in rows: kMaxRows, or IOTAD_SERVE_SUMMARY_CACHE_ROWS (0: off; tests use it to run
  /// the SQL paths).
  int64_t max_rows = kMaxRows;

  NameIds devices, locations, metrics;

  /// The parts of `files`, decoding the missing ones with one query through `ctx`. nullopt
  /// when they would exceed the budget (the caller falls back to SQL).
  Result<std::optional<std::vector<std::shared_ptr<const SummaryPart>>>> Parts(
      Context& ctx, const std::vector<const HourFile*>& files);
  /// Drops parts whose key is not in `state` (called when a new state is built).
  void Retain(const LakeState& state);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const SummaryPart>, std::less<>> parts_;
  int64_t rows_ = 0;
};

/// One silver file's readings counted per location: how many rows, and per metric how many rows
/// have a value. Small (locations x metrics numbers per hour file).
struct SilverCountPart {
  struct Group {
    int32_t location = -1;  // SummaryStore::locations id; -1: NULL
    int64_t rows = 0;
    std::map<uint32_t, int64_t> metric_rows;  // SummaryStore::metrics id -> rows with a value
  };
  std::vector<Group> groups;
};

/// Silver files' counts, computed once per live file (a silver file is never rewritten in place:
/// a late row gives its hour a new file and key), so the readings of an overview over whole hours
/// without a device filter are sums, not a scan of silver. Names share SummaryStore's ids.
class SilverCountStore {
 public:
  /// The parts of `files`, computing the missing ones with one query. nullopt when silver has no
  /// `location` dimension column (the caller then uses SQL).
  Result<std::optional<std::vector<std::shared_ptr<const SilverCountPart>>>> Parts(
      Context& ctx, SummaryStore& names, const std::vector<const HourFile*>& files);
  void Retain(const LakeState& state);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const SilverCountPart>, std::less<>> parts_;
};

/// The API's stores (api.cpp).
SummaryStore& SummaryStoreOf(Api::Impl& api);
SilverCountStore& SilverCountStoreOf(Api::Impl& api);

}  // namespace iotad::serve
