#pragma once
// Run records: one JSON line per command that changed the lake, in `runs/<run_id>.json`, read by
// the `runs` view (stage timings, row counts, status).
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/lake/lake.h"

namespace iotad::pipeline {

struct StageTiming {
  std::string stage;
  double seconds = 0;
  std::string counts_json = "{}";
};

struct RunRecord {
  std::string run_id;
  std::string command;
  std::string status = "ok";  // ok | failed | failed_checks
  TimestampUs started_at_us = 0;
  TimestampUs finished_at_us = 0;
  std::string message;
  std::vector<StageTiming> stages;
  std::string counts_json = "{}";
};

Status WriteRunRecord(lake::Lake& lake, const RunRecord& record);

}  // namespace iotad::pipeline
