#include "iotad/gen/fleet.h"

#include "iotad/core/file.h"
#include "iotad/gen/pump.h"
#include "iotad/gen/random.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <iterator>
#include <numbers>
#include <system_error>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace iotad::gen {
namespace {

// Stream ids of StreamSeed.
constexpr uint64_t kSetupStream = 0;
constexpr uint64_t kSignalStream = 1;
constexpr uint64_t kAnomalyStream = 2;
constexpr uint64_t kDirtStream = 3;
constexpr uint64_t kDirtDetailSalt = 0x5eed'd1e7'0000'0001ULL;
constexpr uint64_t kDarkSalt = 0xda2c'0000'0000'0001ULL;  // which devices go dark, and when

// ------------------------------------------------------------------------------------------
// Climate: the city sets the base temperature and humidity; devices add an offset, a slow drift
// (an Ornstein-Uhlenbeck walk), a daily cycle peaking mid-afternoon local time, and noise.

struct City {
  std::string_view name;
  double utc_offset_h;
  double mean_temp_c;
  double seasonal_amp_c;  // negative in the southern hemisphere
  double daily_amp_c;
  double mean_humidity_pc;
  double daily_humidity_amp_pc;  // humidity falls as the afternoon warms up
};

constexpr City kCities[] = {
    {"Berlin", 1, 10.0, 9.5, 4.0, 75, 12},     {"London", 0, 11.5, 7.0, 3.5, 78, 10},
    {"Madrid", 1, 15.0, 10.0, 6.5, 57, 15},    {"Oslo", 1, 6.5, 10.0, 3.5, 76, 10},
    {"Moscow", 3, 6.0, 13.0, 4.0, 77, 11},     {"Reykjavik", 0, 5.0, 5.5, 2.5, 78, 7},
    {"Cairo", 2, 22.5, 7.0, 6.5, 55, 15},      {"Lagos", 1, 27.0, 1.5, 3.5, 80, 10},
    {"Nairobi", 3, 19.0, 1.5, 6.0, 65, 18},    {"Johannesburg", 2, 16.0, -5.0, 7.0, 55, 16},
    {"Dubai", 4, 28.0, 7.5, 5.0, 58, 14},      {"Mumbai", 5.5, 27.5, 2.0, 3.5, 75, 9},
    {"Singapore", 8, 27.5, 0.7, 3.5, 80, 10},  {"Tokyo", 9, 16.0, 10.0, 4.0, 68, 12},
    {"Sydney", 10, 18.0, -4.5, 4.0, 65, 12},   {"Auckland", 12, 15.0, -4.0, 4.0, 76, 10},
    {"Sao Paulo", -3, 20.0, -3.0, 5.0, 76, 13}, {"Buenos Aires", -3, 18.0, -6.0, 5.0, 72, 12},
    {"Mexico City", -6, 17.0, 2.5, 7.0, 55, 16}, {"New York", -5, 13.0, 11.5, 4.5, 63, 12},
    {"Chicago", -6, 10.5, 14.0, 5.0, 70, 12},  {"Seattle", -8, 11.5, 7.0, 4.5, 75, 13},
};
constexpr int kCityCount = static_cast<int>(std::size(kCities));
// Days since the epoch of 2000-07-20, about when northern summers peak.
constexpr double kSummerPeakDay = static_cast<double>(DaysFromCivil(2000, 7, 20));
constexpr double kDaysPerYear = 365.2425;

constexpr double kTempNoiseC = 0.15;
constexpr double kHumidityNoisePc = 0.8;
constexpr double kVibrationNoiseFraction = 0.06;  // of the device's base vibration
constexpr double kTempDriftSdC = 0.6;             // stationary spread of the slow drift
constexpr double kHumidityDriftSdPc = 2.5;
constexpr double kDriftTimeConstantH = 18;
constexpr double kHumidityPerTempDrift = -1.5;  // warmer than usual -> drier than usual

// Readings are kept as integers in their printed precision, so a stuck value repeats exactly.
constexpr double kScale[3] = {100.0, 10.0, 10000.0};
constexpr int kTemp = 0;
constexpr int kHumidity = 1;
constexpr int kVibration = 2;

int32_t Quantize(double value, int metric) {
  const double scaled = std::clamp(value * kScale[metric], -2.0e9, 2.0e9);
  // Half away from zero, like lround, without the library call.
  return scaled >= 0 ? static_cast<int32_t>(scaled + 0.5) : -static_cast<int32_t>(0.5 - scaled);
}

// ------------------------------------------------------------------------------------------
// Text output.

/// A byte buffer reused for every file: callers reserve room for a row, write through a pointer
/// and commit the end, so the hot path makes no allocation and no per-append checks.
class OutBuffer {
 public:
  char* Reserve(size_t bytes) {
    if (size_ + bytes > data_.size()) data_.resize(std::max(data_.size() * 2, size_ + bytes));
    return data_.data() + size_;
  }
  void Commit(const char* end) { size_ = static_cast<size_t>(end - data_.data()); }
  void Append(std::string_view text) {
    char* p = Reserve(text.size());
    std::memcpy(p, text.data(), text.size());
    size_ += text.size();
  }
  void Clear() { size_ = 0; }
  std::string_view View() const { return {data_.data(), size_}; }

