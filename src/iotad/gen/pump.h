#pragma once
// Pump testbed simulator (`iotad generate --profile pump`): runs of a centrifugal pump on a test
// loop, 8 sensors read once a second, each run with exactly one labelled fault. A stand-in for
// industrial pump data built from general pump and sensor physics, so detectors can be checked on
// this kind of data. Deterministic for a seed: the same options give byte-identical files.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/core/timestamp.h"
#include "iotad/gen/fleet.h"

namespace iotad::gen {

/// The faults a run can have; each run has exactly one, labelled with metric `*`.
enum class PumpFaultKind : uint8_t {
  kValveClosure,  // partial closure downstream: flow down, pressure up, current down
  kCavitation,    // vibration up and noisier, pressure oscillates, flow noisier
  kImbalance,     // rotor imbalance: one accelerometer up strongly, a small current ripple
  kLeak,          // a leak opening slowly: pressure down, flow (measured at the pump) up
  kOverheating,   // cooling lost: the motor temperature ramps up, the fluid follows a little
  kSensorDrift,   // one sensor drifts linearly away from the truth
};
inline constexpr int kPumpFaultKindCount = 6;
inline constexpr std::array<PumpFaultKind, kPumpFaultKindCount> kAllPumpFaultKinds = {
    PumpFaultKind::kValveClosure, PumpFaultKind::kCavitation,  PumpFaultKind::kImbalance,
    PumpFaultKind::kLeak,         PumpFaultKind::kOverheating, PumpFaultKind::kSensorDrift};

/// `valve_closure`, `cavitation`, `imbalance`, `leak`, `overheating` or `sensor_drift`.
std::string_view PumpFaultKindName(PumpFaultKind kind);
/// Parses one kind name as printed by PumpFaultKindName.
std::optional<PumpFaultKind> ParsePumpFaultKind(std::string_view name);

/// Metric columns in file order.
inline constexpr std::array<std::string_view, 8> kPumpMetrics = {
    "accel1_rms", "accel2_rms", "current_a", "pressure_bar",
    "temp_c",     "thermocouple_c", "voltage_v", "flow_lpm"};
inline constexpr std::string_view kPumpCsvHeader =
    "event_time,device_id,accel1_rms,accel2_rms,current_a,pressure_bar,temp_c,thermocouple_c,"
    "voltage_v,flow_lpm";

/// Runs last 15-25 minutes at one reading per second; run k (from 0) starts k hours after
/// `start_us`, on its own device (`run-01`, ...) and in its own file (`pump-run-01.csv`).
inline constexpr int64_t kPumpRunSpacingUs = 3600 * kMicrosPerSecond;
inline constexpr int64_t kPumpMinRunSeconds = 15 * 60;
inline constexpr int64_t kPumpMaxRunSeconds = 25 * 60;
inline constexpr int64_t kPumpMaxRuns = 9999;

struct PumpOptions {
  int64_t runs = 34;
  TimestampUs start_us = 1704067200 * kMicrosPerSecond;  // 2024-01-01T00:00:00Z
  uint64_t seed = 42;
  std::string labels_path;  // GeneratePump(options, out_dir) only; empty: out_dir/_labels.csv
};

/// What a GeneratePump run wrote.
struct PumpReport {
  int64_t runs = 0;
  int64_t files = 0;
  int64_t rows = 0;
  TimestampUs first_us = 0;  // first and last reading time
  TimestampUs last_us = 0;
  std::array<int64_t, kPumpFaultKindCount> faults_by_kind{};
  /// Seconds of normal operation: every run's readings outside its fault's label.
  int64_t normal_seconds = 0;
  std::vector<AnomalyLabel> labels;  // one per run, in run order
  std::vector<std::string> file_names;
  std::string out_dir;      // GeneratePump(options, out_dir) only
  std::string labels_path;  // GeneratePump(options, out_dir) only
  double elapsed_s = 0;
};

/// Checks every option; messages name the `iotad generate` flag.
Status ValidatePumpOptions(const PumpOptions& options);
/// `run-07`: two digits, more when there are more runs.
std::string PumpRunId(int64_t index, int64_t runs);

/// Simulates the runs and hands each run's file to `sink`, in run order. Labels are returned in
/// the report, not written.
Result<PumpReport> GeneratePump(const PumpOptions& options, const FleetSink& sink);
/// Same, writing the files into `out_dir` (created) and the labels to `options.labels_path` or
/// `out_dir/_labels.csv`.
Result<PumpReport> GeneratePump(const PumpOptions& options, const std::string& out_dir);

/// One line for people: runs, rows, time range, faults by kind, hours of normal operation,
/// labels, time taken.
std::string FormatPumpSummary(const PumpReport& report);

}  // namespace iotad::gen
