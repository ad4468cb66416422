#include "iotad/pipeline/gold_plan.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include "iotad/detect/registry.h"

namespace iotad::pipeline {
namespace {

std::string Fingerprint(const config::LakeConfig& c, const std::vector<std::string>& detectors, bool all_named) {
  const config::GoldConfig& g = c.gold;
  // Every detector's registry version: a bump makes gold recompute.
  const std::string versions = detect::DetectorVersionsKey(detectors);
  std::string rules;
  if (!all_named || !c.detect.rules.empty()) {
    for (const auto& r : c.detect.rules) {
      rules += fmt::format(" rule[m={} d={} det={} fa={} min={} max={} silence={}", fmt::join(r.metrics, ","),
                           fmt::join(r.devices, ","), fmt::join(r.detectors, ","), r.false_alarms_per_day.value_or(-1),
                           r.min.value_or(NAN), r.max.value_or(NAN), r.silence_us.value_or(0));
      for (const auto& [key, value] : r.params) rules += fmt::format(" {}={}", key, value);
      rules += "]";
    }
  }
  // Quotes would break the commit's JSON meta (the fingerprint is matched as text).
  std::replace(rules.begin(), rules.end(), '"', '\'');
  // The columns gold writes are part of what it computed: a lake whose gold has other columns is
  // not up to date (schema 2: statistic, statistic_name, gap_seconds, timeout_seconds; NULL, not NaN).
  return fmt::format("versions{} detectors={}{} z={} robust={} min_points={} fa_per_day={}{} schema={}",
                     versions, fmt::join(detectors, ","),
                     all_named ? "" : " (per rules)", g.zscore_threshold, g.robust_threshold, g.min_points,
                     g.false_alarms_per_day, rules, kGoldSchemaVersion);
}

}  // namespace

Result<GoldPlan> MakeGoldPlan(const config::LakeConfig& config, const GoldOptions& options) {
  GoldPlan plan;
  // --detector runs the named detectors on every series; otherwise gold.detectors and whatever
  // the [[detect.rule]]s add, each series running those its rules resolve to.
  plan.all_named = !options.detectors.empty();
  plan.detectors = plan.all_named ? options.detectors : config.gold.detectors;
  if (!plan.all_named) {
    for (const auto& rule : config.detect.rules) {
      for (const auto& d : rule.detectors) {
        if (std::find(plan.detectors.begin(), plan.detectors.end(), d) == plan.detectors.end()) {
          plan.detectors.push_back(d);
        }
      }
    }
  }
  for (const auto& d : plan.detectors) IOTAD_TRY(detect::LookupDetector(d).status().WithContext("gold: "));
  if (plan.detectors.empty()) return Error(Errc::kInvalidArgument, "gold: no detector chosen");

  const config::GoldConfig& g = config.gold;
  plan.zscore_threshold = g.zscore_threshold;
  plan.robust_threshold = g.robust_threshold;
  plan.min_points = g.min_points;
  plan.zscore = detect::ZScoreDetector(g.zscore_threshold, g.min_points);
  plan.robust = detect::RobustZScoreDetector(g.robust_threshold, g.min_points);
  plan.max_baseline_points = g.max_baseline_points;
  for (const auto& d : plan.detectors) {
    const detect::DetectorSpec* spec = detect::FindDetector(d);  // checked above
    const DetectorKind kind = d == detect::ZScoreDetector::kName         ? DetectorKind::kZScore
                              : d == detect::RobustZScoreDetector::kName ? DetectorKind::kRobust
                                                                         : DetectorKind::kOnline;
    plan.kinds.push_back(kind);
    plan.versions.push_back(spec != nullptr ? detect::DetectorVersion(*spec) : 0);
    if (kind != DetectorKind::kOnline) {
      const std::string prefix = d + ".";
      for (const auto& rule : config.detect.rules) {
        for (const auto& param : rule.params) plan.batch_params |= param.first.starts_with(prefix);
      }
    }
    if (kind == DetectorKind::kRobust) plan.use_robust = true;
    if (kind == DetectorKind::kOnline) plan.use_online = true;
    if (kind != DetectorKind::kOnline) plan.use_batch = true;
    plan.thresholds.push_back(kind == DetectorKind::kZScore   ? plan.zscore.threshold()
                              : kind == DetectorKind::kRobust ? plan.robust.threshold()
                                                              : NAN);
  }
  // The plan's own copy of what the rules read, so a series resolves the same whatever happens to
  // the lake's config afterwards.
  auto rules = std::make_shared<config::LakeConfig>();
  rules->gold = config.gold;
  rules->detect = config.detect;
  plan.resolve = [rules = std::shared_ptr<const config::LakeConfig>(std::move(rules))](std::string_view device,
                                                                                        std::string_view metric) {
    return config::ResolveSeries(*rules, device, metric);
  };
  plan.fingerprint = Fingerprint(config, plan.detectors, plan.all_named);
  return plan;
}

}  // namespace iotad::pipeline
