#pragma once
// Fleet simulator: synthetic IoT telemetry (one file per hour, like a gateway dump), ground-truth
// anomaly labels, and optionally the dirt real fleets send. Deterministic for a seed: the same
// options give byte-identical files on the same build.
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

/// The kinds of anomaly the simulator injects; each injected anomaly becomes one label.
enum class AnomalyKind : uint8_t { kSpike, kLevelShift, kStuck, kDropout, kDrift };
inline constexpr int kAnomalyKindCount = 5;
inline constexpr std::array<AnomalyKind, kAnomalyKindCount> kAllAnomalyKinds = {
    AnomalyKind::kSpike, AnomalyKind::kLevelShift, AnomalyKind::kStuck, AnomalyKind::kDropout,
    AnomalyKind::kDrift};

/// `spike`, `level_shift`, `stuck`, `dropout` or `drift`.
std::string_view AnomalyKindName(AnomalyKind kind);
/// Parses one kind name as printed by AnomalyKindName.
std::optional<AnomalyKind> ParseAnomalyKind(std::string_view name);
/// Parses a comma-separated list such as `spike,stuck` (duplicates are dropped, order is kept).
Result<std::vector<AnomalyKind>> ParseAnomalyKinds(std::string_view list);

/// File format of the simulated gateway dumps.
enum class FleetFormat : uint8_t { kCsv, kJsonl };
/// `csv` or `jsonl` (also the file extension).
std::string_view FleetFormatName(FleetFormat format);
std::optional<FleetFormat> ParseFleetFormat(std::string_view name);

/// Metric columns in file order; label rows name one of these, or `*` for a dropout.
inline constexpr std::array<std::string_view, 3> kFleetMetrics = {"temp_c", "humidity_pc",
                                                                 "vibration_g"};
inline constexpr std::string_view kDropoutMetric = "*";
inline constexpr std::string_view kFleetCsvHeader =
    "event_time,device_id,temp_c,humidity_pc,vibration_g,location";
inline constexpr std::string_view kLabelsCsvHeader = "device_id,metric,start,end,kind";
/// Label kind of a device that goes dark and stays dark (`--dark-devices`): metric `*`, from its
/// first missing reading to the last reading time of the fleet. Not an AnomalyKind: it is not
/// drawn at random with the others, so turning it on changes no other device.
inline constexpr std::string_view kDarkKind = "dark";
/// A spike multiplies one reading of one metric by one of these.
inline constexpr std::array<double, 4> kSpikeFactors = {0.2, 0.3, 3.0, 3.5};
/// Name of the labels file written beside the data when no path is given.
inline constexpr std::string_view kDefaultLabelsFileName = "_labels.csv";

/// Rates of the dirt `dirty` turns on. Each is a probability in [0, 1].
struct DirtOptions {
  double empty_cell_rate = 0.02;      // per metric or location cell: written empty / null
  double malformed_rate = 0.001;      // per row: bad number, bad timestamp, wrong column count
  double duplicate_rate = 0.005;      // per row: written twice (right after, or in the next file)
  double out_of_order_rate = 0.005;   // per row: swapped with a nearby row of the same device
  double late_rate = 0.002;           // per row: written 1-6 hours later than its own hour's file
};

/// Everything `iotad generate` can be told, with its defaults.
struct FleetOptions {
  int64_t devices = 200;
  TimestampUs start_us = 1704067200 * kMicrosPerSecond;  // 2024-01-01T00:00:00Z
  double hours = 24;                                     // steps = floor(hours / interval)
  int64_t interval_us = 60 * kMicrosPerSecond;
  uint64_t seed = 42;
  FleetFormat format = FleetFormat::kCsv;
  double anomaly_rate = 0.5;  // expected anomalies per device-day
  std::vector<AnomalyKind> anomaly_kinds{kAllAnomalyKinds.begin(), kAllAnomalyKinds.end()};
  /// Devices that go dark and stay dark (no reading from some time on, to the end), chosen at
  /// random among the fleet; each gets a `dark` label.
  int64_t dark_devices = 0;
  /// How long before the end they go dark; 0: each at a random time in the second half.
  double dark_hours = 0;
  bool dirty = false;  // without it the dirt rates are ignored
  DirtOptions dirt;
  std::string labels_path;  // GenerateFleet(options, out_dir) only; empty: out_dir/_labels.csv
};

