#include "iotad/serve/summary_cache.h"

#include <cmath>
#include <limits>
#include <set>

#include "iotad/serve/api_sql.h"

namespace iotad::serve {

uint32_t NameIds::Id(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = ids_.find(std::string(name));
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

int64_t NameIds::Find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = ids_.find(std::string(name));
  return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

std::string NameIds::Name(uint32_t id) const {
  std::lock_guard lock(mu_);
  return id < names_.size() ? names_[id] : std::string();
}

size_t NameIds::size() const {
  std::lock_guard lock(mu_);
  return names_.size();
}

namespace {

/// Fills `out[i]` with the kept part of `files[i]`; returns the indices of the files not kept yet.
template <class Parts, class Part>
std::vector<size_t> TakeKnown(const Parts& parts, const std::vector<const HourFile*>& files,
                              std::vector<std::shared_ptr<const Part>>& out) {
  std::vector<size_t> missing;
  for (size_t i = 0; i < files.size(); ++i) {
    auto it = parts.find(files[i]->key);
    if (it != parts.end()) {
      out[i] = it->second;
    } else {
      missing.push_back(i);
    }
  }
  return missing;
}

}  // namespace

Result<std::optional<std::vector<std::shared_ptr<const SummaryPart>>>> SummaryStore::Parts(
    Context& ctx, const std::vector<const HourFile*>& files) {
  using Out = std::vector<std::shared_ptr<const SummaryPart>>;
  Out out(files.size());
  if (max_rows <= 0) return std::optional<Out>();
  std::vector<size_t> missing;
  {
    std::lock_guard lock(mu_);
    missing = TakeKnown(parts_, files, out);
    if (rows_ > max_rows) return std::optional<Out>();
  }
  if (!missing.empty()) {
    std::vector<const HourFile*> load;
    for (size_t i : missing) load.push_back(files[i]);
    std::string paths;
    for (size_t k = 0; k < load.size(); ++k) paths += (k ? ", " : "") + lake::SqlQuote(load[k]->path);
    // `filename` names the part each row belongs to; the paths are our snapshot's own.
    const std::string sql = fmt::format(
        "SELECT filename, epoch_us(hour_start)::BIGINT, device_id, location, metric, rows::BIGINT, "
        "anomalies::BIGINT, mean::DOUBLE, std::DOUBLE, min::DOUBLE, max::DOUBLE FROM read_parquet([{}], filename = true)",
        paths);
    // Its own connection, outside the request's row cap: a part is every row of its file.
    IOTAD_ASSIGN_OR_RETURN(auto session, ctx.api().db->Connect());
    IOTAD_ASSIGN_OR_RETURN(auto result, session->QueryParams(sql, {}));
    std::map<std::string, std::shared_ptr<SummaryPart>, std::less<>> by_path;
    for (const HourFile* f : load) by_path[f->path] = std::make_shared<SummaryPart>();
    std::string last_name;
    SummaryPart* part = nullptr;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
      const std::string_view name = c.Strings(0)[row];
      if (part == nullptr || name != last_name) {
        auto it = by_path.find(name);
        if (it == by_path.end()) return Error(Errc::kInternal, "summary cache: a row of an unexpected file");
        part = it->second.get();
        last_name = std::string(name);
      }
      part->hour.push_back(sql::Int(c, 1, row).value_or(0));
      part->device.push_back(devices.Id(c.Strings(2)[row]));
      const auto loc = sql::Str(c, 3, row);
      part->location.push_back(loc ? static_cast<int32_t>(locations.Id(*loc)) : -1);
      part->metric.push_back(metrics.Id(c.Strings(4)[row]));
      part->rows.push_back(sql::Int(c, 5, row).value_or(0));
      part->anomalies.push_back(sql::Int(c, 6, row).value_or(0));
      part->mean.push_back(sql::Dbl(c, 7, row).value_or(nan));
      part->std.push_back(sql::Dbl(c, 8, row).value_or(nan));
      part->min.push_back(sql::Dbl(c, 9, row).value_or(nan));
      part->max.push_back(sql::Dbl(c, 10, row).value_or(nan));
      return Status::Ok();
    }));
    std::lock_guard lock(mu_);
    for (size_t k = 0; k < load.size(); ++k) {
      std::shared_ptr<const SummaryPart> p = by_path[load[k]->path];
      auto [it, added] = parts_.emplace(load[k]->key, p);
      if (added) rows_ += static_cast<int64_t>(p->size());
      out[missing[k]] = it->second;
    }
  }
  return std::optional<Out>(std::move(out));
}

