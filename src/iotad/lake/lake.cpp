#include "iotad/lake/lake.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>

#include <simdjson.h>

#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/json.h"
#include "iotad/core/log.h"
#include "iotad/lake/bronze_lines.h"
#include "iotad/lake/migrate.h"
#include "iotad/lake/schema.h"
#include "iotad/lake/snapshot.h"

namespace iotad::lake {
namespace fs = std::filesystem;

Lake::Lake() = default;
Lake::~Lake() = default;

std::string HourPartition(TimestampUs ts) {
  const CivilTime c = ToCivil(ts);
  // Spark's form: integer partition values without padding, so readers type them as integers.
  return fmt::format("year={}/month={}/day={}/hour={}", c.year, c.month, c.day, c.hour);
}

std::string BronzePartition(TimestampUs ts) {
  const CivilTime c = ToCivil(ts);
  // dt is a date (ISO, as Hive writes a DATE partition); hour an integer, as Spark writes it.
  return fmt::format("dt={:04d}-{:02d}-{:02d}/hour={}", c.year, c.month, c.day, c.hour);
}

std::optional<TimestampUs> HourFromKey(std::string_view key) {
  auto field = [&](std::string_view name) -> std::optional<int> {
    const std::string needle = fmt::format("{}=", name);
    size_t pos = key.find("/" + needle);
    if (pos == std::string_view::npos) {
      if (key.substr(0, needle.size()) != needle) return std::nullopt;
      pos = 0;
    } else {
      pos += 1;
    }
    pos += needle.size();
    int v = 0, n = 0;
    while (pos < key.size() && key[pos] >= '0' && key[pos] <= '9') {
      v = v * 10 + (key[pos++] - '0');
      ++n;
    }
    if (n == 0) return std::nullopt;
    return v;
  };
  const auto y = field("year"), m = field("month"), d = field("day"), h = field("hour");
  if (!y || !m || !d || !h) return std::nullopt;
  return DaysFromCivil(*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d)) * kMicrosPerDay +
         *h * kMicrosPerHour;
}

std::string NewRunId() { return NewRunId(SystemClock::Instance()); }

std::string NewRunId(const Clock& clock) {
  const CivilTime c = ToCivil(clock.NowUs());
  std::random_device rd;
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}Z-{:04x}", c.year, c.month, c.day, c.hour,
                     c.minute, c.second, rd() & 0xffff);
}

std::string ObjectHashHex(std::string_view bytes) { return HashBytes(bytes).Hex(); }

std::string CommitToJson(const Commit& commit) {
  JsonWriter w;
  w.BeginObject();
  w.Key("seq").Int(commit.seq);
  w.Key("stage").String(commit.stage);
  w.Key("run_id").String(commit.run_id);
  w.Key("committed_at").Timestamp(commit.committed_at_us);
  w.Key("moves").BeginArray();
  // [from, to] or [from, to, size, hash]: readers that know only the pair ignore the rest.
  for (const auto& [from, to] : commit.moves) {
    w.BeginArray().String(from).String(to);
    if (auto it = commit.stamps.find(to); it != commit.stamps.end()) {
      w.Int(static_cast<int64_t>(it->second.size_bytes)).String(it->second.hash);
    }
    w.EndArray();
  }
  w.EndArray();
  w.Key("deletes").BeginArray();
  for (const auto& d : commit.deletes) w.String(d);
  w.EndArray();
  w.Key("inputs").BeginArray();
  for (const auto& i : commit.inputs) w.String(i);
  w.EndArray();
  w.Key("meta").Raw(commit.meta_json.empty() ? "{}" : commit.meta_json);
  w.EndObject();
  return w.Take() + "\n";
}

