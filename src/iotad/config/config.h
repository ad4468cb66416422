#pragma once
// LAKE/iotad.toml -> typed config. Every option is declared once in an option table (key, type,
// default, doc) that parses, rejects unknown keys, and prints the commented example file.
#include <cstdint>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/config/alert_config.h"
#include "iotad/config/component.h"
#include "iotad/core/result.h"

namespace iotad::config {

/// ingest.partition_by, typed.
enum class PartitionBy { kEventTime, kArrival };
/// silver.encoding, typed.
enum class TextEncoding { kUtf8, kLatin1 };

// Options that are one of a few strings keep the string as written (for messages and
// fingerprints) and its typed value beside it, set by the same row: stages read the typed one.

struct IngestConfig {
  std::string inbox = "inbox";             // folder (relative to the lake) that `iotad run` ingests
  std::string partition_by = "event_time";  // "event_time" (first row's hour) or "arrival"
  PartitionBy partition = PartitionBy::kEventTime;  // partition_by, typed
  bool delete_after_ingest = false;         // remove inbox files once they are safely in bronze
};

struct SilverConfig {
  std::vector<std::string> time_columns{"event_time", "timestamp", "ts", "time"};
  std::vector<std::string> device_columns{"device_id", "device", "deviceid"};
  std::vector<std::string> dimension_columns{"location"};  // text columns that are not metrics
  int64_t max_buffered_rows = 2'000'000;  // memory bound: rows held before the oldest hours flush
  std::string compression = "zstd";
  std::string delimiter;                     // CSV: "" detects; else one of "," ";" "\t" "|"
  char delimiter_byte = 0;                   // delimiter, typed: 0 detects
  std::string encoding = "utf-8";            // "utf-8" or "latin-1"
  TextEncoding text_encoding = TextEncoding::kUtf8;  // encoding, typed
  std::vector<std::string> null_values{"", "NA", "N/A", "NULL", "NaN", "None", "-"};  // no value
  int64_t max_line_bytes = 1'048'576;        // a longer line (or open quote) is a reject
  int64_t json_flatten_depth = 3;            // {"a":{"b":1}} -> a_b, up to this depth
  std::string default_timezone = "UTC";      // for timestamps without a zone: "UTC" or "+05:30"
  int32_t default_utc_offset_minutes = 0;    // default_timezone as minutes east of UTC
  int64_t max_metric_columns = 1000;         // metric columns a lake may have
};


struct GoldConfig {
  std::vector<std::string> detectors{"zscore", "robust_zscore", "default"};
  double zscore_threshold = 3.0;
  double robust_threshold = 3.5;
  int64_t min_points = 3;  // a series with fewer points never flags (explained as warm-up)
  int64_t max_baseline_points = 8'000'000;  // robust baselines work in device buckets above this
  double false_alarms_per_day = 0.02;  // online detectors' sensitivity, per device and metric
};

/// One `[[detect.rule]]` (a component kind, see component.h): detector settings for the series it matches. A series (device, metric)
/// matches when its metric is in `metrics` and its device matches one of the `devices` glob
/// patterns (`*` and `?`); an empty list matches everything. Rules apply in file order, a later
/// matching rule overriding the fields it sets.
struct DetectRule {
  std::vector<std::string> metrics;
  std::vector<std::string> devices;
  std::vector<std::string> detectors;            // empty: keep
  std::optional<double> false_alarms_per_day;    // the sensitivity knob
  std::optional<double> min, max;                // physical range (the range check)
  std::optional<int64_t> silence_us;             // no data for longer: silent
  /// Detector parameters, qualified by detector: {"window_z.window", 128}.
  std::vector<std::pair<std::string, double>> params;
};

struct DetectConfig {
  /// The `[[detect.rule]]` components' options in file order (also in LakeConfig::components).
  std::vector<DetectRule> rules;
};

/// What applies to one series after the rules: start from gold.detectors and
/// gold.false_alarms_per_day, then every matching rule in order.
struct SeriesSettings {
  std::vector<std::string> detectors;
  double false_alarms_per_day = 0.02;
  double min = NAN, max = NAN;
  int64_t silence_us = 0;  // 0: automatic
  std::vector<std::pair<std::string, double>> params;  // qualified, a later rule's value wins
};

struct DuckdbConfig {
  int64_t threads = 0;  // 0: all cores; capped at the machine's hardware threads (with a warning)
  /// As DuckDB reads it ("1GB", "512MiB"); a percentage in the file ("80%") is turned into
  /// "N bytes" of this machine's memory here, since DuckDB does not take percentages.
  std::string memory_limit = "1GB";
  int64_t memory_limit_bytes = 1'000'000'000;
};

struct LakeConfig {
  IngestConfig ingest;
  SilverConfig silver;
  GoldConfig gold;
  DetectConfig detect;
  DuckdbConfig duckdb;
  AlertConfig alert;  // [alert]; rules and sinks are components (alert_config.h)
  /// Every `[[group.leaf]]` table of a registered component kind, parsed and validated by its
  /// type's factory: `components.OptionsOf<DetectRule>("detect.rule")`.
  Components components;
  /// Values that were accepted but adjusted (a thread count capped at the machine's): one
  /// sentence each naming the key, the value and what is used instead. Lake::Open prints them.
  std::vector<std::string> warnings;
};

/// The settings of one series (device, metric) under the lake's config.
SeriesSettings ResolveSeries(const LakeConfig& config, std::string_view device, std::string_view metric);

/// Glob match with `*` (any run) and `?` (any one character).
bool GlobMatch(std::string_view pattern, std::string_view text);

/// "1GB", "512MiB", "1.5 GB", "100 bytes" -> bytes (1000^i for KB/MB/GB/TB, 1024^i for
/// KiB/MiB/GiB/TiB); "80%" -> that share of `physical_bytes`. Nullopt when it is not a size.
std::optional<int64_t> ParseByteSize(std::string_view text, int64_t physical_bytes);

/// "UTC", "Z", "+05:30", "-08:00" -> minutes east of UTC; nullopt for anything else (IANA names
/// such as "Europe/Berlin" are not supported).
std::optional<int32_t> ParseUtcOffset(std::string_view text);

/// The limits ParseConfig checks against this machine (tests pass their own).
struct MachineLimits {
  int64_t hardware_threads = 0;  // 0: unknown, no cap
  int64_t physical_memory_bytes = 0;
  static MachineLimits Current();
};

/// Parses TOML text; unknown keys and wrong types are errors naming the key and `source_name`.
/// Every value is checked for type and range (non-finite numbers, unknown enumerations, sizes
/// that are not sizes, detector parameters the detectors would refuse); errors are one sentence
/// naming the key and `source_name`.
Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name);
Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name,
                               const MachineLimits& machine);
/// With the component kinds of `registry` (tests add their own kinds to those of RegisterComponents()).
Result<LakeConfig> ParseConfig(std::string_view toml_text, std::string_view source_name,
                               const MachineLimits& machine, const ComponentRegistry& registry);

/// The commented config file `iotad init` writes: every option with its default and doc.
/// Component kinds follow the flat sections, each as commented `[[group.leaf]]` blocks.
std::string ExampleConfigToml();
std::string ExampleConfigToml(const ComponentRegistry& registry);
/// What `iotad init` writes: ExampleConfigToml() plus the fresh lake's alerting, uncommented (the
/// rule `device-anomalies` on the default detector, per device, to the file sink `alerts-file`).
std::string InitConfigToml();
/// One kind's block: per type, its keys commented out ("# key = default") under their docs
/// ("# # doc (type)"); with the first "# " of each line removed it parses to the defaults.
std::string ExampleComponentToml(const ComponentKind& kind);

}  // namespace iotad::config
