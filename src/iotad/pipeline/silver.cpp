#include "iotad/pipeline/silver.h"

#include <time.h>

#include <chrono>
#include <thread>

#include "iotad/core/fault.h"
#include "iotad/core/json.h"
#include "iotad/core/thread.h"
#include "iotad/lake/commit_meta.h"
#include "iotad/lake/snapshot.h"
#include "iotad/pipeline/silver_parse.h"
#include "iotad/pipeline/silver_plan.h"
#include "iotad/pipeline/silver_state.h"
#include "iotad/pipeline/silver_write.h"

// Silver is shaped along the lines of an operator: an immutable plan (silver_plan.h), a global
// state the workers share (silver_state.h), the parse worker and the writer worker each with
// their local state (silver_parse.h, silver_write.h), then combine (the workers' counts, in a
// fixed order) and finalize (the commit), here.

namespace iotad::pipeline {

namespace silver {

double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

namespace {

/// Per input file, the parse worker's counts then the writer worker's.
std::vector<FileCounts> CombineFiles(const ParseResult& parsed, const WriteResult& written) {
  std::vector<FileCounts> out = parsed.per_file;
  for (size_t s = 0; s < out.size(); ++s) out[s].Add(written.per_file[s]);
  return out;
}

/// The run's accounting: the files' counts in input order, the parse worker's reasons then the
/// writer worker's.
RowAccounting Combine(const std::vector<FileCounts>& files, const ParseResult& parsed, const WriteResult& written) {
  RowAccounting acc;
  for (const FileCounts& fc : files) {
    acc.rows += fc.rows;
    acc.stored += fc.stored;
    acc.quarantined += fc.quarantined;
    acc.duplicates += fc.duplicates;
    acc.merged += fc.merged;
    acc.cells_quarantined += fc.cells;
  }
  acc.quarantine_reasons = parsed.reasons;
  for (const auto& [r, n] : written.reasons) acc.quarantine_reasons[r] += n;
  acc.cell_reasons = parsed.cell_reasons;
  return acc;
}

/// The commit: the writer's staged files move in, replaced files go, the inputs are consumed,
/// and the meta records the accounting per file and the lake's column roles.
lake::Commit FinalizeCommit(const SilverPlan& plan, const std::vector<FileCounts>& files, const RowAccounting& acc,
                            const ParseResult& parsed, WriteResult& written) {
  lake::Commit commit;
  commit.stage = "silver";
  commit.run_id = plan.run_id;
  commit.deletes = plan.replaced;
  commit.moves = std::move(written.moves);
  for (auto& key : written.deletes) commit.deletes.push_back(std::move(key));
  commit.inputs = plan.inputs;
  lake::SilverCommitMeta meta;
  meta.batch = plan.batch_id;
  meta.rebuild = plan.rebuild;
  meta.accounting = lake::SilverRowCounts{acc.rows, acc.stored, acc.quarantined, acc.duplicates, acc.merged,
                                          acc.cells_quarantined};
  meta.quarantine_reasons = {acc.quarantine_reasons.begin(), acc.quarantine_reasons.end()};
  meta.cell_reasons = {acc.cell_reasons.begin(), acc.cell_reasons.end()};
  meta.parse = {{"zoneless_timestamps", parsed.totals.zoneless_timestamps},
                {"rounded_timestamps", parsed.totals.rounded_timestamps},
                {"null_cells", parsed.totals.null_cells},
                {"replaced_characters", parsed.totals.replaced_characters}};
  meta.columns = lake::SilverCommitMeta::Columns{parsed.lake_columns.metrics, parsed.lake_columns.dimensions};
  for (size_t s = 0; s < plan.inputs.size(); ++s) {
    const FileCounts& fc = files[s];
    lake::SilverFileCounts f;
    f.key = plan.inputs[s];
    f.rows = fc.rows;
    f.stored = fc.stored;
    f.quarantined = fc.quarantined;
    f.duplicates = fc.duplicates;
    f.merged = fc.merged;
    f.cells_quarantined = fc.cells;
    meta.files.push_back(std::move(f));
  }
  commit.meta_json = meta.ToJson();
  return commit;
}

}  // namespace
}  // namespace silver

std::string AccountingJson(const RowAccounting& a, const ParseTotals* parse) {
  JsonWriter w;
  w.BeginObject().Key("rows").Int(a.rows).Key("stored").Int(a.stored).Key("quarantined").Int(a.quarantined)
      .Key("duplicates").Int(a.duplicates).Key("merged").Int(a.merged).Key("quarantine_reasons").BeginObject();
  for (const auto& [reason, n] : a.quarantine_reasons) w.Key(reason).Int(n);
  w.EndObject().Key("cells_quarantined").Int(a.cells_quarantined).Key("cell_reasons").BeginObject();
  for (const auto& [reason, n] : a.cell_reasons) w.Key(reason).Int(n);
  w.EndObject();
  if (parse != nullptr) {
    w.Key("zoneless_timestamps").Int(parse->zoneless_timestamps).Key("rounded_timestamps")
        .Int(parse->rounded_timestamps).Key("null_cells").Int(parse->null_cells).Key("replaced_characters")
        .Int(parse->replaced_characters);
  }
  w.EndObject();
  return w.Take();
}

std::string ParseTotalsJson(const ParseTotals& p) {
  JsonWriter w;
  w.BeginObject().Key("zoneless_timestamps").Int(p.zoneless_timestamps).Key("rounded_timestamps")
      .Int(p.rounded_timestamps).Key("null_cells").Int(p.null_cells).Key("replaced_characters")
      .Int(p.replaced_characters).EndObject();
  return w.Take();
}

Result<SilverReport> RunSilver(lake::Lake& lake, const SilverOptions& options, const std::string& run_id) {
  using namespace silver;
  const auto t0 = std::chrono::steady_clock::now();
  SilverReport report;
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  IOTAD_ASSIGN_OR_RETURN(std::vector<std::string> inputs, PendingBronze(lake, *snapshot, options.rebuild));
  if (inputs.empty() && !options.rebuild) return report;

  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(/*with_views=*/false));
  // The writer and its encoder threads do their DuckDB work themselves (the encoders each on a
  // session of their own); extra DuckDB workers would only take CPU from the parse thread.
  IOTAD_TRY(session->Exec("SET threads = 1"));
  // The plan: the only place the config is read.
  IOTAD_ASSIGN_OR_RETURN(const SilverPlan plan, PlanSilver(lake, *snapshot, *session, lake.config().silver, options,
                                                           run_id, std::move(inputs)));

