#pragma once
// Silver's plan: everything a run needs, resolved once before any worker starts (the settings
// from the config, the bronze files to process, the lake's stored files and column roles). The
// workers read the plan, never the config. Internal to pipeline/silver*.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "iotad/config/config.h"
#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"
#include "iotad/parse/row_parser.h"
#include "iotad/pipeline/silver.h"

namespace iotad::lake {
class Snapshot;
}

namespace iotad::pipeline::silver {

/// The lake's columns and their roles, in first-seen order. A column keeps its role for the life
/// of the lake (until `--rebuild`), so every silver file types it the same way and the
/// union_by_name views never see DOUBLE and VARCHAR for one name. Stored in each silver commit.
struct LakeColumns {
  std::vector<std::string> metrics;
  std::vector<std::string> dimensions;
};

struct SilverPlan {
  bool rebuild = false;
  std::string run_id;
  /// Derives from the inputs, so a re-run after a crash writes the very same files.
  std::string batch_id;
  std::string staging;  // the run's staging prefix
  /// Bronze files to process, in time order; a file's index here is its source id.
  std::vector<std::string> inputs;
  /// A rebuild's deletes: every silver and quarantine file on disk.
  std::vector<std::string> replaced;
  /// Hour -> live silver files already stored (late rows are checked against them).
  std::map<TimestampUs, std::vector<std::string>> stored_files;
  /// The roles the lake's columns already have (empty for a rebuild: the config alone).
  LakeColumns previous;

  /// The parser's options: [silver] via ingest::ColumnRolesFromConfig with the typed delimiter
  /// and encoding; dimension_columns is left empty (the parse worker adds the lake's).
  parse::ColumnRoles roles;
  std::vector<std::string> declared_dimensions;  // silver.dimension_columns
  size_t max_metric_columns = 1;
  size_t max_buffered_rows = 0;
  std::string compression;  // Parquet codec
};

/// Bronze files silver has not consumed yet (all of bronze for a rebuild), in time order.
Result<std::vector<std::string>> PendingBronze(lake::Lake& lake, const lake::Snapshot& snapshot, bool rebuild);

/// Resolves the plan for `inputs` (PendingBronze's). The session reads the column types of a
/// lake written before commits recorded its column roles.
Result<SilverPlan> PlanSilver(lake::Lake& lake, const lake::Snapshot& snapshot, lake::DuckSession& session,
                              const config::SilverConfig& config, const SilverOptions& options,
                              const std::string& run_id, std::vector<std::string> inputs);

}  // namespace iotad::pipeline::silver
