#include "iotad/detect/device_scorer.h"

#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "iotad/core/hash.h"

namespace iotad::detect {
namespace {

const std::vector<std::string> kMetrics = {"temp_c", "humidity_pc", "vibration_g", "volts"};
const std::vector<std::string> kNames = {"default", "running_zscore", "window_z", "mad",    "ewma",        "seasonal",
                                         "cusum",   "flatline", "rate",     "range",  "silent",      "mahalanobis"};
constexpr int64_t kStepUs = 300'000'000;  // a reading every 5 minutes
constexpr int kDevices = 6;
constexpr int kSteps = 4 * 288;  // four days: the seasonal profile warms up

/// Devices differ: even ones run everything, odd ones a few detectors with parameters.
SeriesPlan Plan(std::string_view device, size_t metric) {
  SeriesPlan p;
  const int d = device.back() - '0';
  if (d % 2 == 0) {
    for (uint32_t k = 0; k < kNames.size(); ++k) p.detectors.push_back(k);
  } else {
    p.detectors = {0, 2, 10, 11};
    p.params = {{"window_z.window", 48}};
  }
  p.options.false_alarms_per_day = 0.05;
  if (metric == 1) {
    p.options.min_value = 0;
    p.options.max_value = 100;
  }
  return p;
}

/// What the scorer is told, in order: a reading, or a tick.
struct Event {
  bool tick = false;
  std::string device;
  int64_t ts_us = 0;
  std::vector<double> values;
};

/// Four days of six devices, time-major as a stream delivers them: noise, a daily cycle, spikes,
/// a level shift, a stuck sensor, empty cells, a device silent for three hours, one that goes dark
/// for good, and a tick every hour.
std::vector<Event> Fleet() {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Event> events;
  const int64_t t0 = 1'704'067'200'000'000;
  for (int s = 0; s < kSteps; ++s) {
    const int64_t ts = t0 + s * kStepUs;
    for (int d = 0; d < kDevices; ++d) {
      if (d == 3 && s >= 500 && s < 536) continue;  // silent for three hours
      if (d == 5 && s >= 900) continue;             // dark for good
      const double day = std::sin(2 * M_PI * s / 288.0);
      std::vector<double> v = {20 + d + 3 * day + 0.3 * noise(rng), 50 - 5 * day + noise(rng),
                               0.1 + 0.01 * noise(rng), 230 + 0.5 * noise(rng)};
      if (d == 1 && s % 400 == 333) v[0] += 15;             // spikes
      if (d == 2 && s >= 700) v[2] += 0.08;                 // level shift
      if (d == 4 && s >= 600 && s < 700) v[3] = 231.0;      // stuck
      if (d == 0 && s == 1000) v[1] = 140;                  // out of range
      for (double& x : v) {
        if (u(rng) < 0.02) x = NAN;                         // empty cells
      }
      events.push_back({false, fmt::format("dev-{}", d), ts + d * 1'000'000, std::move(v)});
    }
    if (s % 12 == 11) events.push_back({true, "", ts + 30'000'000, {}});
  }
  events.push_back({true, "", t0 + (kSteps + 20) * kStepUs, {}});
  return events;
}

std::string Line(const DeviceFlag& f) {
  return fmt::format("{} {} {} {} {:a} {:a} {:a} {} {} | {}", f.device_id, f.metric, f.detector, f.ts_us, f.value,
                     f.score.score, f.score.surprise, f.score.at_us, f.version, Describe(f.score, f.value));
}

DeviceScorer NewScorer() {
  auto s = DeviceScorer::Make(kMetrics, kNames, Plan);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(*s);
}

void Apply(DeviceScorer& scorer, const Event& e, std::vector<std::string>& out) {
  const DeviceFlagFn keep = [&](const DeviceFlag& f) { out.push_back(Line(f)); };
  if (e.tick) {
    scorer.Tick(e.ts_us, keep);
  } else {
    ASSERT_TRUE(scorer.Feed(e.device, e.ts_us, e.values, keep).ok());
  }
}

std::vector<std::string> Uninterrupted(const std::vector<Event>& events) {
  DeviceScorer scorer = NewScorer();
  std::vector<std::string> flags;
  for (const Event& e : events) Apply(scorer, e, flags);
  return flags;
}

TEST(DeviceScorerTest, FlagsTheAnomaliesOfAFleetAndADeviceThatWentDark) {
  const auto flags = Uninterrupted(Fleet());
  ASSERT_GT(flags.size(), 20u);
  auto count = [&](std::string_view needle) {
    return std::count_if(flags.begin(), flags.end(), [&](const std::string& l) { return l.find(needle) != l.npos; });
  };
  EXPECT_GT(count("dev-1 0 "), 0);  // the spikes
  EXPECT_GT(count("no data for"), 0);
  // dev-5 went dark at step 900 and never came back: only a tick can tell, once per detector.
  const int64_t dark_from = 1'704'067'200'000'000 + 899 * kStepUs + 5'000'000;
  int dark = 0;
  for (const auto& l : flags) {
    if (l.starts_with("dev-5 ") && l.find("no data for") != l.npos) {
      long long at = 0;
      ASSERT_EQ(std::sscanf(l.c_str(), "dev-5 %*u %*u %*d %*s %*s %*s %lld", &at), 1) << l;
      if (at > dark_from) ++dark;
    }
  }
  EXPECT_EQ(dark, 4 * 2);  // four series, `default` and `silent` each
}

TEST(DeviceScorerTest, ResumesFromCheckpointsWithIdenticalFlags) {
  const std::vector<Event> events = Fleet();
  const std::vector<std::string> expected = Uninterrupted(events);
  std::mt19937 rng(11);
  for (int trial = 0; trial < 3; ++trial) {
    // Checkpoints at several random points; each time the run continues in a fresh scorer.
    std::vector<size_t> at;
    for (int i = 0; i < 4; ++i) at.push_back(std::uniform_int_distribution<size_t>(1, events.size() - 1)(rng));
    std::sort(at.begin(), at.end());
    auto scorer = std::make_unique<DeviceScorer>(NewScorer());
    std::vector<std::string> flags;
    size_t next = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      while (next < at.size() && at[next] == i) {
        const std::string checkpoint = scorer->Save();
        auto fresh = std::make_unique<DeviceScorer>(NewScorer());
        const Status restored = fresh->Restore(checkpoint);
        ASSERT_TRUE(restored.ok()) << restored.message();
        EXPECT_EQ(fresh->Save(), checkpoint);
        scorer = std::move(fresh);
        ++next;
      }
      Apply(*scorer, events[i], flags);
    }
    ASSERT_EQ(flags.size(), expected.size()) << "trial " << trial;
    for (size_t i = 0; i < flags.size(); ++i) ASSERT_EQ(flags[i], expected[i]) << "trial " << trial << " flag " << i;
  }
}

/// A checkpoint of the fleet half-way through.
std::string HalfwayCheckpoint() {
  const std::vector<Event> events = Fleet();
  DeviceScorer scorer = NewScorer();
  std::vector<std::string> flags;
  for (size_t i = 0; i < events.size() / 2; ++i) Apply(scorer, events[i], flags);
  return scorer.Save();
}

/// Rewrites the checksum after a test edited the body (layout: body, then HashBytes(body).lo).
void Reseal(std::string& checkpoint) {
  const uint64_t sum = HashBytes(std::string_view(checkpoint).substr(0, checkpoint.size() - 8), 0xC0FFEE).lo;
  std::memcpy(checkpoint.data() + checkpoint.size() - 8, &sum, 8);
}

TEST(DeviceScorerTest, RefusesADamagedCheckpointAndKeepsItsState) {
  const std::string good = HalfwayCheckpoint();
  DeviceScorer scorer = NewScorer();
  ASSERT_TRUE(scorer.Restore(good).ok());
  for (size_t at : {size_t{20}, good.size() / 3, good.size() / 2, good.size() - 3}) {
    std::string bad = good;
    bad[at] ^= 0x10;
    const Status s = scorer.Restore(bad);
    EXPECT_EQ(s.code(), Errc::kCorrupt) << at;
    EXPECT_NE(s.message().find("damaged"), std::string::npos) << s.message();
  }
  std::string cut = good.substr(0, good.size() - 100);
  EXPECT_EQ(scorer.Restore(cut).code(), Errc::kCorrupt);
  Reseal(cut);
  const Status truncated = scorer.Restore(cut);
  EXPECT_EQ(truncated.code(), Errc::kCorrupt);
  EXPECT_EQ(scorer.Restore("not a checkpoint").code(), Errc::kCorrupt);
  EXPECT_EQ(scorer.Save(), good);  // every refusal left the state as it was
}

TEST(DeviceScorerTest, RefusesAnotherFormatOrDetectorVersionInOneSentence) {
  const std::string good = HalfwayCheckpoint();
  DeviceScorer scorer = NewScorer();
  std::string other_format = good;
  other_format[8] = 2;  // the format version follows the 8-byte magic
  Status s = scorer.Restore(other_format);
  EXPECT_EQ(s.code(), Errc::kConflict);
  EXPECT_EQ(s.message(), "checkpoint: format version 2 is not the one this build reads (1)");

  // A detector saved at another version: its state's layout may differ, so it is not resumed.
  std::string other_detector = good;
  const std::string name = std::string("\x0b\0\0\0", 4) + "mahalanobis";
  const size_t at = other_detector.find(name);
  ASSERT_NE(at, std::string::npos);
  const int32_t version = MahalanobisDetector::kVersion + 1;
  std::memcpy(other_detector.data() + at + name.size(), &version, 4);
  Reseal(other_detector);
  s = scorer.Restore(other_detector);
  EXPECT_EQ(s.code(), Errc::kConflict);
  EXPECT_EQ(s.message(), fmt::format("checkpoint: detector mahalanobis was version {} when saved and is version {} "
                                     "in this build, so its state cannot be resumed",
                                     version, MahalanobisDetector::kVersion));

  // Another scorer: other detectors, other metrics.
  auto fewer = DeviceScorer::Make(kMetrics, {"default", "silent"}, Plan);
  ASSERT_TRUE(fewer.ok());
  EXPECT_EQ(fewer->Restore(good).code(), Errc::kConflict);
  auto other_metrics = DeviceScorer::Make({"temp_c"}, kNames, Plan);
  ASSERT_TRUE(other_metrics.ok());
  EXPECT_NE(other_metrics->Restore(good).message().find("metrics"), std::string::npos);
  EXPECT_EQ(scorer.device_count(), 0u);
}

TEST(DeviceScorerTest, TickFlagsASilenceOnceAndForgetDropsTheDevice) {
  auto made = DeviceScorer::Make({"x"}, {"silent"}, [](std::string_view, size_t) {
    SeriesPlan p;
    p.detectors = {0};
    return p;
  });
  ASSERT_TRUE(made.ok());
  DeviceScorer scorer = std::move(*made);
  std::vector<std::string> flags;
  const DeviceFlagFn keep = [&](const DeviceFlag& f) { flags.push_back(Line(f)); };
  // Two and a half hours of reporting (a silence counts once a series reported for 12 timeouts).
  for (int i = 0; i < 150; ++i) {
    const double v[] = {1.0 + i % 3};
    ASSERT_TRUE(scorer.Feed("a", i * 60'000'000LL, v, keep).ok());
    ASSERT_TRUE(scorer.Feed("b", i * 60'000'000LL, v, keep).ok());
  }
  const double later[] = {2.0};
  ASSERT_TRUE(scorer.Feed("b", 155 * 60'000'000LL, later, keep).ok());
  scorer.Tick(160 * 60'000'000LL, keep);  // a: 11 minutes of silence (timeout 10), b: 5
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_TRUE(flags[0].starts_with("a 0 0 9600000000 nan ")) << flags[0];
  scorer.Tick(170 * 60'000'000LL, keep);  // a: the same silence; b: 15 minutes now
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_TRUE(flags[1].starts_with("b 0 0 ")) << flags[1];
  EXPECT_EQ(scorer.device_count(), 2u);
  DeviceScorer moved = std::move(scorer);
  moved.Forget("a");
  EXPECT_EQ(moved.device_count(), 1u);
  moved.TickDevice("a", 50 * 60'000'000LL, keep);
  EXPECT_EQ(flags.size(), 2u);
}

TEST(DeviceScorerTest, RejectsUnknownDetectorsAndBadParameters) {
  EXPECT_FALSE(DeviceScorer::Make(kMetrics, {"default", "nope"}, Plan).ok());
  auto scorer = DeviceScorer::Make(kMetrics, {"window_z"}, [](std::string_view, size_t) {
    SeriesPlan p;
    p.detectors = {0};
    p.params = {{"window_z.window", 100000}};
    return p;
  });
  ASSERT_TRUE(scorer.ok());
  const double v[] = {1.0};
  EXPECT_EQ(scorer->Feed("d", 1, v, [](const DeviceFlag&) {}).code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace iotad::detect
