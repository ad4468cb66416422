// /metrics and /api/openapi.json. The lake's metrics are rebuilt from its run records (`runs/`)
// through the same Record* functions the commands use for `--metrics-file` (pipeline/run_metrics.h),
// so the names and labels are spelled once; the alert counters come from the folded alert log; the
// server's HTTP metrics follow.
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "iotad/lake/json_fields.h"
#include "iotad/pipeline/run.h"
#include "iotad/pipeline/run_metrics.h"
#include "iotad/serve/api_internal.h"
#include "iotad/serve/assets.h"
#include "iotad/serve/run_records.h"

namespace iotad::serve {

namespace {

using simdjson::dom::element;
using lake::json_fields::IntMap;
using lake::json_fields::Str;

const store::ObjectStore& StoreOf(Context& ctx) {  // as api_pipeline.cpp
  Api::Impl& api = ctx.api();
  std::lock_guard lock(api.mu);
  return api.lake->store();
}

int64_t Int(element obj, std::string_view key) {
  int64_t v = 0;
  if (obj[key].get_int64().get(v) == simdjson::SUCCESS) return v;
  bool b = false;
  if (obj[key].get_bool().get(b) == simdjson::SUCCESS) return b ? 1 : 0;
  return 0;
}

double Num(element obj, std::string_view key) {
  double v = 0;
  if (obj[key].get_double().get(v) == simdjson::SUCCESS) return v;
  return static_cast<double>(Int(obj, key));
}

/// A stage's counts (as the run record has them) back into the report its Record* function takes.
/// Commits: a stage that had work committed (the record does not keep the sequence number).
void RecordStage(metrics::Registry& r, std::string_view stage, element counts, int64_t& rows_ingested) {
  if (stage == "ingest") {
    ingest::IngestReport report;
    report.new_files = Int(counts, "new_files");
    report.duplicate_files = Int(counts, "duplicate_files");
    report.new_bytes = static_cast<uint64_t>(std::max<int64_t>(0, Int(counts, "bytes")));
    simdjson::dom::array bad;
    if (counts["skipped_files"].get_array().get(bad) == simdjson::SUCCESS) {
      report.bad_files.resize(bad.size());
    }
    pipeline::RecordIngestMetrics(r, report);
  } else if (stage == "silver") {
    pipeline::SilverReport report;
    report.bronze_files = Int(counts, "bronze_files");
    report.files_written = Int(counts, "files_written");
    report.late_rows = Int(counts, "late_rows");
    element acc = counts;
    element nested;
    if (counts["accounting"].get(nested) == simdjson::SUCCESS && nested.is_object()) acc = nested;
    pipeline::RowAccounting& a = report.accounting;
    a.rows = Int(acc, "rows");
    a.stored = Int(acc, "stored");
    a.quarantined = Int(acc, "quarantined");
    a.duplicates = Int(acc, "duplicates");
    a.merged = Int(acc, "merged");
    a.cells_quarantined = Int(acc, "cells_quarantined");
    a.quarantine_reasons = IntMap(acc, "quarantine_reasons");
    a.cell_reasons = IntMap(acc, "cell_reasons");
    report.commit_seq = report.bronze_files > 0 ? 1 : 0;
    rows_ingested += a.rows;
    pipeline::RecordSilverMetrics(r, report);
  } else if (stage == "gold") {
    element skipped;
    if (counts["skipped"].get(skipped) == simdjson::SUCCESS) return;
    pipeline::GoldReport report;
    report.up_to_date = Int(counts, "up_to_date") != 0;
    report.rows_scanned = Int(counts, "rows_scanned");
    report.files_written = Int(counts, "files_written");
    report.files_unchanged = Int(counts, "files_unchanged");
    report.files_deleted = Int(counts, "files_deleted");
    report.anomalies = IntMap(counts, "anomalies");
    report.commit_seq = !report.up_to_date && report.files_written + report.files_deleted > 0 ? 1 : 0;
    pipeline::RecordGoldMetrics(r, report);
  } else if (stage == "checks") {
    simdjson::dom::object checks;
    if (counts.get_object().get(checks) != simdjson::SUCCESS) return;
    for (auto field : checks) {
      bool passed = true;
      if (field.value.get_bool().get(passed) != simdjson::SUCCESS) continue;
      pipeline::CheckResult c;
      c.name = std::string(field.key);
      c.passed = passed;
      pipeline::RecordCheckMetrics(r, c);  // oldest run first: the newest run's result stays
    }
  }
}

Result<Response> GetMetrics(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  IOTAD_ASSIGN_OR_RETURN(std::string text, MetricsText(ctx, ctx.api().http_metrics));
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(text);
  return r;
}

Result<Response> GetOpenApi(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  const Asset* asset = FindAsset("openapi.json");
  if (asset == nullptr) return Error(Errc::kInternal, "openapi.json is not embedded in this build");
  Response r;
  r.body = std::string(asset->data);
  return r;
}

}  // namespace

Result<std::string> MetricsText(Context& ctx, const metrics::Registry& http) {
  metrics::Registry r;
  IOTAD_ASSIGN_OR_RETURN(auto records, RunRecordTexts(StoreOf(ctx)));
  simdjson::dom::parser parser;
  int64_t rows_ingested = 0;
  for (const auto& text : records) {
    element rec;
    if (parser.parse(text->data(), text->size()).get(rec) != simdjson::SUCCESS || !rec.is_object()) continue;
    const std::string command = Str(rec, "command");
    // Metrics label by stage, not by flags ("silver --rebuild" is silver), as the commands do.
    const std::string label = command.substr(0, command.find(' '));
    simdjson::dom::array stages;
    element counts;
    const bool has_counts = rec["counts"].get(counts) == simdjson::SUCCESS && counts.is_object();
    if (rec["stages"].get_array().get(stages) == simdjson::SUCCESS && stages.size() > 0) {
      for (element st : stages) {
        const std::string stage = Str(st, "stage");
        pipeline::RecordStageSeconds(r, stage, Num(st, "seconds"));
        element stage_counts;
        if (st["counts"].get(stage_counts) == simdjson::SUCCESS && stage_counts.is_object()) {
          RecordStage(r, stage, stage_counts, rows_ingested);
        }
      }
    } else {
      // A stage command (`iotad silver`): the record is that stage, its counts the stage's.
      pipeline::RecordStageSeconds(r, label, Num(rec, "seconds"));
      if (has_counts && Str(rec, "status") == "ok") RecordStage(r, label, counts, rows_ingested);
    }
    const auto finished = ParseTimestamp(Str(rec, "finished_at"));
    pipeline::RecordRunMetrics(r, label, Str(rec, "status"), Num(rec, "seconds"), finished.value_or(0));
  }
  r.GetCounter("iotad_rows_ingested_total", "Rows read from bronze into silver (stored, quarantined or dropped).")
      .Inc(rows_ingested);

  const LakeState& st = ctx.state();
  auto& sent = r.CounterFamily("iotad_alert_notifications_sent_total",
                               "Notification attempts the receiver accepted, by sink.", {"sink"});
  auto& failed = r.CounterFamily("iotad_alert_notifications_failed_total",
                                 "Notification attempts that failed (retried or dead), by sink.", {"sink"});
  for (const auto& [id, d] : st.alerts.deliveries) {  // every sink shows, with 0 when nothing was sent
    sent.With({d.sink});
    failed.With({d.sink});
  }
  for (const alert::Attempt& a : st.alerts.attempts) {
    auto it = st.alerts.deliveries.find(a.delivery_id);
    if (it == st.alerts.deliveries.end()) continue;
    (a.result.outcome == alert::AttemptOutcome::kDelivered ? sent : failed).With({it->second.sink}).Inc();
  }
  int64_t open = 0;
  for (const auto& [id, a] : st.alerts.alerts) open += a.status == alert::AlertStatus::kFiring && a.acked_at_us == 0;
  r.GetGauge("iotad_alerts_open", "Alerts firing and not acknowledged.").Set(static_cast<double>(open));
  r.GetGauge("iotad_lake_commit_seq", "The lake's applied commit (its commit log's head).")
      .Set(static_cast<double>(st.lake_seq));
  r.GetGauge("iotad_alert_log_seq", "The alert log's head.").Set(static_cast<double>(st.alert_seq));
  return r.Exposition() + http.Exposition();
}

void RegisterMetricsRoutes(Router& router) {
  router.Add({"GET", "/metrics", GetMetrics, false, false, "Prometheus metrics"});
  router.Add({"GET", "/api/openapi.json", GetOpenApi, false, false, "the API's OpenAPI document"});
}

}  // namespace iotad::serve
