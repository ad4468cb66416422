// silver -> gold (gold.h): RunGold builds the plan, runs the phases, combines the threads' outputs
// in a fixed order and commits. The shape is in gold_internal.h.
#include "iotad/pipeline/gold.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "iotad/core/fault.h"
#include "iotad/core/thread.h"
#include "iotad/lake/snapshot.h"
#include "iotad/pipeline/gold_internal.h"
#include "iotad/pipeline/verify.h"

namespace iotad::pipeline {
namespace gold_internal {

Status GoldRunner::Run(const std::map<TimestampUs, std::vector<std::string>>& hour_map,
                       const std::vector<std::string>& all_paths, GoldReport& report) {
  state_.hours.assign(hour_map.begin(), hour_map.end());
  for (const auto& [h, keys] : state_.hours) state_.hour_starts.push_back(h);
  for (int t = 0; t < kThreads; ++t) {
    contexts_.emplace_back();
    contexts_.back().index = t;
    IOTAD_ASSIGN_OR_RETURN(contexts_.back().session, lake_.OpenSession(/*with_views=*/false));
    // Each thread is one scan at a time; more DuckDB workers would only contend.
    IOTAD_TRY(contexts_.back().session->Exec("SET threads = 1"));
    // Gold reads each silver file many times (passes, column batches): DuckDB's file cache
    // would keep every range read, which on silver with thousands of metric columns was most of
    // gold's memory (the OS page cache serves the re-reads anyway).
    IOTAD_TRY(contexts_.back().session->Exec("SET enable_external_file_cache = false"));
  }
  // The phases that fill the global state, each finished before the next reads it.
  IOTAD_TRY(DiscoverMetrics(all_paths));
  const auto t0 = std::chrono::steady_clock::now();
  auto lap = [last = t0]() mutable {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last).count();
    last = now;
    return s;
  };
  IOTAD_TRY(FitMoments());  // also finds the devices and series
  report.moments_seconds = lap();
  if (plan_.use_robust) IOTAD_TRY(FitRobust());
  report.robust_seconds = lap();
  if (plan_.use_online) IOTAD_TRY(ReplayOnline(all_paths));
  report.replay_seconds = lap();
  report.baseline_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.series = static_cast<int64_t>(state_.series.size());
  if (!plan_.all_named || plan_.batch_params) IOTAD_TRY(PlanBatchDetectors());
  // Pass 2: hours handed out one by one; a thread writes only its local state.
  std::atomic<size_t> next{0};
  IOTAD_TRY(OnThreads([&](ScoreContext& ctx) -> Status {
    for (size_t i = next++; i < state_.hours.size(); i = next++) {
      IOTAD_TRY(ScoreHour(ctx, state_.hours[i].first, state_.hours[i].second));
    }
    return Status::Ok();
  }));
  report.score_seconds = lap();
  // Combine, thread by thread in thread order.
  for (auto& ctx : contexts_) {
    state_.moves.insert(state_.moves.end(), ctx.moves.begin(), ctx.moves.end());
    state_.produced.insert(ctx.produced.begin(), ctx.produced.end());
    report.rows_scanned += ctx.report.rows_scanned;
    report.values_scored += ctx.report.values_scored;
    report.summary_rows += ctx.report.summary_rows;
    report.files_written += ctx.report.files_written;
    report.files_unchanged += ctx.report.files_unchanged;
    for (const auto& [d, n] : ctx.report.anomalies) report.anomalies[d] += n;
  }
  // Which thread scored which hour depends on timing: the commit lists its moves by key, so
  // its record is the same on every run.
  std::sort(state_.moves.begin(), state_.moves.end());
  return Status::Ok();
}

/// Runs `fn` once per context, on its own thread; the first error wins. A thread the OS
/// refuses is an error too (after the started ones have finished), never std::terminate.
Status GoldRunner::OnThreads(const std::function<Status(ScoreContext&)>& fn) {
  std::vector<Status> results(contexts_.size());
  Status started;
  {
    std::vector<std::jthread> threads;  // joined when this block ends, whatever happens
    for (size_t t = 0; t < contexts_.size() && started.ok(); ++t) {
      auto thread = StartThread("gold scoring", [&, t] { results[t] = fn(contexts_[t]); });
      if (thread.ok()) threads.push_back(std::move(*thread));
      else started = thread.status().WithContext("gold: ");
    }
  }
  IOTAD_TRY(started);
  for (auto& st : results) IOTAD_TRY(st);
  return Status::Ok();
}

}  // namespace gold_internal

Result<GoldReport> RunGold(lake::Lake& lake, const GoldOptions& options, const std::string& run_id) {
  const auto t0 = std::chrono::steady_clock::now();
  GoldReport report;
  // Everything taken from the config and the options, resolved and checked once.
  IOTAD_ASSIGN_OR_RETURN(const GoldPlan plan, MakeGoldPlan(lake.config(), options));
  const std::string& fingerprint = plan.fingerprint;

  // Silver that lost a committed file (or holds a stray one) must not pass as "up to date".
  IOTAD_TRY(CheckSilverIntact(lake).WithContext("gold: "));
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  const int64_t silver_seq = snapshot->LastSeq("silver");
  if (!options.rebuild) {
    // A gold record that does not parse is not "up to date": gold runs again.
    auto last_gold = snapshot->LastGoldMeta();
    if (last_gold.ok() && *last_gold && (*last_gold)->silver_seq == silver_seq &&
        (*last_gold)->fingerprint == fingerprint) {
      report.up_to_date = true;
      return report;
    }
  }

  IOTAD_ASSIGN_OR_RETURN(const auto hours, ListSilverHours(lake));
  std::vector<std::string> all_paths;  // in hour order (the map's), whatever the folders' spelling
  for (const auto& [h, keys] : hours) {
    for (const auto& key : keys) all_paths.push_back(lake.store().ReadPath(key));
  }
  // The files gold may keep: live in the snapshot (a stray is not gold's) and on disk (a file lost
  // by hand is written again when gold still produces it; verify names it otherwise).
  std::set<std::string> existing;
  for (auto prefix : {lake::kGoldPrefix, lake::kGoldSummaryPrefix}) {
    IOTAD_ASSIGN_OR_RETURN(auto on_disk, lake.store().List(prefix));
    for (const auto& o : on_disk) {
      if (snapshot->files().count(o.key) > 0) existing.insert(o.key);
    }
  }

  gold_internal::GoldRunner runner(lake, plan, run_id);
  runner.SetExisting(existing);
  if (!all_paths.empty()) IOTAD_TRY(runner.Run(hours, all_paths, report));
  report.hours = static_cast<int64_t>(hours.size());

  lake::Commit commit;
  commit.stage = "gold";
  commit.run_id = run_id;
  commit.moves = std::move(runner.moves());
  for (const auto& key : existing) {
    if (runner.produced().count(key) == 0) commit.deletes.push_back(key);
  }
  report.files_deleted = static_cast<int64_t>(commit.deletes.size());
  lake::GoldCommitMeta meta;
  meta.silver_seq = silver_seq;
  meta.fingerprint = fingerprint;
  meta.rows_scanned = report.rows_scanned;
  meta.summary_rows = report.summary_rows;
  meta.anomalies = {report.anomalies.begin(), report.anomalies.end()};
  commit.meta_json = meta.ToJson();
  IOTAD_FAULT_POINT("gold.before_commit");
  IOTAD_ASSIGN_OR_RETURN(report.commit_seq, lake.Publish(std::move(commit)));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::pipeline