 private:
  std::string data_;
  size_t size_ = 0;
};

constexpr size_t kMaxRowBytes = 512;

inline char* Put(char* p, std::string_view text) {
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

inline char* PutUint(char* p, uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

/// Writes `quantized / 10^decimals` with exactly `decimals` digits after the point.
template <int kDigits>
inline char* PutFixed(char* p, int64_t quantized) {
  constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000};
  uint64_t magnitude = static_cast<uint64_t>(quantized);
  if (quantized < 0) {
    *p++ = '-';
    magnitude = 0 - magnitude;
  }
  p = PutUint(p, magnitude / kPow10[kDigits]);
  *p++ = '.';
  uint64_t fraction = magnitude % kPow10[kDigits];
  for (int i = kDigits - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  return p + kDigits;
}

inline char* PutMetric(char* p, int metric, int32_t quantized) {
  switch (metric) {
    case kTemp: return PutFixed<2>(p, quantized);
    case kHumidity: return PutFixed<1>(p, quantized);
    default: return PutFixed<4>(p, quantized);
  }
}

constexpr std::string_view kCsvColumns[6] = {"event_time", "device_id", "temp_c",
                                             "humidity_pc", "vibration_g", "location"};
constexpr std::string_view kBadTimestamps[] = {"2024-13-45T99:00:00Z", "yesterday"};

// Row flags of RowRecord.
constexpr uint16_t kPresent = 1 << 0;
constexpr uint16_t kEmptyTemp = 1 << 1;  // then humidity, vibration, location
constexpr uint16_t kEmptyLocation = 1 << 4;
constexpr uint16_t kMalformed = 1 << 5;
constexpr uint16_t kDuplicate = 1 << 6;
constexpr uint16_t kLate = 1 << 7;
constexpr uint16_t kSwapped = 1 << 8;
constexpr uint16_t kEmptyMask = 0xF << 1;
constexpr uint16_t kPlacementMask = kMalformed | kDuplicate | kLate;

/// One simulated reading, before formatting.
struct RowRecord {
  int32_t quantized[3];
  uint32_t step;  // within its chunk; rows swapped out of order keep their own time
  uint16_t flags;
};

/// One row of a file: writes CSV or JSONL, with empty cells as empty fields or null.
template <FleetFormat kFormat>
char* PutRow(char* p, std::string_view time_text, std::string_view device_id,
             std::string_view location, const int32_t* quantized, uint16_t flags) {
  if constexpr (kFormat == FleetFormat::kCsv) {
    p = Put(p, time_text);
    *p++ = ',';
    p = Put(p, device_id);
    *p++ = ',';
    if (!(flags & kEmptyTemp)) p = PutFixed<2>(p, quantized[0]);
    *p++ = ',';
    if (!(flags & (kEmptyTemp << 1))) p = PutFixed<1>(p, quantized[1]);
    *p++ = ',';
    if (!(flags & (kEmptyTemp << 2))) p = PutFixed<4>(p, quantized[2]);
    *p++ = ',';
    if (!(flags & kEmptyLocation)) p = Put(p, location);
    *p++ = '\n';
  } else {
    p = Put(p, R"({"event_time":")");
    p = Put(p, time_text);
    p = Put(p, R"(","device_id":")");
    p = Put(p, device_id);
    p = Put(p, R"(","temp_c":)");
    p = (flags & kEmptyTemp) ? Put(p, "null") : PutFixed<2>(p, quantized[0]);
    p = Put(p, R"(,"humidity_pc":)");
    p = (flags & (kEmptyTemp << 1)) ? Put(p, "null") : PutFixed<1>(p, quantized[1]);
    p = Put(p, R"(,"vibration_g":)");
    p = (flags & (kEmptyTemp << 2)) ? Put(p, "null") : PutFixed<4>(p, quantized[2]);
    p = Put(p, R"(,"location":)");
    if (flags & kEmptyLocation) {
      p = Put(p, "null");
    } else {
      *p++ = '"';
      p = Put(p, location);
      *p++ = '"';
    }
    p = Put(p, "}\n");
  }
  return p;
}

// ------------------------------------------------------------------------------------------
// The simulation.

/// Per-device state. Each device owns its random streams, so a device's readings do not depend
/// on how many other devices there are or in which order they are simulated.
struct DeviceState {
  Rng signal;
  Rng anomaly;
  Rng dirt;
  int city = 0;
  double temp_offset_c = 0;
  double humidity_offset_pc = 0;
  double vibration_base_g = 0;
  double vibration_sigma_g = 0;
  double temp_drift_c = 0;
  double humidity_drift_pc = 0;
  int32_t previous[3] = {0, 0, 0};
  // The next (or current) anomaly; at most one at a time, so a device's anomalies never overlap.
  bool has_anomaly = false;
  AnomalyKind kind = AnomalyKind::kSpike;
  int metric = -1;  // -1: dropout (all metrics), or spike before it picks its metric
  int64_t start_step = 0;
  int64_t end_step = 0;  // inclusive
  double magnitude = 0;  // level shift offset / final drift deviation, or spike factor
  int32_t stuck_value = 0;
  bool planned_before = false;
  int64_t dark_step = INT64_MAX;  // `--dark-devices`: no reading from this step on
};

/// Entries waiting for a later hour's file (late rows and duplicates sent in the next file).
struct PendingBlock {
  struct Entry {
    uint32_t position;  // where in the file, as a fraction of 2^32
    uint32_t length;
    size_t offset;
  };
  std::string text;
  std::vector<Entry> entries;
};

constexpr int64_t kChunkRows = 1 << 20;

class FleetGenerator {
 public:
  FleetGenerator(const FleetOptions& options, const FleetSink& sink)
      : options_(options), sink_(sink) {}

  Status Run();
  GenerateReport TakeReport() { return std::move(report_); }

 private:
  void SetUpDevices();
  void ChooseDarkDevices();
  void PlanNextAnomaly(DeviceState& device);
  double ShiftSize(DeviceState& device, int metric);
  void ComputeClimate(int64_t first_step, int64_t step_count);
  void SimulateDevice(int64_t device_index, int64_t first_step, int64_t step_count);
  void StartAnomaly(DeviceState& device, int64_t device_index, const double* values);
  template <FleetFormat kFormat>
  void FormatChunk(int64_t hour_index, int64_t hour_first_step, int64_t hour_steps,
                   int64_t first_step, int64_t step_count);
  void EmitPending(int64_t hour_steps, int64_t up_to_slot);
  void WriteDirtyRow(int64_t hour_index, int64_t device_index, int64_t step,
                     std::string_view time_text, const RowRecord& row);
  void BuildMalformedLine(Rng& rng, std::string_view time_text, int64_t device_index,
                          const RowRecord& row);
  void Place(int64_t hour_index, int64_t target_hour, uint32_t position);

  TimestampUs StepTime(int64_t step) const { return options_.start_us + step * interval_us_; }

  const FleetOptions& options_;
  const FleetSink& sink_;
  GenerateReport report_;

  int64_t device_count_ = 0;
  int64_t steps_ = 0;
  int64_t interval_us_ = 0;
  int64_t hour_count_ = 0;
  TimestampUs first_hour_us_ = 0;
  double drift_keep_ = 0;  // Ornstein-Uhlenbeck: x' = keep * x + push * sd * N(0, 1)
  double drift_push_ = 0;
  double mean_gap_us_ = 0;
  bool dirty_ = false;
  uint64_t empty_threshold_ = 0;
  uint64_t malformed_threshold_ = 0;
  uint64_t duplicate_threshold_ = 0;
  uint64_t out_of_order_threshold_ = 0;
  uint64_t late_threshold_ = 0;

  std::vector<DeviceState> devices_;
  std::vector<std::string> device_ids_;
  std::vector<std::string_view> device_locations_;
  std::vector<RowRecord> records_;
  std::vector<double> climate_temp_;      // [city][step in chunk]
  std::vector<double> climate_humidity_;  // [city][step in chunk]
  std::vector<std::string> time_texts_;   // [step in chunk]

  OutBuffer out_;
  std::string line_;  // scratch for rows that need more than the fast path
  std::map<int64_t, PendingBlock> pending_;  // by hour index
  PendingBlock current_pending_;
  std::vector<uint32_t> pending_order_;
  size_t next_pending_ = 0;
};

void FleetGenerator::SetUpDevices() {
  const double interval_h = static_cast<double>(interval_us_) / kMicrosPerHour;
  drift_keep_ = std::exp(-interval_h / kDriftTimeConstantH);
  drift_push_ = std::sqrt(1 - drift_keep_ * drift_keep_);
  devices_.resize(static_cast<size_t>(device_count_));
  device_ids_.resize(static_cast<size_t>(device_count_));
  device_locations_.resize(static_cast<size_t>(device_count_));
  for (int64_t d = 0; d < device_count_; ++d) {
    DeviceState& device = devices_[static_cast<size_t>(d)];
    device_ids_[static_cast<size_t>(d)] = FleetDeviceId(d, device_count_);
    const uint64_t index = static_cast<uint64_t>(d);
    Rng setup(StreamSeed(options_.seed, index, kSetupStream));
    device.signal = Rng(StreamSeed(options_.seed, index, kSignalStream));
    device.anomaly = Rng(StreamSeed(options_.seed, index, kAnomalyStream));
    device.dirt = Rng(StreamSeed(options_.seed, index, kDirtStream));
    device.city = static_cast<int>(setup.Below(kCityCount));
    device_locations_[static_cast<size_t>(d)] = kCities[device.city].name;
    device.temp_offset_c = 1.5 * setup.Gaussian();
    device.humidity_offset_pc = 4.0 * setup.Gaussian();
    device.vibration_base_g = setup.Uniform(0.01, 0.1);
    device.vibration_sigma_g = kVibrationNoiseFraction * device.vibration_base_g;
    device.temp_drift_c = kTempDriftSdC * setup.Gaussian();
    device.humidity_drift_pc = kHumidityDriftSdPc * setup.Gaussian();
  }
  ChooseDarkDevices();
  for (DeviceState& device : devices_) PlanNextAnomaly(device);
}

void FleetGenerator::ChooseDarkDevices() {
  const int64_t dark = std::min(options_.dark_devices, device_count_);
  if (dark <= 0 || steps_ < 2) return;
  // A stream of its own: the other devices and every other stream read the same with or without.
  Rng rng(StreamSeed(options_.seed ^ kDarkSalt, 0, 0));
  std::vector<int64_t> order(static_cast<size_t>(device_count_));
  for (int64_t d = 0; d < device_count_; ++d) order[static_cast<size_t>(d)] = d;
  for (int64_t i = 0; i < dark; ++i) {  // the first `dark` of a Fisher-Yates shuffle
    const auto j = i + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(device_count_ - i)));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    int64_t step = 0;
    if (options_.dark_hours > 0) {
      step = steps_ - static_cast<int64_t>(std::llround(options_.dark_hours * kMicrosPerHour /
                                                         static_cast<double>(interval_us_)));
    } else {
      step = steps_ / 2 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(steps_ - steps_ / 2)));
    }
    step = std::clamp<int64_t>(step, 1, steps_ - 1);  // at least one reading before, one missing
    DeviceState& device = devices_[static_cast<size_t>(order[static_cast<size_t>(i)])];
    device.dark_step = step;
    ++report_.dark_devices;
    AnomalyLabel label;
    label.device_id = device_ids_[static_cast<size_t>(order[static_cast<size_t>(i)])];
    label.metric = std::string(kDropoutMetric);
    label.kind = std::string(kDarkKind);
    label.start_us = StepTime(step);
    label.end_us = StepTime(steps_ - 1);
    report_.labels.push_back(std::move(label));
  }
}

