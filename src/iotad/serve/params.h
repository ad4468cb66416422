#pragma once
// Validation of query parameters: every problem is a 400 with one sentence naming the parameter.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/serve/http_types.h"

namespace iotad::serve {

/// Limits on what one request may ask for (docs/API.md "Conventions").
inline constexpr size_t kMaxFilterValues = 100;
inline constexpr size_t kMaxFilterValueBytes = 200;
inline constexpr int64_t kMaxRangeDays = 400;

/// The filters every overview endpoint takes. Empty vectors: no filter on that column.
struct Filters {
  std::optional<TimestampUs> from, to;  // as given (to exclusive); resolved later against the lake
  std::vector<std::string> metrics, locations, devices, detectors;
};

/// Reads query parameters by name, remembering which were used, so `Finish` can refuse the
/// unknown ones. Errors are Errc::kInvalidArgument with the 400 sentence.
class Params {
 public:
  explicit Params(const Request& request) : request_(request) {}

  /// All values of `name` (repeats and comma lists flattened), each checked for length, control
  /// characters and count.
  Result<std::vector<std::string>> List(std::string_view name);
  /// The single value of `name`, if present (a repeat is an error).
  Result<std::optional<std::string>> One(std::string_view name);
  /// A required single value.
  Result<std::string> Required(std::string_view name);
  /// An integer in [lo, hi], `fallback` when absent.
  Result<int64_t> Int(std::string_view name, int64_t fallback, int64_t lo, int64_t hi);
  /// RFC 3339 (`2024-01-05T13:00:00Z`, offsets allowed) or `YYYY-MM-DD` (00:00 UTC).
  Result<std::optional<TimestampUs>> Time(std::string_view name);
  /// One of `allowed`, `fallback` when absent.
  Result<std::string> Choice(std::string_view name, std::vector<std::string_view> allowed, std::string_view fallback);
  /// from, to, metric, location, device, detector; checks from < to and the 400-day bound.
  Result<Filters> ReadFilters();
  /// Fails on any parameter no call above asked for ("unknown parameter 'x'").
  Status Finish() const;

 private:
  const Request& request_;
  std::vector<std::string> used_;
};

}  // namespace iotad::serve
