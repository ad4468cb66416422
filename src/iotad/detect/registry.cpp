// The one table of detectors. Adding a detector: a row here (name, kind, version, parameters),
// its factory, and a row in the canary test (registry_test.cpp).
#include "iotad/detect/registry.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "iotad/detect/batch_detectors.h"
#include "iotad/detect/multivariate.h"

namespace iotad::detect {

// The online factories (detectors.cpp, ensemble.cpp).
namespace factories {
Result<std::unique_ptr<SeriesDetector>> Default(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> RunningZScore(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> WindowZ(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Mad(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Ewma(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Seasonal(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Cusum(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Flatline(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Rate(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Range(const DetectorOptions& o);
Result<std::unique_ptr<SeriesDetector>> Silent(const DetectorOptions& o);
}  // namespace factories

namespace {

using P = ParamSpec;
constexpr ParamType kNum = ParamType::kNumber;
constexpr ParamType kInt = ParamType::kInteger;
constexpr double kBig = 1e9;

constexpr P kZScoreParams[] = {
    {"threshold", kNum, 1e-6, 1000, 3.0, "anomaly when |value - mean| / std > this (default: gold.zscore_threshold)"},
    {"min_points", kInt, 2, kBig, 3, "a series with fewer values never flags (default: gold.min_points)"},
};
constexpr P kRobustParams[] = {
    {"threshold", kNum, 1e-6, 1000, 3.5,
     "anomaly when 0.6745 |value - median| / MAD > this (default: gold.robust_threshold)"},
    {"min_points", kInt, 2, kBig, 3, "a series with fewer values never flags (default: gold.min_points)"},
};
constexpr P kRunningZParams[] = {
    {"threshold", kNum, 0.1, 100, 3.0, "flags |z| > this"},
    {"min_points", kInt, 2, kBig, 30, "points before the first flag"},
};
constexpr P kWindowZParams[] = {
    {"window", kInt, 8, 256, 96, "trailing points the mean and std are taken over"},
    {"min_points", kInt, 2, kBig, 30, "points before the first flag (at most the window)"},
};
constexpr P kMadParams[] = {
    {"min_points", kInt, 16, 64, 32, "points before the first flag"},
};
constexpr P kEwmaParams[] = {
    {"alpha", kNum, 1e-6, 1, 0.01, "weight of each new point in the mean and variance"},
    {"clip", kNum, 1, 1e6, 3.0, "updates winsorised at this many standard deviations"},
    {"min_points", kInt, 2, kBig, 30, "points before the first flag"},
};
constexpr P kSeasonalParams[] = {
    {"memory_days", kNum, 1, 1000, 3.0, "days a time-of-day slot remembers"},
    {"min_visits", kInt, 1, 1000, 3, "days a slot must have seen before it can flag"},
};
constexpr P kCusumParams[] = {
    {"k", kNum, 0.05, 5, 0.5, "reference value in standard deviations (the smallest shift it looks for / 2)"},
    {"min_points", kInt, 2, kBig, 60, "points before the first flag"},
};
constexpr P kFlatlineParams[] = {
    {"min_run", kInt, 1, kBig, 3, "identical readings that are never a flatline"},
    {"min_points", kInt, 2, kBig, 50, "points before the first flag"},
};
constexpr P kRateParams[] = {
    {"alpha", kNum, 1e-6, 1, 0.01, "weight of each new change in the usual change"},
    {"min_points", kInt, 2, kBig, 30, "points before the first flag"},
};

// Versions: bump one whenever the detector's scores, flags or explanations change (the canary in
// registry_test.cpp fails until you do); gold then recomputes what that detector wrote.
// v2 of the band-producing detectors: the "normal" range is the flag limit's (issue 8).
const DetectorSpec kDetectors[] = {
    {"zscore", DetectorKind::kBatch, ZScoreDetector::kVersion,
     "the AWS tutorial's: z against the mean and std of all of the series (look-ahead), |z| > threshold",
     kZScoreParams},
    {"robust_zscore", DetectorKind::kBatch, RobustZScoreDetector::kVersion,
     "median and MAD of all of the series (Iglewicz-Hoaglin), robust |z| > threshold", kRobustParams},
    {"default", DetectorKind::kOnline, 32,
     "the ensemble: spike, CUSUM, novelty, volatility, flatline, range, silence", {}, factories::Default},
    {"running_zscore", DetectorKind::kOnline, 1,
     "z against the mean and std of every point so far (zscore without look-ahead), |z| > threshold",
     kRunningZParams, factories::RunningZScore},
    {"window_z", DetectorKind::kOnline, 2, "z against the previous `window` points", kWindowZParams,
     factories::WindowZ},
    {"mad", DetectorKind::kOnline, 3, "robust z against the median and MAD of a 64-point hopping window",
     kMadParams, factories::Mad},
    {"ewma", DetectorKind::kOnline, 2, "EWMA/EWMV control chart with winsorised updates", kEwmaParams,
     factories::Ewma},
    {"seasonal", DetectorKind::kOnline, 4, "time-of-day profile (96 slots) plus an hour-of-week offset",
     kSeasonalParams, factories::Seasonal},
    {"cusum", DetectorKind::kOnline, 2, "two-sided CUSUM of the deviation from a slow baseline", kCusumParams,
     factories::Cusum},
    {"flatline", DetectorKind::kOnline, 2, "identical readings longer than any run the series made lately",
     kFlatlineParams, factories::Flatline},
    {"rate", DetectorKind::kOnline, 2, "change between consecutive points against the usual change", kRateParams,
     factories::Rate},
    {"range", DetectorKind::kOnline, 1, "outside the physical [min, max] of the metric", {}, factories::Range},
    {"silent", DetectorKind::kOnline, 2, "no point for longer than the timeout, once the series has a habit of reporting", {}, factories::Silent},
    {"mahalanobis", DetectorKind::kDevice, MahalanobisDetector::kVersion,
     "one device across its metrics (up to 8): Mahalanobis distance from its EW mean and covariance", {}},
};

std::map<std::string, int, std::less<>>& Overrides() {
  static std::map<std::string, int, std::less<>> overrides;
  return overrides;
}

std::string KnownNames() {
  std::string out;
  for (const DetectorSpec& d : kDetectors) out += fmt::format("{}{}", out.empty() ? "" : ", ", d.name);
  return out;
}

}  // namespace

std::string_view KindName(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::kBatch: return "batch";
    case DetectorKind::kOnline: return "online";
    case DetectorKind::kDevice: return "per-device";
  }
  return "?";
}

const ParamSpec* DetectorSpec::FindParam(std::string_view param) const {
  for (const ParamSpec& p : params) {
    if (p.name == param) return &p;
  }
  return nullptr;
}

std::span<const DetectorSpec> Detectors() { return kDetectors; }

std::vector<std::string> DetectorNames() {
  std::vector<std::string> out;
  for (const DetectorSpec& d : kDetectors) out.emplace_back(d.name);
  return out;
}

std::vector<std::string> DetectorNames(DetectorKind kind) {
  std::vector<std::string> out;
  for (const DetectorSpec& d : kDetectors) {
    if (d.kind == kind) out.emplace_back(d.name);
  }
  return out;
}

const DetectorSpec* FindDetector(std::string_view name) {
  for (const DetectorSpec& d : kDetectors) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Result<const DetectorSpec*> LookupDetector(std::string_view name) {
  if (const DetectorSpec* d = FindDetector(name)) return d;
  return Error(Errc::kInvalidArgument, "unknown detector '{}' (known: {})", name, KnownNames());
}

Result<const DetectorSpec*> LookupOnlineDetector(std::string_view name) {
  IOTAD_ASSIGN_OR_RETURN(const DetectorSpec* d, LookupDetector(name));
  if (d->kind == DetectorKind::kOnline) return d;
  if (d->kind == DetectorKind::kBatch) {
    return Error(Errc::kInvalidArgument,
                 "detector {} is a batch detector (it needs all of a series before scoring a point): only gold "
                 "runs it; {}",
                 name, name == "zscore" ? "running_zscore is zscore without look-ahead"
                                        : "choose an online detector, e.g. default or mad");
  }
  return Error(Errc::kInvalidArgument,
               "detector {} scores a device across its metrics, not one series; here the online ones apply: {}",
               name, fmt::join(DetectorNames(DetectorKind::kOnline), ", "));
}

int DetectorVersion(const DetectorSpec& spec) {
  const auto& overrides = Overrides();
  if (!overrides.empty()) {
    if (auto it = overrides.find(spec.name); it != overrides.end()) return it->second;
  }
  return spec.version;
}

Result<int> DetectorVersion(std::string_view name) {
  IOTAD_ASSIGN_OR_RETURN(const DetectorSpec* d, LookupDetector(name));
  return DetectorVersion(*d);
}

std::string DetectorVersionsKey(std::span<const std::string> names) {
  std::string out;
  for (const std::string& n : names) {
    if (const DetectorSpec* d = FindDetector(n)) out += fmt::format(" {}/v{}", n, DetectorVersion(*d));
  }
  return out;
}

Status CheckParams(const DetectorSpec& spec, std::span<const std::pair<std::string, double>> params) {
  for (const auto& [name, value] : params) {
    const ParamSpec* p = spec.FindParam(name);
    if (p == nullptr) {
      std::string names;
      for (const ParamSpec& q : spec.params) names += fmt::format("{}{}", names.empty() ? "" : ", ", q.name);
      if (names.empty()) {
        return Error(Errc::kInvalidArgument, "detector {}: takes no parameters (got '{}')", spec.name, name);
      }
      return Error(Errc::kInvalidArgument, "detector {}: unknown parameter '{}' (known: {})", spec.name, name, names);
    }
    if (!(value >= p->min && value <= p->max)) {
      return Error(Errc::kInvalidArgument, "detector {}: parameter {} = {} is outside [{}, {}]", spec.name, name, value,
                   p->min, p->max);
    }
    if (p->type == ParamType::kInteger && value != std::floor(value)) {
      return Error(Errc::kInvalidArgument, "detector {}: parameter {} must be a whole number, got {}", spec.name, name,
                   value);
    }
  }
  return Status::Ok();
}

Status CheckDetector(std::string_view name, const DetectorOptions& options) {
  IOTAD_ASSIGN_OR_RETURN(const DetectorSpec* d, LookupDetector(name));
  switch (d->kind) {
    case DetectorKind::kOnline: return MakeSeriesDetector(name, options).status();
    case DetectorKind::kDevice: return MahalanobisDetector::Make(2, options).status();
    case DetectorKind::kBatch: return CheckParams(*d, options.params);
  }
  return Status::Ok();
}

Result<BatchSettings> ResolveBatchSettings(const DetectorSpec& spec, double threshold, int64_t min_points,
                                           std::span<const std::pair<std::string, double>> params) {
  if (spec.kind != DetectorKind::kBatch) {
    return Error(Errc::kInvalidArgument, "detector {} is not a batch detector", spec.name);
  }
  IOTAD_TRY(CheckParams(spec, params));
  BatchSettings s{threshold, min_points};
  for (const auto& [name, value] : params) {
    if (name == "threshold") s.threshold = value;
    if (name == "min_points") s.min_points = static_cast<int64_t>(value);
  }
  return s;
}

ScopedVersionOverride::ScopedVersionOverride(std::string_view name, int version) : name_(name) {
  Overrides()[name_] = version;
}

ScopedVersionOverride::~ScopedVersionOverride() { Overrides().erase(name_); }

}  // namespace iotad::detect
