#include "iotad/lake/commit_meta.h"

#include <simdjson.h>

#include "iotad/core/json.h"
#include "iotad/lake/json_fields.h"

namespace iotad::lake {
namespace {

using simdjson::dom::element;
using json_fields::IntMap;
using json_fields::Str;

/// Parses `json` into `doc` (the parser must outlive `doc`); an error names the stage.
Status ParseObject(simdjson::dom::parser& parser, std::string_view json, std::string_view what, element& doc) {
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Error(Errc::kCorrupt, "lake: the meta of a {} commit is not a JSON object", what);
  }
  return Status::Ok();
}

std::optional<int64_t> Int(element obj, std::string_view key) {
  int64_t v = 0;
  if (obj[key].get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::vector<std::string> StringList(element obj, std::string_view key) {
  std::vector<std::string> out;
  simdjson::dom::array list;
  if (obj[key].get_array().get(list) != simdjson::SUCCESS) return out;
  for (auto item : list) {
    std::string_view v;
    if (item.get_string().get(v) == simdjson::SUCCESS) out.emplace_back(v);
  }
  return out;
}

void ReadCounts(element obj, SilverRowCounts& c) {
  c.rows = Int(obj, "rows");
  c.stored = Int(obj, "stored");
  c.quarantined = Int(obj, "quarantined");
  c.duplicates = Int(obj, "duplicates");
  c.merged = Int(obj, "merged");
  c.cells_quarantined = Int(obj, "cells_quarantined").value_or(0);
}

void WriteCount(JsonWriter& w, std::string_view key, const std::optional<int64_t>& v) {
  if (v) w.Key(key).Int(*v);
}

void WriteIntMap(JsonWriter& w, std::string_view key, const std::map<std::string, int64_t>& map) {
  w.Key(key).BeginObject();
  for (const auto& [k, v] : map) w.Key(k).Int(v);
  w.EndObject();
}

}  // namespace

std::string SilverRowCounts::Unbalanced() const {
  if (!rows) return "has no row count";
  int64_t sum = 0;
  std::string terms;
  const std::pair<std::string_view, const std::optional<int64_t>*> parts[] = {
      {"stored", &stored}, {"quarantined", &quarantined}, {"duplicates", &duplicates}, {"merged", &merged}};
  for (const auto& [name, value] : parts) {
    if (!*value) continue;
    sum += **value;
    terms += fmt::format("{}{} {}", terms.empty() ? "" : " + ", **value, name);
  }
  if (sum == *rows) return "";
  return fmt::format("{} rows != {}", *rows, terms);
}

std::string SilverCommitMeta::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("batch").String(batch).Key("rebuild").Bool(rebuild);
  if (accounting) {
    // The key order of the records written before this struct existed.
    w.Key("accounting").BeginObject();
    WriteCount(w, "rows", accounting->rows);
    WriteCount(w, "stored", accounting->stored);
    WriteCount(w, "quarantined", accounting->quarantined);
    WriteCount(w, "duplicates", accounting->duplicates);
    WriteCount(w, "merged", accounting->merged);
    WriteIntMap(w, "quarantine_reasons", quarantine_reasons);
    w.Key("cells_quarantined").Int(accounting->cells_quarantined);
    WriteIntMap(w, "cell_reasons", cell_reasons);
    w.EndObject();
  }
  if (!parse.empty()) WriteIntMap(w, "parse", parse);
  if (columns) {
    w.Key("columns").BeginObject().Key("metrics").BeginArray();
    for (const auto& m : columns->metrics) w.String(m);
    w.EndArray().Key("dimensions").BeginArray();
    for (const auto& d : columns->dimensions) w.String(d);
    w.EndArray().EndObject();
  }
  w.Key("files").BeginArray();
  for (const auto& f : files) {
    w.BeginObject().Key("key").String(f.key);
    WriteCount(w, "rows", f.rows);
    WriteCount(w, "stored", f.stored);
    WriteCount(w, "quarantined", f.quarantined);
    WriteCount(w, "duplicates", f.duplicates);
    WriteCount(w, "merged", f.merged);
    w.Key("cells_quarantined").Int(f.cells_quarantined).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

Result<SilverCommitMeta> SilverCommitMeta::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  IOTAD_TRY(ParseObject(parser, json, "silver", doc));
  SilverCommitMeta m;
  m.batch = Str(doc, "batch");
  bool rebuild = false;
  if (doc["rebuild"].get_bool().get(rebuild) == simdjson::SUCCESS) m.rebuild = rebuild;
  element acc;
  if (doc["accounting"].get(acc) == simdjson::SUCCESS && acc.is_object()) {
    m.accounting.emplace();
    ReadCounts(acc, *m.accounting);
    m.quarantine_reasons = IntMap(acc, "quarantine_reasons");
    m.cell_reasons = IntMap(acc, "cell_reasons");
  }
  m.parse = IntMap(doc, "parse");
  element columns;
  if (doc["columns"].get(columns) == simdjson::SUCCESS && columns.is_object()) {
    m.columns = Columns{StringList(columns, "metrics"), StringList(columns, "dimensions")};
  }
  simdjson::dom::array files;
  if (doc["files"].get_array().get(files) == simdjson::SUCCESS) {
    for (element f : files) {
      SilverFileCounts counts;
      ReadCounts(f, counts);
      counts.key = Str(f, "key");
      m.files.push_back(std::move(counts));
    }
  }
  return m;
}

std::string GoldCommitMeta::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("silver_seq").Int(silver_seq).Key("fingerprint").String(fingerprint)
      .Key("rows_scanned").Int(rows_scanned).Key("summary_rows").Int(summary_rows);
  WriteIntMap(w, "anomalies", anomalies);
  w.EndObject();
  return w.Take();
}

Result<GoldCommitMeta> GoldCommitMeta::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  IOTAD_TRY(ParseObject(parser, json, "gold", doc));
  GoldCommitMeta m;
  const auto silver_seq = Int(doc, "silver_seq");
  if (!silver_seq) return Error(Errc::kCorrupt, "lake: the meta of a gold commit has no silver_seq");
  m.silver_seq = *silver_seq;
  m.fingerprint = Str(doc, "fingerprint");
  m.rows_scanned = Int(doc, "rows_scanned").value_or(0);
  m.summary_rows = Int(doc, "summary_rows").value_or(0);
  m.anomalies = IntMap(doc, "anomalies");
  return m;
}

std::string IngestCommitMeta::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("files").BeginArray();
  for (const auto& f : files) {
    w.BeginObject().Key("source").String(f.source).Key("key").String(f.key).Key("bytes").Int(f.bytes).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

Result<IngestCommitMeta> IngestCommitMeta::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  IOTAD_TRY(ParseObject(parser, json, "ingest", doc));
  IngestCommitMeta m;
  simdjson::dom::array files;
  if (doc["files"].get_array().get(files) == simdjson::SUCCESS) {
    for (element f : files) m.files.push_back({Str(f, "source"), Str(f, "key"), Int(f, "bytes").value_or(0)});
  }
  return m;
}

std::string RepairCommitMeta::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("reason").String(reason).EndObject();
  return w.Take();
}

Result<RepairCommitMeta> RepairCommitMeta::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  IOTAD_TRY(ParseObject(parser, json, "repair", doc));
  return RepairCommitMeta{Str(doc, "reason")};
}

}  // namespace iotad::lake
