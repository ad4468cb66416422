#include "iotad/lake/snapshot.h"

#include <algorithm>

#include <simdjson.h>

#include "iotad/core/json.h"

namespace iotad::lake {
namespace {

constexpr int64_t kCheckpointFormat = 1;

bool IsSilverSide(std::string_view layer) { return layer == "silver" || layer == "quarantine"; }

/// The sequence number in `_iotad/log/000000000042.json` or a checkpoint key; 0 when none.
int64_t SeqOfKey(std::string_view key) {
  const size_t slash = key.rfind('/');
  const std::string name(key.substr(slash == std::string_view::npos ? 0 : slash + 1));
  return std::strtoll(name.c_str(), nullptr, 10);
}

void CheckAccounting(const Commit& c, const Result<SilverCommitMeta>& meta, std::vector<AccountingProblem>& out) {
  if (!meta.ok()) {
    out.push_back({c.seq, fmt::format("silver commit {} has no readable meta", c.seq)});
    return;
  }
  if (!meta->accounting) {
    out.push_back({c.seq, fmt::format("silver commit {} records no accounting", c.seq)});
    return;
  }
  if (std::string why = meta->accounting->Unbalanced(); !why.empty()) {
    out.push_back({c.seq, fmt::format("silver commit {} does not balance: {}", c.seq, why)});
  }
  for (const auto& f : meta->files) {
    if (std::string why = f.Unbalanced(); !why.empty()) {
      out.push_back({c.seq, fmt::format("silver commit {} does not balance for {}: {}", c.seq,
                                        f.key.empty() ? "?" : f.key, why)});
    }
  }
}

}  // namespace

std::vector<AccountingProblem> SilverAccountingProblems(const Commit& commit) {
  std::vector<AccountingProblem> out;
  if (commit.stage == "silver") CheckAccounting(commit, SilverCommitMeta::FromJson(commit.meta_json), out);
  return out;
}

std::string ManifestKey(std::string_view layer) { return fmt::format("{}{}.txt", kManifestPrefix, layer); }

std::string ManifestText(const Snapshot& snapshot, std::string_view layer) {
  std::string text;
  for (const auto& key : snapshot.Keys(fmt::format("{}/", layer))) {
    text += key;
    text += '\n';
  }
  return text;
}

std::vector<std::string_view> LayersChangedBy(const Commit& commit) {
  std::set<std::string_view> changed;
  for (const auto& [from, to] : commit.moves) changed.insert(LayerOf(to));
  for (const auto& key : commit.deletes) changed.insert(LayerOf(key));
  if (commit.stage == "silver") {
    const auto meta = SilverCommitMeta::FromJson(commit.meta_json);
    if (meta.ok() && meta->rebuild) changed.insert({"silver", "quarantine"});
    // Bronze keys silver consumed become live (adopted) even without a move.
    for (const auto& key : commit.inputs) changed.insert(LayerOf(key));
  }
  std::vector<std::string_view> out;
  for (auto layer : kSnapshotLayers) {
    if (changed.count(layer) > 0) out.push_back(layer);
  }
  return out;
}

std::string LogKey(int64_t seq) { return fmt::format("{}{:012d}.json", kLogPrefix, seq); }
std::string CheckpointKey(int64_t seq) { return fmt::format("{}{:012d}.json", kCheckpointPrefix, seq); }

std::vector<std::string> Snapshot::Keys(std::string_view prefix, std::string_view suffix) const {
  std::vector<std::string> out;
  for (auto it = files_.lower_bound(std::string(prefix)); it != files_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    if (it->first.ends_with(suffix)) out.push_back(it->first);
  }
  return out;
}

const StageHead* Snapshot::Last(std::string_view stage) const {
  auto it = stages_.find(stage);
  return it == stages_.end() ? nullptr : &it->second;
}

int64_t Snapshot::LastSeq(std::string_view stage) const {
  const StageHead* head = Last(stage);
  return head == nullptr ? 0 : head->seq;
}

Result<std::optional<SilverCommitMeta>> Snapshot::LastSilverMeta() const {
  const StageHead* head = Last("silver");
  if (head == nullptr) return std::optional<SilverCommitMeta>{};
  IOTAD_ASSIGN_OR_RETURN(auto meta, SilverCommitMeta::FromJson(head->meta_json));
  return std::optional<SilverCommitMeta>(std::move(meta));
}

Result<std::optional<GoldCommitMeta>> Snapshot::LastGoldMeta() const {
  const StageHead* head = Last("gold");
  if (head == nullptr) return std::optional<GoldCommitMeta>{};
  IOTAD_ASSIGN_OR_RETURN(auto meta, GoldCommitMeta::FromJson(head->meta_json));
  return std::optional<GoldCommitMeta>(std::move(meta));
}

std::string_view LayerOf(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view first = key.substr(0, slash);
  for (auto layer : kSnapshotLayers) {
    if (first == layer) return layer;
  }
  return {};
}

Status Snapshot::Apply(const Commit& c) {
  if (c.seq != seq_ + 1) {
    return Error(Errc::kCorrupt, "lake: commit {} cannot follow commit {} (the log has a gap)", c.seq, seq_);
  }
  Fold(c);
  return Status::Ok();
}

void Snapshot::Fold(const Commit& c) {
  if (c.stage == "silver") {
    const auto meta = SilverCommitMeta::FromJson(c.meta_json);
    if (meta.ok() && meta->rebuild) {
      std::erase_if(files_, [](const auto& kv) { return IsSilverSide(LayerOf(kv.first)); });
      accounting_problems_.clear();
    }
    CheckAccounting(c, meta, accounting_problems_);
  }
  for (const auto& [from, to] : c.moves) {
    if (LayerOf(to).empty()) continue;
    LiveFile file;
    file.seq = c.seq;
    if (auto it = c.stamps.find(to); it != c.stamps.end()) file.stamp = it->second;
    files_[to] = std::move(file);
  }
  for (const auto& key : c.deletes) files_.erase(key);
  if (c.stage == "silver") {
    for (const auto& key : c.inputs) {
      silver_inputs_.insert(key);
      // Silver reads every bronze file, committed or not: one it consumed holds rows silver now
      // has, so the log adopts it (unstamped: existence only).
      if (LayerOf(key) == "bronze" && files_.count(key) == 0) files_[key] = LiveFile{c.seq, std::nullopt};
    }
  }
  if (!c.stage.empty()) {
    stages_[c.stage] = StageHead{c.seq, c.run_id, c.committed_at_us, c.meta_json.empty() ? "{}" : c.meta_json};
  }
  seq_ = c.seq;
}

bool Snapshot::operator==(const Snapshot& o) const {
  if (seq_ != o.seq_ || silver_inputs_ != o.silver_inputs_ || files_.size() != o.files_.size() ||
      stages_.size() != o.stages_.size() || accounting_problems_.size() != o.accounting_problems_.size()) {
    return false;
  }
  for (auto a = files_.begin(), b = o.files_.begin(); a != files_.end(); ++a, ++b) {
    if (a->first != b->first || a->second.seq != b->second.seq ||
        a->second.stamp.has_value() != b->second.stamp.has_value()) {
      return false;
    }
    if (a->second.stamp && (a->second.stamp->size_bytes != b->second.stamp->size_bytes ||
                            a->second.stamp->hash != b->second.stamp->hash)) {
      return false;
    }
  }
  for (auto a = stages_.begin(), b = o.stages_.begin(); a != stages_.end(); ++a, ++b) {
    if (a->first != b->first || a->second.seq != b->second.seq || a->second.run_id != b->second.run_id ||
        a->second.committed_at_us != b->second.committed_at_us || a->second.meta_json != b->second.meta_json) {
      return false;
    }
  }
  for (size_t i = 0; i < accounting_problems_.size(); ++i) {
    if (accounting_problems_[i].seq != o.accounting_problems_[i].seq ||
        accounting_problems_[i].message != o.accounting_problems_[i].message) {
      return false;
    }
  }
  return true;
}

std::string Snapshot::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("checkpoint_format").Int(kCheckpointFormat).Key("seq").Int(seq_);
  // [key, seq] or [key, seq, size, hash], as the commit records' moves.
  w.Key("files").BeginArray();
  for (const auto& [key, file] : files_) {
    w.BeginArray().String(key).Int(file.seq);
    if (file.stamp) w.Int(static_cast<int64_t>(file.stamp->size_bytes)).String(file.stamp->hash);
    w.EndArray();
  }
  w.EndArray().Key("silver_inputs").BeginArray();
  for (const auto& key : silver_inputs_) w.String(key);
  w.EndArray().Key("stages").BeginObject();
  for (const auto& [stage, head] : stages_) {
    w.Key(stage).BeginObject().Key("seq").Int(head.seq).Key("run_id").String(head.run_id)
        .Key("committed_at_us").Int(head.committed_at_us).Key("meta").Raw(head.meta_json).EndObject();
  }
  w.EndObject().Key("accounting_problems").BeginArray();
  for (const auto& p : accounting_problems_) w.BeginArray().Int(p.seq).String(p.message).EndArray();
  w.EndArray().EndObject();
  return w.Take() + "\n";
}