double FleetGenerator::ShiftSize(DeviceState& device, int metric) {
  // Large enough to see at a glance: 8-15 noise sigmas plus a few units of the metric.
  Rng& rng = device.anomaly;
  const double sigmas = rng.Uniform(8, 15);
  switch (metric) {
    case kTemp:
      return (rng.Below(2) == 0 ? -1 : 1) * (sigmas * kTempNoiseC + rng.Uniform(3, 6));
    case kHumidity: {
      // Towards the middle of the range, so clipping at 0 or 100 never hides it.
      const double mean_pc =
          kCities[device.city].mean_humidity_pc + device.humidity_offset_pc;
      return (mean_pc > 50 ? -1 : 1) * (sigmas * kHumidityNoisePc + rng.Uniform(4, 8));
    }
    default:
      return sigmas * device.vibration_sigma_g + rng.Uniform(1, 2) * device.vibration_base_g;
  }
}

void FleetGenerator::PlanNextAnomaly(DeviceState& device) {
  device.has_anomaly = false;
  if (mean_gap_us_ <= 0 || options_.anomaly_kinds.empty()) return;
  Rng& rng = device.anomaly;
  // Starts form a Poisson process of the requested rate, pushed back when the previous anomaly
  // still runs: one normal reading before and after each keeps them apart and measurable.
  const double gap_steps = rng.Exponential(mean_gap_us_) / static_cast<double>(interval_us_);
  if (gap_steps >= static_cast<double>(steps_)) return;
  const int64_t earliest = device.planned_before ? device.end_step + 2 : 1;
  const int64_t start =
      std::max(device.start_step + static_cast<int64_t>(std::ceil(gap_steps)), earliest);
  const AnomalyKind kind = options_.anomaly_kinds[rng.Below(options_.anomaly_kinds.size())];
  double min_h = 0;
  double max_h = 0;
  switch (kind) {
    case AnomalyKind::kSpike: break;
    case AnomalyKind::kLevelShift:
    case AnomalyKind::kStuck: min_h = 1, max_h = 6; break;
    case AnomalyKind::kDropout: min_h = 0.5, max_h = 6; break;
    case AnomalyKind::kDrift: min_h = 2, max_h = 8; break;
  }
  int64_t length = 1;
  if (kind != AnomalyKind::kSpike) {
    const double length_us = rng.Uniform(min_h, max_h) * kMicrosPerHour;
    length = std::max<int64_t>(
        kind == AnomalyKind::kDrift ? 2 : 1,
        static_cast<int64_t>(std::llround(length_us / static_cast<double>(interval_us_))));
  }
  int metric = -1;
  double magnitude = 0;
  if (kind == AnomalyKind::kLevelShift || kind == AnomalyKind::kStuck ||
      kind == AnomalyKind::kDrift) {
    metric = static_cast<int>(rng.Below(3));
    if (kind != AnomalyKind::kStuck) magnitude = ShiftSize(device, metric);
  }
  device.planned_before = true;
  const int64_t steps = std::min(steps_, device.dark_step);  // a dark device's last reading + 1
  if (start > steps - 2) return;  // no normal reading would follow it
  device.has_anomaly = true;
  device.kind = kind;
  device.metric = metric;
  device.magnitude = magnitude;
  device.start_step = start;
  device.end_step = std::min(start + length - 1, steps - 2);
}

