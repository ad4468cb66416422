#include "iotad/pipeline/run.h"

#include <chrono>
#include <filesystem>

#include "iotad/core/json.h"
#include "iotad/core/log.h"
#include "iotad/pipeline/run_metrics.h"
#include "iotad/lake/snapshot.h"
#include "iotad/pipeline/run_record.h"
#include "iotad/pipeline/verify.h"

namespace iotad::pipeline {
namespace {

std::string IngestCountsJson(const ingest::IngestReport& r) {
  JsonWriter w;
  w.BeginObject().Key("new_files").Int(r.new_files).Key("duplicate_files").Int(r.duplicate_files)
      .Key("bytes").Int(static_cast<int64_t>(r.new_bytes)).Key("skipped").Int(static_cast<int64_t>(r.skipped.size()))
      .Key("skipped_files").Raw(ingest::BadFilesJson(r)).EndObject();
  return w.Take();
}

std::string SilverCountsJson(const SilverReport& r) {
  JsonWriter w;
  w.BeginObject().Key("bronze_files").Int(r.bronze_files).Key("files_written").Int(r.files_written)
      .Key("hours").Int(r.hours_written).Key("late_rows").Int(r.late_rows)
      .Key("accounting").Raw(AccountingJson(r.accounting)).Key("parse").Raw(ParseTotalsJson(r.parse)).EndObject();
  return w.Take();
}

std::string GoldCountsJson(const GoldReport& r) {
  JsonWriter w;
  w.BeginObject().Key("up_to_date").Bool(r.up_to_date).Key("rows_scanned").Int(r.rows_scanned)
      .Key("summary_rows").Int(r.summary_rows).Key("files_written").Int(r.files_written)
      .Key("files_unchanged").Int(r.files_unchanged).Key("files_deleted").Int(r.files_deleted)
      .Key("anomalies").BeginObject();
  for (const auto& [d, n] : r.anomalies) w.Key(d).Int(n);
  w.EndObject().EndObject();
  return w.Take();
}

/// Bad input files seen by the previous `iotad run`: one "path<TAB>identity" line each.
constexpr std::string_view kBadInputsKey = "_iotad/bad_inputs";

/// What makes a bad file "the same one again": its path, size, mtime and reason.
std::string BadFileIdentity(const ingest::BadFile& b) {
  std::error_code size_ec, time_ec;
  const auto size = std::filesystem::file_size(b.path, size_ec);
  const auto mtime = std::filesystem::last_write_time(b.path, time_ec);
  return fmt::format("{}\t{}\t{}\t{}", b.path, size_ec ? 0 : size, time_ec ? 0 : mtime.time_since_epoch().count(),
                     b.reason);
}

/// The `inputs_skipped` check: fails in the run that first sees a bad input file, passes (with
/// the list as a note) in later runs while the same file is still there unchanged, so one bad
/// file is reported loudly once and never makes every later run fail.
/// A run that ingested nothing (no inbox, no --input) leaves the remembered list alone.
Result<CheckResult> InputsSkippedCheck(lake::Lake& lake, const ingest::IngestReport& ingested, bool ingest_ran) {
  CheckResult check{"inputs_skipped", true, ""};
  if (!ingest_ran) return check;
  std::string seen;
  if (auto text = lake.store().Get(kBadInputsKey); text.ok()) seen = std::move(text).value();
  std::string now;
  std::vector<const ingest::BadFile*> fresh;
  for (const auto& b : ingested.bad_files) {
    const std::string id = BadFileIdentity(b);
    now += id + "\n";
    if (("\n" + seen).find("\n" + id + "\n") == std::string::npos) fresh.push_back(&b);
  }
  if (now != seen) IOTAD_TRY(lake.store().Put(kBadInputsKey, now));
  if (ingested.bad_files.empty()) return check;
  const auto& first = fresh.empty() ? ingested.bad_files.front() : *fresh.front();
  const size_t n = ingested.bad_files.size();
  if (!fresh.empty()) {
    check.passed = false;
    check.message = fmt::format("{} input file{} skipped and left in place ({} new; first: '{}': {}); later runs "
                                "list {} without failing",
                                n, n == 1 ? "" : "s", fresh.size(), first.path, first.reason, n == 1 ? "it" : "them");
  } else {
    check.message = fmt::format("{} input file{} still skipped, as in the previous run (first: '{}': {})", n,
                                n == 1 ? "" : "s", first.path, first.reason);
  }
  return check;
}

/// `iotad verify --quick` as a check: committed objects present with their sizes, no strays.
Result<CheckResult> LakeVerifiedCheck(lake::Lake& lake) {
  IOTAD_ASSIGN_OR_RETURN(auto verified, VerifySnapshot(lake, VerifyOptions{.quick = true}));
  CheckResult check{"lake_verified", true, ""};
  int64_t shown = 0, objects = 0;
  for (const auto& p : verified.problems) {
    if (p.kind != ProblemKind::kMissing && p.kind != ProblemKind::kDamaged && p.kind != ProblemKind::kStray) continue;
    check.passed = false;
    if (++objects > 5) continue;
    ++shown;
    check.message += fmt::format("{}{} {}: {}", check.message.empty() ? "" : "; ", ProblemKindName(p.kind), p.key, p.message);
  }
  if (objects > shown) check.message += fmt::format("; and {} more (see `iotad verify`)", objects - shown);
  return check;
}

}  // namespace

Result<std::vector<CheckResult>> ValidateLake(lake::Lake& lake) {
  std::vector<CheckResult> checks;
  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession());
  IOTAD_ASSIGN_OR_RETURN(int64_t bronze_files, session->QueryInt("SELECT count(*) FROM bronze"));
  IOTAD_ASSIGN_OR_RETURN(int64_t silver_rows, session->QueryInt("SELECT count(*) FROM silver"));
  // Quarantined rows, not per-cell records (those name a column of a row that was stored).
  // Quarantine files written before the column existed have no column_name: all rows.
  const bool has_column_name = session->QueryInt("SELECT count(*) FROM quarantine WHERE column_name IS NULL").ok();
  const std::string rows_only = has_column_name ? " WHERE column_name IS NULL" : "";
  IOTAD_ASSIGN_OR_RETURN(int64_t quarantined,
                         session->QueryInt(fmt::format("SELECT count(*) FROM quarantine{}", rows_only)));
  IOTAD_ASSIGN_OR_RETURN(int64_t summary_rows, session->QueryInt("SELECT count(*) FROM gold_summary"));

