#include "iotad/serve/run_records.h"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "iotad/core/timestamp.h"
#include "iotad/lake/lake.h"

namespace iotad::serve {
namespace {

struct Record {
  uint64_t bytes = 0;             // as listed: a record of another size under the key is re-read
  TimestampUs started_at_us = 0;  // 0 when unreadable (sorts first)
  std::shared_ptr<const std::string> text;
};

TimestampUs StartedAt(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element rec;
  std::string_view started;
  if (parser.parse(text.data(), text.size()).get(rec) != simdjson::SUCCESS ||
      rec["started_at"].get_string().get(started) != simdjson::SUCCESS) {
    return 0;
  }
  return ParseTimestamp(started).value_or(0);
}

}  // namespace

Result<std::vector<std::shared_ptr<const std::string>>> RunRecordTexts(const store::ObjectStore& store) {
  static std::mutex mu;
  // store description -> key -> record; records are never rewritten, so a key read once stays true.
  static std::map<std::string, std::map<std::string, Record>> cache;
  IOTAD_ASSIGN_OR_RETURN(auto objects, store.List(lake::kRunsPrefix));
  std::lock_guard lock(mu);
  auto& records = cache[store.Describe()];
  std::vector<std::pair<TimestampUs, const std::string*>> order;  // (started_at, key)
  for (const auto& o : objects) {
    if (!o.key.ends_with(".json")) continue;
    auto it = records.find(o.key);
    if (it == records.end() || it->second.bytes != o.size_bytes) {
      auto text = store.Get(o.key);
      if (!text.ok()) continue;  // removed since the listing
      Record r;
      r.bytes = text->size();
      r.started_at_us = StartedAt(*text);
      r.text = std::make_shared<const std::string>(std::move(text).value());
      it = records.insert_or_assign(o.key, std::move(r)).first;
    }
    order.emplace_back(it->second.started_at_us, &it->first);
  }
  // Run ids sort by their start to the second only: two runs of one second are ordered by their
  // recorded start time.
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : *a.second < *b.second; });
  std::vector<std::shared_ptr<const std::string>> out;
  out.reserve(order.size());
  for (const auto& [at, key] : order) out.push_back(records.at(*key).text);
  return out;
}

}  // namespace iotad::serve