void FleetGenerator::StartAnomaly(DeviceState& device, int64_t device_index,
                                  const double* values) {
  if (device.kind == AnomalyKind::kSpike) {
    // Only metrics far enough from zero that a multiplication shows: a near-zero temperature
    // times three is still a normal temperature.
    int eligible[3];
    int eligible_count = 0;
    if (std::fabs(values[kTemp]) >= 8) eligible[eligible_count++] = kTemp;
    if (values[kHumidity] >= 20) eligible[eligible_count++] = kHumidity;
    eligible[eligible_count++] = kVibration;
    device.metric = eligible[device.anomaly.Below(static_cast<uint64_t>(eligible_count))];
    double factor = kSpikeFactors[device.anomaly.Below(kSpikeFactors.size())];
    // Keep values physically plausible (humidity <= 100, |temp| <= 80): spike down instead.
    const double limit = device.metric == kTemp ? 80 : device.metric == kHumidity ? 100 : 1e9;
    if (std::fabs(values[device.metric] * factor) > limit) factor = factor == 3.0 ? 0.3 : 0.2;
    device.magnitude = factor;
  } else if (device.kind == AnomalyKind::kStuck) {
    device.stuck_value = device.previous[device.metric];
  }
  const int kind_index = static_cast<int>(device.kind);
  ++report_.anomalies_by_kind[static_cast<size_t>(kind_index)];
  AnomalyLabel label;
  label.device_id = device_ids_[static_cast<size_t>(device_index)];
  label.metric = device.metric < 0 ? std::string(kDropoutMetric)
                                   : std::string(kFleetMetrics[static_cast<size_t>(device.metric)]);
  label.kind = std::string(AnomalyKindName(device.kind));
  label.start_us = StepTime(device.start_step);
  label.end_us = StepTime(device.end_step);
  report_.labels.push_back(std::move(label));
}

void FleetGenerator::ComputeClimate(int64_t first_step, int64_t step_count) {
  const size_t n = static_cast<size_t>(step_count);
  climate_temp_.resize(n * kCityCount);
  climate_humidity_.resize(n * kCityCount);
  for (int64_t s = 0; s < step_count; ++s) {
    const double days = static_cast<double>(StepTime(first_step + s)) / kMicrosPerDay;
    const double utc_hour = (days - std::floor(days)) * 24;
    const double season =
        std::cos(2 * std::numbers::pi * (days - kSummerPeakDay) / kDaysPerYear);
    for (int c = 0; c < kCityCount; ++c) {
      const City& city = kCities[c];
      // Peaks at 15:00 local time.
      const double daily =
          std::sin(2 * std::numbers::pi * (utc_hour + city.utc_offset_h - 9) / 24);
      const size_t at = static_cast<size_t>(c) * n + static_cast<size_t>(s);
      climate_temp_[at] =
          city.mean_temp_c + city.seasonal_amp_c * season + city.daily_amp_c * daily;
      climate_humidity_[at] = city.mean_humidity_pc - city.daily_humidity_amp_pc * daily;
    }
  }
}

void FleetGenerator::SimulateDevice(int64_t device_index, int64_t first_step,
                                    int64_t step_count) {
  DeviceState& device = devices_[static_cast<size_t>(device_index)];
  const size_t n = static_cast<size_t>(step_count);
  const double* city_temp = &climate_temp_[static_cast<size_t>(device.city) * n];
  const double* city_humidity = &climate_humidity_[static_cast<size_t>(device.city) * n];
  const size_t stride = static_cast<size_t>(device_count_);
  RowRecord* column = &records_[static_cast<size_t>(device_index)];
  Rng& rng = device.signal;
  for (int64_t s = 0; s < step_count; ++s) {
    const int64_t step = first_step + s;
    double values[3];
    values[kTemp] = city_temp[s] + device.temp_offset_c + device.temp_drift_c +
                    kTempNoiseC * rng.Gaussian();
    values[kHumidity] = city_humidity[s] + device.humidity_offset_pc + device.humidity_drift_pc +
                        kHumidityPerTempDrift * device.temp_drift_c +
                        kHumidityNoisePc * rng.Gaussian();
    values[kVibration] = device.vibration_base_g + device.vibration_sigma_g * rng.Gaussian();
    device.temp_drift_c = drift_keep_ * device.temp_drift_c +
                          drift_push_ * kTempDriftSdC * rng.RoughGaussian();
    device.humidity_drift_pc = drift_keep_ * device.humidity_drift_pc +
                               drift_push_ * kHumidityDriftSdPc * rng.RoughGaussian();

    RowRecord& row = column[static_cast<size_t>(s) * stride];
    row.step = static_cast<uint32_t>(s);
    row.flags = kPresent;
    const bool in_anomaly = device.has_anomaly && step >= device.start_step;
    if (in_anomaly) {
      if (step == device.start_step) StartAnomaly(device, device_index, values);
      const int m = device.metric;
      switch (device.kind) {
        case AnomalyKind::kSpike: values[m] *= device.magnitude; break;
        case AnomalyKind::kLevelShift: values[m] += device.magnitude; break;
        case AnomalyKind::kDrift:
          values[m] += device.magnitude * static_cast<double>(step - device.start_step + 1) /
                       static_cast<double>(device.end_step - device.start_step + 1);
          break;
        case AnomalyKind::kStuck:
        case AnomalyKind::kDropout: break;
      }
    }
    values[kHumidity] = std::clamp(values[kHumidity], 0.0, 100.0);
    values[kVibration] = std::max(values[kVibration], 0.0);
    for (int m = 0; m < 3; ++m) row.quantized[m] = Quantize(values[m], m);
    if (in_anomaly) {
      if (device.kind == AnomalyKind::kStuck) row.quantized[device.metric] = device.stuck_value;
      if (device.kind == AnomalyKind::kDropout) {
        row.flags = 0;
        ++report_.dropped_readings;
      }
      if (step == device.end_step) PlanNextAnomaly(device);
    }
    if (step >= device.dark_step) {
      row.flags = 0;
      ++report_.dropped_readings;
    }
    std::memcpy(device.previous, row.quantized, sizeof device.previous);

    if (dirty_ && (row.flags & kPresent)) {
      Rng& dirt = device.dirt;
      uint16_t flags = row.flags;
      for (int cell = 0; cell < 4; ++cell) {
        if (dirt.Next() < empty_threshold_) {
          flags |= static_cast<uint16_t>(kEmptyTemp << cell);
          ++report_.dirt.empty_cells;
        }
      }
      if (dirt.Next() < malformed_threshold_) flags |= kMalformed;
      if (dirt.Next() < duplicate_threshold_) flags |= kDuplicate;
      if (dirt.Next() < late_threshold_) flags |= kLate;
      row.flags = flags;
      if (dirt.Next() < out_of_order_threshold_) {
        // Swap with the same device's reading 1-3 steps earlier in this file.
        const int64_t back = 1 + static_cast<int64_t>(dirt.Below(3));
        if (s >= back) {
          RowRecord& other = column[static_cast<size_t>(s - back) * stride];
          if ((other.flags & kPresent) && !(other.flags & kSwapped) && !(flags & kSwapped)) {
            std::swap(row, other);
            row.flags |= kSwapped;
            other.flags |= kSwapped;
            ++report_.dirt.out_of_order_rows;
          }
        }
      }
    }
  }
}

