#include "iotad/serve/run_records.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "iotad/lake/lake.h"

namespace iotad::serve {

Result<std::vector<std::shared_ptr<const std::string>>> RunRecordTexts(const store::ObjectStore& store) {
  static std::mutex mu;
  // store description -> key -> text; records are never rewritten, so a key read once stays true.
  static std::map<std::string, std::map<std::string, std::shared_ptr<const std::string>>> cache;
  IOTAD_ASSIGN_OR_RETURN(auto objects, store.List(lake::kRunsPrefix));
  std::vector<std::string> keys;
  for (const auto& o : objects) {
    if (o.key.ends_with(".json")) keys.push_back(o.key);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::shared_ptr<const std::string>> out;
  out.reserve(keys.size());
  std::lock_guard lock(mu);
  auto& texts = cache[store.Describe()];
  for (const auto& key : keys) {
    auto it = texts.find(key);
    if (it == texts.end()) {
      auto text = store.Get(key);
      if (!text.ok()) continue;  // removed since the listing
      it = texts.emplace(key, std::make_shared<const std::string>(std::move(text).value())).first;
    }
    out.push_back(it->second);
  }
  return out;
}

}  // namespace iotad::serve
