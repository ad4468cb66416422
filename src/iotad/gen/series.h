#pragma once
// Labelled univariate series for checking that a detector generalises: seven families with the
// properties real telemetry has (counts, saturating percentages, quantised sensors on irregular
// clocks, heavy tails, short hourly series; machines switching between setpoints, written only
// when named), anomalies injected at known rows, written in NAB's
// layout (data/<family>/<family>_<k>.csv, labels/combined_windows.json) so `iotad eval` scores
// it. Deterministic for a seed: the same options give byte-identical files.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"

namespace iotad::gen {

enum class SeriesFamily : uint8_t { kCounts, kPercent, kSensor, kTraffic, kHourly, kLatency, kRegime };
/// The families written unless told otherwise (the validation sets of `bench/detect_generality.sh`
/// are these, so their figures stay comparable from one version to the next).
inline constexpr std::array<SeriesFamily, 6> kDefaultSeriesFamilies = {
    SeriesFamily::kCounts,  SeriesFamily::kPercent, SeriesFamily::kSensor,
    SeriesFamily::kTraffic, SeriesFamily::kHourly,  SeriesFamily::kLatency};
/// Every family: the default ones and `regime` (machines that switch between setpoints).
inline constexpr std::array<SeriesFamily, 7> kAllSeriesFamilies = {
    SeriesFamily::kCounts,  SeriesFamily::kPercent, SeriesFamily::kSensor, SeriesFamily::kTraffic,
    SeriesFamily::kHourly,  SeriesFamily::kLatency, SeriesFamily::kRegime};

/// `counts`, `percent`, `sensor`, `traffic`, `hourly`, `latency` or `regime` (also the folder name).
std::string_view SeriesFamilyName(SeriesFamily family);
/// Parses a comma-separated list such as `counts,sensor` (duplicates dropped, order kept).
Result<std::vector<SeriesFamily>> ParseSeriesFamilies(std::string_view list);

/// Everything `iotad generate-series` can be told, with its defaults.
struct SeriesOptions {
  uint64_t seed = 1;
  std::vector<SeriesFamily> families{kDefaultSeriesFamilies.begin(), kDefaultSeriesFamilies.end()};
  int64_t files_per_family = 5;
  /// Each file's rows, times this (1 to 10): months of readings rather than weeks, as long real
  /// series run (a detector's habits, memories and ranges over a long life). 1 gives the bytes
  /// the option's absence gave.
  double length = 1.0;
};

/// One injected anomaly. Rows are 0-based data rows (the header is not a row).
struct SeriesAnomaly {
  std::string kind;  // spike, level_shift, variance_change, stuck, drift, seasonality_break, outage
  int64_t start_row = 0;
  int64_t rows = 0;  // how many rows it changes; level_shift and drift last to the end
  TimestampUs start_us = 0;
  std::string magnitude;  // for people, e.g. "+3.4 sd (+12.1)"
};

/// One generated file and what was injected into it.
struct SeriesFile {
  std::string family;
  std::string key;  // `counts/counts_1.csv`: the file under data/ and its key in the labels
  int64_t rows = 0;
  TimestampUs first_us = 0;
  TimestampUs last_us = 0;
  std::string params;  // the family parameters drawn for this file, for people
  std::vector<SeriesAnomaly> anomalies;  // in time order
  std::vector<std::pair<TimestampUs, TimestampUs>> windows;  // NAB windows, one per anomaly
};

/// What a GenerateSeriesSet run wrote.
struct SeriesReport {
  std::vector<SeriesFile> files;  // in key order
  int64_t rows = 0;
  int64_t anomalies = 0;
  std::string out_dir;  // GenerateSeriesSet(options, out_dir) only
  double elapsed_s = 0;
};

/// Receives each file by its path under the output folder (`data/counts/counts_1.csv`,
/// `labels/combined_windows.json`, ...); an error stops the run.
using SeriesSink = std::function<Status(const std::string& path, std::string_view contents)>;

/// Checks every option; messages name the `iotad generate-series` flag.
Status ValidateSeriesOptions(const SeriesOptions& options);

/// Generates every file and hands it to `sink`: the data files, then labels/combined_windows.json,
/// labels/combined_labels.json and labels/README.md.
Result<SeriesReport> GenerateSeriesSet(const SeriesOptions& options, const SeriesSink& sink);
/// Same, writing into `out_dir` (folders created; each file written whole, then renamed).
Result<SeriesReport> GenerateSeriesSet(const SeriesOptions& options, const std::string& out_dir);

/// One line for people: files, rows, anomalies, folder, time taken.
std::string FormatSeriesSummary(const SeriesReport& report);

}  // namespace iotad::gen