void FleetGenerator::EmitPending(int64_t hour_steps, int64_t up_to_slot) {
  const PendingBlock& block = current_pending_;
  while (next_pending_ < pending_order_.size()) {
    const PendingBlock::Entry& entry = block.entries[pending_order_[next_pending_]];
    const int64_t slot = static_cast<int64_t>(
        (static_cast<uint64_t>(entry.position) * static_cast<uint64_t>(hour_steps)) >> 32);
    if (slot > up_to_slot) break;
    out_.Append(std::string_view(block.text).substr(entry.offset, entry.length));
    ++report_.rows;
    ++next_pending_;
  }
}

/// Puts `line_` into the current file (target == current hour) or a later hour's file.
void FleetGenerator::Place(int64_t hour_index, int64_t target_hour, uint32_t position) {
  if (target_hour == hour_index) {
    out_.Append(line_);
    ++report_.rows;
    return;
  }
  PendingBlock& block = pending_[target_hour];
  block.entries.push_back({position, static_cast<uint32_t>(line_.size()), block.text.size()});
  block.text += line_;
}

void FleetGenerator::BuildMalformedLine(Rng& rng, std::string_view time_text,
                                        int64_t device_index, const RowRecord& row) {
  // Fields as text; `quoted` says which are JSON strings.
  std::string fields[6];
  bool present[6];
  bool quoted[6] = {true, true, false, false, false, true};
  fields[0] = time_text;
  fields[1] = device_ids_[static_cast<size_t>(device_index)];
  for (int m = 0; m < 3; ++m) {
    char digits[32];
    fields[2 + m].assign(digits, PutMetric(digits, m, row.quantized[m]));
  }
  fields[5] = kCities[devices_[static_cast<size_t>(device_index)].city].name;
  for (int i = 0; i < 6; ++i) present[i] = true;
  for (int cell = 0; cell < 4; ++cell) {
    if (row.flags & (kEmptyTemp << cell)) present[2 + cell] = false;
  }
  const uint64_t damage = rng.Below(3);
  bool drop_or_add = false;
  if (damage == 0) {  // a bad number, e.g. 21.5x or abc
    const int field = 2 + static_cast<int>(rng.Below(3));
    fields[field] = (rng.Below(2) == 0 || !present[field]) ? "abc" : fields[field] + "x";
    present[field] = true;
    quoted[field] = true;
  } else if (damage == 1) {  // a bad timestamp
    fields[0] = kBadTimestamps[rng.Below(std::size(kBadTimestamps))];
  } else {
    drop_or_add = true;
  }
  const bool csv = options_.format == FleetFormat::kCsv;
  int dropped = -1;
  bool extra = false;
  if (drop_or_add && csv) {
    if (rng.Below(2) == 0) {
      dropped = static_cast<int>(rng.Below(6));
    } else {
      extra = true;
    }
  }
  line_.clear();
  if (!csv) line_ += '{';
  bool first = true;
  for (int i = 0; i < 6; ++i) {
    if (i == dropped) continue;
    if (!first) line_ += ',';
    first = false;
    if (csv) {
      if (present[i]) line_ += fields[i];
      continue;
    }
    line_ += '"';
    line_ += kCsvColumns[i];
    line_ += "\":";
    if (!present[i]) {
      line_ += "null";
    } else if (quoted[i]) {
      line_ += '"';
      line_ += fields[i];
      line_ += '"';
    } else {
      line_ += fields[i];
    }
  }
  if (extra) line_ += ",1";
  if (!csv) {
    line_ += '}';
    // A broken JSON line: cut somewhere after the first key, never at the closing brace only.
    if (drop_or_add) line_.resize(10 + rng.Below(line_.size() - 11));
  }
  line_ += '\n';
}

void FleetGenerator::WriteDirtyRow(int64_t hour_index, int64_t device_index, int64_t step,
                                   std::string_view time_text, const RowRecord& row) {
  // Decisions beyond the flags come from a stream of their own for this reading, so they do
  // not depend on the order rows are written in.
  Rng rng(StreamSeed(options_.seed ^ kDirtDetailSalt, static_cast<uint64_t>(device_index),
                     static_cast<uint64_t>(step)));
  const DeviceState& device = devices_[static_cast<size_t>(device_index)];
  if (row.flags & kMalformed) {
    BuildMalformedLine(rng, time_text, device_index, row);
    ++report_.dirt.malformed_rows;
  } else {
    char buffer[kMaxRowBytes];
    const std::string_view id = device_ids_[static_cast<size_t>(device_index)];
    const std::string_view location = kCities[device.city].name;
    const char* end =
        options_.format == FleetFormat::kCsv
            ? PutRow<FleetFormat::kCsv>(buffer, time_text, id, location, row.quantized, row.flags)
            : PutRow<FleetFormat::kJsonl>(buffer, time_text, id, location, row.quantized,
                                          row.flags);
    line_.assign(buffer, static_cast<size_t>(end - buffer));
  }
  int64_t target = hour_index;
  if (row.flags & kLate) {
    const int64_t delay =
        std::min<int64_t>(1 + static_cast<int64_t>(rng.Below(6)), hour_count_ - 1 - hour_index);
    if (delay > 0) {
      target += delay;
      ++report_.dirt.late_rows;
    }
  }
  const uint32_t position = static_cast<uint32_t>(rng.Next() >> 32);
  Place(hour_index, target, position);
  if (row.flags & kDuplicate) {
    ++report_.dirt.duplicate_rows;
    if (rng.Below(2) == 0 && target + 1 < hour_count_) {
      ++report_.dirt.duplicate_next_file_rows;
      Place(hour_index, target + 1, static_cast<uint32_t>(rng.Next() >> 32));
    } else {
      Place(hour_index, target, position);  // right after the original
    }
  }
}