/// One injected anomaly. `start_us`..`end_us` are inclusive reading times.
struct AnomalyLabel {
  std::string device_id;
  std::string metric;  // one of kFleetMetrics, or "*" for a dropout
  std::string kind;    // AnomalyKindName
  TimestampUs start_us = 0;
  TimestampUs end_us = 0;
  bool operator==(const AnomalyLabel&) const = default;
};

/// What dirt was written (only non-zero with `dirty`).
struct DirtCounts {
  int64_t empty_cells = 0;
  int64_t malformed_rows = 0;
  int64_t duplicate_rows = 0;        // extra copies written
  int64_t duplicate_next_file_rows = 0;  // of which went into the next hour's file
  int64_t out_of_order_rows = 0;     // swaps of two rows
  int64_t late_rows = 0;
};

/// What a GenerateFleet run wrote.
struct GenerateReport {
  int64_t files = 0;
  int64_t rows = 0;              // data lines written (no headers; duplicates, malformed included)
  int64_t readings = 0;          // distinct readings written: devices x steps minus dropouts
  int64_t dropped_readings = 0;  // readings a dropout or a dark device suppressed
  int64_t devices = 0;
  int64_t steps = 0;
  TimestampUs first_us = 0;  // first and last reading time
  TimestampUs last_us = 0;
  std::array<int64_t, kAnomalyKindCount> anomalies_by_kind{};
  int64_t dark_devices = 0;      // devices that went dark (their `dark` labels)
  DirtCounts dirt;
  std::vector<AnomalyLabel> labels;  // sorted by start, then device
  std::vector<std::string> file_names;
  std::string out_dir;      // GenerateFleet(options, out_dir) only
  std::string labels_path;  // GenerateFleet(options, out_dir) only
  double elapsed_s = 0;
};

/// Receives each finished hour file; an error stops the run.
using FleetSink = std::function<Status(const std::string& file_name, std::string_view contents)>;

/// Checks every option; messages name the `iotad generate` flag.
Status ValidateFleetOptions(const FleetOptions& options);
/// Number of reading times: floor(hours * 3600 s / interval).
int64_t FleetSteps(const FleetOptions& options);
/// `dev-00042`: five digits, more when the fleet needs them.
std::string FleetDeviceId(int64_t index, int64_t devices);
/// `fleet-20240101T00.csv` for the hour starting at `hour_start_us`.
std::string FleetFileName(TimestampUs hour_start_us, FleetFormat format);

/// Simulates the fleet and hands each hour file to `sink`, in time order. Labels are returned in
/// the report, not written.
Result<GenerateReport> GenerateFleet(const FleetOptions& options, const FleetSink& sink);
/// Same, writing files into `out_dir` (created; each file is written whole, then renamed into
/// place) and the labels to `options.labels_path` or `out_dir/_labels.csv`.
Result<GenerateReport> GenerateFleet(const FleetOptions& options, const std::string& out_dir);

/// One line for people: files, rows, devices, time range, anomalies, dirt, labels, time taken.
std::string FormatGenerateSummary(const GenerateReport& report, bool dirty);

/// Writes `contents` to `path` beside it under a name ingest skips (`_NAME.tmp`), then renames it
/// into place, so a reader never sees half a file. Errors name `generate`.
Status WriteGeneratedFile(const std::string& path, std::string_view contents);

/// Writes labels as CSV with kLabelsCsvHeader (times as ISO-8601 UTC).
Status WriteLabelsCsv(const std::vector<AnomalyLabel>& labels, const std::string& path);
/// Reads a file written by WriteLabelsCsv (kinds: the fleet's, `dark`, or a PumpFaultKindName).
Result<std::vector<AnomalyLabel>> ReadLabelsCsv(const std::string& path);

}  // namespace iotad::gen
