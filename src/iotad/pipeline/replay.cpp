#include "iotad/pipeline/replay.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "iotad/clean/string_dict.h"
#include "iotad/core/queue.h"
#include "iotad/core/thread.h"
#include "iotad/detect/device_scorer.h"
#include "iotad/detect/multivariate.h"
#include "iotad/detect/registry.h"
#include "iotad/lake/snapshot.h"

namespace iotad::pipeline {
namespace {

constexpr std::string_view kHourColumns[] = {"year", "month", "day", "hour"};

}  // namespace

Result<std::map<TimestampUs, std::vector<std::string>>> ListSilverHours(lake::Lake& lake) {
  // The files the lake's snapshot says are live, not a listing of silver/.
  IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
  std::map<TimestampUs, std::vector<std::string>> hours;
  for (auto& key : snapshot->Keys(lake::kSilverPrefix, ".parquet")) {
    if (auto h = lake::HourFromKey(key)) hours[*h].push_back(std::move(key));
  }
  return hours;
}

Result<std::vector<std::string>> SilverMetrics(lake::DuckSession& session,
                                               const std::vector<std::string>& silver_paths) {
  IOTAD_ASSIGN_OR_RETURN(
      auto result,
      session.Query(fmt::format("DESCRIBE SELECT * FROM read_parquet({}, union_by_name = true)",
                                lake::SqlList(silver_paths))));
  std::vector<std::string> metrics;
  while (true) {
    IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
    if (!chunk) break;
    const lake::DuckStrings names = chunk.Strings(0);
    const lake::DuckStrings types = chunk.Strings(1);
    for (size_t r = 0; r < chunk.size(); ++r) {
      const std::string_view name = names[r];
      if (types[r] != "DOUBLE") continue;
      if (std::find(std::begin(kHourColumns), std::end(kHourColumns), name) !=
          std::end(kHourColumns))
        continue;
      metrics.emplace_back(name);
    }
  }
  return metrics;
}

std::vector<std::string> SilverColumnNames(const std::vector<std::string>& metrics, size_t begin, size_t end,
                                           bool time_and_location) {
  std::vector<std::string> names{"device_id"};
  if (time_and_location) names = {"event_time", "device_id", "location"};
  for (size_t m = begin; m < std::min(end, metrics.size()); ++m) names.push_back(metrics[m]);
  return names;
}

namespace {

/// A type's SQL name, for the message refusing a column typed otherwise than silver types it.
std::string_view DuckTypeName(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMPTZ";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    default: return "a type silver does not write";
  }
}

}  // namespace

Result<SilverColumns> FindSilverColumns(lake::ChunkStream& result, const std::vector<std::string>& files,
                                        const std::vector<std::string>& metrics, size_t begin, size_t end) {
  end = std::min(end, metrics.size());
  begin = std::min(begin, end);
  SilverColumns l;
  l.metric.assign(end - begin, -1);
  std::unordered_map<std::string_view, size_t> index;
  for (size_t m = begin; m < end; ++m) index.emplace(metrics[m], m - begin);
  for (size_t c = 0; c < result.ColumnCount(); ++c) {
    const std::string name = result.ColumnName(c);
    const duckdb_type type = result.ColumnType(c);
    // The readers take a column's cells as silver writes them: microseconds, strings, doubles.
    // A file typing one otherwise (made by hand; silver never does) would be read as garbage.
    const auto typed = [&](bool ok, std::string_view want) -> Status {
      if (ok) return Status::Ok();
      return Error(Errc::kCorrupt, "silver column '{}' is {}, not {}, in {} (a file silver did not write?)", name,
                   DuckTypeName(type), want, fmt::join(files, " or "));
    };
    if (name == "event_time") {
      IOTAD_TRY(typed(type == DUCKDB_TYPE_TIMESTAMP_TZ || type == DUCKDB_TYPE_TIMESTAMP, "TIMESTAMPTZ"));
      l.ts = static_cast<int>(c);
    } else if (name == "device_id" || name == "location") {
      IOTAD_TRY(typed(type == DUCKDB_TYPE_VARCHAR, "VARCHAR"));
      (name == "device_id" ? l.device : l.location) = static_cast<int>(c);
    }
    if (auto it = index.find(name); it != index.end()) {
      IOTAD_TRY(typed(type == DUCKDB_TYPE_DOUBLE, "DOUBLE"));
      l.metric[it->second] = static_cast<int>(c);
    }
  }
  return l;
}

