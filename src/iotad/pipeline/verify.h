#pragma once
// `iotad verify`: the lake checked against its commit log. Replaying every commit gives the objects
// the log says are live; each must be on disk with the size and hash its commit recorded, every
// file in a layer folder must be one of them (anything else is a stray that external engines would
// read), every silver commit's row accounting must balance, and gold must be built from the last
// silver commit. `--repair` moves strays and damaged files aside and rebuilds from bronze.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/lake.h"
#include "iotad/lake/snapshot.h"

namespace iotad::pipeline {

/// The layer folders the log governs; `runs/` and `_iotad/` are not layers.
inline constexpr const auto& kLayers = lake::kSnapshotLayers;

/// The layer a key lies in ("silver" for `silver/year=...`), or empty when it is in none.
using lake::LayerOf;

/// One object the commit log says is live: the commit that published it and its stamp (none for
/// records written before stamps existed).
using LiveObject = lake::LiveFile;

/// Replays commits in sequence order with the snapshot's own fold (`lake::Snapshot::Fold`, so the
/// rules live in one place): moves add their targets, deletes remove keys, and a silver
/// commit with `"rebuild":true` in its meta first drops every live silver and quarantine object
/// (a rebuild replaces both layers, including files that had gone missing). A bronze key a silver
/// commit consumed is live too, even if no ingest published it (a file dropped into bronze/ by
/// hand: its rows are in silver). Keys outside the layers are left out. Pure: no I/O.
std::map<std::string, LiveObject> ReplayLiveSet(const std::vector<lake::Commit>& commits);

enum class ProblemKind { kMissing, kDamaged, kStray, kAccounting, kGoldStale };
std::string_view ProblemKindName(ProblemKind kind);

/// One thing wrong, printed as one line: `<kind> <key>: <message>`.
struct VerifyProblem {
  ProblemKind kind;
  std::string key;      // the object, or the commit record for accounting and gold
  std::string message;  // what is wrong, in one sentence
};

struct VerifyOptions {
  bool quick = false;  // sizes only: no object is read (what `iotad run` and gold check)
};

struct VerifyReport {
  int64_t commits = 0;
  int64_t objects = 0;         // live objects checked
  int64_t unstamped = 0;       // committed before stamps were recorded: existence checked only
  int64_t files_on_disk = 0;   // files found in the layer folders
  int64_t bytes_hashed = 0;
  bool quick = false;
  std::vector<VerifyProblem> problems;
  bool ok() const { return problems.empty(); }
};

/// The accounting of the silver commits that built the current silver (the last rebuild and those
/// after it): each commit's `accounting`, and each of its `files`, must have rows == stored +
/// quarantined + duplicates (+ merged, when recorded). Pure: no I/O.
std::vector<VerifyProblem> CheckSilverAccounting(const std::vector<lake::Commit>& commits);

/// Checks the lake against its log. Read-only; call it under the writer lock (after recovery)
/// so that no commit is half-applied while it looks.
Result<VerifyReport> VerifyLake(lake::Lake& lake, const VerifyOptions& options);

/// The same checks against the lake's snapshot (see lake/snapshot.h) instead of the whole log:
/// objects, the accounting of the silver commits since the last rebuild, gold built from the last
/// silver commit. What `iotad run` checks; it reads only the commits since the last checkpoint.
Result<VerifyReport> VerifySnapshot(lake::Lake& lake, const VerifyOptions& options);

/// Gold's guard: Ok when every live silver object is on disk with its recorded size and silver/
/// holds nothing else; otherwise an error naming the first problem (gold built on that silver
/// would silently differ from what the log says silver is).
Status CheckSilverIntact(lake::Lake& lake);

struct RepairReport {
  std::vector<std::string> moved_aside;     // "key -> _iotad/stray/<run>/key" and damaged ones
  std::vector<std::string> dropped_from_log;  // lost gold files the gold rerun no longer produces
  std::vector<std::string> not_repairable;  // one sentence each (missing bronze, ...)
  bool silver_rebuilt = false;
  bool gold_rebuilt = false;
};

/// Repairs what `found` lists, under the writer lock: strays go to `_iotad/stray/<run>/`, damaged
/// objects to `_iotad/damaged/<run>/` (nothing is deleted); missing or damaged silver or
/// quarantine (or unbalanced silver accounting) rebuilds silver from bronze and then gold; missing
/// or damaged or stale gold reruns gold (with the config's detectors). Missing or damaged bronze
/// cannot be rebuilt, and then silver is not rebuilt either (it would lose rows silver still holds).
/// A lost gold file that the rerun no longer produces is dropped from the log by a `repair` commit.
Result<RepairReport> RepairLake(lake::Lake& lake, const VerifyReport& found, const std::string& run_id);

/// The reports as JSON objects.
std::string VerifyReportJson(const VerifyReport& report);
std::string RepairReportJson(const RepairReport& repair);

}  // namespace iotad::pipeline
