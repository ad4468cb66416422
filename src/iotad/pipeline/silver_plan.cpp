#include "iotad/pipeline/silver_plan.h"

#include <algorithm>
#include <optional>
#include <set>

#include "iotad/core/hash.h"
#include "iotad/ingest/bronze.h"
#include "iotad/ingest/parse_options.h"
#include "iotad/lake/migrate.h"
#include "iotad/lake/snapshot.h"

namespace iotad::pipeline::silver {
namespace {

/// The lake's column roles as the last silver commit recorded them; nullopt when it has no such
/// record (a new lake, or one written before the record existed).
Result<std::optional<LakeColumns>> RecordedColumns(const lake::Snapshot& snapshot) {
  IOTAD_ASSIGN_OR_RETURN(auto meta, snapshot.LastSilverMeta());
  if (!meta || !meta->columns) return std::optional<LakeColumns>{};
  LakeColumns out;
  out.metrics = meta->columns->metrics;
  out.dimensions = meta->columns->dimensions;
  return std::optional<LakeColumns>(std::move(out));
}

/// The roles the lake's columns already have: the last commit's record, or for a lake written
/// before the record existed, the types of its silver files (DOUBLE: metric, VARCHAR: dimension).
Result<LakeColumns> PreviousColumns(const lake::Snapshot& snapshot, lake::Lake& lake, lake::DuckSession& session,
                                    const std::map<TimestampUs, std::vector<std::string>>& existing) {
  IOTAD_ASSIGN_OR_RETURN(auto recorded, RecordedColumns(snapshot));
  if (recorded) return *recorded;
  LakeColumns out;
  std::vector<std::string> keys;
  for (const auto& [hour, files] : existing) keys.insert(keys.end(), files.begin(), files.end());
  if (keys.empty()) return out;
  IOTAD_ASSIGN_OR_RETURN(auto r, session.Query(fmt::format(
                                     "SELECT * FROM read_parquet({}, union_by_name = true, hive_partitioning = false) LIMIT 0",
                                     lake::SqlList(lake.ReadPaths(keys)))));
  for (size_t c = 0; c < r.ColumnCount(); ++c) {
    const std::string name = r.ColumnName(c);
    const duckdb_type type = r.ColumnType(c);
    if (type == DUCKDB_TYPE_DOUBLE) out.metrics.push_back(name);
    else if (type == DUCKDB_TYPE_VARCHAR && name != "device_id") out.dimensions.push_back(name);
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> PendingBronze(lake::Lake& lake, const lake::Snapshot& snapshot, bool rebuild) {
  // The bookmark (bronze keys earlier silver commits consumed) comes from the lake's snapshot;
  // bronze is listed, so a raw file put there by hand is read too.
  std::set<std::string> processed;
  if (!rebuild) {
    // In Spark's spelling: inputs recorded before the layout migration name padded folders.
    for (const auto& k : snapshot.silver_inputs()) processed.insert(lake::SparkPartitionKey(k));
  }
  IOTAD_ASSIGN_OR_RETURN(auto bronze, lake.store().List(lake::kBronzePrefix));
  std::vector<std::string> todo;
  for (const auto& o : bronze) {
    if (processed.count(lake::SparkPartitionKey(o.key)) == 0 && ingest::FormatFromName(o.key)) todo.push_back(o.key);
  }
  // In time order (dt, then hour as a number: `hour=10` lists before `hour=2`), so rows are
  // "late" when they arrive after their hour in time, whatever the folders' spelling.
  std::sort(todo.begin(), todo.end(), [](const std::string& a, const std::string& b) {
    return std::pair(lake::PartitionOrderKey(a), std::string_view(a)) < std::pair(lake::PartitionOrderKey(b), std::string_view(b));
  });
  return todo;
}

Result<SilverPlan> PlanSilver(lake::Lake& lake, const lake::Snapshot& snapshot, lake::DuckSession& session,
                              const config::SilverConfig& config, const SilverOptions& options,
                              const std::string& run_id, std::vector<std::string> inputs) {
  SilverPlan plan;
  plan.rebuild = options.rebuild;
  plan.run_id = run_id;
  plan.staging = lake::Lake::StagingPrefix(run_id);
  std::string joined;
  for (const auto& k : inputs) joined += k + "\n";
  // Names derive from the inputs, so a re-run after a crash writes the very same files.
  plan.batch_id = HashBytes(joined, options.rebuild ? 0x5eed : 0x10Ad).Hex().substr(0, 16);
  plan.inputs = std::move(inputs);
  if (options.rebuild) {
    // A rebuild replaces both folders as they are on disk (what the log lost track of too).
    for (auto prefix : {lake::kSilverPrefix, lake::kQuarantinePrefix}) {
      IOTAD_ASSIGN_OR_RETURN(auto files, lake.store().List(prefix));
      for (const auto& o : files) plan.replaced.push_back(o.key);
    }
  } else {
    // Live in the snapshot (a stray is not silver's) and on disk (a lost one has no rows to read
    // back: verify names it).
    IOTAD_ASSIGN_OR_RETURN(auto on_disk, lake.store().List(lake::kSilverPrefix));
    for (const auto& o : on_disk) {
      if (snapshot.files().count(o.key) == 0) continue;
      if (auto hour = lake::HourFromKey(o.key)) plan.stored_files[*hour].push_back(o.key);
    }
    // A column keeps its role for the life of the lake; --rebuild starts from the config alone.
    IOTAD_ASSIGN_OR_RETURN(plan.previous, PreviousColumns(snapshot, lake, session, plan.stored_files));
  }
  plan.roles = ingest::ColumnRolesFromConfig(config);
  plan.roles.dimension_columns.clear();
  plan.roles.delimiter = config.delimiter_byte;
  plan.roles.encoding =
      config.text_encoding == config::TextEncoding::kLatin1 ? parse::TextEncoding::kLatin1 : parse::TextEncoding::kUtf8;
  plan.declared_dimensions = config.dimension_columns;
  plan.max_metric_columns = static_cast<size_t>(std::max<int64_t>(1, config.max_metric_columns));
  plan.max_buffered_rows = static_cast<size_t>(config.max_buffered_rows);
  plan.compression = config.compression;
  return plan;
}

}  // namespace iotad::pipeline::silver
