#pragma once
// The lake: layout of its layers, its config, and its commit log.
//
// Every stage writes its outputs under `_iotad/staging/<run>/`, then publishes one commit record
// `_iotad/log/<seq>.json` (the atomic commit point: PutIfAbsent of the next sequence number)
// listing the moves staging -> final and the deletes, then applies it. A crash after the record
// is written is rolled forward by Recover() on the next writer; a crash before it leaves only
// staging files, which Recover() removes. Moves and deletes are idempotent, so applying twice is
// harmless. All of it goes through the ObjectStore, so a lake on object storage carries its state.
#include <filesystem>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "iotad/config/config.h"
#include "iotad/core/clock.h"
#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/lake/duck.h"
#include "iotad/store/object_store.h"

namespace iotad::lake {

class Snapshot;

inline constexpr std::string_view kBronzePrefix = "bronze/";
inline constexpr std::string_view kSilverPrefix = "silver/";
inline constexpr std::string_view kGoldPrefix = "gold/";
inline constexpr std::string_view kGoldSummaryPrefix = "gold_summary/";
inline constexpr std::string_view kQuarantinePrefix = "quarantine/";
inline constexpr std::string_view kRunsPrefix = "runs/";
inline constexpr std::string_view kLogPrefix = "_iotad/log/";
inline constexpr std::string_view kStagingPrefix = "_iotad/staging/";
inline constexpr std::string_view kConfigKey = "iotad.toml";

/// `year=2024/month=1/day=5/hour=13` for the hour containing `ts` (as Spark writes integer
/// partitions: no zero padding).
std::string HourPartition(TimestampUs ts);
/// `dt=2024-01-05/hour=5` (the bronze layout of the AWS pipeline; dt a date, hour an integer).
std::string BronzePartition(TimestampUs ts);
/// Parses `.../year=Y/month=M/day=D/hour=H/...` in a key back to the hour's start (padded
/// `month=01` folders of lakes written before the migration too).
std::optional<TimestampUs> HourFromKey(std::string_view key);

/// What a commit recorded about one object it published: its size and content hash
/// (`ObjectHashHex`). Records written before stamps existed have none.
struct ObjectStamp {
  uint64_t size_bytes = 0;
  std::string hash;  // 32 hex digits
};

/// The content hash a commit records for an object: 128-bit MurmurHash3 (core/hash.h, default
/// seed) of its bytes, as 32 hex digits. Names damage; it does not authenticate.
std::string ObjectHashHex(std::string_view bytes);

/// One published change of the lake.
struct Commit {
  int64_t seq = 0;
  std::string stage;  // "ingest", "silver", "gold"
  std::string run_id;
  TimestampUs committed_at_us = 0;
  std::vector<std::pair<std::string, std::string>> moves;  // staging key -> final key
  // Final key -> size and hash of the object a move published; filled by Publish (a stage that
  // hashed an object while writing it may stamp it first, with ObjectHashHex's hash). Empty for
  // records written before stamps existed (verify then checks those objects' existence only).
  std::map<std::string, ObjectStamp> stamps;
  std::vector<std::string> deletes;
  std::vector<std::string> inputs;  // keys consumed (silver: bronze files)
  std::string meta_json = "{}";     // stage-specific JSON object (accounting, fingerprints)
};

/// One lake opened by one command. Not thread-safe: stages' worker threads use store() only.
class Lake {
 public:
  ~Lake();
  /// Creates the layer folders and a commented config; fails if a lake is already there.
  static Status Init(const std::filesystem::path& root);
  /// Opens an existing lake (reads and validates its config). Does not lock.
  static Result<std::unique_ptr<Lake>> Open(const std::filesystem::path& root);
  /// Like Open, over a given store (tests wrap the local store to count what is read).
  static Result<std::unique_ptr<Lake>> Open(const std::filesystem::path& root,
                                            std::unique_ptr<store::ObjectStore> store);

  store::ObjectStore& store() { return *store_; }
  /// The wall clock the lake's writers read (commit times, run ids, run records, arrival
  /// partitions): the system clock unless set. The clock must outlive the lake.
  const Clock& clock() const { return *clock_; }
  void set_clock(const Clock& clock) { clock_ = &clock; }
  const config::LakeConfig& config() const { return config_; }
  const std::filesystem::path& root() const { return root_; }

