#pragma once
// silver -> gold: per device and metric baselines, anomaly rows that explain themselves, and
// hourly summaries. Batch replays silver hour by hour through the pure detectors of detect/.
#include <map>
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/lake.h"

namespace iotad::pipeline {

struct GoldOptions {
  std::vector<std::string> detectors;  // empty: the lake config's gold.detectors
  bool rebuild = false;                // recompute even when silver and config are unchanged
};

struct GoldReport {
  bool up_to_date = false;  // nothing to do: silver and config unchanged since the last gold
  int64_t rows_scanned = 0;
  int64_t values_scored = 0;
  int64_t series = 0;       // device x metric baselines
  std::map<std::string, int64_t> anomalies;  // by detector
  int64_t summary_rows = 0;
  int64_t hours = 0;
  int64_t files_written = 0;   // new or changed files
  int64_t files_unchanged = 0; // same content as before: left in place
  int64_t files_deleted = 0;
  int64_t commit_seq = 0;
  double baseline_seconds = 0;
  // Wall time of each phase (see pipeline/README.md): where a run's time goes.
  double moments_seconds = 0, robust_seconds = 0, replay_seconds = 0, score_seconds = 0;
  double seconds = 0;
};

/// Recomputes gold when silver (or the detector config) changed since the last gold commit.
/// The tutorial's detector baselines on all data, so every hour is rescored; files whose content
/// is unchanged keep their names and are not rewritten. Needs the writer lock.
Result<GoldReport> RunGold(lake::Lake& lake, const GoldOptions& options, const std::string& run_id);

}  // namespace iotad::pipeline
