#pragma once
// A metrics registry: counters, gauges and histograms with labels, exposed in the Prometheus
// text format 0.0.4 (what `/metrics` serves and what node_exporter's textfile collector reads).
//
// Names follow Prometheus: `iotad_` prefix, base units (seconds, bytes) in the name, `_total`
// for counters. A family is registered once by name (registering again returns the same family;
// another type or other label names for the same name is a bug and aborts). Looking a series up
// by its label values takes the family's lock; updating a series is one relaxed atomic
// operation, so hot paths look the series up once and keep the reference (series live as long
// as their registry). Thread-safe throughout.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"

namespace iotad::metrics {

/// A count that only goes up (rows, bytes, files): exposed as an integer.
class Counter {
 public:
  void Inc(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

/// A value that goes up and down, or is set (a timestamp, a 0/1 state).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Observations counted into fixed buckets (upper bounds, inclusive, ascending; +Inf implied),
/// with their sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  /// Per-bucket counts, not cumulative; the last is the +Inf bucket.
  std::vector<int64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

/// Buckets for stage and run durations in seconds: 5 ms to 30 min.
const std::vector<double>& DurationBuckets();

enum class Type { kCounter, kGauge, kHistogram };

/// All series of one metric name, one per combination of label values.
template <class T>
class Family {
 public:
  /// The series for these label values (in the family's label-name order), made on first use.
  /// A wrong number of values is a bug and aborts.
  T& With(const std::vector<std::string>& label_values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<Counter>& CounterFamily(std::string_view name, std::string_view help, std::vector<std::string> label_names);
  Family<Gauge>& GaugeFamily(std::string_view name, std::string_view help, std::vector<std::string> label_names);
  Family<Histogram>& HistogramFamily(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names, std::vector<double> upper_bounds);
  /// A series without labels.
  Counter& GetCounter(std::string_view name, std::string_view help) { return CounterFamily(name, help, {}).With({}); }
  Gauge& GetGauge(std::string_view name, std::string_view help) { return GaugeFamily(name, help, {}).With({}); }

  /// Every family, sorted by name, series sorted by label values: `# HELP`, `# TYPE`, samples
  /// (histograms: cumulative `_bucket{le=...}` ending with `+Inf`, `_sum`, `_count`).
  std::string Exposition() const;

 private:
  struct Entry {
    Type type;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
  };
  Entry& Find(std::string_view name, Type type, const std::vector<std::string>& label_names);
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> families_;
};

/// Writes the registry's exposition to `path` atomically: to a file beside it, then renamed over
/// it (the textfile-collector convention: a scraper never sees half a file).
Status WriteTextFile(const Registry& registry, const std::filesystem::path& path);

/// Escaping of the exposition format: label values (backslash, double quote, newline) and HELP
/// text (backslash, newline).
std::string EscapeLabelValue(std::string_view value);
std::string EscapeHelp(std::string_view help);
/// A sample value as the format writes it: shortest round-trip decimal, `+Inf`, `-Inf`, `NaN`.
std::string FormatValue(double value);

}  // namespace iotad::metrics