Result<Snapshot> Snapshot::FromJson(std::string_view json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return Error(Errc::kCorrupt, "lake: checkpoint {} is not valid JSON", key);
  }
  Snapshot s;
  try {
    if (doc["checkpoint_format"].get_int64().value() != kCheckpointFormat) {
      return Error(Errc::kCorrupt, "lake: checkpoint {} has an unknown format", key);
    }
    s.seq_ = doc["seq"].get_int64();
    for (auto f : doc["files"].get_array()) {
      auto a = f.get_array();
      LiveFile file;
      file.seq = a.at(1).get_int64();
      if (a.size() >= 4) {
        file.stamp = ObjectStamp{static_cast<uint64_t>(a.at(2).get_int64().value()),
                                 std::string(a.at(3).get_string().value())};
      }
      s.files_.emplace(std::string(a.at(0).get_string().value()), std::move(file));
    }
    for (auto k : doc["silver_inputs"].get_array()) s.silver_inputs_.emplace(k.get_string().value());
    for (auto field : doc["stages"].get_object()) {
      StageHead head;
      head.seq = field.value["seq"].get_int64();
      head.run_id = std::string(field.value["run_id"].get_string().value());
      head.committed_at_us = field.value["committed_at_us"].get_int64();
      head.meta_json = simdjson::minify(field.value["meta"].value());
      s.stages_.emplace(std::string(field.key), std::move(head));
    }
    for (auto p : doc["accounting_problems"].get_array()) {
      auto a = p.get_array();
      s.accounting_problems_.push_back({a.at(0).get_int64(), std::string(a.at(1).get_string().value())});
    }
  } catch (const simdjson::simdjson_error& e) {
    return Error(Errc::kCorrupt, "lake: checkpoint {} is missing a field: {}", key, e.what());
  }
  return s;
}

