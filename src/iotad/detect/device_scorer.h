#pragma once
// DeviceScorer: the online detectors of a whole fleet, fed one reading at a time. A reading is
// one device's metrics at one time; each (device, metric) series runs the detectors its plan
// names, `mahalanobis` runs once per device across its first metrics, and Tick tells every series
// that time passed (silence). No I/O, no clock: the batch replay (pipeline/replay.cpp) and a
// streaming source feed the same object and get the same flags. Save/Restore checkpoint the
// whole state, so a restarted stream resumes with byte-identical results.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/detect/detector.h"
#include "iotad/detect/multivariate.h"

namespace iotad::detect {

/// What runs on one series.
struct SeriesPlan {
  std::vector<uint32_t> detectors;  // indexes into the scorer's detector names
  DetectorOptions options;          // shared by them (options.params stays empty)
  std::vector<std::pair<std::string, double>> params;  // qualified: "window_z.window"
};
/// The plan of (device, metric index). Called once per series, when its first value arrives (and
/// again by Restore); must give the same answer for the same series.
using SeriesPlanFn = std::function<SeriesPlan(std::string_view device_id, size_t metric)>;

/// One flag (the views and the score are valid during the callback only).
struct DeviceFlag {
  std::string_view device_id;
  uint32_t metric;    // index into the scorer's metrics (mahalanobis: the metric that strayed most)
  uint32_t detector;  // index into the scorer's detector names
  int64_t ts_us;      // the reading's time, or the tick's `now`; score.at_us is when it happened
  double value;       // the reading's value; NaN for a silence found by a tick
  const Score& score;
  int version;  // the detector's version
};
using DeviceFlagFn = std::function<void(const DeviceFlag&)>;

/// Every device's detectors. Not thread-safe: one feeder at a time (shard devices over several
/// scorers for more). Devices are kept in device_id order: Tick and Save walk them in that order,
/// so the outcome does not depend on the order devices first appeared.
class DeviceScorer {
 public:
  /// `detector_names`: the online detectors of detect/ (SeriesDetectorNames) and `mahalanobis`;
  /// an unknown name is an error. Parameters are checked when a series is made (Feed).
  static Result<DeviceScorer> Make(std::vector<std::string> metrics, std::vector<std::string> detector_names,
                                   SeriesPlanFn plan);
  DeviceScorer(DeviceScorer&& other) noexcept;
  DeviceScorer& operator=(DeviceScorer&& other) noexcept;
  ~DeviceScorer();

  /// One reading: values[i] is metric first_metric + i (NaN: no value). Points not after a
  /// series' previous one are simply its next observation (see SeriesDetector::Update).
  /// `mahalanobis` sees only readings with first_metric 0 (its metrics are the first
  /// MahalanobisDetector::kMaxMetrics). An error (bad parameters in the plan) flags nothing.
  Status Feed(std::string_view device_id, int64_t ts_us, std::span<const double> values,
              const DeviceFlagFn& on_flag, size_t first_metric = 0);
  /// Time passes: every series of every device is told it is `now_us` (a silence flags once).
  void Tick(int64_t now_us, const DeviceFlagFn& on_flag);
  /// The same for one device (nothing when it is unknown).
  void TickDevice(std::string_view device_id, int64_t now_us, const DeviceFlagFn& on_flag);
  /// Drops a device's state (a batch replay is done with it); it starts afresh if fed again.
  void Forget(std::string_view device_id);

  /// The whole state as a binary checkpoint: a magic, the format version, the metrics, every
  /// detector's name and version, each device's series and their detectors' state, a checksum.
  std::string Save() const;
  /// Replaces the state with a checkpoint's. Refuses (one sentence, state unchanged) a damaged
  /// checkpoint, another format version, other metrics or detectors, a detector of another
  /// version, or a series whose plan now runs other detectors. A detector keeps the parameters it
  /// was saved with; a plan change applies to series made after.
  Status Restore(std::string_view checkpoint);

  size_t device_count() const { return devices_.size(); }
  const std::vector<std::string>& metrics() const { return metrics_; }
  const std::vector<std::string>& detector_names() const { return names_; }
  /// The version of each detector name (index as detector_names()).
  const std::vector<int>& versions() const { return versions_; }

 private:
  struct Series {
    bool made = false;
    std::vector<std::pair<uint32_t, std::unique_ptr<SeriesDetector>>> detectors;
  };
  struct Device {
    std::vector<Series> series;  // by metric index, grown on demand
    bool mahalanobis_planned = false;
    std::optional<MahalanobisDetector> mahalanobis;
  };
  using DeviceMap = std::map<std::string, Device, std::less<>>;

  DeviceScorer(std::vector<std::string> metrics, std::vector<std::string> names, std::vector<int> versions,
               SeriesPlanFn plan);
  Device& DeviceFor(std::string_view device_id);
  Result<Series*> SeriesFor(std::string_view device_id, Device& device, size_t metric);
  Status PlanMahalanobis(std::string_view device_id, Device& device);
  void TickOne(std::string_view device_id, Device& device, int64_t now_us, const DeviceFlagFn& on_flag);
  Status RestoreDevices(std::string_view in, DeviceMap& out);

  std::vector<std::string> metrics_;
  std::vector<std::string> names_;
  std::vector<int> versions_;
  std::optional<uint32_t> mahalanobis_index_;
  int mahalanobis_metrics_ = 0;
  SeriesPlanFn plan_;
  DeviceMap devices_;
  DeviceMap::value_type* last_ = nullptr;  // the device of the previous Feed (readings come in runs)
};

}  // namespace iotad::detect
