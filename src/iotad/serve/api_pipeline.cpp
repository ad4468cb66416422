// /api/pipeline/*: the runs (run records under `runs/`), the lake's state (stage heads, silver's
// bookmark, row accounting, layer sizes, the latest failed checks) and its hour partitions. The
// layer figures come from the request's snapshot; nothing here lists a layer folder.
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "iotad/lake/commit_meta.h"
#include "iotad/lake/migrate.h"
#include "iotad/lake/snapshot.h"
#include "iotad/serve/api_internal.h"
#include "iotad/serve/run_records.h"

namespace iotad::serve {

namespace {

/// The lake's object store, for what the snapshot does not hold (run records, commit records).
/// The Lake object lives as long as the API; its store is safe to read from any thread.
const store::ObjectStore& StoreOf(Context& ctx) {
  Api::Impl& api = ctx.api();
  std::lock_guard lock(api.mu);
  return api.lake->store();
}

using simdjson::dom::element;

/// The LakeState key of a layer: gold's files may be kept under the view's name, `anomalies`.
std::string_view LayerKey(const LakeState& st, std::string_view layer) {
  if (layer == "gold" && st.layers.find(layer) == st.layers.end() && st.layers.find("anomalies") != st.layers.end()) {
    return "anomalies";
  }
  return layer;
}

Response JsonOk(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

std::string Str(element obj, std::string_view key) {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

double Num(element obj, std::string_view key) {
  double v = 0;
  if (obj[key].get_double().get(v) == simdjson::SUCCESS) return v;
  int64_t i = 0;
  if (obj[key].get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  return 0;
}

/// A time of a run record, rewritten in the API's form (`2024-01-05T13:00:00Z`); null if unreadable.
void WriteRecordTime(JsonWriter& json, element obj, std::string_view key) {
  const std::string text = Str(obj, key);
  if (auto ts = ParseTimestamp(text); ts) {
    json.Timestamp(*ts);
  } else {
    json.Null();
  }
}

void WriteObjectOrEmpty(JsonWriter& json, element obj, std::string_view key) {
  simdjson::dom::object o;
  if (obj[key].get_object().get(o) == simdjson::SUCCESS) {
    json.Raw(simdjson::minify(o));
  } else {
    json.Raw("{}");
  }
}

/// One run record (one JSON line) as the API's run object; false when it is not readable.
bool WriteRun(JsonWriter& json, simdjson::dom::parser& parser, std::string_view text) {
  element rec;
  if (parser.parse(text.data(), text.size()).get(rec) != simdjson::SUCCESS || !rec.is_object()) return false;
  json.BeginObject();
  json.Key("run_id").String(Str(rec, "run_id")).Key("command").String(Str(rec, "command"));
  json.Key("status").String(Str(rec, "status"));
  json.Key("started_at");
  WriteRecordTime(json, rec, "started_at");
  json.Key("finished_at");
  WriteRecordTime(json, rec, "finished_at");
  json.Key("seconds").Double(Num(rec, "seconds")).Key("message").String(Str(rec, "message"));
  json.Key("stages").BeginArray();
  simdjson::dom::array stages;
  if (rec["stages"].get_array().get(stages) == simdjson::SUCCESS) {
    for (element st : stages) {
      if (!st.is_object()) continue;
      json.BeginObject().Key("name").String(Str(st, "stage")).Key("seconds").Double(Num(st, "seconds"));
      json.Key("counts");
      WriteObjectOrEmpty(json, st, "counts");
      json.EndObject();
    }
  }
  json.EndArray();
  json.Key("counts");
  WriteObjectOrEmpty(json, rec, "counts");
  json.EndObject();
  return true;
}

constexpr int64_t kMaxRuns = 500;

Result<Response> GetRuns(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(int64_t limit, ctx.params().Int("limit", 50, 1, kMaxRuns));
  IOTAD_TRY(ctx.params().Finish());
  IOTAD_ASSIGN_OR_RETURN(auto records, RunRecordTexts(StoreOf(ctx)));
  simdjson::dom::parser parser;
  JsonWriter json;
  json.BeginObject().Key("runs").BeginArray();
  int64_t n = 0;
  for (auto it = records.rbegin(); it != records.rend() && n < limit; ++it) n += WriteRun(json, parser, **it) ? 1 : 0;
  json.EndArray();
  ctx.WriteMeta(json, std::nullopt);
  json.EndObject();
  return JsonOk(json.Take());
}

/// Silver's row accounting summed over its commits since the last rebuild, kept per store and
/// advanced over the commits since the last answer (the log is read once, not per request).
struct AccountingTotals {
  int64_t seq = 0;  // commits folded in: 1..seq
  int64_t read = 0, stored = 0, quarantined = 0, duplicates = 0, merged = 0;
  std::string first_commit;  // the text of commit 1: another lake made at the same place differs
};

Result<AccountingTotals> SilverAccounting(const store::ObjectStore& store, int64_t lake_seq) {
  static std::mutex mu;
  static std::map<std::string, AccountingTotals> cache;  // by store description
  std::lock_guard lock(mu);
  AccountingTotals& t = cache[store.Describe()];
  if (lake_seq == 0) return AccountingTotals{};
  IOTAD_ASSIGN_OR_RETURN(std::string first, store.Get(lake::LogKey(1)));
  if (t.seq > lake_seq || first != t.first_commit) t = AccountingTotals{.first_commit = first};
  for (int64_t seq = t.seq + 1; seq <= lake_seq; ++seq) {
    const std::string key = lake::LogKey(seq);
    auto text = store.Get(key);
    if (!text.ok()) return text.status();
    IOTAD_ASSIGN_OR_RETURN(auto commit, lake::CommitFromJson(*text, key));
    if (commit.stage == "silver") {
      auto meta = lake::SilverCommitMeta::FromJson(commit.meta_json);
      if (meta.ok()) {
        if (meta->rebuild) t = AccountingTotals{.seq = t.seq, .first_commit = std::move(t.first_commit)};
        if (meta->accounting) {
          const auto& a = *meta->accounting;
          t.read += a.rows.value_or(0);
          t.stored += a.stored.value_or(0);
          t.quarantined += a.quarantined.value_or(0);
          t.duplicates += a.duplicates.value_or(0);
          t.merged += a.merged.value_or(0);
        }
      }
    }
    t.seq = seq;
  }
  return t;
}

/// The failed checks of the newest run that had any.
Status WriteFailedChecks(JsonWriter& json, const store::ObjectStore& store) {
  IOTAD_ASSIGN_OR_RETURN(auto records, RunRecordTexts(store));
  simdjson::dom::parser parser;
  json.BeginArray();
  for (auto r = records.rbegin(); r != records.rend(); ++r) {
    const std::string* text = r->get();
    element rec;
    if (parser.parse(text->data(), text->size()).get(rec) != simdjson::SUCCESS || !rec.is_object()) continue;
    simdjson::dom::array stages;
    if (rec["stages"].get_array().get(stages) != simdjson::SUCCESS) continue;
    std::vector<std::string> failed;
    for (element st : stages) {
      if (Str(st, "stage") != "checks") continue;
      simdjson::dom::object counts;
      if (st["counts"].get_object().get(counts) != simdjson::SUCCESS) continue;
      for (auto field : counts) {
        bool passed = true;
        if (field.value.get_bool().get(passed) == simdjson::SUCCESS && !passed) failed.emplace_back(field.key);
      }
    }
    if (failed.empty()) continue;
    // The run's message joins its failed checks' causes ("; "): each check gets the whole text.
    const std::string run_id = Str(rec, "run_id"), message = Str(rec, "message");
    for (const auto& check : failed) {
      json.BeginObject().Key("run_id").String(run_id).Key("check").String(check).Key("detail").String(message);
      json.EndObject();
    }
    break;
  }
  json.EndArray();
  return Status::Ok();
}

constexpr std::string_view kLayers[] = {"bronze", "silver", "quarantine", "gold", "gold_summary"};

Result<Response> GetState(Context& ctx) {
  IOTAD_TRY(ctx.params().Finish());
  const LakeState& st = ctx.state();
  JsonWriter json;
  json.BeginObject().Key("lake_seq").Int(st.lake_seq);
  json.Key("stages").BeginArray();
  if (st.snapshot != nullptr) {
    for (std::string_view stage : {"ingest", "silver", "gold", "repair", "migrate"}) {
      const lake::StageHead* head = st.snapshot->Last(stage);
      if (head == nullptr) continue;
      json.BeginObject().Key("stage").String(stage).Key("seq").Int(head->seq).Key("run_id").String(head->run_id);
      json.Key("committed_at").Timestamp(head->committed_at_us).EndObject();
    }
  }
  json.EndArray();
  // Silver's bookmark: live bronze files, and which of them a silver commit consumed.
  int64_t bronze = 0, processed = 0;
  if (st.snapshot != nullptr) {
    std::set<std::string> consumed;
    for (const auto& k : st.snapshot->silver_inputs()) consumed.insert(lake::SparkPartitionKey(k));
    for (const auto& key : st.snapshot->Keys(lake::kBronzePrefix)) {
      ++bronze;
      processed += consumed.count(lake::SparkPartitionKey(key)) != 0;
    }
  }
  json.Key("bookmark").BeginObject().Key("bronze_files").Int(bronze).Key("bronze_files_processed").Int(processed);
  json.Key("bronze_files_pending").Int(bronze - processed).EndObject();
  IOTAD_ASSIGN_OR_RETURN(AccountingTotals acc, SilverAccounting(StoreOf(ctx), st.lake_seq));
  json.Key("accounting").BeginObject().Key("read").Int(acc.read).Key("stored").Int(acc.stored);
  json.Key("quarantined").Int(acc.quarantined).Key("duplicates").Int(acc.duplicates).Key("merged").Int(acc.merged);
  json.EndObject();
  json.Key("layers").BeginArray();
  for (std::string_view layer : kLayers) {
    int64_t files = 0, bytes = 0;
    if (auto it = st.layers.find(LayerKey(st, layer)); it != st.layers.end()) {
      files = static_cast<int64_t>(it->second.size());
      for (const HourFile& f : it->second) bytes += f.bytes;
    }
    json.BeginObject().Key("layer").String(layer).Key("files").Int(files).Key("bytes").Int(bytes).EndObject();
  }
  json.EndArray();
  json.Key("failed_checks");
  IOTAD_TRY(WriteFailedChecks(json, StoreOf(ctx)));
  ctx.WriteMeta(json, std::nullopt);
  json.EndObject();
  return JsonOk(json.Take());
}

constexpr int64_t kMaxPartitions = 10000;

Result<Response> GetPartitions(Context& ctx) {
  IOTAD_ASSIGN_OR_RETURN(std::string layer,
                         ctx.params().Choice("layer", {"silver", "gold", "gold_summary", "bronze"}, "silver"));
  Filters filters;
  IOTAD_ASSIGN_OR_RETURN(filters.from, ctx.params().Time("from"));
  IOTAD_ASSIGN_OR_RETURN(filters.to, ctx.params().Time("to"));
  if (filters.from && filters.to && *filters.from >= *filters.to) {
    return Error(Errc::kInvalidArgument, "parameter 'to' must be later than 'from'");
  }
  IOTAD_ASSIGN_OR_RETURN(int64_t limit, ctx.params().Int("limit", 500, 1, kMaxPartitions));
  IOTAD_TRY(ctx.params().Finish());
  const Range range = ctx.ResolveRange(filters);
  struct Hour {
    int64_t files = 0, bytes = 0;
  };
  std::map<TimestampUs, Hour, std::greater<>> hours;  // newest first
  for (const HourFile* f : ctx.state().FilesIn(LayerKey(ctx.state(), layer), range.from, range.to)) {
    Hour& h = hours[f->hour];
    ++h.files;
    h.bytes += f->bytes;
  }
  JsonWriter json;
  json.BeginObject().Key("partitions").BeginArray();
  int64_t n = 0;
  for (const auto& [hour, h] : hours) {
    if (n++ >= limit) break;
    json.BeginObject().Key("layer").String(layer).Key("hour").Timestamp(hour).Key("files").Int(h.files);
    json.Key("bytes").Int(h.bytes).EndObject();
  }
  json.EndArray();
  ctx.WriteMeta(json, range);
  json.EndObject();
  return JsonOk(json.Take());
}

}  // namespace

void RegisterPipelineRoutes(Router& router) {
  // Runs are not cacheable: a failed run writes its record without a commit.
  router.Add({"GET", "/api/pipeline/runs", GetRuns, false, false, "the newest runs"});
  router.Add({"GET", "/api/pipeline/state", GetState, false, false, "stage heads, bookmark, accounting, layers"});
  router.Add({"GET", "/api/pipeline/partitions", GetPartitions, true, false, "hour partitions of a layer"});
}

}  // namespace iotad::serve