  /// Takes the single-writer lock and rolls the lake forward to a consistent state.
  Status BeginWrite();
  bool writing() const { return lock_ != nullptr; }

  /// All commits, in sequence order (optionally only one stage's): the whole history, read and
  /// parsed record by record. Only `verify` needs it; everything else reads snapshot().
  Result<std::vector<Commit>> ReadCommits(std::string_view stage = {}) const;
  /// The committed state this command reads (see snapshot.h), loaded at first use and kept: a
  /// reader's is at the applied marker (only fully applied commits), the writer's at the head of
  /// the log after recovery, advanced in memory by each Publish. So a command reads each commit
  /// record at most once. The pointer stays valid until the next Publish or RefreshSnapshot.
  Result<const Snapshot*> snapshot();
  /// Moves the cached snapshot forward to the applied marker (with `committed_head`, to the last
  /// commit record, applied or not: see cli/sql_cmd.cpp for when that is safe), reading only the
  /// commits it has not seen. True when it moved.
  Result<bool> RefreshSnapshot(bool committed_head = false);
  /// Publishes and applies a commit; assigns and returns its sequence number (the snapshot's + 1;
  /// the log is not listed). Before the commit point it reads every staged object not already
  /// stamped once to record its size and hash (`Commit::stamps`). Every kCheckpointInterval
  /// commits it then writes a checkpoint.
  Result<int64_t> Publish(Commit commit);
  /// Applies commits past the applied marker (probing the log forward from it, never listing it)
  /// and removes orphaned staging files.
  Status Recover();

  /// The paths DuckDB reads `keys` from.
  std::vector<std::string> ReadPaths(const std::vector<std::string>& keys) const {
    std::vector<std::string> paths;
    paths.reserve(keys.size());
    for (const auto& k : keys) paths.push_back(store_->ReadPath(k));
    return paths;
  }
  /// Staging prefix for one run's outputs.
  static std::string StagingPrefix(std::string_view run_id);
  /// A DuckDB session configured from the lake's config, with the lake's views created.
  /// With `sql`, only the views that text names are created (binding a view reads file footers,
  /// and bronze_rows lists every raw file: not worth paying for a query that does not use them).
  Result<std::unique_ptr<DuckSession>> OpenSession(bool with_views = true, std::string_view sql = {});
  /// (Re)creates the views silver, quarantine, anomalies, gold_summary, runs, bronze, bronze_rows
  /// (every physical line of every bronze file, read by iotad: see bronze_lines.h).
  Status CreateViews(DuckSession& session, std::string_view sql = {});
  /// When set, the views leave out committed files that are missing on disk (a damaged lake
  /// stays queryable) and missing_view_files() names them; off by default (a missing file is
  /// an error naming it).
  void SetViewsSkipMissingFiles(bool skip) { views_skip_missing_ = skip; }
  const std::vector<std::string>& missing_view_files() const { return missing_view_files_; }

 private:
  Lake();
  Status Apply(const Commit& commit);
  /// Writes a checkpoint when kCheckpointInterval commits were made since the last one.
  void MaybeCheckpoint();
  /// Writes the manifests of `layers` from the snapshot (all layers: only those that differ).
  Status WriteManifests(const std::vector<std::string_view>& layers, bool only_if_changed);

  std::filesystem::path root_;
  std::unique_ptr<store::ObjectStore> store_;
  config::LakeConfig config_;
  std::unique_ptr<store::WriterLock> lock_;
  const Clock* clock_ = &SystemClock::Instance();
  std::unique_ptr<Snapshot> snapshot_;
  int64_t checkpoint_seq_ = 0;  // the newest checkpoint this Lake knows of
  int64_t log_head_ = 0;        // the last commit record, as Recover found it
  bool views_skip_missing_ = false;
  std::vector<std::string> missing_view_files_;
};

/// JSON of a commit and back.
std::string CommitToJson(const Commit& commit);
Result<Commit> CommitFromJson(std::string_view json, std::string_view key);

/// A run id: UTC time read from `clock` plus a short random suffix, sortable
/// (`20240105T131500Z-3f2a`).
std::string NewRunId(const Clock& clock);
/// The same from the system clock (product code passes the lake's clock).
std::string NewRunId();

}  // namespace iotad::lake