template <FleetFormat kFormat>
void FleetGenerator::FormatChunk(int64_t hour_index, int64_t hour_first_step, int64_t hour_steps,
                                 int64_t first_step, int64_t step_count) {
  time_texts_.resize(static_cast<size_t>(step_count));
  for (int64_t s = 0; s < step_count; ++s) {
    std::string& text = time_texts_[static_cast<size_t>(s)];
    text.clear();
    AppendTimestamp(text, StepTime(first_step + s));
  }
  const size_t devices = static_cast<size_t>(device_count_);
  int64_t rows = 0;
  for (int64_t s = 0; s < step_count; ++s) {
    EmitPending(hour_steps, first_step + s - hour_first_step);
    const RowRecord* slot_rows = &records_[static_cast<size_t>(s) * devices];
    for (size_t d = 0; d < devices; ++d) {
      const RowRecord& row = slot_rows[d];
      if (!(row.flags & kPresent)) continue;
      ++report_.readings;
      const std::string_view time_text = time_texts_[row.step];
      if (row.flags & kPlacementMask) {
        WriteDirtyRow(hour_index, static_cast<int64_t>(d), first_step + row.step, time_text, row);
        continue;
      }
      char* p = out_.Reserve(kMaxRowBytes);
      p = PutRow<kFormat>(p, time_text, device_ids_[d], device_locations_[d], row.quantized,
                          row.flags);
      out_.Commit(p);
      ++rows;
    }
  }
  report_.rows += rows;
}

Status FleetGenerator::Run() {
  device_count_ = options_.devices;
  steps_ = FleetSteps(options_);
  interval_us_ = options_.interval_us;
  dirty_ = options_.dirty;
  if (dirty_) {
    empty_threshold_ = RateThreshold(options_.dirt.empty_cell_rate);
    malformed_threshold_ = RateThreshold(options_.dirt.malformed_rate);
    duplicate_threshold_ = RateThreshold(options_.dirt.duplicate_rate);
    out_of_order_threshold_ = RateThreshold(options_.dirt.out_of_order_rate);
    late_threshold_ = RateThreshold(options_.dirt.late_rate);
  }
  mean_gap_us_ = options_.anomaly_rate > 0 ? kMicrosPerDay / options_.anomaly_rate : 0;
  report_.devices = device_count_;
  report_.steps = steps_;
  report_.first_us = StepTime(0);
  report_.last_us = StepTime(steps_ - 1);
  first_hour_us_ = HourStart(report_.first_us);
  hour_count_ = (HourStart(report_.last_us) - first_hour_us_) / kMicrosPerHour + 1;
  SetUpDevices();

  const int64_t chunk_steps = std::max<int64_t>(1, kChunkRows / device_count_);
  int64_t next_step = 0;
  for (int64_t hour = 0; hour < hour_count_; ++hour) {
    const TimestampUs hour_us = first_hour_us_ + hour * kMicrosPerHour;
    // Readings of this hour: steps [next_step, hour_end_step).
    const int64_t until_us = hour_us + kMicrosPerHour - options_.start_us;
    const int64_t hour_end_step =
        std::min(steps_, (until_us + interval_us_ - 1) / interval_us_);
    const int64_t hour_steps = hour_end_step - next_step;
    auto pending = pending_.find(hour);
    if (hour_steps == 0 && pending == pending_.end()) continue;

    current_pending_ = PendingBlock{};
    if (pending != pending_.end()) {
      current_pending_ = std::move(pending->second);
      pending_.erase(pending);
    }
    pending_order_.resize(current_pending_.entries.size());
    for (size_t i = 0; i < pending_order_.size(); ++i) pending_order_[i] = static_cast<uint32_t>(i);
    std::stable_sort(pending_order_.begin(), pending_order_.end(), [&](uint32_t a, uint32_t b) {
      return current_pending_.entries[a].position < current_pending_.entries[b].position;
    });
    next_pending_ = 0;

    out_.Clear();
    if (options_.format == FleetFormat::kCsv) {
      out_.Append(kFleetCsvHeader);
      out_.Append("\n");
    }
    for (int64_t first = next_step; first < hour_end_step; first += chunk_steps) {
      const int64_t count = std::min(chunk_steps, hour_end_step - first);
      records_.resize(static_cast<size_t>(count * device_count_));
      ComputeClimate(first, count);
      for (int64_t d = 0; d < device_count_; ++d) SimulateDevice(d, first, count);
      if (options_.format == FleetFormat::kCsv) {
        FormatChunk<FleetFormat::kCsv>(hour, next_step, hour_steps, first, count);
      } else {
        FormatChunk<FleetFormat::kJsonl>(hour, next_step, hour_steps, first, count);
      }
    }
    EmitPending(hour_steps, INT64_MAX);
    std::string name = FleetFileName(hour_us, options_.format);
    IOTAD_TRY(sink_(name, out_.View()));
    ++report_.files;
    report_.file_names.push_back(std::move(name));
    next_step = hour_end_step;
  }
  std::sort(report_.labels.begin(), report_.labels.end(),
            [](const AnomalyLabel& a, const AnomalyLabel& b) {
              return std::tie(a.start_us, a.device_id, a.metric) <
                     std::tie(b.start_us, b.device_id, b.metric);
            });
  return Status::Ok();
}

// ------------------------------------------------------------------------------------------
// Files.

