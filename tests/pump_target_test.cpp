// Issue 11's pump target on the stand-in of `iotad generate --profile pump` (gen/README.md):
// 34 testbed runs, 8 sensors at 1 s, one labelled fault each, loaded into a lake with its default
// config and replayed through `iotad eval --detector default`. The target: at least 27 of 34
// faults found at under 0.5 false-alarm events per hour of normal operation.
//
// False alarms per normal hour: eval's `false_alarm_events_per_normal_hour` (false alerts, i.e.
// flags on one series at most 10 min apart that match no fault up to 10 min after its end, over
// each run's own span minus its fault). The test's own count of normal hours, sum over runs of
// (readings - readings inside the run's label) / 3600, serves the baselines it prints.
//
// The log also shows `mahalanobis`, `window_z` and a look-ahead z-score baseline (per run and
// metric, |z| > 3 against the run's own mean and deviation; a fault is found when a flag falls
// inside its label), which on the real testbed finds 27 of 34: the stand-in should be close.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "e2e_util.h"
#include "iotad/core/timestamp.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

constexpr int kRuns = 34;

/// The first number after `key` in a JSON text; NaN when the key is missing.
double Number(const std::string& json, const std::string& key) {
  const auto at = json.find(key);
  if (at == std::string::npos) return NAN;
  return std::strtod(json.c_str() + at + key.size(), nullptr);
}

/// eval's overall figures (the object after `"overall":`).
std::string Overall(const std::string& json) {
  const auto at = json.find(R"("overall":)");
  return at == std::string::npos ? std::string() : json.substr(at);
}

struct Label {
  std::string device;
  TimestampUs start_us = 0;
  TimestampUs end_us = 0;
};

/// One run's readings: times and the metric columns.
struct RunData {
  std::vector<TimestampUs> times;
  std::vector<std::vector<double>> values;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  return cells;
}

/// The lake, built once for every test here: a failure in set-up fails each test that uses it.
struct PumpLake {
  TempDir dir;
  std::string lake;
  std::string labels;
  std::string error;  // empty when the set-up worked
  std::vector<Label> faults;
  std::map<std::string, RunData> runs;  // by device
  double normal_hours = 0;
  std::map<std::string, CmdResult> evals;  // by detector
  long long silent_after_run_end = -1;     // `default`'s flags for a run's data ending
  /// `default`'s flags in gold other than `silent` ones: device, metric, time.
  std::vector<std::tuple<std::string, std::string, TimestampUs>> default_flags_not_silent;
};

/// Fills `lake`, or sets its error.
void Build(PumpLake* p) {
  p->lake = p->dir / "lake";
  const std::string in = p->dir / "in";
  p->labels = in + "/_labels.csv";
  auto fail = [&](const std::string& what, const CmdResult& r) { p->error = what + " failed: " + r.err + r.out; };
  if (auto r = RunIotad({"init", p->lake}); r.exit_code != 0) return fail("init", r);
  if (auto r = RunIotad({"generate", "--profile", "pump", "--out", in}); r.exit_code != 0) {
    return fail("generate", r);
  }
  if (auto r = RunIotad({"ingest", "--lake", p->lake, in}); r.exit_code != 0) return fail("ingest", r);
  if (auto r = RunIotad({"silver", "--lake", p->lake}); r.exit_code != 0) return fail("silver", r);

  // The labels and the runs, read back from the files.
  std::stringstream labels(ReadFile(p->labels));
  std::string line;
  std::getline(labels, line);  // header
  while (std::getline(labels, line)) {
    const auto cells = SplitCsv(line);
    if (cells.size() != 5) continue;
    p->faults.push_back(Label{cells[0], ParseTimestamp(cells[2]).value_or(0),
                              ParseTimestamp(cells[3]).value_or(0)});
  }
  for (const std::string& name : ListFiles(in)) {
    if (name.rfind("pump-", 0) != 0) continue;
    std::stringstream text(ReadFile(fs::path(in) / name));
    std::getline(text, line);  // header
    RunData run;
    std::string device;
    while (std::getline(text, line)) {
      const auto cells = SplitCsv(line);
      if (cells.size() < 3) continue;
      device = cells[1];
      run.times.push_back(ParseTimestamp(cells[0]).value_or(0));
      run.values.resize(cells.size() - 2);
      for (size_t m = 2; m < cells.size(); ++m) run.values[m - 2].push_back(std::atof(cells[m].c_str()));
    }
    p->runs[device] = std::move(run);
  }
  double normal_s = 0;
  for (const Label& f : p->faults) {
    const auto it = p->runs.find(f.device);
    if (it == p->runs.end()) continue;
    normal_s += static_cast<double>(it->second.times.size()) -
                static_cast<double>((f.end_us - f.start_us) / kMicrosPerSecond + 1);
  }
  p->normal_hours = normal_s / 3600;

  for (const char* detector : {"default", "mahalanobis", "window_z"}) {
    p->evals[detector] = RunIotad({"eval", "--lake", p->lake, "--labels", p->labels, "--detector",
                                   detector, "--format", "json"});
  }
  // How many of default's flags say a run's data stopped (each run is a device whose data ends
  // while the lake goes on): the `silent` part of the ensemble.
  if (RunIotad({"gold", "--lake", p->lake, "--detectors", "default"}).exit_code == 0) {
    p->silent_after_run_end = SqlInt(
        p->lake, "select count(*) from anomalies where detector = 'default' and rule like 'no data%'");
    std::stringstream flags(Sql(p->lake,
                                "select device_id, metric, epoch_us(event_time) from anomalies where detector = "
                                "'default' and rule not like 'no data%' order by device_id, metric, event_time"));
    std::getline(flags, line);  // header
    while (std::getline(flags, line)) {
      const auto cells = SplitCsv(line);
      if (cells.size() == 3) p->default_flags_not_silent.emplace_back(cells[0], cells[1], std::atoll(cells[2].c_str()));
    }
  }
}

