#pragma once
// The detector registry: every detector iotad knows, in one table (registry.cpp). A detector's
// name means one thing everywhere (gold, replay, config, `eval`, `score-file`); its kind says how
// it runs, its version is what gold writes in `detector_version` and keys its up-to-date check on
// (bump it whenever its scores, flags or explanations change: the canary test insists), and its
// parameters (types, ranges, defaults, docs) are checked here for every caller.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/detect/detector.h"

namespace iotad::detect {

/// How a detector runs.
enum class DetectorKind : uint8_t {
  kBatch,   // over all of a series at once (look-ahead): gold only
  kOnline,  // one series, point by point in time order (SeriesDetector)
  kDevice,  // one device, all its metrics at once, point by point
};
std::string_view KindName(DetectorKind kind);

enum class ParamType : uint8_t { kNumber, kInteger };

/// One parameter a detector accepts as `params = {"<detector>.<name>" = value}` in a
/// `[[detect.rule]]`.
struct ParamSpec {
  std::string_view name;
  ParamType type;
  double min, max;  // inclusive
  double def;       // the default (batch detectors: gold's config value is the default)
  std::string_view doc;
};

struct DetectorSpec {
  std::string_view name;
  DetectorKind kind;
  int version;  // see DetectorVersion() for the one callers use
  std::string_view summary;
  std::span<const ParamSpec> params;
  /// Online only: the factory (MakeSeriesDetector dispatches here).
  Result<std::unique_ptr<SeriesDetector>> (*make_online)(const DetectorOptions&) = nullptr;

  const ParamSpec* FindParam(std::string_view param) const;
};

/// Every detector, in display order: batch, online ("default" first), per device.
std::span<const DetectorSpec> Detectors();
/// The names of every detector, or only those of one kind.
std::vector<std::string> DetectorNames();
std::vector<std::string> DetectorNames(DetectorKind kind);
/// nullptr when unknown.
const DetectorSpec* FindDetector(std::string_view name);
/// The detector, or an error naming the known ones.
Result<const DetectorSpec*> LookupDetector(std::string_view name);
/// The online detector `name`, or an error; a batch name gets a sentence saying where it runs and
/// which online detector to use instead (`zscore` -> `running_zscore`).
Result<const DetectorSpec*> LookupOnlineDetector(std::string_view name);

/// The version gold writes and fingerprints (the table's, unless a test overrides it).
int DetectorVersion(const DetectorSpec& spec);
Result<int> DetectorVersion(std::string_view name);
/// " name/vN" for each name, in order (unknown names are skipped): the part of gold's
/// up-to-date fingerprint that a version bump changes.
std::string DetectorVersionsKey(std::span<const std::string> names);

/// Checks named parameters against a detector's specs: known name, integer where an integer is
/// due, inside the range. Errors are one sentence naming the detector.
Status CheckParams(const DetectorSpec& spec, std::span<const std::pair<std::string, double>> params);
/// Validates options for the named detector with its own factory (config check, gold and eval
/// refuse exactly the same things).
Status CheckDetector(std::string_view name, const DetectorOptions& options);

/// Threshold and warm-up of a batch detector for one series: `threshold` and `min_points` are the
/// gold config's values, overridden by the series' `params` (already stripped of the prefix).
struct BatchSettings {
  double threshold = 0.0;
  int64_t min_points = 0;
};
Result<BatchSettings> ResolveBatchSettings(const DetectorSpec& spec, double threshold, int64_t min_points,
                                           std::span<const std::pair<std::string, double>> params);

/// Test only: while alive, DetectorVersion(name) answers `version` (e.g. to prove that a version
/// bump makes gold recompute). Not thread-safe; nest at most one per name.
class ScopedVersionOverride {
 public:
  ScopedVersionOverride(std::string_view name, int version);
  ~ScopedVersionOverride();
  ScopedVersionOverride(const ScopedVersionOverride&) = delete;
  ScopedVersionOverride& operator=(const ScopedVersionOverride&) = delete;

 private:
  std::string name_;
};

}  // namespace iotad::detect