Result<Commit> CommitFromJson(std::string_view json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return Error(Errc::kCorrupt, "lake: commit record {} is not valid JSON", key);
  }
  Commit c;
  try {
    c.seq = doc["seq"].get_int64();
    c.stage = std::string(doc["stage"].get_string().value());
    c.run_id = std::string(doc["run_id"].get_string().value());
    if (auto t = ParseTimestamp(doc["committed_at"].get_string().value())) c.committed_at_us = *t;
    for (auto m : doc["moves"].get_array()) {
      auto pair = m.get_array();
      c.moves.emplace_back(std::string(pair.at(0).get_string().value()),
                           std::string(pair.at(1).get_string().value()));
      if (pair.size() >= 4) {
        ObjectStamp stamp;
        stamp.size_bytes = static_cast<uint64_t>(pair.at(2).get_int64().value());
        stamp.hash = std::string(pair.at(3).get_string().value());
        c.stamps[c.moves.back().second] = std::move(stamp);
      }
    }
    for (auto d : doc["deletes"].get_array()) c.deletes.emplace_back(d.get_string().value());
    for (auto i : doc["inputs"].get_array()) c.inputs.emplace_back(i.get_string().value());
    c.meta_json = simdjson::minify(doc["meta"].value());
  } catch (const simdjson::simdjson_error& e) {
    return Error(Errc::kCorrupt, "lake: commit record {} is missing a field: {}", key, e.what());
  }
  return c;
}

Status Lake::Init(const fs::path& root) {
  std::error_code ec;
  if (fs::exists(root / std::string(kConfigKey), ec)) {
    return Error(Errc::kConflict, "init: {} is already a lake (it has {})", root.string(), kConfigKey);
  }
  fs::create_directories(root, ec);
  if (ec) return Error(Errc::kIo, "init: cannot create folder '{}': {}", root.string(), ec.message());
  IOTAD_ASSIGN_OR_RETURN(auto store, store::OpenLocalStore(root));
  for (const char* layer : {"bronze", "silver", "gold", "gold_summary", "quarantine", "runs", "inbox"}) {
    fs::create_directories(root / layer, ec);
    if (ec) return Error(Errc::kIo, "init: cannot create folder '{}': {}", (root / layer).string(), ec.message());
  }
  IOTAD_TRY(store->Put(kAppliedKey, "0\n"));
  // The config goes last: its presence is what makes the folder a lake.
  return store->Put(kConfigKey, config::InitConfigToml());
}

Result<std::unique_ptr<Lake>> Lake::Open(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Error(Errc::kNotFound, "no lake at '{}': the folder does not exist (create one with `iotad init {}`)",
                 root.string(), root.string());
  }
  const fs::path absolute = fs::absolute(root, ec).lexically_normal();
  IOTAD_ASSIGN_OR_RETURN(auto store, store::OpenLocalStore(absolute));
  return Open(root, std::move(store));
}

Result<std::unique_ptr<Lake>> Lake::Open(const fs::path& root, std::unique_ptr<store::ObjectStore> store) {
  std::error_code ec;
  std::unique_ptr<Lake> lake(new Lake());
  lake->root_ = fs::absolute(root, ec).lexically_normal();
  lake->store_ = std::move(store);
  auto text = lake->store_->Get(kConfigKey);
  if (!text.ok()) {
    if (text.status().code() == Errc::kNotFound) {
      return Error(Errc::kNotFound, "no lake at '{}': it has no {} (create one with `iotad init {}`)",
                   root.string(), kConfigKey, root.string());
    }
    return text.status();
  }
  IOTAD_ASSIGN_OR_RETURN(lake->config_,
                         config::ParseConfig(*text, (lake->root_ / std::string(kConfigKey)).string()));
  // Accepted but adjusted values (a thread count capped at the machine's): said once per command.
  for (const auto& warning : lake->config_.warnings) log::Warn(fmt::format("warning: {}", warning), {{"config", true}});
  return lake;
}

