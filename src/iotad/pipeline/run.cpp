#include "iotad/pipeline/run.h"

#include <chrono>
#include <filesystem>

#include "iotad/core/json.h"
#include "iotad/pipeline/run_record.h"

namespace iotad::pipeline {
namespace {

std::string IngestCountsJson(const ingest::IngestReport& r) {
  JsonWriter w;
  w.BeginObject().Key("new_files").Int(r.new_files).Key("duplicate_files").Int(r.duplicate_files)
      .Key("bytes").Int(static_cast<int64_t>(r.new_bytes)).Key("skipped").Int(static_cast<int64_t>(r.skipped.size()))
      .EndObject();
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
      IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits("silver"));
      if (commits.empty()) cause = "silver has not run yet (run `iotad silver`)";
    }
    silver_check.message = fmt::format("silver is empty although bronze has {} files: {}", bronze_files, cause);
  }
  checks.push_back(silver_check);

  CheckResult accounting{"accounting_balances", true, ""};
  IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits("silver"));
  for (const auto& c : commits) {
    // Each commit's meta carries its accounting; a mismatch means a bug or a damaged lake.
    auto num = [&](std::string_view key) -> int64_t {
      const std::string needle = fmt::format("\"{}\":", key);
      const size_t p = c.meta_json.find(needle);
      return p == std::string::npos ? 0 : std::strtoll(c.meta_json.c_str() + p + needle.size(), nullptr, 10);
    };
    if (num("rows") != num("stored") + num("quarantined") + num("duplicates") + num("merged")) {
      accounting.passed = false;
      accounting.message = fmt::format("silver commit {} does not balance its rows", c.seq);
    }
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
  report.run_id = lake::NewRunId();
  RunRecord record;
  record.run_id = report.run_id;
  record.command = "run";
  record.started_at_us = NowUs();
  auto fail = [&](const Status& st) -> Status {
    record.status = "failed";
    record.message = st.message();
    record.finished_at_us = NowUs();
    (void)WriteRunRecord(lake, record);
    return st;
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
      for (const auto& f : report.ingest.files) {
        std::error_code ec;
        std::filesystem::remove(f.source, ec);
      }
    }
  }
  record.stages.push_back({"ingest", lap(), IngestCountsJson(report.ingest)});

  auto silver = RunSilver(lake, SilverOptions{}, report.run_id);
  if (!silver.ok()) return fail(silver.status());
  report.silver = std::move(silver).value();
  record.stages.push_back({"silver", lap(), SilverCountsJson(report.silver)});

  auto gold = RunGold(lake, options.gold, report.run_id);
  if (!gold.ok()) return fail(gold.status());
  report.gold = std::move(gold).value();
  record.stages.push_back({"gold", lap(), GoldCountsJson(report.gold)});

  auto checks = ValidateLake(lake);
  if (!checks.ok()) return fail(checks.status());
  report.checks = std::move(checks).value();
  JsonWriter counts;
  counts.BeginObject();
  for (const auto& c : report.checks) {
    if (!c.passed) {
      report.checks_passed = false;
      record.status = "failed_checks";
      record.message += (record.message.empty() ? "" : "; ") + c.message;
    }
    counts.Key(c.name).Bool(c.passed);
  }
  counts.EndObject();
  record.stages.push_back({"checks", lap(), counts.Take()});
  const RowAccounting& acc = report.silver.accounting;
  const ParseTotals& parse = report.silver.parse;
  JsonWriter run_counts;
  run_counts.BeginObject().Key("rows").Int(acc.rows).Key("stored").Int(acc.stored).Key("quarantined")
      .Int(acc.quarantined).Key("duplicates").Int(acc.duplicates).Key("merged").Int(acc.merged)
      .Key("cells_quarantined").Int(acc.cells_quarantined).Key("zoneless_timestamps").Int(parse.zoneless_timestamps)
      .Key("rounded_timestamps").Int(parse.rounded_timestamps).Key("null_cells").Int(parse.null_cells)
      .Key("replaced_characters").Int(parse.replaced_characters).EndObject();
  record.counts_json = run_counts.Take();
  record.finished_at_us = NowUs();
  IOTAD_TRY(WriteRunRecord(lake, record));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::pipeline
