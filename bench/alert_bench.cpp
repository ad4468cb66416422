// Rule evaluation speed (issue 9: 1 million anomalies in under 1 second). Run once, Release:
//   build/bench/alert_bench
// 1,000,000 synthetic anomalies over 10,000 devices x 3 metrics across 7 days, deterministic:
// per device four episodes at pseudo-random times, 25 anomalies each a minute or two apart over
// its metrics (anomalies come in bursts; a fleet where every anomaly were its own episode would
// be 1M alerts). The fresh lake's rule (default detector, per device). Timed: Evaluate on an empty
// state (every alert opens, firing and resolved notifications), then the same anomalies again on
// the folded state (a re-run of gold: nothing opens, nothing is sent).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "iotad/alert/engine.h"

namespace {

using iotad::alert::Anomaly;
constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kT0 = 1'704'067'200'000'000;  // 2024-01-01T00:00:00Z
constexpr int kDevices = 10'000, kEpisodes = 4, kPerEpisode = 25;
constexpr int64_t kSpan = 7 * 24 * 60 * kMinute;

std::vector<Anomaly> MakeAnomalies() {
  const char* metrics[] = {"temp_c", "humidity_pc", "pressure_hpa"};
  std::vector<Anomaly> out;
  out.reserve(static_cast<size_t>(kDevices) * kEpisodes * kPerEpisode);
  uint64_t s = 42;
  auto next = [&s] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return s >> 17;
  };
  for (int d = 0; d < kDevices; ++d) {
    char device[16];
    std::snprintf(device, sizeof device, "dev-%05d", d);
    for (int e = 0; e < kEpisodes; ++e) {
      int64_t t = kT0 + static_cast<int64_t>(next() % static_cast<uint64_t>(kSpan - 60 * kMinute));
      t -= t % kMinute;
      for (int i = 0; i < kPerEpisode; ++i) {
        Anomaly a;
        a.event_time = t;
        a.device_id = device;
        a.location = "hall-" + std::to_string(d % 50);
        a.metric = metrics[next() % 3];
        a.detector = "default";
        a.score = 0.5 + static_cast<double>(next() % 500) / 1000.0;
        a.value = 20.0 + static_cast<double>(next() % 100) / 10.0;
        a.z = 4.0;
        a.explanation = "value far above the usual";
        a.rule = "p < threshold";
        out.push_back(std::move(a));
        t += (1 + static_cast<int64_t>(next() % 2)) * kMinute;
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Anomaly& x, const Anomaly& y) {
    return std::tie(x.event_time, x.device_id, x.metric, x.detector) <
           std::tie(y.event_time, y.device_id, y.metric, y.detector);
  });
  return out;
}

/// CPU seconds of this process (the machine may be shared: wall time then overstates the cost).
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main() {
  const std::vector<Anomaly> anomalies = MakeAnomalies();
  std::vector<iotad::config::AlertRule> rules(1);
  rules[0].name = "device-anomalies";
  rules[0].sinks = {"alerts-file"};
  const iotad::config::AlertConfig config;
  iotad::alert::EvalInput in;
  in.rules = &rules;
  in.config = &config;
  in.anomalies = anomalies;
  for (const Anomaly& a : anomalies) in.hours.insert(iotad::HourStart(a.event_time));
  in.watermark_us = anomalies.back().event_time;
  in.now_us = in.watermark_us;

  iotad::alert::AlertState state;
  auto t0 = std::chrono::steady_clock::now();
  double c0 = CpuSeconds();
  const iotad::alert::EvalResult first = iotad::alert::Evaluate(state, in);
  const double s1 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu1 = CpuSeconds() - c0;
  std::printf("alert_bench: %zu anomalies, %d devices x 3 metrics, 7 days\n", anomalies.size(), kDevices);
  std::printf("  first run (empty state):  %.3f s (cpu %.3f s), %.2fM anomalies/s: %lld alerts opened, %lld "
              "resolved, %lld notifications, %lld throttled, %zu deliveries\n",
              s1, cpu1, anomalies.size() / s1 / 1e6, static_cast<long long>(first.alerts_opened),
              static_cast<long long>(first.alerts_resolved), static_cast<long long>(first.notifications),
              static_cast<long long>(first.throttled), first.deliveries.size());

  iotad::alert::ApplyEvalResult(state, first);
  in.now_us += kMinute;
  t0 = std::chrono::steady_clock::now();
  c0 = CpuSeconds();
  const iotad::alert::EvalResult again = iotad::alert::Evaluate(state, in);
  const double s2 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu2 = CpuSeconds() - c0;
  std::printf("  second run (same data):   %.3f s (cpu %.3f s), %.2fM anomalies/s: %lld alerts opened, %zu "
              "changed, %zu deliveries\n",
              s2, cpu2, anomalies.size() / s2 / 1e6, static_cast<long long>(again.alerts_opened), again.alerts.size(),
              again.deliveries.size());
  const bool ok = s1 < 1.0 && s2 < 1.0 && again.alerts_opened == 0 && again.deliveries.empty();
  std::printf("  target (< 1 s each, nothing twice): %s\n", ok ? "met" : "NOT MET");
  return ok ? 0 : 1;
}