Status Lake::BeginWrite() {
  if (lock_) return Status::Ok();
  IOTAD_ASSIGN_OR_RETURN(lock_, store_->LockForWriting());
  // The snapshot at the applied marker first: Recover folds the records it re-applies into it,
  // so each record is read once.
  Status recovered = Status::Ok();
  if (!snapshot_) {
    auto loaded = RefreshSnapshot();
    if (!loaded.ok()) recovered = loaded.status();
  }
  if (recovered.ok()) recovered = Recover();
  if (recovered.ok()) {
    // The writer's snapshot is at the head of the log: Publish numbers the next commit from it.
    if (snapshot_ && snapshot_->seq() <= log_head_) {
      recovered = AdvanceSnapshot(*store_, *snapshot_, log_head_);
    } else {
      SnapshotLoadStats stats;
      auto loaded = LoadSnapshot(*store_, log_head_, &stats);
      if (loaded.ok()) {
        snapshot_ = std::make_unique<Snapshot>(std::move(loaded).value());
        checkpoint_seq_ = stats.checkpoint_seq;
      } else {
        recovered = loaded.status();
      }
    }
  }
  if (recovered.ok()) {
    checkpoint_seq_ = std::max(checkpoint_seq_, ReadCheckpointPointer(*store_));
    // A checkpoint or manifest a crash prevented (or a lake older than manifests lacks) is
    // written now.
    MaybeCheckpoint();
    recovered = WriteManifests({std::begin(kSnapshotLayers), std::end(kSnapshotLayers)}, /*only_if_changed=*/true);
  }
  // A lake of an older folder layout is migrated in one commit (see migrate.h).
  if (recovered.ok()) recovered = MigrateLayout(*this);
  if (!recovered.ok()) {
    // A lake that failed to recover must not be written: drop the lock so writing() says so and
    // a retry runs recovery again instead of returning Ok.
    snapshot_.reset();
    lock_.reset();
  }
  return recovered;
}

Status Lake::WriteManifests(const std::vector<std::string_view>& layers, bool only_if_changed) {
  for (auto layer : layers) {
    const std::string text = ManifestText(*snapshot_, layer);
    if (only_if_changed) {
      auto old = store_->Get(ManifestKey(layer));
      if (old.ok() && *old == text) continue;
    }
    IOTAD_TRY(store_->Put(ManifestKey(layer), text));
  }
  return Status::Ok();
}

Result<const Snapshot*> Lake::snapshot() {
  if (!snapshot_) {
    IOTAD_ASSIGN_OR_RETURN(bool moved, RefreshSnapshot());
    (void)moved;
  }
  return snapshot_.get();
}

Result<bool> Lake::RefreshSnapshot(bool committed_head) {
  // The writer's snapshot is the head of the log already (nobody else commits).
  if (lock_ && snapshot_) return false;
  IOTAD_ASSIGN_OR_RETURN(int64_t target, ReadAppliedSeq(*store_));
  // A checkpoint is written after its commit is applied: the commits up to it are applied too,
  // even if the marker read above is older.
  target = std::max(target, ReadCheckpointPointer(*store_));
  if (committed_head) {
    while (true) {
      IOTAD_ASSIGN_OR_RETURN(bool exists, store_->Exists(LogKey(target + 1)));
      if (!exists) break;
      ++target;
    }
  }
  // Never backwards (a snapshot taken at the committed head may be past the marker).
  if (snapshot_ && snapshot_->seq() >= target) return false;
  if (snapshot_ && snapshot_->seq() < target) {
    // A copy, so a failure leaves the cached snapshot as it was.
    Snapshot next = *snapshot_;
    IOTAD_TRY(AdvanceSnapshot(*store_, next, target));
    *snapshot_ = std::move(next);
    return true;
  }
  IOTAD_ASSIGN_OR_RETURN(auto loaded, LoadSnapshot(*store_, target));
  snapshot_ = std::make_unique<Snapshot>(std::move(loaded));
  return true;
}

void Lake::MaybeCheckpoint() {
  if (!lock_ || !snapshot_ || snapshot_->seq() - checkpoint_seq_ < kCheckpointInterval) return;
  // A failed checkpoint loses nothing (the log holds every commit): the next commit tries again.
  if (WriteCheckpoint(*store_, *snapshot_).ok()) checkpoint_seq_ = snapshot_->seq();
}

std::string Lake::StagingPrefix(std::string_view run_id) {
  return fmt::format("{}{}/", kStagingPrefix, run_id);
}

Result<std::vector<Commit>> Lake::ReadCommits(std::string_view stage) const {
  IOTAD_ASSIGN_OR_RETURN(auto objects, store_->List(kLogPrefix));
  std::vector<Commit> out;
  out.reserve(objects.size());
  for (const auto& o : objects) {
    if (o.key.size() < 5 || o.key.compare(o.key.size() - 5, 5, ".json") != 0) continue;
    IOTAD_ASSIGN_OR_RETURN(auto text, store_->Get(o.key));
    IOTAD_ASSIGN_OR_RETURN(auto commit, CommitFromJson(text, o.key));
    if (stage.empty() || commit.stage == stage) out.push_back(std::move(commit));
  }
  return out;
}

