#include "iotad/pipeline/verify.h"

#include <functional>
#include <set>

#include <simdjson.h>

#include "iotad/core/json.h"
#include "iotad/lake/commit_meta.h"
#include "iotad/lake/snapshot.h"
#include "iotad/pipeline/gold.h"
#include "iotad/pipeline/silver.h"

namespace iotad::pipeline {
namespace {

bool IsSilverSide(std::string_view layer) { return layer == "silver" || layer == "quarantine"; }
bool IsGoldSide(std::string_view layer) { return layer == "gold" || layer == "gold_summary"; }

bool IsRebuild(const lake::Commit& c) {
  if (c.stage != "silver") return false;
  auto meta = lake::SilverCommitMeta::FromJson(c.meta_json);
  return meta.ok() && meta->rebuild;
}

void CheckAccounting(const std::vector<lake::Commit>& commits, VerifyReport& report) {
  auto problems = CheckSilverAccounting(commits);
  report.problems.insert(report.problems.end(), problems.begin(), problems.end());
}

}  // namespace

std::vector<VerifyProblem> CheckSilverAccounting(const std::vector<lake::Commit>& commits) {
  std::vector<VerifyProblem> problems;
  // Only the silver commits that built the current silver: the last rebuild and those after it.
  size_t first = 0;
  for (size_t i = 0; i < commits.size(); ++i) {
    if (IsRebuild(commits[i])) first = i;
  }
  for (size_t i = first; i < commits.size(); ++i) {
    for (auto& p : lake::SilverAccountingProblems(commits[i])) {
      problems.push_back({ProblemKind::kAccounting, lake::LogKey(p.seq), std::move(p.message)});
    }
  }
  return problems;
}

namespace {

/// Gold must be built from the last silver commit. `gold_meta` is the last gold commit's meta.
void CheckGoldCoversSilver(int64_t silver_seq, int64_t gold_seq, std::string_view gold_meta, VerifyReport& report) {
  if (silver_seq == 0) return;
  if (gold_seq == 0) {
    report.problems.push_back({ProblemKind::kGoldStale, lake::LogKey(silver_seq),
                               fmt::format("gold has never been built from silver (commit {}): run `iotad gold`", silver_seq)});
    return;
  }
  auto meta = lake::GoldCommitMeta::FromJson(gold_meta);
  const int64_t built_from = meta.ok() ? meta->silver_seq : -1;
  if (built_from != silver_seq) {
    report.problems.push_back({ProblemKind::kGoldStale, lake::LogKey(gold_seq),
                               fmt::format("gold (commit {}) was built from silver commit {}, but silver is at commit {}: "
                                           "run `iotad gold`",
                                           gold_seq, built_from, silver_seq)});
  }
}

void CheckGoldCoversSilver(const std::vector<lake::Commit>& commits, VerifyReport& report) {
  const lake::Commit* silver = nullptr;
  const lake::Commit* gold = nullptr;
  for (const auto& c : commits) {
    if (c.stage == "silver") silver = &c;
    if (c.stage == "gold") gold = &c;
  }
  CheckGoldCoversSilver(silver == nullptr ? 0 : silver->seq, gold == nullptr ? 0 : gold->seq,
                        gold == nullptr ? "{}" : gold->meta_json, report);
}

/// "" when the snapshot's live files are `live` (keys, publishing commits, stamps), else the
/// first key where they differ.
std::string FirstDifference(const lake::Snapshot& snapshot, const std::map<std::string, LiveObject>& live) {
  auto a = snapshot.files().begin();
  auto b = live.begin();
  for (; a != snapshot.files().end() && b != live.end(); ++a, ++b) {
    const bool same_stamp = a->second.stamp.has_value() == b->second.stamp.has_value() &&
                            (!a->second.stamp || (a->second.stamp->size_bytes == b->second.stamp->size_bytes &&
                                                  a->second.stamp->hash == b->second.stamp->hash));
    if (a->first < b->first) return fmt::format("{} is not live in the log", a->first);
    if (b->first < a->first) return fmt::format("{} is missing from it", b->first);
    if (a->second.seq != b->second.seq || !same_stamp) return fmt::format("{} has another commit or stamp", a->first);
  }
  if (a != snapshot.files().end()) return fmt::format("{} is not live in the log", a->first);
  if (b != live.end()) return fmt::format("{} is missing from it", b->first);
  return "";
}

/// The snapshot's live files of the layers `wanted` accepts, as verify sees them.
std::map<std::string, LiveObject> SnapshotLiveSet(const lake::Snapshot& snapshot,
                                                  const std::function<bool(std::string_view)>& wanted) {
  std::map<std::string, LiveObject> live;
  for (const auto& [key, file] : snapshot.files()) {
    if (wanted(LayerOf(key))) live.emplace_hint(live.end(), key, LiveObject{file.seq, file.stamp});
  }
  return live;
}

/// Object checks for the layers `wanted` accepts: missing, damaged, stray.
Status CheckObjects(lake::Lake& lake, const std::map<std::string, LiveObject>& live, bool quick,
                    const std::function<bool(std::string_view)>& wanted, VerifyReport& report) {
  std::map<std::string, uint64_t> on_disk;
  for (auto layer : kLayers) {
    if (!wanted(layer)) continue;
    IOTAD_ASSIGN_OR_RETURN(auto objects, lake.store().List(fmt::format("{}/", layer)));
    for (auto& o : objects) on_disk.emplace(std::move(o.key), o.size_bytes);
  }
  report.files_on_disk += static_cast<int64_t>(on_disk.size());
  std::string bytes;
  for (const auto& [key, obj] : live) {
    if (!wanted(LayerOf(key))) continue;
    ++report.objects;
    const auto it = on_disk.find(key);
    if (it == on_disk.end()) {
      report.problems.push_back({ProblemKind::kMissing, key,
                                 fmt::format("committed by commit {} but not on disk", obj.seq)});
      continue;
    }
    if (!obj.stamp) {
      ++report.unstamped;
      continue;
    }
    if (it->second != obj.stamp->size_bytes) {
      report.problems.push_back({ProblemKind::kDamaged, key,
                                 fmt::format("{} bytes on disk, commit {} recorded {}", it->second, obj.seq,
                                             obj.stamp->size_bytes)});
      continue;
    }
    if (quick) continue;
    IOTAD_TRY(lake.store().GetInto(key, bytes));
    report.bytes_hashed += static_cast<int64_t>(bytes.size());
    if (const std::string hash = lake::ObjectHashHex(bytes); hash != obj.stamp->hash) {
      report.problems.push_back({ProblemKind::kDamaged, key,
                                 fmt::format("checksum {} differs from the {} commit {} recorded (same size: the "
                                             "content changed)",
                                             hash, obj.stamp->hash, obj.seq)});
    }
  }
  for (const auto& [key, size] : on_disk) {
    if (live.count(key) > 0) continue;
    report.problems.push_back({ProblemKind::kStray, key,
                               fmt::format("{} bytes in {}/ that no commit published (external engines read it; "
                                           "`iotad verify --repair` moves it aside)",
                                           size, LayerOf(key))});
  }
  return Status::Ok();
}

/// After a full gold run every gold file it produces is on disk, so a live gold key that is still
/// missing is one gold no longer makes (its silver changed while the file was gone): one commit
/// records that, so the log stops expecting it.
Status ForgetGoldNoLongerProduced(lake::Lake& lake, const std::string& run_id, RepairReport& repair) {
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  VerifyReport after;
  IOTAD_TRY(CheckObjects(lake, SnapshotLiveSet(*snapshot, IsGoldSide), /*quick=*/true, IsGoldSide, after));
  lake::Commit commit;
  commit.stage = "repair";
  commit.run_id = run_id;
  for (const auto& p : after.problems) {
    if (p.kind == ProblemKind::kMissing) commit.deletes.push_back(p.key);
  }
  if (commit.deletes.empty()) return Status::Ok();
  commit.meta_json = lake::RepairCommitMeta{"gold files lost by hand that gold no longer produces"}.ToJson();
  const std::vector<std::string> dropped = commit.deletes;
  IOTAD_ASSIGN_OR_RETURN(int64_t seq, lake.Publish(std::move(commit)));
  (void)seq;
  repair.dropped_from_log = dropped;
  return Status::Ok();
}

}  // namespace

std::map<std::string, LiveObject> ReplayLiveSet(const std::vector<lake::Commit>& commits) {
  lake::Snapshot snapshot;
  for (const auto& c : commits) snapshot.Fold(c);
  return snapshot.files();
}

std::string_view ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kMissing: return "missing";
    case ProblemKind::kDamaged: return "damaged";
    case ProblemKind::kStray: return "stray";
    case ProblemKind::kAccounting: return "accounting";
    case ProblemKind::kGoldStale: return "gold_stale";
  }
  return "unknown";
}

