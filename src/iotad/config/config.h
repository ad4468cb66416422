#pragma once
// LAKE/iotad.toml -> typed config. Every option is declared once in an option table (key, type,
// default, doc) that parses, rejects unknown keys, and prints the commented example file.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"

namespace iotad::config {

struct IngestConfig {
  std::string inbox = "inbox";             // folder (relative to the lake) that `iotad run` ingests
  std::string partition_by = "event_time";  // "event_time" (first row's hour) or "arrival"
  bool delete_after_ingest = false;         // remove inbox files once they are safely in bronze
};

struct SilverConfig {
  std::vector<std::string> time_columns{"event_time", "timestamp", "ts", "time"};
  std::vector<std::string> device_columns{"device_id", "device", "deviceid"};
  std::vector<std::string> dimension_columns{"location"};  // text columns that are not metrics
  int64_t max_buffered_rows = 2'000'000;  // memory bound: rows held before the oldest hours flush
  std::string compression = "zstd";
};

struct GoldConfig {
  std::vector<std::string> detectors{"zscore", "robust_zscore"};
  double zscore_threshold = 3.0;
  double robust_threshold = 3.5;
  int64_t min_points = 3;  // a series with fewer points never flags (explained as warm-up)
  int64_t max_baseline_points = 8'000'000;  // robust baselines work in device buckets above this
  double false_alarms_per_day = 0.02;  // online detectors' sensitivity, per device and metric
};

struct DuckdbConfig {
  int64_t threads = 0;  // 0: all cores
  std::string memory_limit = "1GB";
};

struct LakeConfig {
  IngestConfig ingest;
  SilverConfig silver;
  GoldConfig gold;
  DuckdbConfig duckdb;
};

/// Parses TOML text; unknown keys and wrong types are errors naming the key and `source_name`.
Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name);

/// The commented config file `iotad init` writes: every option with its default and doc.
std::string ExampleConfigToml();

}  // namespace iotad::config