Status Lake::Apply(const Commit& commit) {
  // No reads besides what a move needs: the common case is one rename per move. A move whose
  // source is gone was applied before (a crash after it, then Recover) if its target exists.
  int moved = 0;
  for (const auto& [from, to] : commit.moves) {
    Status move = store_->Move(from, to);
    if (move.ok()) {
      if (++moved == 1) IOTAD_FAULT_POINT("commit.apply.after_first_move");
      continue;
    }
    IOTAD_ASSIGN_OR_RETURN(bool from_exists, store_->Exists(from));
    if (from_exists) return move;
    IOTAD_ASSIGN_OR_RETURN(bool to_exists, store_->Exists(to));
    if (!to_exists) {
      return Error(Errc::kCorrupt, "lake: commit {} lost its file {} (neither staged nor published)",
                   commit.seq, to);
    }
  }
  IOTAD_FAULT_POINT("commit.apply.before_deletes");
  for (const auto& key : commit.deletes) IOTAD_TRY(store_->Delete(key));
  IOTAD_FAULT_POINT("commit.apply.before_marker");
  return store_->Put(kAppliedKey, fmt::format("{}\n", commit.seq));
}

Result<int64_t> Lake::Publish(Commit commit) {
  if (!lock_ || !snapshot_) return Error(Errc::kInternal, "lake: publish without the writer lock");
  // The writer's snapshot is the head of the log (BeginWrite recovered and loaded it; every
  // commit since went through here). PutIfAbsent below still refuses a taken number.
  const int64_t next = snapshot_->seq() + 1;
  commit.seq = next;
  commit.committed_at_us = clock_->NowUs();
  // A key that is both replaced and re-published (same content-addressed name) must survive.
  std::set<std::string> targets;
  for (const auto& m : commit.moves) targets.insert(m.second);
  std::erase_if(commit.deletes, [&](const std::string& k) { return targets.count(k) > 0; });
  // A record whose files are missing could never be applied and would block every later writer.
  // Reading each staged object also stamps it: verify later compares what is on disk with this.
  // Objects the stage already hashed while writing them (ingest's content-addressed bronze
  // files) come stamped and are not read again.
  std::map<std::string, ObjectStamp> given = std::move(commit.stamps);
  commit.stamps.clear();
  std::string bytes;
  for (const auto& [from, to] : commit.moves) {
    if (auto g = given.find(to); g != given.end()) {
      IOTAD_ASSIGN_OR_RETURN(bool staged, store_->Exists(from));
      if (!staged) {
        return Error(Errc::kInternal, "lake: refusing to commit {}: its file {} is not staged", commit.stage, from);
      }
      commit.stamps[to] = g->second;
      continue;
    }
    Status read = store_->GetInto(from, bytes);
    if (read.code() == Errc::kNotFound) {
      return Error(Errc::kInternal, "lake: refusing to commit {}: its file {} is not staged", commit.stage, from);
    }
    IOTAD_TRY(read);
    commit.stamps[to] = ObjectStamp{bytes.size(), ObjectHashHex(bytes)};
  }
  IOTAD_FAULT_POINT("commit.before_log");
  IOTAD_TRY(store_->PutIfAbsent(LogKey(next), CommitToJson(commit)));
  IOTAD_FAULT_POINT("commit.after_log");
  if (Status applied = Apply(commit); !applied.ok()) {
    // Committed but not applied: the next writer's Recover finishes it. This Lake stops writing.
    snapshot_.reset();
    lock_.reset();
    return applied;
  }
  // In place (no copy of the live set per commit); it cannot fail: the numbers follow.
  IOTAD_TRY(snapshot_->Apply(commit));
  log_head_ = next;
  MaybeCheckpoint();
  // After the applied marker: a manifest names only applied files. A crash before this leaves an
  // older manifest, which the next writer replaces.
  IOTAD_TRY(WriteManifests(LayersChangedBy(commit), /*only_if_changed=*/false));
  return next;
}