const PumpLake& Lake() {
  static PumpLake lake;
  static const bool built = (Build(&lake), true);
  (void)built;
  return lake;
}

/// False-alarm events per hour of normal operation (see the top of the file).
/// eval's false-alarm events per hour of normal operation (over each run's own span).
double FalseAlarmsPerNormalHour(const std::string& json) {
  return Number(json, R"("false_alarm_events_per_normal_hour":)");
}

/// Issue 11's pump target: at least 27 of 34 faults at under 0.5 false-alarm events per hour of
/// normal operation. Not met yet (see the closing notes): printed, not asserted.
bool PumpTargetMet(const std::string& json) {
  return Number(Overall(json), R"("detected":)") >= 27 && FalseAlarmsPerNormalHour(json) < 0.5;
}

/// The look-ahead z-score baseline: faults found and false-alarm events (flags on one series at
/// most 10 min apart, outside every label and its 10 min grace).
std::pair<int, int> LookAheadZ(const PumpLake& lake) {
  constexpr TimestampUs kGap = 600 * kMicrosPerSecond;
  int found = 0;
  int false_events = 0;
  for (const Label& f : lake.faults) {
    const RunData& run = lake.runs.at(f.device);
    bool hit = false;
    for (const auto& v : run.values) {
      double mean = 0;
      for (double x : v) mean += x;
      mean /= static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      const double sd = std::sqrt(ss / static_cast<double>(v.size()));
      TimestampUs last_false = -1;
      for (size_t i = 0; i < v.size(); ++i) {
        if (!(std::abs(v[i] - mean) > 3 * sd)) continue;
        const TimestampUs t = run.times[i];
        if (t >= f.start_us && t <= f.end_us) hit = true;
        if (t >= f.start_us && t <= f.end_us + kGap) continue;
        if (last_false < 0 || t - last_false > kGap) ++false_events;
        last_false = t;
      }
    }
    found += hit ? 1 : 0;
  }
  return {found, false_events};
}

/// `default`'s gold flags without the `silent` ones, scored like eval (an approximation: gold's
/// event times, not eval's replay): faults found and false-alarm events.
std::pair<int, int> DefaultWithoutSilent(const PumpLake& lake) {
  constexpr TimestampUs kGap = 600 * kMicrosPerSecond;
  std::map<std::string, const Label*> fault_of;
  for (const Label& f : lake.faults) fault_of[f.device] = &f;
  std::map<std::string, bool> found;
  int false_events = 0;
  std::string series;
  TimestampUs last = -1;
  bool last_true = false;
  for (const auto& [device, metric, t] : lake.default_flags_not_silent) {
    const auto it = fault_of.find(device);
    if (it == fault_of.end()) continue;
    const bool inside = t >= it->second->start_us && t <= it->second->end_us + kGap;
    if (inside) found[device] = true;
    // One alert: flags on one series at most 10 min apart; false when none of it matches.
    if (device + "/" + metric != series || t - last > kGap) {
      if (!series.empty() && !last_true) ++false_events;
      series = device + "/" + metric;
      last_true = false;
    }
    last_true = last_true || inside;
    last = t;
  }
  if (!series.empty() && !last_true) ++false_events;
  return {static_cast<int>(found.size()), false_events};
}