SilverRows SilverRowsOf(const lake::DuckChunk& chunk, const SilverColumns& layout) {
  SilverRows rows;
  if (layout.ts >= 0) rows.ts = chunk.Data<int64_t>(static_cast<size_t>(layout.ts));
  if (layout.device >= 0) rows.devices = chunk.Strings(static_cast<size_t>(layout.device));
  if (layout.location >= 0) {
    rows.locations = chunk.Strings(static_cast<size_t>(layout.location));
    rows.location_valid = chunk.Validity(static_cast<size_t>(layout.location));
  }
  return rows;
}

Result<int> ReplayDetectorVersion(std::string_view name) {
  // The registry: online and per-device detectors replay; a batch one is refused with a sentence.
  IOTAD_ASSIGN_OR_RETURN(const detect::DetectorSpec* d, detect::LookupDetector(name));
  if (d->kind == detect::DetectorKind::kBatch) return detect::LookupOnlineDetector(name).status();
  return detect::DetectorVersion(*d);
}

SeriesPlanFn PlanFromConfig(const config::LakeConfig& config, std::vector<std::string> metrics,
                            std::vector<std::string> names, bool all_named, double fa_override) {
  return PlanFromResolver(
      [&config](std::string_view device, std::string_view metric) { return config::ResolveSeries(config, device, metric); },
      std::move(metrics), std::move(names), all_named, fa_override);
}

SeriesPlanFn PlanFromResolver(std::function<config::SeriesSettings(std::string_view, std::string_view)> resolve,
                              std::vector<std::string> metrics, std::vector<std::string> names, bool all_named,
                              double fa_override) {
  return [resolve = std::move(resolve), metrics = std::move(metrics), names = std::move(names), all_named,
          fa_override](std::string_view device, size_t metric) {
    const config::SeriesSettings s = resolve(device, metrics[metric]);
    SeriesPlan plan;
    for (uint32_t k = 0; k < names.size(); ++k) {
      if (all_named ||
          std::find(s.detectors.begin(), s.detectors.end(), names[k]) != s.detectors.end()) {
        plan.detectors.push_back(k);
      }
    }
    plan.options.false_alarms_per_day = fa_override > 0.0 ? fa_override : s.false_alarms_per_day;
    plan.options.min_value = s.min;
    plan.options.max_value = s.max;
    plan.options.silence_us = s.silence_us;
    plan.options.explain_flags_only = true;  // a replay keeps flags only
    plan.params = s.params;
    return plan;
  };
}

size_t ReplayBytesPerSeries(const std::vector<std::string>& detector_names) {
  size_t bytes = 512;  // the series' entry in its device, the detectors' pointers, the heap's share
  for (const auto& name : detector_names) {
    const detect::DetectorSpec* spec = detect::FindDetector(name);
    if (spec != nullptr && spec->make_online != nullptr) {
      if (auto d = spec->make_online(detect::DetectorOptions{}); d.ok()) {
        bytes += (*d)->state_bytes() + 64;
        continue;
      }
    }
    bytes += 1024;  // mahalanobis: per device, across its metrics
  }
  return bytes;
}

int64_t ReplayBuckets(int64_t series, size_t bytes_per_series, int64_t budget_bytes) {
  if (series <= 0 || budget_bytes <= 0) return 1;
  const int64_t per_bucket = std::max<int64_t>(1, budget_bytes / static_cast<int64_t>(std::max<size_t>(1, bytes_per_series)));
  return (series + per_bucket - 1) / per_bucket;
}

