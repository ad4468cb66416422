#pragma once
// Migrations of a lake's layout, run by the first writing command (Lake::BeginWrite, after
// Recover) through the normal commit protocol: one commit record moves each object to its new key,
// so a crash mid-way is rolled forward like any commit, and a second run finds nothing to do.
//
// Layout 2 (this version): partition folders as Spark writes them, `year=2024/month=1/day=5/hour=13`
// and bronze `dt=2024-01-05/hour=5`. Lakes written before it have zero-padded folders
// (`month=01`, `hour=05`), which DuckDB's default reader types as text and pandas as categories.
#include <string>
#include <string_view>

#include "iotad/core/result.h"

namespace iotad::lake {

class Lake;

/// The marker object that says a lake's layout is current (its text: "2\n").
inline constexpr std::string_view kLayoutKey = "_iotad/layout";

/// `key` with its partition folders in Spark's form: leading zeros dropped from the values of
/// `month=`, `day=` and `hour=` (`month=01` -> `month=1`, `hour=00` -> `hour=0`); `dt=` dates and
/// every other part unchanged. Keys of either layout map to the same result, so code that compares
/// keys across the migration (silver's bookmark of consumed bronze files) compares these.
std::string SparkPartitionKey(std::string_view key);

/// A sort key for partitioned keys whose string order is the partitions' time order, whatever the
/// spelling: the values of `month=`, `day=` and `hour=` zero-padded to two digits (Spark's
/// `hour=10` sorts before `hour=2` as text). Code that hands files on in time order sorts by it
/// (silver's bronze files, so late rows are late in time, not in spelling).
std::string PartitionOrderKey(std::string_view key);

/// Moves every object the commit log knows (a move's target or a silver input) whose key has
/// zero-padded partition folders to SparkPartitionKey(key), in one commit of stage "migrate"
/// (moves carry the stamps the log recorded; the old keys are listed as deletes, so a replay of
/// the log ends with the new keys only). Objects the log does not know (strays) are left where
/// they are, for `iotad verify` to report. Writes kLayoutKey when done; with it present, costs one
/// read. Needs the writer lock.
Status MigrateLayout(Lake& lake);

}  // namespace iotad::lake