Status WriteWholeFile(const std::filesystem::path& path, std::string_view contents) {
  // Written beside the target under a name ingest skips, then renamed into place, so a reader
  // never sees half a file.
  std::filesystem::path temp = path;
  temp.replace_filename("_" + path.filename().string() + ".tmp");
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) {
    return Error(Errc::kIo, "generate: cannot write '{}': {}", temp.string(),
                 std::strerror(errno));
  }
  const size_t written = std::fwrite(contents.data(), 1, contents.size(), file);
  const int write_errno = errno;
  if (std::fclose(file) != 0 || written != contents.size()) {
    std::remove(temp.c_str());
    return Error(Errc::kIo, "generate: cannot write '{}': {}", temp.string(),
                 std::strerror(written != contents.size() ? write_errno : errno));
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::remove(temp.c_str());
    return Error(Errc::kIo, "generate: cannot rename '{}' to '{}': {}", temp.string(),
                 path.string(), ec.message());
  }
  return Status::Ok();
}

std::string_view TrimLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

Status WriteGeneratedFile(const std::string& path, std::string_view contents) {
  return WriteWholeFile(std::filesystem::path(path), contents);
}

std::string_view AnomalyKindName(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::kSpike: return "spike";
    case AnomalyKind::kLevelShift: return "level_shift";
    case AnomalyKind::kStuck: return "stuck";
    case AnomalyKind::kDropout: return "dropout";
    case AnomalyKind::kDrift: return "drift";
  }
  return "unknown";
}