Result<int64_t> ReadAppliedSeq(const store::ObjectStore& store) {
  auto text = store.Get(kAppliedKey);
  if (!text.ok()) {
    if (text.status().code() == Errc::kNotFound) return int64_t{0};
    return text.status();
  }
  return static_cast<int64_t>(std::strtoll(text->c_str(), nullptr, 10));
}

int64_t ReadCheckpointPointer(const store::ObjectStore& store) {
  auto text = store.Get(kLastCheckpointKey);
  if (!text.ok()) return 0;
  return std::max<int64_t>(0, std::strtoll(text->c_str(), nullptr, 10));
}

Status AdvanceSnapshot(const store::ObjectStore& store, Snapshot& snapshot, int64_t seq, SnapshotLoadStats* stats) {
  std::string text;
  for (int64_t s = snapshot.seq() + 1; s <= seq; ++s) {
    const std::string key = LogKey(s);
    Status read = store.GetInto(key, text);
    if (read.code() == Errc::kNotFound) {
      return Error(Errc::kCorrupt, "lake: commit record {} is missing (the lake is at commit {})", key, seq);
    }
    IOTAD_TRY(read);
    if (stats != nullptr) ++stats->commits_read;
    IOTAD_ASSIGN_OR_RETURN(auto commit, CommitFromJson(text, key));
    IOTAD_TRY(snapshot.Apply(commit));
  }
  return Status::Ok();
}

Result<Snapshot> LoadSnapshot(const store::ObjectStore& store, int64_t seq, SnapshotLoadStats* stats) {
  SnapshotLoadStats local;
  SnapshotLoadStats& st = stats != nullptr ? *stats : local;
  auto try_checkpoint = [&](int64_t cseq) -> std::optional<Snapshot> {
    ++st.checkpoints_tried;
    auto text = store.Get(CheckpointKey(cseq));
    if (!text.ok()) return std::nullopt;
    auto snap = Snapshot::FromJson(*text, CheckpointKey(cseq));
    if (!snap.ok() || snap->seq() != cseq) return std::nullopt;
    return std::move(snap).value();
  };
  std::optional<Snapshot> base;
  const int64_t pointer = ReadCheckpointPointer(store);
  if (pointer > 0 && pointer <= seq) base = try_checkpoint(pointer);
  if (!base && seq >= kCheckpointInterval) {
    // The pointer is missing, newer than `seq`, or names a damaged checkpoint: any older one will
    // do (the folder holds a few at most).
    auto listed = store.List(kCheckpointPrefix);
    if (listed.ok()) {
      std::vector<int64_t> seqs;
      for (const auto& o : *listed) {
        const int64_t cseq = SeqOfKey(o.key);
        if (cseq > 0 && cseq <= seq && cseq != pointer) seqs.push_back(cseq);
      }
      std::sort(seqs.rbegin(), seqs.rend());
      for (int64_t cseq : seqs) {
        if ((base = try_checkpoint(cseq))) break;
      }
    }
  }
  Snapshot snapshot = base ? std::move(*base) : Snapshot{};
  st.checkpoint_seq = snapshot.seq();
  IOTAD_TRY(AdvanceSnapshot(store, snapshot, seq, &st));
  return snapshot;
}

Status WriteCheckpoint(store::ObjectStore& store, const Snapshot& snapshot) {
  if (snapshot.seq() <= 0) return Status::Ok();
  IOTAD_TRY(store.Put(CheckpointKey(snapshot.seq()), snapshot.ToJson()));
  IOTAD_TRY(store.Put(kLastCheckpointKey, fmt::format("{}\n", snapshot.seq())));
  IOTAD_ASSIGN_OR_RETURN(auto listed, store.List(kCheckpointPrefix));
  std::vector<int64_t> seqs;
  for (const auto& o : listed) seqs.push_back(SeqOfKey(o.key));
  std::sort(seqs.rbegin(), seqs.rend());
  for (size_t i = kCheckpointsKept; i < seqs.size(); ++i) IOTAD_TRY(store.Delete(CheckpointKey(seqs[i])));
  return Status::Ok();
}

}  // namespace iotad::lake
