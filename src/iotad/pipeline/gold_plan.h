#pragma once
// The immutable plan of a gold run: everything gold takes from the lake config and the command's
// options, resolved and checked once at the start of RunGold. Nothing below RunGold reads the
// config: the phases get this plan (read-only, shared by every thread).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/config/config.h"
#include "iotad/core/result.h"
#include "iotad/detect/batch_detectors.h"
#include "iotad/pipeline/gold.h"

namespace iotad::pipeline {

/// How a gold detector runs: the tutorial's batch baselines, or an online detector replayed
/// point by point in time order (the same code as the live path).
enum class DetectorKind : uint8_t { kZScore, kRobust, kOnline };

/// The settings of one series (device, metric) as the config's [[detect.rule]]s resolve them
/// (config::ResolveSeries over the plan's own copy of the rules).
using SeriesResolver = std::function<config::SeriesSettings(std::string_view device, std::string_view metric)>;

struct GoldPlan {
  // Per detector, in output order (the index k of the anomaly rows).
  std::vector<std::string> detectors;
  std::vector<DetectorKind> kinds;
  std::vector<int32_t> versions;   // the registry's (the detector's own, unless a test overrides it)
  std::vector<double> thresholds;  // batch detectors' default threshold; NaN for online ones
  bool all_named = false;     // --detector: every series runs every detector; else as the rules say
  bool batch_params = false;  // a rule sets a batch detector's parameters (per series settings)
  bool use_robust = false;
  bool use_online = false;
  bool use_batch = false;  // zscore or robust_zscore: scored value by value in pass 2
  // The batch detectors' defaults ([gold]).
  double zscore_threshold = 0, robust_threshold = 0;
  int64_t min_points = 0;
  detect::ZScoreDetector zscore{0, 0};
  detect::RobustZScoreDetector robust{0, 0};
  int64_t max_baseline_points = 0;  // memory bound of the median and replay passes
  SeriesResolver resolve;           // never empty
  std::string fingerprint;          // what gold computed: the commit's meta, for "up to date"
};

/// Bumped when the columns of anomalies or gold_summary change (lake/schema.h).
inline constexpr int kGoldSchemaVersion = 2;

/// Resolves and checks the plan: the detectors (--detector, else gold.detectors and those the
/// rules name) must be known to the registry and not none.
Result<GoldPlan> MakeGoldPlan(const config::LakeConfig& config, const GoldOptions& options);

}  // namespace iotad::pipeline