std::optional<AnomalyKind> ParseAnomalyKind(std::string_view name) {
  for (AnomalyKind kind : kAllAnomalyKinds) {
    if (AnomalyKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

Result<std::vector<AnomalyKind>> ParseAnomalyKinds(std::string_view list) {
  std::vector<AnomalyKind> kinds;
  while (true) {
    const size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) {
      const std::optional<AnomalyKind> kind = ParseAnomalyKind(name);
      if (!kind) {
        return Error(Errc::kInvalidArgument,
                     "generate: unknown anomaly kind '{}' in --anomaly-kinds (expected spike, "
                     "level_shift, stuck, dropout or drift)",
                     name);
      }
      if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) kinds.push_back(*kind);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (kinds.empty()) {
    return Error(Errc::kInvalidArgument,
                 "generate: --anomaly-kinds names no kind (use --anomaly-rate 0 for none)");
  }
  return kinds;
}

std::string_view FleetFormatName(FleetFormat format) {
  return format == FleetFormat::kCsv ? "csv" : "jsonl";
}

std::optional<FleetFormat> ParseFleetFormat(std::string_view name) {
  if (name == "csv") return FleetFormat::kCsv;
  if (name == "jsonl") return FleetFormat::kJsonl;
  return std::nullopt;
}

int64_t FleetSteps(const FleetOptions& options) {
  if (!(options.hours > 0) || !std::isfinite(options.hours) || options.interval_us <= 0) return 0;
  const double steps = options.hours * static_cast<double>(kMicrosPerHour) /
                       static_cast<double>(options.interval_us);
  // A hair of slack so 24 h / 60 s is 1440 even if the division lands just below.
  const double floored = std::floor(steps * (1 + 1e-12));
  return floored >= 9e15 ? INT64_MAX : static_cast<int64_t>(floored);
}

Status ValidateFleetOptions(const FleetOptions& options) {
  constexpr int64_t kMaxDevices = 10'000'000;
  if (options.devices < 1 || options.devices > kMaxDevices) {
    return Error(Errc::kInvalidArgument, "generate: --devices must be between 1 and {}, got {}",
                 kMaxDevices, options.devices);
  }
  if (!(options.hours > 0) || !std::isfinite(options.hours)) {
    return Error(Errc::kInvalidArgument, "generate: --hours must be a positive number, got {}",
                 options.hours);
  }
  if (options.interval_us <= 0) {
    return Error(Errc::kInvalidArgument, "generate: --interval must be positive, got {} us",
                 options.interval_us);
  }
  const int64_t steps = FleetSteps(options);
  if (steps < 1) {
    return Error(Errc::kInvalidArgument,
                 "generate: --hours {} is shorter than one --interval, so there is nothing to "
                 "generate",
                 options.hours);
  }
  constexpr int64_t kMaxSteps = 1'000'000'000'000;
  constexpr TimestampUs kYear1 = DaysFromCivil(1, 1, 1) * kMicrosPerDay;
  constexpr TimestampUs kYear9999 = DaysFromCivil(9999, 12, 31) * kMicrosPerDay;
  if (steps > kMaxSteps || options.start_us < kYear1 || options.start_us > kYear9999 ||
      static_cast<double>(options.start_us) +
              static_cast<double>(steps) * static_cast<double>(options.interval_us) >
          static_cast<double>(kYear9999)) {
    return Error(Errc::kInvalidArgument,
                 "generate: --start, --hours and --interval must keep readings between the years "
                 "1 and 9999");
  }
  if (!(options.anomaly_rate >= 0) || !std::isfinite(options.anomaly_rate)) {
    return Error(Errc::kInvalidArgument,
                 "generate: --anomaly-rate must be a non-negative number of anomalies per "
                 "device-day, got {}",
                 options.anomaly_rate);
  }
  if (options.dark_devices < 0 || options.dark_devices > options.devices) {
    return Error(Errc::kInvalidArgument, "generate: --dark-devices must be between 0 and --devices ({}), got {}",
                 options.devices, options.dark_devices);
  }
  if (!(options.dark_hours >= 0) || !std::isfinite(options.dark_hours) || options.dark_hours >= options.hours) {
    return Error(Errc::kInvalidArgument,
                 "generate: --dark-hours must be at least 0 and less than --hours ({}), got {}", options.hours,
                 options.dark_hours);
  }
  const std::pair<const char*, double> rates[] = {
      {"--empty-cell-rate", options.dirt.empty_cell_rate},
      {"--malformed-rate", options.dirt.malformed_rate},
      {"--duplicate-rate", options.dirt.duplicate_rate},
      {"--out-of-order-rate", options.dirt.out_of_order_rate},
      {"--late-rate", options.dirt.late_rate},
  };
  for (const auto& [flag, rate] : rates) {
    if (!(rate >= 0 && rate <= 1)) {
      return Error(Errc::kInvalidArgument, "generate: {} must be between 0 and 1, got {}", flag,
                   rate);
    }
  }
  return Status::Ok();
}

std::string FleetDeviceId(int64_t index, int64_t devices) {
  int width = 1;
  for (int64_t largest = std::max<int64_t>(devices - 1, 0); largest >= 10; largest /= 10) ++width;
  return fmt::format("dev-{:0{}}", index, std::max(width, 5));
}

std::string FleetFileName(TimestampUs hour_start_us, FleetFormat format) {
  const CivilTime c = ToCivil(hour_start_us);
  return fmt::format("fleet-{:04}{:02}{:02}T{:02}.{}", c.year, c.month, c.day, c.hour,
                     FleetFormatName(format));
}

Result<GenerateReport> GenerateFleet(const FleetOptions& options, const FleetSink& sink) {
  IOTAD_TRY(ValidateFleetOptions(options));
  const auto started = std::chrono::steady_clock::now();
  FleetGenerator generator(options, sink);
  IOTAD_TRY(generator.Run());
  GenerateReport report = generator.TakeReport();
  report.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

Result<GenerateReport> GenerateFleet(const FleetOptions& options, const std::string& out_dir) {
  IOTAD_TRY(ValidateFleetOptions(options));
  const auto started = std::chrono::steady_clock::now();
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Error(Errc::kIo, "generate: cannot create folder '{}': {}", out_dir, ec.message());
  }
  const std::string labels_path = options.labels_path.empty()
                                      ? (dir / kDefaultLabelsFileName).string()
                                      : options.labels_path;
  IOTAD_ASSIGN_OR_RETURN(
      GenerateReport report,
      GenerateFleet(options, [&](const std::string& name, std::string_view contents) {
        return WriteWholeFile(dir / name, contents);
      }));
  IOTAD_TRY(WriteLabelsCsv(report.labels, labels_path));
  report.out_dir = out_dir;
  report.labels_path = labels_path;
  report.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

std::string FormatGenerateSummary(const GenerateReport& report, bool dirty) {
  int64_t anomalies = 0;
  std::string by_kind;
  for (AnomalyKind kind : kAllAnomalyKinds) {
    const int64_t count = report.anomalies_by_kind[static_cast<size_t>(kind)];
    anomalies += count;
    fmt::format_to(std::back_inserter(by_kind), "{}{} {}", by_kind.empty() ? "" : ", ",
                   AnomalyKindName(kind), count);
  }
  std::string line = fmt::format("generate: {} files", report.files);
  if (!report.out_dir.empty()) fmt::format_to(std::back_inserter(line), " in {}", report.out_dir);
  fmt::format_to(std::back_inserter(line), ", {} rows, {} devices, {} .. {}; anomalies {} ({})",
                 report.rows, report.devices, FormatTimestamp(report.first_us),
                 FormatTimestamp(report.last_us), anomalies, by_kind);
  if (dirty) {
    const DirtCounts& d = report.dirt;
    fmt::format_to(std::back_inserter(line),
                   "; dirt: {} empty cells, {} malformed, {} duplicate, {} out-of-order, {} late "
                   "rows",
                   d.empty_cells, d.malformed_rows, d.duplicate_rows, d.out_of_order_rows,
                   d.late_rows);
  }
  if (report.dark_devices > 0) {
    fmt::format_to(std::back_inserter(line), "; {} devices went dark", report.dark_devices);
  }
  if (!report.labels_path.empty()) {
    fmt::format_to(std::back_inserter(line), "; labels {}", report.labels_path);
  }
  const double rows_per_s =
      report.elapsed_s > 0 ? static_cast<double>(report.rows) / report.elapsed_s : 0;
  fmt::format_to(std::back_inserter(line), "; {:.2f} s ({:.2f}M rows/s)", report.elapsed_s,
                 rows_per_s / 1e6);
  return line;
}

Status WriteLabelsCsv(const std::vector<AnomalyLabel>& labels, const std::string& path) {
  std::string text(kLabelsCsvHeader);
  text += '\n';
  for (const AnomalyLabel& label : labels) {
    text += label.device_id;
    text += ',';
    text += label.metric;
    text += ',';
    AppendTimestamp(text, label.start_us);
    text += ',';
    AppendTimestamp(text, label.end_us);
    text += ',';
    text += label.kind;
    text += '\n';
  }
  const std::filesystem::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) {
      return Error(Errc::kIo, "generate: cannot create folder '{}': {}",
                   target.parent_path().string(), ec.message());
    }
  }
  return WriteWholeFile(target, text);
}

Result<std::vector<AnomalyLabel>> ReadLabelsCsv(const std::string& path) {
  auto read = ReadWholeFile(path);
  if (!read.ok()) return read.status().WithContext("labels: ");
  const std::string text = std::move(*read);

  std::vector<AnomalyLabel> labels;
  std::string_view rest = text;
  int64_t line_number = 0;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = TrimLine(rest.substr(0, newline));
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    ++line_number;
    if (line_number == 1) {
      if (line != kLabelsCsvHeader) {
        return Error(Errc::kParse, "labels: '{}' does not start with the header '{}'", path,
                     kLabelsCsvHeader);
      }
      continue;
    }
    if (line.empty()) continue;
    std::string_view fields[5];
    size_t field_count = 0;
    std::string_view cells = line;
    while (field_count < 5) {
      const size_t comma = cells.find(',');
      fields[field_count++] = cells.substr(0, comma);
      if (comma == std::string_view::npos) {
        cells = {};
        break;
      }
      cells.remove_prefix(comma + 1);
    }
    if (field_count != 5 || !cells.empty() || line.back() == ',') {
      return Error(Errc::kParse, "labels: line {} of '{}' does not have 5 fields", line_number,
                   path);
    }
    const std::optional<TimestampUs> start = ParseTimestamp(fields[2]);
    const std::optional<TimestampUs> end = ParseTimestamp(fields[3]);
    if (!start || !end || *end < *start) {
      return Error(Errc::kParse,
                   "labels: line {} of '{}' needs ISO-8601 start <= end, got '{}' and '{}'",
                   line_number, path, fields[2], fields[3]);
    }
    if (!ParseAnomalyKind(fields[4]) && fields[4] != kDarkKind && !ParsePumpFaultKind(fields[4])) {
      return Error(Errc::kParse, "labels: line {} of '{}' has unknown kind '{}'", line_number,
                   path, fields[4]);
    }
    if (fields[0].empty() || fields[1].empty()) {
      return Error(Errc::kParse, "labels: line {} of '{}' has an empty device_id or metric",
                   line_number, path);
    }
    labels.push_back(AnomalyLabel{std::string(fields[0]), std::string(fields[1]),
                                  std::string(fields[4]), *start, *end});
  }
  if (line_number == 0) {
    return Error(Errc::kParse, "labels: '{}' is empty (expected the header '{}')", path,
                 kLabelsCsvHeader);
  }
  return labels;
}

}  // namespace iotad::gen
