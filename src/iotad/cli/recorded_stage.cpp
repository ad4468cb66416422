#include "iotad/cli/recorded_stage.h"

#include <chrono>

#include "iotad/cli/main_app.h"
#include "iotad/core/log.h"
#include "iotad/pipeline/run_metrics.h"
#include "iotad/pipeline/run_record.h"

namespace iotad::cli {

Status RunRecordedStage(const GlobalOptions& global, const std::string& command, const StageBody& body) {
  IOTAD_ASSIGN_OR_RETURN(auto lake, lake::Lake::Open(ResolveLakePath(global)));
  lake->set_clock(CliClock());
  IOTAD_TRY(lake->BeginWrite());
  pipeline::RunRecord record;
  record.run_id = lake::NewRunId(lake->clock());
  record.command = command;
  record.started_at_us = lake->clock().NowUs();
  const auto t0 = std::chrono::steady_clock::now();
  auto counts = body(*lake, record.run_id);
  record.finished_at_us = lake->clock().NowUs();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // "silver --rebuild" is the silver stage: metrics label by stage, not by flags.
  const std::string stage = command.substr(0, command.find(' '));
  metrics::Registry& registry = CliMetrics();
  pipeline::RecordStageSeconds(registry, stage, seconds);
  if (!counts.ok()) {
    record.status = "failed";
    record.message = counts.status().message();
    (void)pipeline::WriteRunRecord(*lake, record);  // the stage's error is the one to report
    pipeline::RecordRunMetrics(registry, stage, record.status, seconds, record.finished_at_us);
    return counts.status();
  }
  record.counts_json = std::move(counts).value();
  IOTAD_TRY(pipeline::WriteRunRecord(*lake, record));
  pipeline::RecordRunMetrics(registry, stage, record.status, seconds, record.finished_at_us);
  log::Info(fmt::format("{}: done in {:.2f} s", stage, seconds),
            {{"run_id", record.run_id}, {"stage", stage}, {"command", command}, {"seconds", seconds},
             log::Field::Json("counts", record.counts_json)});
  return Status::Ok();
}

}  // namespace iotad::cli
