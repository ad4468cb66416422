#pragma once
// The state the commit log gives at one sequence number: the live files of every layer with their
// stamps, silver's bookmark, and each stage's last commit. Readers query these files, never
// folder globs, so a reader sees one committed state while a writer applies the next.
//
// A snapshot is built from the newest checkpoint at or before its sequence number
// (`_iotad/checkpoint/<seq>.json`, found through the pointer `_iotad/last_checkpoint`) plus the
// commit records after it, read one by one by sequence number: the log is never listed, so the
// cost is O(commits since the checkpoint), not O(history). The writer writes a checkpoint every
// kCheckpointInterval commits, after the commit is applied; a missing or damaged checkpoint falls
// back to an older one, and at worst to replaying the log from commit 1.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/lake/commit_meta.h"
#include "iotad/lake/lake.h"
#include "iotad/store/object_store.h"

namespace iotad::lake {

/// A checkpoint is written when this many commits have been made since the last one.
inline constexpr int64_t kCheckpointInterval = 32;
/// Checkpoints kept (older ones are deleted when a new one is written).
inline constexpr int kCheckpointsKept = 2;
inline constexpr std::string_view kCheckpointPrefix = "_iotad/checkpoint/";
inline constexpr std::string_view kLastCheckpointKey = "_iotad/last_checkpoint";
inline constexpr std::string_view kAppliedKey = "_iotad/applied";

inline constexpr std::string_view kManifestPrefix = "_iotad/manifest/";
/// The layers a snapshot tracks, as folder names.
inline constexpr std::string_view kSnapshotLayers[] = {"bronze", "silver", "quarantine", "gold", "gold_summary"};

/// `_iotad/manifest/silver.txt`: the live files of one layer, one key (relative to the lake
/// root) a line, sorted; replaced atomically after each commit that changed the layer is applied.
/// For external engines that want a consistent file list instead of a folder listing.
std::string ManifestKey(std::string_view layer);
/// The manifest text of `layer` in `snapshot`.
std::string ManifestText(const Snapshot& snapshot, std::string_view layer);
/// The layers a commit changes (its moves' and deletes' folders; a silver rebuild: silver and
/// quarantine).
std::vector<std::string_view> LayersChangedBy(const Commit& commit);

/// `_iotad/log/000000000042.json` and `_iotad/checkpoint/000000000032.json`.
/// The layer a key is in ("silver" for `silver/year=.../x.parquet`), empty for keys outside the
/// layers (`_iotad/...`, `iotad.toml`).
std::string_view LayerOf(std::string_view key);

std::string LogKey(int64_t seq);
std::string CheckpointKey(int64_t seq);

/// One object the log says is live.
struct LiveFile {
  int64_t seq = 0;                   // the commit that published it
  std::optional<ObjectStamp> stamp;  // none for records written before stamps existed
};

/// A stage's last commit.
struct StageHead {
  int64_t seq = 0;
  std::string run_id;
  TimestampUs committed_at_us = 0;
  std::string meta_json = "{}";
};

/// A silver commit (since the last rebuild) whose accounting does not balance.
struct AccountingProblem {
  int64_t seq = 0;
  std::string message;  // one sentence: "silver commit 7 does not balance: ..."
};

/// The accounting problems of one silver commit: unreadable meta, no accounting, or counts that do
/// not balance (for the commit, or for one of its bronze files). Empty for other stages.
std::vector<AccountingProblem> SilverAccountingProblems(const Commit& commit);

/// Immutable once built, except by Apply. Copyable; not thread-safe to mutate.
class Snapshot {
 public:
  /// The sequence number of the last commit folded in (0: an empty lake).
  int64_t seq() const { return seq_; }
  /// Every live key of the layers (bronze/, silver/, quarantine/, gold/, gold_summary/), sorted.
  const std::map<std::string, LiveFile>& files() const { return files_; }
  /// Live keys starting with `prefix` (a layer: `silver/`) and ending with `suffix`, sorted.
  std::vector<std::string> Keys(std::string_view prefix, std::string_view suffix = {}) const;
  /// The bronze keys earlier silver commits consumed (silver's bookmark).
  const std::set<std::string>& silver_inputs() const { return silver_inputs_; }
  /// The last commit of `stage` ("ingest", "silver", "gold", "repair"), or nullptr.
  const StageHead* Last(std::string_view stage) const;
  /// Its sequence number, 0 when the stage never committed.
  int64_t LastSeq(std::string_view stage) const;
  /// Typed meta of the last silver / gold commit; nullopt when there is none.
  Result<std::optional<SilverCommitMeta>> LastSilverMeta() const;
  Result<std::optional<GoldCommitMeta>> LastGoldMeta() const;
  /// Silver commits since the last rebuild whose accounting does not balance (or is unreadable).
  const std::vector<AccountingProblem>& accounting_problems() const { return accounting_problems_; }

  /// Folds in the next commit (`commit.seq` must be seq() + 1): moves add their targets, deletes
  /// remove keys, a silver rebuild first drops every silver and quarantine file, and a bronze key
  /// a silver commit consumed is live even if no ingest published it. The same fold
  /// `pipeline::ReplayLiveSet` runs over the full log for verify.
  Status Apply(const Commit& commit);
  /// Apply without the sequence check: `iotad verify` folds the whole log as it is listed and
  /// reports a gap itself.
  void Fold(const Commit& commit);

  /// The checkpoint's JSON and back.
  std::string ToJson() const;
  static Result<Snapshot> FromJson(std::string_view json, std::string_view key);

  bool operator==(const Snapshot& other) const;

 private:
  int64_t seq_ = 0;
  std::map<std::string, LiveFile> files_;
  std::set<std::string> silver_inputs_;
  std::map<std::string, StageHead, std::less<>> stages_;
  std::vector<AccountingProblem> accounting_problems_;
};

/// What building a snapshot cost, for tests and benchmarks.
struct SnapshotLoadStats {
  int64_t checkpoint_seq = 0;   // the checkpoint it started from (0: none, replayed from commit 1)
  int64_t commits_read = 0;     // log records read after it
  int64_t checkpoints_tried = 0;
};

/// The snapshot at `seq`: the newest readable checkpoint at or before it, then the commits after
/// it. A missing log record below `seq` is an error (kCorrupt).
Result<Snapshot> LoadSnapshot(const store::ObjectStore& store, int64_t seq, SnapshotLoadStats* stats = nullptr);

/// Reads commits snapshot.seq()+1 .. `seq` and folds them in.
Status AdvanceSnapshot(const store::ObjectStore& store, Snapshot& snapshot, int64_t seq,
                       SnapshotLoadStats* stats = nullptr);

/// The applied marker (0 when absent).
Result<int64_t> ReadAppliedSeq(const store::ObjectStore& store);
/// The sequence number the checkpoint pointer names (0 when absent or unreadable).
int64_t ReadCheckpointPointer(const store::ObjectStore& store);

/// Writes `snapshot` as a checkpoint, then the pointer to it, then deletes checkpoints older than
/// the kCheckpointsKept newest. Idempotent: the same snapshot gives the same bytes.
Status WriteCheckpoint(store::ObjectStore& store, const Snapshot& snapshot);

}  // namespace iotad::lake
