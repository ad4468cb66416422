// Detector throughput: points per second per core for each online detector and the `default`
// ensemble, and each detector's state per series. Run:
//   build/bench/detect_bench --benchmark_counters_tabular=true
// Targets (issue 3): every single detector >= 20M points/s, default >= 5M points/s, state < 4 KiB.
// mahalanobis counts readings of 3 metrics (3 values each).
// The workload is 1,000 series x 2,880 minute points (two days; seasonal and the ensemble warm up
// and then run their full path), interleaved series by series as a batch replay feeds them.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <vector>

#include "iotad/detect/detector.h"
#include "iotad/detect/multivariate.h"

namespace {

constexpr int kSeries = 1000;
constexpr int kPoints = 2880;
constexpr int64_t kMinute = 60'000'000;

const std::vector<double>& Values() {
  static const std::vector<double> values = [] {
    std::vector<double> v(kPoints);
    uint64_t s = 42;
    for (int i = 0; i < kPoints; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      const double noise = static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5;
      v[i] = std::round(100 * (20 + 3 * std::sin(i * 6.283185307179586 / 1440) + noise)) / 100;
      if (i % 997 == 0) v[i] *= 3;  // spikes now and then
    }
    return v;
  }();
  return values;
}

/// The same series as counts (x 20, whole numbers, about 400): `default` learns them on the square
/// root's scale.
const std::vector<double>& Counts() {
  static const std::vector<double> counts = [] {
    std::vector<double> v = Values();
    for (double& x : v) x = std::round(20 * x);
    return v;
  }();
  return counts;
}

/// A machine in regimes: levels 10 and 30 (noise sd about 0.3), switching every 60 to 360
/// readings at no hour in particular, so at 5 minutes the time-of-day profile, warm after three
/// days, does not explain it and `default` v32's CUSUM at the setpoints runs at most readings.
const std::vector<double>& Regimes() {
  static const std::vector<double> regimes = [] {
    std::vector<double> v(kPoints);
    uint64_t s = 7;
    double level = 10;
    int left = 0;
    for (int i = 0; i < kPoints; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      const double u = static_cast<double>(s >> 11) / 9007199254740992.0;
      if (left-- <= 0) level = level == 10 ? 30 : 10, left = 60 + static_cast<int>(300 * u);
      v[i] = std::round(100 * (level + u - 0.5)) / 100;
    }
    return v;
  }();
  return regimes;
}

enum class Workload { kValues, kCounts, kRegimes };

void BM_Detector(benchmark::State& state, std::string_view name, bool explain_flags_only, int64_t step,
                 Workload workload) {
  const bool counts = workload == Workload::kCounts;
  const auto& values = counts ? Counts() : workload == Workload::kRegimes ? Regimes() : Values();
  iotad::detect::DetectorOptions options;
  options.explain_flags_only = explain_flags_only;
  if (!counts) {  // a temperature's physical range
    options.min_value = -40;
    options.max_value = 85;
  }
  size_t state_bytes = 0;
  int64_t flags = 0;
  for (auto _ : state) {
    for (int s = 0; s < kSeries; ++s) {
      state.PauseTiming();
      auto made = iotad::detect::MakeSeriesDetector(name, options);
      auto det = std::move(*made);
      state_bytes = det->state_bytes();
      const int64_t t0 = 1'704'067'200'000'000 + s * 1000;
      state.ResumeTiming();
      for (int i = 0; i < kPoints; ++i) {
        const auto score = det->Update(t0 + i * step, values[i]);
        flags += score.flag;
        benchmark::DoNotOptimize(score.score);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kSeries * kPoints);
  state.counters["state_bytes"] = static_cast<double>(state_bytes);
  state.counters["flags_per_series"] = static_cast<double>(flags) / static_cast<double>(state.iterations() * kSeries);
}

/// The per-device multivariate check: one reading of 3 metrics per step (items = readings).
void BM_Mahalanobis(benchmark::State& state) {
  const auto& values = Values();
  size_t state_bytes = 0;
  int64_t flags = 0;
  for (auto _ : state) {
    for (int s = 0; s < kSeries; ++s) {
      state.PauseTiming();
      auto made = iotad::detect::MahalanobisDetector::Make(3, {});
      auto det = *made;
      state_bytes = det.state_bytes();
      const int64_t t0 = 1'704'067'200'000'000 + s * 1000;
      state.ResumeTiming();
      for (int i = 0; i < kPoints; ++i) {
        const double v[3] = {values[i], 100 - 2 * values[i] + values[(i * 7) % kPoints] * 0.1,
                             values[(i * 13) % kPoints]};
        const auto score = det.Update(t0 + i * kMinute, v);
        flags += score.flag;
        benchmark::DoNotOptimize(score.score);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kSeries * kPoints);
  state.counters["state_bytes"] = static_cast<double>(state_bytes);
  state.counters["flags_per_series"] = static_cast<double>(flags) / static_cast<double>(state.iterations() * kSeries);
}

/// As gold's replay feeds it: 30,000 series (10,000 devices x 3 metrics), an hour (60 points) of
/// each in turn, so each series' state is cold when its hour starts (about 80 MB of state in all).
void BM_DefaultHourByHour(benchmark::State& state) {
  const auto& values = Values();
  constexpr int kManySeries = 30'000;
  constexpr int kHour = 60;
  iotad::detect::DetectorOptions options;
  options.explain_flags_only = true;
  options.min_value = -40;
  options.max_value = 85;
  std::vector<std::unique_ptr<iotad::detect::SeriesDetector>> dets;
  for (int s = 0; s < kManySeries; ++s) {
    auto made = iotad::detect::MakeSeriesDetector("default", options);
    dets.push_back(std::move(*made));
  }
  int64_t flags = 0;
  int hour = 0;
  for (auto _ : state) {
    for (int s = 0; s < kManySeries; ++s) {
      const int64_t t0 = 1'704'067'200'000'000 + s * 1000;
      for (int i = hour * kHour; i < (hour + 1) * kHour; ++i) {
        const auto score = dets[s]->Update(t0 + i * kMinute, values[i % kPoints]);
        flags += score.flag;
        benchmark::DoNotOptimize(score.score);
      }
    }
    ++hour;
  }
  state.SetItemsProcessed(state.iterations() * kManySeries * kHour);
  state.counters["flags_per_series"] = static_cast<double>(flags) / kManySeries;
}

}  // namespace

int main(int argc, char** argv) {
  for (std::string_view name : iotad::detect::SeriesDetectorNames()) {
    benchmark::RegisterBenchmark(std::string(name).c_str(), BM_Detector, name, false, kMinute, Workload::kValues)
        ->Unit(benchmark::kMillisecond);
  }
  // As gold's replay and `iotad eval` run it: the flag limit's band drawn for flagged points only.
  benchmark::RegisterBenchmark("default(flags explained only)", BM_Detector, "default", true, kMinute, Workload::kValues)
      ->Unit(benchmark::kMillisecond);
  // The same readings as counts (the square root's scale, v11), every point explained.
  benchmark::RegisterBenchmark("default(counts)", BM_Detector, "default", false, kMinute, Workload::kCounts)
      ->Unit(benchmark::kMillisecond);
  // A reading every 5 minutes (ten days): the cadence where the previous value is the spike
  // member's expectation on the first days (v6 and v7 fitted the daily harmonics there).
  benchmark::RegisterBenchmark("default(every 5 minutes, flags explained only)", BM_Detector, "default", true,
                               5 * kMinute, Workload::kValues)
      ->Unit(benchmark::kMillisecond);
  // A machine in regimes every 5 minutes (ten days): the setpoints, and since v32 CUSUM at them.
  benchmark::RegisterBenchmark("default(a machine in regimes, every 5 minutes, flags explained only)", BM_Detector,
                               "default", true, 5 * kMinute, Workload::kRegimes)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("default(30k series, an hour each in turn)", BM_DefaultHourByHour)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(48);
  benchmark::RegisterBenchmark("mahalanobis(3 metrics)", BM_Mahalanobis)->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