  CheckResult silver_check{"silver_not_empty", true, ""};
  if (bronze_files > 0 && silver_rows == 0) {
    silver_check.passed = false;
    std::string cause = "no bronze row could be used";
    if (quarantined > 0) {
      IOTAD_ASSIGN_OR_RETURN(auto r, session->Query(
                                         "SELECT reason || ': ' || any_value(detail) || ' (' || count(*) || ' rows)' "
                                         "FROM quarantine" + rows_only + " GROUP BY reason ORDER BY count(*) DESC LIMIT 1"));
      IOTAD_ASSIGN_OR_RETURN(auto chunk, r.Next());
      if (chunk && chunk.size() > 0) {
        cause = fmt::format("all {} rows went to quarantine; most common reason {}", quarantined,
                            lake::DuckChunk::StringAt(chunk.Data<duckdb_string_t>(0), 0));
      }
    } else {
      IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
      if (snapshot->LastSeq("silver") == 0) cause = "silver has not run yet (run `iotad silver`)";
    }
    silver_check.message = fmt::format("silver is empty although bronze has {} files: {}", bronze_files, cause);
  }
  checks.push_back(silver_check);

  CheckResult accounting{"accounting_balances", true, ""};
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  for (const auto& problem : snapshot->accounting_problems()) {
    // A mismatch means a bug or a damaged lake; the last one is named (`iotad verify` lists all).
    accounting.passed = false;
    accounting.message = problem.message;
  }
  checks.push_back(accounting);

  CheckResult gold_check{"gold_covers_silver", true, ""};
  if (silver_rows > 0 && summary_rows == 0) {
    gold_check.passed = false;
    gold_check.message = "gold_summary is empty although silver has rows (run `iotad gold`)";
  }
  checks.push_back(gold_check);