Status Lake::Recover() {
  IOTAD_ASSIGN_OR_RETURN(int64_t applied, ReadAppliedSeq(*store_));
  // Only one commit can be past the marker (a writer applies each before the next), but the
  // probe goes on until a record is missing.
  int64_t head = applied;
  std::string text;
  while (true) {
    const std::string key = LogKey(head + 1);
    Status read = store_->GetInto(key, text);
    if (read.code() == Errc::kNotFound) break;
    IOTAD_TRY(read);
    IOTAD_ASSIGN_OR_RETURN(auto commit, CommitFromJson(text, key));
    IOTAD_TRY(Apply(commit).WithContext("recovery: "));
    ++head;
    // The cached snapshot (if any) saw this record now: fold it in instead of reading it again.
    if (snapshot_ && snapshot_->seq() + 1 == commit.seq) IOTAD_TRY(snapshot_->Apply(commit));
  }
  log_head_ = head;
  // Whatever is left in staging belongs to runs that never committed.
  IOTAD_ASSIGN_OR_RETURN(auto staged, store_->List(kStagingPrefix));
  for (const auto& o : staged) IOTAD_TRY(store_->Delete(o.key));
  IOTAD_ASSIGN_OR_RETURN(auto scratch, store_->ScratchDir());
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scratch, ec)) fs::remove_all(entry.path(), ec);
  return Status::Ok();
}

Result<std::unique_ptr<DuckSession>> Lake::OpenSession(bool with_views, std::string_view sql) {
  DuckSessionOptions options;
  options.threads = config_.duckdb.threads;
  options.memory_limit = config_.duckdb.memory_limit;
  options.temp_directory = (root_ / "_iotad" / "duckdb_tmp").string();
  IOTAD_ASSIGN_OR_RETURN(auto session, DuckSession::Open(options));
  if (with_views) IOTAD_TRY(CreateViews(*session, sql));
  return session;
}

