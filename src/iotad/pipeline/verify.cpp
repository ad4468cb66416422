#include "iotad/pipeline/verify.h"

#include <functional>
#include <set>

#include <simdjson.h>

#include "iotad/core/json.h"
#include "iotad/pipeline/gold.h"
#include "iotad/pipeline/silver.h"

namespace iotad::pipeline {
namespace {

// The counters that, with `rows`, make a silver commit's accounting: rows == the sum of these.
// A counter absent from a record counts 0 (older records have no `merged`).
constexpr std::string_view kBalanceTerms[] = {"stored", "quarantined", "duplicates", "merged"};

bool IsSilverSide(std::string_view layer) { return layer == "silver" || layer == "quarantine"; }
bool IsGoldSide(std::string_view layer) { return layer == "gold" || layer == "gold_summary"; }

/// An integer field of a JSON object, or nullopt when absent or not an integer.
std::optional<int64_t> IntField(simdjson::dom::element obj, std::string_view key) {
  int64_t v = 0;
  if (obj[key].get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

/// "" when `obj` balances, else why not.
std::string Unbalanced(simdjson::dom::element obj) {
  const auto rows = IntField(obj, "rows");
  if (!rows) return "has no row count";
  int64_t sum = 0;
  std::string terms;
  for (auto term : kBalanceTerms) {
    const auto v = IntField(obj, term);
    if (!v) continue;
    sum += *v;
    terms += fmt::format("{}{} {}", terms.empty() ? "" : " + ", *v, term);
  }
  if (sum == *rows) return "";
  return fmt::format("{} rows != {}", *rows, terms);
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
    if (commits[i].stage == "silver" && commits[i].meta_json.find("\"rebuild\":true") != std::string::npos) first = i;
  }
  simdjson::dom::parser parser;
  for (size_t i = first; i < commits.size(); ++i) {
    const lake::Commit& c = commits[i];
    if (c.stage != "silver") continue;
    const std::string key = fmt::format("{}{:012d}.json", lake::kLogPrefix, c.seq);
    simdjson::dom::element meta;
    if (parser.parse(c.meta_json).get(meta) != simdjson::SUCCESS) {
      problems.push_back({ProblemKind::kAccounting, key, fmt::format("silver commit {} has no readable meta", c.seq)});
      continue;
    }
    simdjson::dom::element acc;
    if (meta["accounting"].get(acc) != simdjson::SUCCESS) {
      problems.push_back({ProblemKind::kAccounting, key, fmt::format("silver commit {} records no accounting", c.seq)});
      continue;
    }
    if (std::string why = Unbalanced(acc); !why.empty()) {
      problems.push_back({ProblemKind::kAccounting, key,
                                 fmt::format("silver commit {} does not balance: {}", c.seq, why)});
    }
    simdjson::dom::array files;
    if (meta["files"].get(files) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element f : files) {
      if (std::string why = Unbalanced(f); !why.empty()) {
        std::string_view source = "?";
        if (f["key"].get(source) != simdjson::SUCCESS) source = "?";
        problems.push_back({ProblemKind::kAccounting, key,
                                   fmt::format("silver commit {} does not balance for {}: {}", c.seq, source, why)});
      }
    }
  }
  return problems;
}

namespace {

void CheckGoldCoversSilver(const std::vector<lake::Commit>& commits, VerifyReport& report) {
  const lake::Commit* silver = nullptr;
  const lake::Commit* gold = nullptr;
  for (const auto& c : commits) {
    if (c.stage == "silver") silver = &c;
    if (c.stage == "gold") gold = &c;
  }
  if (silver == nullptr) return;
  const std::string silver_key = fmt::format("{}{:012d}.json", lake::kLogPrefix, silver->seq);
  if (gold == nullptr) {
    report.problems.push_back({ProblemKind::kGoldStale, silver_key,
                               fmt::format("gold has never been built from silver (commit {}): run `iotad gold`", silver->seq)});
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element meta;
  int64_t built_from = -1;
  if (parser.parse(gold->meta_json).get(meta) == simdjson::SUCCESS) {
    built_from = IntField(meta, "silver_seq").value_or(-1);
  }
  if (built_from != silver->seq) {
    report.problems.push_back({ProblemKind::kGoldStale, fmt::format("{}{:012d}.json", lake::kLogPrefix, gold->seq),
                               fmt::format("gold (commit {}) was built from silver commit {}, but silver is at commit {}: "
                                           "run `iotad gold`",
                                           gold->seq, built_from, silver->seq)});
  }
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
  IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits());
  VerifyReport after;
  IOTAD_TRY(CheckObjects(lake, ReplayLiveSet(commits), /*quick=*/true, IsGoldSide, after));
  lake::Commit commit;
  commit.stage = "repair";
  commit.run_id = run_id;
  for (const auto& p : after.problems) {
    if (p.kind == ProblemKind::kMissing) commit.deletes.push_back(p.key);
  }
  if (commit.deletes.empty()) return Status::Ok();
  commit.meta_json = R"({"reason":"gold files lost by hand that gold no longer produces"})";
  const std::vector<std::string> dropped = commit.deletes;
  IOTAD_ASSIGN_OR_RETURN(int64_t seq, lake.Publish(std::move(commit)));
  (void)seq;
  repair.dropped_from_log = dropped;
  return Status::Ok();
}

}  // namespace

std::string_view LayerOf(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view first = key.substr(0, slash);
  for (auto layer : kLayers) {
    if (first == layer) return layer;
  }
  return {};
}

std::map<std::string, LiveObject> ReplayLiveSet(const std::vector<lake::Commit>& commits) {
  std::map<std::string, LiveObject> live;
  for (const auto& c : commits) {
    if (c.stage == "silver" && c.meta_json.find("\"rebuild\":true") != std::string::npos) {
      std::erase_if(live, [](const auto& kv) { return IsSilverSide(LayerOf(kv.first)); });
    }
    for (const auto& [from, to] : c.moves) {
      if (LayerOf(to).empty()) continue;
      LiveObject obj;
      obj.seq = c.seq;
      if (auto it = c.stamps.find(to); it != c.stamps.end()) obj.stamp = it->second;
      live[to] = std::move(obj);
    }
    for (const auto& key : c.deletes) live.erase(key);
    // Silver reads every bronze file, committed or not: one it consumed holds rows silver now has,
    // so the log adopts it (unstamped: existence only) rather than calling it a stray.
    if (c.stage != "silver") continue;
    for (const auto& key : c.inputs) {
      if (LayerOf(key) == "bronze" && live.count(key) == 0) live[key] = LiveObject{c.seq, std::nullopt};
    }
  }
  return live;
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
  return report;
}

Status CheckSilverIntact(lake::Lake& lake) {
  IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits());
  VerifyReport report;
  IOTAD_TRY(CheckObjects(lake, ReplayLiveSet(commits), /*quick=*/true,
                         [](std::string_view layer) { return layer == "silver"; }, report));
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