  CheckResult quarantine_rate{"quarantine_rate_below_20pct", true, ""};
  if (quarantined > 0 && quarantined * 5 > silver_rows + quarantined) {
    quarantine_rate.passed = false;
    quarantine_rate.message = fmt::format("{} of {} rows were quarantined (over 20%): see `iotad sql \"SELECT reason, "
                                          "count(*) FROM quarantine GROUP BY ALL\"`",
                                          quarantined, silver_rows + quarantined);
  }
  checks.push_back(quarantine_rate);
  return checks;
}

Result<RunReport> RunPipeline(lake::Lake& lake, const RunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  RunReport report;
  report.run_id = lake::NewRunId(lake.clock());
  RunRecord record;
  record.run_id = report.run_id;
  record.command = "run";
  record.started_at_us = lake.clock().NowUs();
  auto seconds_so_far = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto fail = [&](const Status& st) -> Status {
    record.status = "failed";
    record.message = st.message();
    record.finished_at_us = lake.clock().NowUs();
    (void)WriteRunRecord(lake, record);
    if (options.metrics) RecordRunMetrics(*options.metrics, "run", record.status, seconds_so_far(), record.finished_at_us);
    return st;
  };
  // One record per finished stage: its duration into the metrics, and a log line (info) carrying
  // the counts the run record stores.
  auto stage_done = [&](const std::string& stage, double seconds, const std::string& counts_json,
                        log::Fields extra = {}) {
    if (options.metrics) RecordStageSeconds(*options.metrics, stage, seconds);
    if (!log::Enabled(log::Level::kInfo)) return;
    std::vector<log::Field> fields = {{"run_id", report.run_id}, {"stage", stage}, {"seconds", seconds}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    fields.push_back(log::Field::Json("counts", counts_json));
    log::Write(log::Level::kInfo, fmt::format("{}: done in {:.2f} s", stage, seconds), std::span<const log::Field>(fields));
  };
  IOTAD_TRY(lake.BeginWrite());

  auto stage_clock = std::chrono::steady_clock::now();
  auto lap = [&]() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - stage_clock).count();
    stage_clock = now;
    return s;
  };
  std::vector<std::string> inputs = options.extra_inputs;
  if (!options.skip_inbox) {
    std::filesystem::path inbox = lake.config().ingest.inbox;
    if (inbox.is_relative()) inbox = lake.root() / inbox;
    std::error_code ec;
    if (std::filesystem::is_directory(inbox, ec)) inputs.push_back(inbox.string());
  }
  if (!inputs.empty()) {
    auto ingested = ingest::IngestPaths(lake, inputs, report.run_id);
    if (!ingested.ok()) return fail(ingested.status());
    report.ingest = std::move(ingested).value();
    if (lake.config().ingest.delete_after_ingest) {
      // Only files landed (or already in bronze): bad files always stay where they are.
      for (const auto& f : report.ingest.files) {
        std::error_code ec;
        std::filesystem::remove(f.source, ec);
      }
    }
  }
  record.stages.push_back({"ingest", lap(), IngestCountsJson(report.ingest)});
  if (options.metrics) RecordIngestMetrics(*options.metrics, report.ingest);
  stage_done("ingest", record.stages.back().seconds, record.stages.back().counts_json);

  auto silver = RunSilver(lake, SilverOptions{}, report.run_id);
  if (!silver.ok()) return fail(silver.status());
  report.silver = std::move(silver).value();
  record.stages.push_back({"silver", lap(), SilverCountsJson(report.silver)});
  if (options.metrics) RecordSilverMetrics(*options.metrics, report.silver);
  stage_done("silver", record.stages.back().seconds, record.stages.back().counts_json,
             {{"seq", report.silver.commit_seq}, {"rows", report.silver.accounting.rows}});

  // Gold refuses a silver that does not match its log; the run goes on to the checks, where
  // lake_verified names the files.
  if (Status intact = CheckSilverIntact(lake); intact.ok()) {
    auto gold = RunGold(lake, options.gold, report.run_id);
    if (!gold.ok()) return fail(gold.status());
    report.gold = std::move(gold).value();
    record.stages.push_back({"gold", lap(), GoldCountsJson(report.gold)});
    if (options.metrics) RecordGoldMetrics(*options.metrics, report.gold);
    stage_done("gold", record.stages.back().seconds, record.stages.back().counts_json,
               {{"seq", report.gold.commit_seq}, {"rows", report.gold.rows_scanned}});
  } else {
    report.gold_skipped = intact.message();
    JsonWriter skipped;
    skipped.BeginObject().Key("skipped").String(intact.message()).EndObject();
    record.stages.push_back({"gold", lap(), skipped.Take()});
    stage_done("gold", record.stages.back().seconds, record.stages.back().counts_json);
  }

  auto verified = LakeVerifiedCheck(lake);
  if (!verified.ok()) return fail(verified.status());
  const double verify_seconds = lap();  // part of the checks stage, measured before the alerts
  // Alerts on the gold just committed, when the lake's files are all there (alerting on a damaged
  // gold would page on what verify will change; lake_verified names the damage). A receiver that
  // fails is an attempt (retried by the next run), never a failed run; a broken sink (a missing
  // secret) is.
  if (report.gold_skipped.empty() && verified->passed && options.alert && lake.config().alert.enabled) {
    auto alerted = alert::RunAlerts(lake, options.alert_options);
    if (!alerted.ok()) return fail(alerted.status());
    report.alert = std::move(alerted).value();
    report.alert_ran = true;
    record.stages.push_back({"alert", lap(), alert::AlertReportJson(report.alert)});
    stage_done("alert", record.stages.back().seconds, record.stages.back().counts_json,
               {{"notifications", report.alert.notifications}, {"delivered", report.alert.delivered}});
  }
  auto checks = ValidateLake(lake);
  if (!checks.ok()) {
    // A damaged file can make the other checks' queries fail; lake_verified says which one.
    if (verified->passed) return fail(checks.status());
    verified->message += fmt::format(" (the other checks could not run: {})", checks.status().message());
    checks = std::vector<CheckResult>{};
  }
  report.checks = std::move(checks).value();
  report.checks.push_back(std::move(verified).value());
  auto inputs_check = InputsSkippedCheck(lake, report.ingest, !inputs.empty());
  if (!inputs_check.ok()) return fail(inputs_check.status());
  report.checks.push_back(std::move(inputs_check).value());
  JsonWriter counts;
  counts.BeginObject();
  for (const auto& c : report.checks) {
    if (!c.passed) {
      report.checks_passed = false;
      record.status = "failed_checks";
      record.message += (record.message.empty() ? "" : "; ") + c.message;
    } else if (!c.message.empty()) {
      record.message += (record.message.empty() ? "note: " : "; note: ") + c.message;
    }
    counts.Key(c.name).Bool(c.passed);
  }
  counts.EndObject();
  record.stages.push_back({"checks", verify_seconds + lap(), counts.Take()});
  if (options.metrics) {
    for (const auto& c : report.checks) RecordCheckMetrics(*options.metrics, c);
  }
  stage_done("checks", record.stages.back().seconds, record.stages.back().counts_json);
  const RowAccounting& acc = report.silver.accounting;
  const ParseTotals& parse = report.silver.parse;
  JsonWriter run_counts;
  run_counts.BeginObject().Key("rows").Int(acc.rows).Key("stored").Int(acc.stored).Key("quarantined")
      .Int(acc.quarantined).Key("duplicates").Int(acc.duplicates).Key("merged").Int(acc.merged)
      .Key("cells_quarantined").Int(acc.cells_quarantined).Key("zoneless_timestamps").Int(parse.zoneless_timestamps)
      .Key("rounded_timestamps").Int(parse.rounded_timestamps).Key("null_cells").Int(parse.null_cells)
      .Key("replaced_characters").Int(parse.replaced_characters).EndObject();
  record.counts_json = run_counts.Take();
  record.finished_at_us = lake.clock().NowUs();
  IOTAD_TRY(WriteRunRecord(lake, record));
  report.seconds = seconds_so_far();
  if (options.metrics) RecordRunMetrics(*options.metrics, "run", record.status, report.seconds, record.finished_at_us);
  log::Info(fmt::format("run {} {} in {:.2f} s", report.run_id, record.status, report.seconds),
            {{"run_id", report.run_id}, {"status", record.status}, {"seconds", report.seconds},
             log::Field::Json("counts", record.counts_json)});
  return report;
}

}  // namespace iotad::pipeline