Result<int64_t> ReplayBucketCount(lake::DuckSession& session, const std::vector<std::string>& silver_paths,
                                  size_t metrics, const std::vector<std::string>& detector_names,
                                  int64_t max_points_per_pass) {
  if (silver_paths.empty() || max_points_per_pass <= 0) return int64_t{1};
  IOTAD_ASSIGN_OR_RETURN(const int64_t devices,
                         session.QueryInt(fmt::format("SELECT count(DISTINCT device_id) FROM read_parquet({}, "
                                                      "union_by_name = true)",
                                                      lake::SqlList(silver_paths))));
  const int64_t width = static_cast<int64_t>(std::clamp<size_t>(metrics, 1, kSilverColumnBatch));
  return ReplayBuckets(devices * width, ReplayBytesPerSeries(detector_names), ReplayStateBudget(max_points_per_pass));
}

Result<TimestampUs> SilverEnd(lake::DuckSession& session, const std::vector<std::string>& silver_paths) {
  if (silver_paths.empty()) return TimestampUs{0};
  return session.QueryInt(
      fmt::format("SELECT epoch_us(max(event_time)) FROM read_parquet({}, union_by_name = true)",
                  lake::SqlList(silver_paths)));
}

namespace {

/// Silver's files grouped by hour partition, in the order given (the callers list them in hour
/// order). A path whose hour cannot be read is a group of its own.
std::vector<std::vector<std::string>> ByHour(const std::vector<std::string>& paths) {
  std::vector<std::vector<std::string>> groups;
  std::optional<TimestampUs> last;
  for (const auto& p : paths) {
    // The partition is the part of the path after the layer's folder (a lake's own folder may
    // be called anything).
    const size_t at = p.rfind("/silver/");
    const auto hour = lake::HourFromKey(std::string_view(p).substr(at == std::string::npos ? 0 : at + 1));
    if (groups.empty() || !hour || hour != last) groups.emplace_back();
    groups.back().push_back(p);
    last = hour;
  }
  return groups;
}

/// One hour of one bucket's rows, kept in columns: silver files are read whole, then fed.
struct HourRows {
  std::vector<int64_t> ts;
  std::vector<uint32_t> device;    // the bucket's device ids (clean::StringDict's, from 1)
  std::vector<uint32_t> location;  // interned; 0 = NULL
  std::vector<double> values;      // row-major, `width` per row
};

/// Puts `order` (the hour's rows, 0..n) in an order where each device's rows come together and
/// in time order: the devices in the order they first appear, each device's rows kept in file
/// order when already in time order (the usual case), else stable-sorted by time. O(n) but for
/// those sorts, which are one device's rows each. The order among devices changes nothing: every
/// detector keeps state per device, and the flags are sorted when written.
void DeviceTimeOrder(const HourRows& h, size_t device_ids, std::vector<uint32_t>& order) {
  const size_t n = h.ts.size();
  std::vector<uint32_t> group_of(device_ids, UINT32_MAX);
  std::vector<uint32_t> start;  // per group, then its next free place
  for (size_t i = 0; i < n; ++i) {
    uint32_t& g = group_of[h.device[i]];
    if (g == UINT32_MAX) {
      g = static_cast<uint32_t>(start.size());
      start.push_back(0);
    }
    ++start[g];
  }
  uint32_t at = 0;
  for (uint32_t& s : start) at += std::exchange(s, at);
  std::vector<uint32_t> bounds(start);
  bounds.push_back(static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; ++i) order[start[group_of[h.device[i]]]++] = static_cast<uint32_t>(i);
  const auto by_time = [&](uint32_t a, uint32_t b) { return h.ts[a] < h.ts[b]; };
  for (size_t g = 0; g + 1 < bounds.size(); ++g) {
    const auto first = order.begin() + bounds[g], last = order.begin() + bounds[g + 1];
    if (!std::is_sorted(first, last, by_time)) std::stable_sort(first, last, by_time);
  }
}

/// One hour of one bucket, read and put in order by the reader, shared by the lanes (read-only).
struct HourBatch {
  HourRows rows;
  std::vector<std::vector<uint32_t>> order;  // per lane: its rows, in the order to feed them
  std::vector<std::pair<uint32_t, std::string>> new_devices;    // ids first seen in this hour
  std::vector<std::pair<uint32_t, std::string>> new_locations;  // likewise
};

/// A lane: one DeviceScorer and the devices the reader deals to it, fed hour by hour.
class Lane {
 public:
  Lane(detect::DeviceScorer scorer, const ReplayLane& fns, size_t width, size_t first_metric)
      : scorer_(std::move(scorer)), fns_(fns), width_(width), first_metric_(first_metric) {
    locations_.emplace_back();  // id 0: NULL
    flag_ = [this](const detect::DeviceFlag& f) {
      ++flags_;
      fns_.on_flag(ReplayPoint{f.device_id, location_, f.metric, f.detector, f.ts_us, f.value, f.score, f.version});
    };
  }

