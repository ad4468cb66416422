#pragma once
// What the stages report, as metrics (core/metrics.h): every stage's report is recorded into a
// registry here, in one place, so the names and labels are spelled once. `iotad run` and the
// stage commands call these with the report they already have; a server serves the same
// registry at /metrics.
#include <string>
#include <string_view>

#include "iotad/core/metrics.h"
#include "iotad/ingest/bronze.h"
#include "iotad/pipeline/gold.h"
#include "iotad/pipeline/silver.h"

namespace iotad::pipeline {

struct CheckResult;

/// iotad_ingest_files_total{result=new|duplicate|bad}, iotad_ingest_bytes_total,
/// iotad_commits_total{stage="ingest"}.
void RecordIngestMetrics(metrics::Registry& registry, const ingest::IngestReport& report);
/// iotad_silver_bronze_files_total, iotad_rows_read_total, iotad_rows_stored_total,
/// iotad_rows_quarantined_total{reason}, iotad_cells_quarantined_total{reason},
/// iotad_rows_duplicate_total, iotad_rows_merged_total, iotad_rows_late_total,
/// iotad_files_written_total{layer="silver"}, iotad_commits_total{stage="silver"}.
void RecordSilverMetrics(metrics::Registry& registry, const SilverReport& report);
/// iotad_gold_rows_scanned_total, iotad_anomalies_total{detector},
/// iotad_files_written_total{layer="gold"}, iotad_gold_files_unchanged_total,
/// iotad_gold_files_deleted_total, iotad_gold_up_to_date_total, iotad_commits_total{stage="gold"}.
void RecordGoldMetrics(metrics::Registry& registry, const GoldReport& report);
/// iotad_check_passed{check} (1 or 0).
void RecordCheckMetrics(metrics::Registry& registry, const CheckResult& check);
/// iotad_stage_duration_seconds{stage} (histogram).
void RecordStageSeconds(metrics::Registry& registry, std::string_view stage, double seconds);
/// iotad_runs_total{command,status}, iotad_run_duration_seconds{command} (histogram),
/// iotad_last_run_timestamp_seconds{command} (when it finished, by the lake's clock),
/// iotad_last_run_success{command} (1 when status is "ok").
void RecordRunMetrics(metrics::Registry& registry, std::string_view command, std::string_view status,
                      double seconds, TimestampUs finished_at_us);

}  // namespace iotad::pipeline
