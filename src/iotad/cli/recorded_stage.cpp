#include "iotad/cli/recorded_stage.h"

#include "iotad/pipeline/run_record.h"

namespace iotad::cli {

Status RunRecordedStage(const GlobalOptions& global, const std::string& command, const StageBody& body) {
  IOTAD_ASSIGN_OR_RETURN(auto lake, lake::Lake::Open(ResolveLakePath(global)));
  IOTAD_TRY(lake->BeginWrite());
  pipeline::RunRecord record;
  record.run_id = lake::NewRunId();
  record.command = command;
  record.started_at_us = NowUs();
  auto counts = body(*lake, record.run_id);
  record.finished_at_us = NowUs();
  if (!counts.ok()) {
    record.status = "failed";
    record.message = counts.status().message();
    (void)pipeline::WriteRunRecord(*lake, record);  // the stage's error is the one to report
    return counts.status();
  }
  record.counts_json = std::move(counts).value();
  return pipeline::WriteRunRecord(*lake, record);
}

}  // namespace iotad::cli