  void Process(const HourBatch& b, size_t lane) {
    for (const auto& [id, name] : b.new_devices) {
      if (devices_.size() <= id) devices_.resize(id + 1), last_location_.resize(id + 1, 0);
      devices_[id] = name;
    }
    for (const auto& [id, name] : b.new_locations) {
      if (locations_.size() <= id) locations_.resize(id + 1);
      locations_[id] = name;
    }
    if (!status_.ok()) return;
    const HourRows& h = b.rows;
    for (const uint32_t i : b.order[lane]) {
      const uint32_t d = h.device[i];
      if (!seen(d)) {
        own_.push_back(d);
        if (fns_.on_device) fns_.on_device(devices_[d]);
      }
      last_location_[d] = h.location[i];
      location_ = locations_[h.location[i]];
      const std::span<const double> row(h.values.data() + i * width_, width_);
      const Status fed = scorer_.Feed(devices_[d], h.ts[i], row, flag_, first_metric_);
      if (!fed.ok()) {
        status_ = fed.WithContext("config [[detect.rule]] params: ");
        return;
      }
    }
  }
  /// The end of the data: each of the lane's devices is told it is `end_us`, then dropped.
  void Finish(TimestampUs end_us) {
    if (!status_.ok()) return;
    std::sort(own_.begin(), own_.end());  // in the order the reader first saw them
    for (const uint32_t d : own_) {
      location_ = locations_[last_location_[d]];
      scorer_.TickDevice(devices_[d], end_us, flag_);
      scorer_.Forget(devices_[d]);
    }
  }
  const Status& status() const { return status_; }
  int64_t flags() const { return flags_; }

 private:
  bool seen(uint32_t d) {
    if (seen_.size() <= d) seen_.resize(d + 1, 0);
    if (seen_[d]) return true;
    seen_[d] = 1;
    return false;
  }

  detect::DeviceScorer scorer_;
  const ReplayLane& fns_;
  const size_t width_, first_metric_;
  std::vector<std::string> devices_, locations_;  // by the reader's ids
  std::vector<uint32_t> last_location_;           // per device: its last row's location
  std::vector<uint8_t> seen_;
  std::vector<uint32_t> own_;  // this lane's devices
  std::string_view location_;  // of the point being fed, for its flags
  detect::DeviceFlagFn flag_;  // made once: it is passed with every point
  int64_t flags_ = 0;
  Status status_;
};

}  // namespace

