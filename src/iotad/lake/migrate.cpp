#include "iotad/lake/migrate.h"

#include <map>
#include <set>

#include "iotad/core/json.h"
#include "iotad/lake/lake.h"

namespace iotad::lake {
namespace {

constexpr std::string_view kLayoutVersion = "2\n";

/// The layers whose keys carry partition folders.
constexpr std::string_view kPartitioned[] = {kBronzePrefix, kSilverPrefix, kGoldPrefix, kGoldSummaryPrefix};

bool InPartitionedLayer(std::string_view key) {
  for (auto prefix : kPartitioned) {
    if (key.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace

namespace {

/// `key` with the numeric values of month=, day= and hour= rewritten to `width` digits at least
/// (0: as few as possible).
std::string RespellPartitions(std::string_view key, size_t width) {
  std::string out;
  out.reserve(key.size());
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    for (std::string_view name : {"month=", "day=", "hour="}) {
      if (!part.starts_with(name)) continue;
      std::string_view value = part.substr(name.size());
      const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
      if (!digits) break;
      while (value.size() > 1 && value.front() == '0') value.remove_prefix(1);
      out.append(name);
      if (value.size() < width) out.append(width - value.size(), '0');
      out.append(value);
      part = {};
      break;
    }
    out.append(part);
    if (end == key.size()) break;
    out.push_back('/');
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string SparkPartitionKey(std::string_view key) { return RespellPartitions(key, 0); }

std::string PartitionOrderKey(std::string_view key) { return RespellPartitions(key, 2); }

Status MigrateLayout(Lake& lake) {
  if (!lake.writing()) return Error(Errc::kInternal, "lake: layout migration without the writer lock");
  store::ObjectStore& store = lake.store();
  if (auto layout = store.Get(kLayoutKey); layout.ok() && *layout == kLayoutVersion) return Status::Ok();

  std::vector<std::string> padded;
  for (auto prefix : kPartitioned) {
    IOTAD_ASSIGN_OR_RETURN(auto objects, store.List(prefix));
    for (const auto& o : objects) {
      if (SparkPartitionKey(o.key) != o.key) padded.push_back(o.key);
    }
  }
  if (!padded.empty()) {
    // What the log knows, with the last stamp recorded for each key.
    IOTAD_ASSIGN_OR_RETURN(auto commits, lake.ReadCommits());
    std::set<std::string> known;
    std::map<std::string, ObjectStamp> stamps;
    for (const auto& c : commits) {
      for (const auto& [from, to] : c.moves) {
        if (!InPartitionedLayer(to)) continue;
        known.insert(to);
        if (auto s = c.stamps.find(to); s != c.stamps.end()) stamps[to] = s->second;
        else stamps.erase(to);
      }
      for (const auto& key : c.inputs) known.insert(key);
    }
    Commit commit;
    commit.stage = "migrate";
    commit.run_id = NewRunId(lake.clock());
    for (const auto& key : padded) {
      if (known.count(key) == 0) continue;  // a stray: not the log's to move
      const std::string to = SparkPartitionKey(key);
      commit.moves.emplace_back(key, to);
      if (auto s = stamps.find(key); s != stamps.end()) commit.stamps[to] = s->second;
      commit.deletes.push_back(key);  // already moved when deleted: only prunes the empty folder
    }
    if (!commit.moves.empty()) {
      JsonWriter meta;
      meta.BeginObject()
          .Key("migration")
          .String("partition folders as Spark writes them (month=1/hour=5, not month=01/hour=05)")
          .Key("layout")
          .Int(2)
          .Key("moved")
          .Int(static_cast<int64_t>(commit.moves.size()))
          .EndObject();
      commit.meta_json = meta.Take();
      IOTAD_TRY(lake.Publish(std::move(commit)).status().WithContext("lake: migrating the partition folders: "));
    }
  }
  return store.Put(kLayoutKey, std::string(kLayoutVersion));
}

}  // namespace iotad::lake