namespace {

/// Drops the parts of `parts` whose file is no longer a live file of `layer`; `on_drop` sees each.
template <class Parts, class OnDrop>
void RetainLive(Parts& parts, const LakeState& state, std::string_view layer, OnDrop on_drop) {
  std::set<std::string_view> live;
  if (auto it = state.layers.find(layer); it != state.layers.end()) {
    for (const auto& f : it->second) live.insert(f.key);
  }
  for (auto it = parts.begin(); it != parts.end();) {
    if (live.count(it->first) == 0) {
      on_drop(*it->second);
      it = parts.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

void SummaryStore::Retain(const LakeState& state) {
  std::lock_guard lock(mu_);
  RetainLive(parts_, state, "gold_summary", [&](const SummaryPart& p) { rows_ -= static_cast<int64_t>(p.size()); });
}

Result<std::optional<std::vector<std::shared_ptr<const SilverCountPart>>>> SilverCountStore::Parts(
    Context& ctx, SummaryStore& names, const std::vector<const HourFile*>& files) {
  using Out = std::vector<std::shared_ptr<const SilverCountPart>>;
  const auto& dims = ctx.state().config.silver.dimension_columns;
  if (std::find(dims.begin(), dims.end(), "location") == dims.end()) return std::optional<Out>();
  Out out(files.size());
  std::vector<size_t> missing;
  {
    std::lock_guard lock(mu_);
    missing = TakeKnown(parts_, files, out);
  }
  if (missing.empty()) return std::optional<Out>(std::move(out));
  std::vector<const HourFile*> load;
  for (size_t i : missing) load.push_back(files[i]);
  // Its own connection, outside the request's row cap and time limit: it runs once per file.
  IOTAD_ASSIGN_OR_RETURN(auto session, ctx.api().db->Connect());
  const std::string from = ctx.ReadParquet("silver", load);
  IOTAD_ASSIGN_OR_RETURN(auto probe, session->QueryParams(fmt::format("SELECT * FROM {} LIMIT 0", from), {}));
  // The metric columns: every column but the fixed ones, the dimensions and the partitions. Only
  // names the files hold reach the SQL, quoted.
  std::vector<std::string> metric_cols;
  for (size_t i = 0; i < probe.ColumnCount(); ++i) {
    const std::string name = probe.ColumnName(i);
    if (name == "event_time" || name == "device_id" || name == "year" || name == "month" || name == "day" ||
        name == "hour" || std::find(dims.begin(), dims.end(), name) != dims.end()) {
      continue;
    }
    metric_cols.push_back(name);
  }
  std::string counts;
  for (const auto& m : metric_cols) counts += fmt::format(", count({})::BIGINT", lake::SqlIdent(m));
  const std::string from_named = from.substr(0, from.size() - 1) + ", filename = true)";
  IOTAD_ASSIGN_OR_RETURN(auto result,
                         session->QueryParams(fmt::format("SELECT filename, location, count(*)::BIGINT{} FROM {} "
                                                          "GROUP BY ALL ORDER BY filename",
                                                          counts, from_named),
                                              {}));
  std::vector<uint32_t> metric_ids;
  for (const auto& m : metric_cols) metric_ids.push_back(names.metrics.Id(m));
  std::map<std::string, std::shared_ptr<SilverCountPart>, std::less<>> by_path;
  for (const HourFile* f : load) by_path[f->path] = std::make_shared<SilverCountPart>();
  IOTAD_TRY(sql::ForEachRow(result, [&](const lake::DuckChunk& c, size_t row) -> Status {
    auto it = by_path.find(c.Strings(0)[row]);
    if (it == by_path.end()) return Error(Errc::kInternal, "silver counts: a row of an unexpected file");
    SilverCountPart::Group g;
    const auto loc = sql::Str(c, 1, row);
    g.location = loc ? static_cast<int32_t>(names.locations.Id(*loc)) : -1;
    g.rows = sql::Int(c, 2, row).value_or(0);
    for (size_t k = 0; k < metric_ids.size(); ++k) {
      const int64_t n = sql::Int(c, 3 + k, row).value_or(0);
      if (n > 0) g.metric_rows[metric_ids[k]] = n;
    }
    it->second->groups.push_back(std::move(g));
    return Status::Ok();
  }));
  std::lock_guard lock(mu_);
  for (size_t k = 0; k < load.size(); ++k) {
    auto [it, added] = parts_.emplace(load[k]->key, by_path[load[k]->path]);
    out[missing[k]] = it->second;
  }
  return std::optional<Out>(std::move(out));
}

void SilverCountStore::Retain(const LakeState& state) {
  std::lock_guard lock(mu_);
  RetainLive(parts_, state, "silver", [](const SilverCountPart&) {});
}

}  // namespace iotad::serve