Result<ReplayStats> ReplaySilverBucket(lake::DuckSession& session,
                                       const std::vector<std::string>& silver_paths,
                                       const std::vector<std::string>& metrics,
                                       const std::vector<std::string>& detector_names,
                                       const SeriesPlanFn& plan, std::span<const ReplayLane> lanes,
                                       int64_t bucket, int64_t buckets, TimestampUs end_us,
                                       const lake::ScanRange* device_range) {
  ReplayStats stats;
  if (silver_paths.empty() || lanes.empty()) return stats;
  if (end_us == kSilverEndUnknown) {
    IOTAD_ASSIGN_OR_RETURN(end_us, SilverEnd(session, silver_paths));
  }
  const size_t nm = metrics.size();
  const size_t nl = lanes.size();
  const std::vector<std::vector<std::string>> hours = ByHour(silver_paths);
  // Hour by hour, the bucket's devices side by side: each device's points reach its detectors in
  // time order because silver is partitioned by hour and each file is written in (device, time)
  // order (checked here: a file that is not is sorted before it is fed), so nothing is sorted
  // across the whole of silver. This thread reads; the devices are dealt to the lanes (each a
  // scorer on a thread of its own when there are several), which are fed each hour as it is read.
  // Memory holds the bucket's detectors and a few hours of its rows.
  const auto in_bucket = [&](std::string_view device) {
    if (device_range != nullptr) return device >= device_range->lo && device <= device_range->hi;
    return buckets <= 1 ||
           static_cast<int64_t>(std::hash<std::string_view>{}(device) % static_cast<uint64_t>(buckets)) == bucket;
  };
  std::vector<uint32_t> order;
  // Each series lies in one column batch, so its points reach its detectors in the same order
  // whatever the batching; rows, devices and the time range are counted on the first batch.
  for (size_t begin = 0; begin == 0 || begin < nm; begin += kSilverColumnBatch) {
    const size_t end = std::min(nm, begin + kSilverColumnBatch);
    const size_t width = end - begin;
    const bool first_batch = begin == 0;
    std::vector<std::unique_ptr<Lane>> lane;
    for (size_t l = 0; l < nl; ++l) {
      IOTAD_ASSIGN_OR_RETURN(auto scorer, detect::DeviceScorer::Make(metrics, detector_names, plan));
      lane.push_back(std::make_unique<Lane>(std::move(scorer), lanes[l], width, begin));
    }
    // With several lanes each runs on its own thread, fed through a queue of one hour.
    using BatchQueue = BoundedQueue<std::shared_ptr<const HourBatch>>;
    std::vector<std::unique_ptr<BatchQueue>> queues;
    std::vector<std::jthread> threads;
    auto stop_lanes = [&] {
      for (auto& q : queues) q->Close();
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
      threads.clear();
    };
    if (nl > 1) {
      // Every queue exists before any lane starts, and a lane holds its own queue and lane: a
      // lane that indexed `queues` while this thread still grew it read a moved element (a
      // crash under ASan).
      for (size_t l = 0; l < nl; ++l) queues.push_back(std::make_unique<BatchQueue>(1));
      for (size_t l = 0; l < nl; ++l) {
        BatchQueue* const queue = queues[l].get();
        Lane* const mine = lane[l].get();
        auto started = StartThread("replay lane", [queue, mine, l] {
          while (auto b = queue->Pop()) mine->Process(**b, l);
        });
        if (!started.ok()) {
          stop_lanes();
          return started.status().WithContext("replay: ");
        }
        threads.push_back(std::move(*started));
      }
    }
    struct StopOnExit {
      std::function<void()> fn;
      ~StopOnExit() { fn(); }
    } stop_on_exit{stop_lanes};
    auto deal = [&](std::shared_ptr<const HourBatch> b) {
      if (nl == 1) {
        lane[0]->Process(*b, 0);
      } else {
        for (auto& q : queues) q->Push(b);
      }
    };

    clean::StringDict devices, locations;  // id 0: "" (a NULL location)
    std::vector<int64_t> last_ts{INT64_MIN};  // per device: its latest point
    std::vector<uint32_t> seen_in_hour{0};    // per device: the last hour (counted from 1) it had rows in
    uint32_t hour_index = 0;
    size_t last_hour_rows = 0;
    std::vector<const double*> vals(width);
    std::vector<const uint64_t*> valid(width);
    for (const auto& files : hours) {
      IOTAD_ASSIGN_OR_RETURN(auto stream,
                             lake::ScanSilverFiles(session, files, SilverColumnNames(metrics, begin, end), device_range));
      lake::ChunkStream& result = *stream;
      IOTAD_ASSIGN_OR_RETURN(const SilverColumns layout, FindSilverColumns(result, files, metrics, begin, end));
      if (layout.ts < 0 || layout.device < 0) {
        return Error(Errc::kCorrupt, "replay: silver lacks the event_time or device_id column");
      }
      auto batch = std::make_shared<HourBatch>();
      HourRows& h = batch->rows;
      // Room for as many rows as the previous hour had: grown from nothing, the columns were
      // copied over and over (a tenth of the reader's time).
      h.ts.reserve(last_hour_rows);
      h.device.reserve(last_hour_rows);
      h.location.reserve(last_hour_rows);
      h.values.reserve(last_hour_rows * width);
      ++hour_index;
      bool sorted = files.size() == 1;  // rows of several files of one hour interleave in time
      std::string prev_device;           // of the previous row (its chunk may be gone)
      bool have_prev = false, take = false;
      uint32_t dev = 0;
      uint32_t last_loc = 0;  // the previous row's location id (0: none yet)
      while (true) {
        IOTAD_ASSIGN_OR_RETURN(auto chunk, result.Next());
        if (!chunk) break;
        const size_t n = chunk.size();
        const SilverRows silver = SilverRowsOf(chunk, layout);
        const int64_t* ts = silver.ts;
        for (size_t j = 0; j < width; ++j) {
          const bool present = layout.metric[j] >= 0;
          vals[j] = present ? chunk.Data<double>(static_cast<size_t>(layout.metric[j])) : nullptr;
          valid[j] = present ? chunk.Validity(static_cast<size_t>(layout.metric[j])) : nullptr;
        }
        for (size_t r = 0; r < n;) {
          // The run of the next device's rows, [r, e): in a file in (device, time) order one run
          // per device. Rows are compared cell to cell, mostly without reading the text; the
          // chunk's first row against the previous chunk's last device.
          if (r > 0 || !have_prev || silver.devices[r] != prev_device) {
            const std::string_view d = silver.devices[r];
            have_prev = true;
            prev_device.assign(d);
            take = in_bucket(d);
            if (take) {
              const auto known = static_cast<uint32_t>(devices.size());
              dev = devices.Intern(d);
              if (dev == known) {
                last_ts.push_back(INT64_MIN);
                seen_in_hour.push_back(0);
                batch->new_devices.emplace_back(dev, std::string(d));
              }
              // In a file in (device, time) order a device's rows are one run.
              if (seen_in_hour[dev] == hour_index) sorted = false;
              seen_in_hour[dev] = hour_index;
            }
          }
          size_t e = r + 1;
          while (e < n && silver.devices.Equal(e, e - 1)) ++e;
          if (!take) {
            r = e;
            continue;
          }
          // The run is appended column by column.
          const size_t len = e - r;
          if (first_batch) {
            if (stats.rows == 0) stats.first_us = stats.last_us = ts[r];
            stats.rows += static_cast<int64_t>(len);
            for (size_t k = r; k < e; ++k) {
              stats.first_us = std::min(stats.first_us, ts[k]);
              stats.last_us = std::max(stats.last_us, ts[k]);
            }
          }
          if (!h.device.empty() && h.device.back() == dev && ts[r] < h.ts.back()) sorted = false;
          for (size_t k = r + 1; k < e; ++k) {
            if (ts[k] < ts[k - 1]) sorted = false;
          }
          h.ts.insert(h.ts.end(), ts + r, ts + e);
          h.device.insert(h.device.end(), len, dev);
          const size_t at = h.location.size();
          h.location.resize(at + len);
          for (size_t k = r; k < e; ++k) {
            uint32_t loc = 0;
            if (const std::string_view l = silver.LocationAt(k); !l.empty()) {
              if (last_loc == 0 || l != locations.Get(last_loc)) {  // a device's location rarely changes
                const auto known = static_cast<uint32_t>(locations.size());
                last_loc = locations.Intern(l);
                if (last_loc == known) batch->new_locations.emplace_back(last_loc, std::string(l));
              }
              loc = last_loc;
            }
            h.location[at + (k - r)] = loc;
          }
          const size_t v0 = h.values.size();
          h.values.resize(v0 + len * width);
          double* const out = h.values.data() + v0;
          for (size_t j = 0; j < width; ++j) {
            const double* const v = vals[j];
            const uint64_t* const ok = valid[j];
            int64_t present = 0;
            for (size_t k = r; k < e; ++k) {
              const bool has = v != nullptr && lake::DuckChunk::IsValid(ok, k);
              out[(k - r) * width + j] = has ? v[k] : NAN;
              present += has ? 1 : 0;
            }
            stats.values += present;
          }
          r = e;
        }
      }
      // The hour's order: the files' when it is already (device, time), else sorted so.
      const size_t rows = h.ts.size();
      order.resize(rows);
      if (sorted) {
        std::iota(order.begin(), order.end(), uint32_t{0});
      } else {
        DeviceTimeOrder(h, devices.size(), order);
      }
      batch->order.resize(nl);
      for (auto& o : batch->order) o.reserve(rows / nl + rows / 8);
      last_hour_rows = rows + rows / 16;
      for (const uint32_t i : order) {
        const uint32_t d = h.device[i];
        if (h.ts[i] < last_ts[d]) {
          return Error(Errc::kCorrupt, "replay: a silver row of device '{}' at {} lies in an hour partition after "
                       "one of its later rows ({}); `iotad verify` checks the lake",
                       devices.Get(d), FormatTimestamp(h.ts[i]), files.front());
        }
        last_ts[d] = h.ts[i];
        batch->order[d % nl].push_back(i);
      }
      deal(std::move(batch));
    }
    stop_lanes();
    for (size_t l = 0; l < nl; ++l) {
      IOTAD_TRY(lane[l]->status());
      lane[l]->Finish(end_us);
      stats.flags += lane[l]->flags();
    }
    if (first_batch) stats.devices = static_cast<int64_t>(devices.size()) - 1;
  }
  return stats;
}