Result<VerifyReport> VerifyLake(lake::Lake& lake, const VerifyOptions& options) {
  VerifyReport report;
  report.quick = options.quick;
  IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits());
  report.commits = static_cast<int64_t>(commits.size());
  const auto live = ReplayLiveSet(commits);
  IOTAD_TRY(CheckObjects(lake, live, options.quick, [](std::string_view) { return true; }, report));
  CheckAccounting(commits, report);
  CheckGoldCoversSilver(commits, report);
  // Readers build their state from the newest checkpoint: it must say what the whole log says.
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  if (snapshot->seq() == static_cast<int64_t>(commits.size())) {
    if (std::string diff = FirstDifference(*snapshot, live); !diff.empty()) {
      const int64_t checkpoint = lake::ReadCheckpointPointer(lake.store());
      report.problems.push_back({ProblemKind::kDamaged, lake::CheckpointKey(checkpoint),
                                 fmt::format("the state built from checkpoint {} differs from the commit log ({}): "
                                             "readers would see a wrong lake",
                                             checkpoint, diff)});
    }
  }
  return report;
}

Result<VerifyReport> VerifySnapshot(lake::Lake& lake, const VerifyOptions& options) {
  VerifyReport report;
  report.quick = options.quick;
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  report.commits = snapshot->seq();
  auto all = [](std::string_view) { return true; };
  IOTAD_TRY(CheckObjects(lake, SnapshotLiveSet(*snapshot, all), options.quick, all, report));
  for (const auto& p : snapshot->accounting_problems()) {
    report.problems.push_back({ProblemKind::kAccounting, lake::LogKey(p.seq), p.message});
  }
  const lake::StageHead* gold = snapshot->Last("gold");
  CheckGoldCoversSilver(snapshot->LastSeq("silver"), snapshot->LastSeq("gold"), gold == nullptr ? "{}" : gold->meta_json,
                        report);
  return report;
}