Status Lake::CreateViews(DuckSession& session, std::string_view sql) {
  std::string lowered(sql);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto wanted = [&](std::string_view name) { return sql.empty() || lowered.find(name) != std::string::npos; };
  auto has = [&](std::string_view prefix, std::string_view suffix) -> Result<bool> {
    IOTAD_ASSIGN_OR_RETURN(auto objects, store_->List(prefix));
    for (const auto& o : objects) {
      if (o.key.size() >= suffix.size() && o.key.compare(o.key.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return true;
      }
    }
    return false;
  };
  // An empty table is a view with the table's columns (schema.h) and no rows: the same names and
  // types, in the same order, as once files exist.
  auto empty_view = [](std::string_view name, std::span<const Column> columns, std::string_view extra = "") {
    return fmt::format("CREATE OR REPLACE VIEW {} AS SELECT * FROM (SELECT {}{}) t WHERE false", name,
                       NullSelectList(columns), extra);
  };
  const std::string hour_cols = ", " + NullSelectList(kHourPartitionColumns);
  // silver's dimension columns sit between its fixed columns and its metrics.
  std::vector<Column> silver_columns(std::begin(kSilverColumns), std::end(kSilverColumns));
  for (const auto& d : config_.silver.dimension_columns) {
    silver_columns.push_back({d, ColumnType::kVarchar, true, "dimension"});
  }
  const std::string root = root_.string();

  struct ParquetView {
    std::string_view name, prefix;
    std::span<const Column> columns;
    bool hourly;
  };
  const ParquetView views[] = {
      {"silver", kSilverPrefix, silver_columns, true},
      {"quarantine", kQuarantinePrefix, kQuarantineColumns, false},
      {"anomalies", kGoldPrefix, kAnomalyColumns, true},
      {"gold_summary", kGoldSummaryPrefix, kGoldSummaryColumns, true},
  };
  const Snapshot* snapshot = nullptr;
  missing_view_files_.clear();
  for (const auto& v : views) {
    if (!wanted(v.name)) continue;
    if (snapshot == nullptr) {
      IOTAD_ASSIGN_OR_RETURN(snapshot, this->snapshot());
    }
    // The files the snapshot says are live, never a folder glob: a query sees one committed
    // state even while a writer applies the next (a file it names may vanish then: the caller
    // retries on a fresh snapshot, see cli/sql_cmd.cpp).
    std::vector<std::string> files = snapshot->Keys(v.prefix, ".parquet");
    if (views_skip_missing_) {
      std::vector<std::string> present;
      for (auto& key : files) {
        IOTAD_ASSIGN_OR_RETURN(bool exists, store_->Exists(key));
        (exists ? present : missing_view_files_).push_back(std::move(key));
      }
      files = std::move(present);
    }
    if (!files.empty()) {
      IOTAD_TRY(session.Exec(fmt::format(
          "CREATE OR REPLACE VIEW {} AS SELECT *{} FROM read_parquet({}, hive_partitioning = true, "
          "union_by_name = true{})",
          // The partition columns last and in folder order, as in the empty view (hive_types alone
          // would put them in the order DuckDB keeps the struct's keys).
          v.name, v.hourly ? " EXCLUDE (year, month, day, hour), year, month, day, hour" : "", SqlList(ReadPaths(files)),
          // Declared partition types: with auto-detected ones DuckDB 1.4 does not prune
          // partitions through a view, and every query would read every file.
          v.hourly ? ", hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER}" : "")));
    } else {
      IOTAD_TRY(session.Exec(empty_view(v.name, v.columns, v.hourly ? hour_cols : "")));
    }
  }
  if (wanted("runs")) {
    IOTAD_ASSIGN_OR_RETURN(bool any_runs, has(kRunsPrefix, ".json"));
    if (any_runs) {
      IOTAD_TRY(session.Exec(fmt::format(
          "CREATE OR REPLACE VIEW runs AS SELECT * FROM read_json({}, format = 'newline_delimited', columns = {})",
          SqlQuote(fmt::format("{}/{}*.json", root, kRunsPrefix)), ColumnsStruct(kRunColumns))));
    } else {
      IOTAD_TRY(session.Exec(empty_view("runs", kRunColumns)));
    }
  }
  if (!wanted("bronze")) return Status::Ok();
  // bronze: one row per raw file.
  IOTAD_ASSIGN_OR_RETURN(auto bronze, store_->List(kBronzePrefix));
  std::string values;
  for (const auto& o : bronze) {
    const size_t dt = o.key.find("dt="), hr = o.key.find("/hour=");
    const std::string date = dt == std::string::npos ? "" : o.key.substr(dt + 3, 10);
    const std::string hour = hr == std::string::npos ? "0" : o.key.substr(hr + 6, 2);
    std::string format = o.key.find(".jsonl") != std::string::npos ? "jsonl" : "csv";
    values += fmt::format("{}({}, {}, {}, {}, {}, {})", values.empty() ? "" : ", ", SqlQuote(o.key),
                          SqlQuote(store_->ReadPath(o.key)), date.empty() ? "NULL" : SqlQuote(date),
                          std::atoi(hour.c_str()), o.size_bytes, SqlQuote(format));
  }
  if (values.empty()) {
    IOTAD_TRY(session.Exec(empty_view("bronze", kBronzeColumns)));
  } else {
    IOTAD_TRY(session.Exec(fmt::format(
        "CREATE OR REPLACE VIEW bronze AS SELECT key, path, CAST(dt AS DATE) AS dt, CAST(hour AS INTEGER) AS hour, "
        "CAST(bytes AS BIGINT) AS bytes, format "
        "FROM (VALUES {}) t(key, path, dt, hour, bytes, format)",
        values)));
  }
  if (wanted("bronze_rows")) {
    // Raw lines as received, with their file and line, read by iotad itself (never through a
    // CSV sniffer, so no bronze content can make a query, `status` or `run` fail).
    if (bronze.empty()) {
      IOTAD_TRY(session.Exec(empty_view("bronze_rows", kBronzeLineColumns)));
    } else {
      IOTAD_TRY(RegisterBronzeLines(session));
      std::vector<std::string> keys, paths;
      for (const auto& o : bronze) {
        keys.push_back(o.key);
        paths.push_back(store_->ReadPath(o.key));
      }
      IOTAD_TRY(session.Exec(fmt::format(
          "CREATE OR REPLACE VIEW bronze_rows AS SELECT * FROM iotad_bronze_lines({}, {})", SqlList(keys),
          SqlList(paths))));
    }
  }
  return Status::Ok();
}

}  // namespace iotad::lake