void ReplayStats::Merge(const ReplayStats& o) {
  if (o.rows > 0) {
    first_us = rows > 0 ? std::min(first_us, o.first_us) : o.first_us;
    last_us = rows > 0 ? std::max(last_us, o.last_us) : o.last_us;
  }
  devices += o.devices;
  rows += o.rows;
  values += o.values;
  flags += o.flags;
}

Result<ReplayStats> ReplaySilver(lake::DuckSession& session,
                                 const std::vector<std::string>& silver_paths,
                                 const std::vector<std::string>& metrics,
                                 const std::vector<std::string>& detector_names,
                                 const SeriesPlanFn& plan, const ReplayFlagFn& on_flag,
                                 const ReplayDeviceFn& on_device, int64_t max_points_per_pass) {
  for (const auto& name : detector_names) IOTAD_TRY(ReplayDetectorVersion(name).status());
  IOTAD_ASSIGN_OR_RETURN(
      const int64_t buckets,
      ReplayBucketCount(session, silver_paths, metrics.size(), detector_names, max_points_per_pass));
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs end_us, SilverEnd(session, silver_paths));
  ReplayStats stats;
  const ReplayLane lane{on_flag, on_device};
  for (int64_t b = 0; b < buckets; ++b) {
    IOTAD_ASSIGN_OR_RETURN(auto part, ReplaySilverBucket(session, silver_paths, metrics, detector_names, plan,
                                                         std::span<const ReplayLane>(&lane, 1), b, buckets, end_us));
    stats.Merge(part);
  }
  return stats;
}

}  // namespace iotad::pipeline