Status CheckSilverIntact(lake::Lake& lake) {
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  VerifyReport report;
  auto silver_only = [](std::string_view layer) { return layer == "silver"; };
  IOTAD_TRY(CheckObjects(lake, SnapshotLiveSet(*snapshot, silver_only), /*quick=*/true, silver_only, report));
  if (report.ok()) return Status::Ok();
  const VerifyProblem& p = report.problems.front();
  return Error(Errc::kCorrupt, "silver does not match its commit log: {} {}: {}{}; gold is not built on it "
               "(run `iotad verify --repair`)",
               ProblemKindName(p.kind), p.key, p.message,
               report.problems.size() > 1 ? fmt::format(" (and {} more)", report.problems.size() - 1) : "");
}

Result<RepairReport> RepairLake(lake::Lake& lake, const VerifyReport& found, const std::string& run_id) {
  if (!lake.writing()) return Error(Errc::kInternal, "verify: repair without the writer lock");
  RepairReport repair;
  bool rebuild_silver = false, rerun_gold = false, bronze_lost = false;
  for (const auto& p : found.problems) {
    const std::string_view layer = LayerOf(p.key);
    switch (p.kind) {
      case ProblemKind::kStray: {
        // Out of the layer, so no engine reads it; kept, never deleted: it may be someone's data.
        const std::string to = fmt::format("_iotad/stray/{}/{}", run_id, p.key);
        IOTAD_TRY(lake.store().Move(p.key, to));
        repair.moved_aside.push_back(fmt::format("{} -> {}", p.key, to));
        break;
      }
      case ProblemKind::kMissing:
      case ProblemKind::kDamaged:
        if (layer == "bronze") {
          bronze_lost = true;
          repair.not_repairable.push_back(fmt::format(
              "{} is {}: bronze is the raw input and cannot be rebuilt (restore it from its source)", p.key,
              ProblemKindName(p.kind)));
          break;
        }
        if (p.kind == ProblemKind::kDamaged) {
          // Aside, so the rebuild writes a good copy (gold keeps a file whose name already exists).
          const std::string to = fmt::format("_iotad/damaged/{}/{}", run_id, p.key);
          IOTAD_TRY(lake.store().Move(p.key, to));
          repair.moved_aside.push_back(fmt::format("{} -> {}", p.key, to));
        }
        if (IsSilverSide(layer)) rebuild_silver = true;
        if (IsGoldSide(layer)) rerun_gold = true;
        break;
      case ProblemKind::kAccounting:
        rebuild_silver = true;
        break;
      case ProblemKind::kGoldStale:
        rerun_gold = true;
        break;
    }
  }
  if (rebuild_silver && bronze_lost) {
    repair.not_repairable.push_back(
        "silver was not rebuilt: bronze is incomplete, and a rebuild would lose rows silver still holds; "
        "gold was not rerun either (it refuses a silver that does not match its log)");
    rebuild_silver = false;
    rerun_gold = false;
  }
  if (rebuild_silver) {
    IOTAD_ASSIGN_OR_RETURN(auto silver, RunSilver(lake, SilverOptions{.rebuild = true}, run_id));
    (void)silver;
    repair.silver_rebuilt = true;
    rerun_gold = true;
  }
  if (rerun_gold) {
    GoldOptions gold;
    gold.rebuild = true;
    IOTAD_ASSIGN_OR_RETURN(auto report, RunGold(lake, gold, run_id));
    (void)report;
    repair.gold_rebuilt = true;
    IOTAD_TRY(ForgetGoldNoLongerProduced(lake, run_id, repair));
  }
  return repair;
}