  GlobalState state;
  WriteResult written;
  // Nothing below returns before the queue is closed and the thread joined.
  IOTAD_ASSIGN_OR_RETURN(std::jthread writer_thread,
                         StartThread("silver's Parquet writer", [&] { written = WriteSilver(lake, *session, plan, state); }));
  ParseResult parsed = ParseBronze(lake, plan, state.pool, [&](Task t) { state.queue.Push(std::move(t)); });
  state.queue.Close();
  writer_thread.join();
  IOTAD_TRY(written.status);

  const std::vector<FileCounts> files = CombineFiles(parsed, written);
  report.accounting = Combine(files, parsed, written);
  const RowAccounting& acc = report.accounting;
  if (!acc.Balanced()) {
    return Error(Errc::kInternal,
                 "silver: row accounting does not balance ({} rows != {} stored + {} quarantined + {} "
                 "duplicates + {} merged); nothing was committed",
                 acc.rows, acc.stored, acc.quarantined, acc.duplicates, acc.merged);
  }
  for (const auto& [from, to] : written.moves) {
    if (to.compare(0, lake::kSilverPrefix.size(), lake::kSilverPrefix) == 0) ++report.files_written;
  }
  report.parse = parsed.totals;
  lake::Commit commit = FinalizeCommit(plan, files, acc, parsed, written);
  IOTAD_FAULT_POINT("silver.before_commit");
  IOTAD_ASSIGN_OR_RETURN(report.commit_seq, lake.Publish(std::move(commit)));
  report.bronze_files = static_cast<int64_t>(plan.inputs.size());
  report.hours_written = written.hours_written;
  report.late_rows = written.late_rows;
  report.parse_seconds = parsed.cpu_seconds;
  report.write_seconds = written.cpu_seconds;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::pipeline