TEST(PumpTargetTest, EvalRunsOnThePumpSetForEveryDetector) {
  const PumpLake& lake = Lake();
  ASSERT_TRUE(lake.error.empty()) << lake.error;
  ASSERT_EQ(lake.faults.size(), static_cast<size_t>(kRuns));
  ASSERT_EQ(lake.runs.size(), static_cast<size_t>(kRuns));
  EXPECT_EQ(SqlInt(lake.lake, "select count(distinct device_id) from silver"), kRuns);
  ASSERT_GT(lake.normal_hours, kRuns * 0.2);  // runs of 15-25 min, faults of at most 65 %
  std::printf("pump stand-in: %d runs, %.2f h of normal operation\n", kRuns, lake.normal_hours);
  for (const auto& [detector, eval] : lake.evals) {
    ASSERT_EQ(eval.exit_code, 0) << detector << ": " << eval.err;
    const std::string overall = Overall(eval.out);
    EXPECT_EQ(Number(overall, R"("events":)"), kRuns) << eval.out;
    std::printf("  %-12s found %2.0f / %d, %3.0f false alarms: %.2f per normal hour, %.3f per device-day (eval)\n",
                detector.c_str(), Number(overall, R"("detected":)"), kRuns,
                Number(overall, R"("false_alerts":)"), FalseAlarmsPerNormalHour(eval.out),
                Number(eval.out, R"("false_alarms_per_device_day":)"));
  }
  std::printf("  issue 11's target for default (>= 27 found, < 0.5 per normal hour): %s\n",
              PumpTargetMet(lake.evals.at("default").out) ? "met" : "not met");
  const auto [found, false_events] = LookAheadZ(lake);
  std::printf("  %-12s found %2d / %d, %3d false alarms: %.2f per normal hour\n", "look-ahead z", found, kRuns,
              false_events, false_events / lake.normal_hours);
  std::printf("  default's flags that a run's data stopped (`silent`, gold): %lld\n", lake.silent_after_run_end);
  EXPECT_GE(lake.silent_after_run_end, 0);
  const auto [quiet_found, quiet_false] = DefaultWithoutSilent(lake);
  std::printf("  %-12s found %2d / %d, %3d false alarms: %.2f per normal hour (gold's flags, approximate)\n",
              "default without silent", quiet_found, kRuns, quiet_false, quiet_false / lake.normal_hours);
}

TEST(PumpTargetTest, LookAheadZScoreFindsMostButNotAllLikeOnTheRealTestbed) {
  const PumpLake& lake = Lake();
  ASSERT_TRUE(lake.error.empty()) << lake.error;
  ASSERT_EQ(lake.faults.size(), static_cast<size_t>(kRuns));
  const int found = LookAheadZ(lake).first;
  EXPECT_GE(found, 22);  // the real testbed's: 27
  EXPECT_LE(found, 31);
}

TEST(PumpTargetTest, GenerateRefusesFlagsThatDoNotApplyToTheProfile) {
  TempDir dir;
  const auto fleet_flag = RunIotad({"generate", "--profile", "pump", "--out", dir / "a", "--devices", "3"});
  EXPECT_EQ(fleet_flag.exit_code, 2);
  EXPECT_NE(fleet_flag.err.find("--devices does not apply to --profile pump"), std::string::npos) << fleet_flag.err;
  const auto runs = RunIotad({"generate", "--out", dir / "b", "--runs", "3"});
  EXPECT_EQ(runs.exit_code, 2);
  EXPECT_NE(runs.err.find("--runs applies only to --profile pump"), std::string::npos) << runs.err;
  const auto bogus = RunIotad({"generate", "--profile", "pumps", "--out", dir / "c"});
  EXPECT_EQ(bogus.exit_code, 2);
  EXPECT_NE(bogus.err.find("--profile must be fleet or pump"), std::string::npos) << bogus.err;
  const auto zero = RunIotad({"generate", "--profile", "pump", "--out", dir / "d", "--runs", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--runs"), std::string::npos) << zero.err;
  // Into a lake's inbox, with its own seed: two runs.
  const std::string lake = dir / "lake";
  ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
  const auto two = RunIotad({"generate", "--profile", "pump", "--lake", lake, "--runs", "2", "--seed", "5"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.out.find("wrote 2 pump runs"), std::string::npos) << two.out;
  EXPECT_TRUE(fs::exists(fs::path(lake) / "inbox" / "pump-run-02.csv"));
  EXPECT_TRUE(fs::exists(fs::path(lake) / "inbox" / "_labels.csv"));
}

}  // namespace
}  // namespace iotad::e2e