std::string VerifyReportJson(const VerifyReport& report) {
  JsonWriter w;
  w.BeginObject().Key("ok").Bool(report.ok()).Key("quick").Bool(report.quick).Key("commits").Int(report.commits)
      .Key("objects").Int(report.objects).Key("unstamped").Int(report.unstamped)
      .Key("files_on_disk").Int(report.files_on_disk).Key("bytes_hashed").Int(report.bytes_hashed)
      .Key("problems").BeginArray();
  for (const auto& p : report.problems) {
    w.BeginObject().Key("kind").String(ProblemKindName(p.kind)).Key("key").String(p.key)
        .Key("message").String(p.message).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string RepairReportJson(const RepairReport& repair) {
  JsonWriter w;
  w.BeginObject().Key("moved_aside").BeginArray();
  for (const auto& m : repair.moved_aside) w.String(m);
  w.EndArray().Key("dropped_from_log").BeginArray();
  for (const auto& m : repair.dropped_from_log) w.String(m);
  w.EndArray().Key("not_repairable").BeginArray();
  for (const auto& m : repair.not_repairable) w.String(m);
  w.EndArray().Key("silver_rebuilt").Bool(repair.silver_rebuilt).Key("gold_rebuilt").Bool(repair.gold_rebuilt)
      .EndObject();
  return w.Take();
}

}  // namespace iotad::pipeline
