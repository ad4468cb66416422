#pragma once
// NAB's label files: combined_windows.json (file -> [[start, end], ...]) and profiles.json
// (profile -> {"CostMatrix": {"tpWeight", "fpWeight", "fnWeight", ...}}).
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/eval/nab.h"

namespace iotad::eval {

/// The windows of one data file, named by its path relative to the data folder
/// (`realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv`).
struct NabFileWindows {
  std::string file;
  std::vector<NabWindow> windows;
};

/// Parses combined_windows.json; files keep the document's order. `source` names it in errors.
Result<std::vector<NabFileWindows>> ParseNabWindows(std::string_view json, std::string_view source);
/// Parses profiles.json; profiles keep the document's order.
Result<std::vector<NabProfile>> ParseNabProfiles(std::string_view json, std::string_view source);

/// The same, reading the file.
Result<std::vector<NabFileWindows>> ReadNabWindows(const std::string& path);
Result<std::vector<NabProfile>> ReadNabProfiles(const std::string& path);

}  // namespace iotad::eval
