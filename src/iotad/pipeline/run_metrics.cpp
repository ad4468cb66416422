#include "iotad/pipeline/run_metrics.h"

#include "iotad/pipeline/run.h"

namespace iotad::pipeline {
namespace {

using metrics::Registry;

void CountCommit(Registry& r, std::string_view stage, bool committed) {
  auto& commits = r.CounterFamily("iotad_commits_total", "Commits published to the lake's log, by stage.", {"stage"});
  auto& series = commits.With({std::string(stage)});
  if (committed) series.Inc();
}

void CountFilesWritten(Registry& r, std::string_view layer, int64_t n) {
  r.CounterFamily("iotad_files_written_total", "Parquet files written, by layer (gold: new or changed ones).",
                  {"layer"})
      .With({std::string(layer)})
      .Inc(n);
}

}  // namespace

void RecordIngestMetrics(Registry& r, const ingest::IngestReport& report) {
  auto& files = r.CounterFamily("iotad_ingest_files_total",
                                "Input files seen by ingest: new (landed in bronze), duplicate (already there), "
                                "bad (skipped and left in place).",
                                {"result"});
  files.With({"new"}).Inc(report.new_files);
  files.With({"duplicate"}).Inc(report.duplicate_files);
  files.With({"bad"}).Inc(static_cast<int64_t>(report.bad_files.size()));
  r.GetCounter("iotad_ingest_bytes_total", "Bytes of new files landed in bronze, as received.")
      .Inc(static_cast<int64_t>(report.new_bytes));
  CountCommit(r, "ingest", report.new_files > 0);
}

void RecordSilverMetrics(Registry& r, const SilverReport& report) {
  const RowAccounting& a = report.accounting;
  r.GetCounter("iotad_silver_bronze_files_total", "Bronze files processed by silver.").Inc(report.bronze_files);
  r.GetCounter("iotad_rows_read_total", "Rows silver read from bronze (= stored + quarantined + duplicate + merged).")
      .Inc(a.rows);
  r.GetCounter("iotad_rows_stored_total", "Rows stored in silver.").Inc(a.stored);
  r.GetCounter("iotad_rows_duplicate_total", "Rows dropped as exact duplicates of a stored row.").Inc(a.duplicates);
  r.GetCounter("iotad_rows_merged_total", "Rows merged into another row of the same device and time.").Inc(a.merged);
  r.GetCounter("iotad_rows_late_total", "Rows appended to hours that already had data.").Inc(report.late_rows);
  auto& rows = r.CounterFamily("iotad_rows_quarantined_total", "Whole rows sent to quarantine, by reason.", {"reason"});
  for (const auto& [reason, n] : a.quarantine_reasons) rows.With({reason}).Inc(n);
  auto& cells = r.CounterFamily("iotad_cells_quarantined_total",
                                "Cells set aside in quarantine (their row was stored), by reason.", {"reason"});
  for (const auto& [reason, n] : a.cell_reasons) cells.With({reason}).Inc(n);
  CountFilesWritten(r, "silver", report.files_written);
  CountCommit(r, "silver", report.commit_seq > 0);
}

void RecordGoldMetrics(Registry& r, const GoldReport& report) {
  r.GetCounter("iotad_gold_rows_scanned_total", "Silver rows gold scanned.").Inc(report.rows_scanned);
  auto& anomalies = r.CounterFamily("iotad_anomalies_total", "Anomaly rows gold wrote, by detector.", {"detector"});
  for (const auto& [detector, n] : report.anomalies) anomalies.With({detector}).Inc(n);
  CountFilesWritten(r, "gold", report.files_written);
  r.GetCounter("iotad_gold_files_unchanged_total", "Gold files recomputed with the same content: left in place.")
      .Inc(report.files_unchanged);
  r.GetCounter("iotad_gold_files_deleted_total", "Gold files removed (their hour no longer has anomalies).")
      .Inc(report.files_deleted);
  r.GetCounter("iotad_gold_up_to_date_total", "Gold runs that had nothing to do (silver and config unchanged).")
      .Inc(report.up_to_date ? 1 : 0);
  CountCommit(r, "gold", report.commit_seq > 0);
}

void RecordCheckMetrics(Registry& r, const CheckResult& check) {
  r.GaugeFamily("iotad_check_passed", "Whether the run's check passed (1) or failed (0).", {"check"})
      .With({check.name})
      .Set(check.passed ? 1 : 0);
}

void RecordStageSeconds(Registry& r, std::string_view stage, double seconds) {
  r.HistogramFamily("iotad_stage_duration_seconds", "Wall time of a stage.", {"stage"}, metrics::DurationBuckets())
      .With({std::string(stage)})
      .Observe(seconds);
}

void RecordRunMetrics(Registry& r, std::string_view command, std::string_view status, double seconds,
                      TimestampUs finished_at_us) {
  const std::string cmd(command);
  r.CounterFamily("iotad_runs_total",
                  "Commands that changed the lake, by command and status (ok, failed, failed_checks).",
                  {"command", "status"})
      .With({cmd, std::string(status)})
      .Inc();
  r.HistogramFamily("iotad_run_duration_seconds", "Wall time of a command that changed the lake.", {"command"},
                    metrics::DurationBuckets())
      .With({cmd})
      .Observe(seconds);
  r.GaugeFamily("iotad_last_run_timestamp_seconds", "When the last command finished, seconds since the epoch.",
                {"command"})
      .With({cmd})
      .Set(static_cast<double>(finished_at_us) / 1e6);
  r.GaugeFamily("iotad_last_run_success", "Whether the last command ended ok (1) or not (0).", {"command"})
      .With({cmd})
      .Set(status == "ok" ? 1 : 0);
}

}  // namespace iotad::pipeline
