// End-to-end tests of `iotad eval --lake` (silver replayed against the labels of `iotad
// generate`) and of the replay itself: gold's anomalies of an online detector are exactly what the
// detector gives when the same series is fed to it point by point, here or by `iotad score-file`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "e2e_util.h"
#include "iotad/core/timestamp.h"
#include "iotad/detect/detector.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

/// One row of the event table: kind, events, detected, recall, precision, F1 (as printed).
struct TableRow {
  std::string kind;
  long long events = -1, detected = -1;
  std::string recall, precision, f1;
};
std::vector<TableRow> EventTable(const std::string& out) {
  std::vector<TableRow> rows;
  bool in_table = false;
  for (const std::string& line : Lines(out)) {
    if (line.starts_with("kind ")) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(^(\w+) +(\d+) +(\d+) +(\S+) +(\S+) +(\S+) )"))) break;
    rows.push_back({m[1], std::stoll(m[2]), std::stoll(m[3]), m[4], m[5], m[6]});
  }
  return rows;
}

/// A number of the JSON output, e.g. JsonNumber(out, R"("device_days":)").
double JsonNumber(const std::string& json, const std::string& key) {
  const size_t at = json.find(key);
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + key.size(), nullptr);
}

class LakeEvalTest : public ::testing::Test {
 protected:
  /// gold.false_alarms_per_day in the lake's iotad.toml (a new lake has the default).
  double ConfiguredFalseAlarmsPerDay() const {
    std::smatch m;
    const std::string config = ReadFile(fs::path(lake_) / "iotad.toml");
    if (!std::regex_search(config, m, std::regex(R"(\nfalse_alarms_per_day = (\S+)\n)"))) return -1;
    return std::stod(m[1]);
  }
  /// Generates a fleet into dir/gen (flags appended) and builds a lake's silver from it.
  void MakeLake(const std::vector<std::string>& generate_flags) {
    std::vector<std::string> args = {"generate", "--out", gen_, "--seed", "3"};
    args.insert(args.end(), generate_flags.begin(), generate_flags.end());
    CmdResult r = RunIotad(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(RunIotad({"init", lake_}).exit_code, 0);
    r = RunIotad({"ingest", gen_, "--lake", lake_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = RunIotad({"silver", "--lake", lake_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CmdResult Eval(std::vector<std::string> extra = {}, const std::string& labels = "") {
    std::vector<std::string> args = {"eval", "--labels", labels.empty() ? labels_ : labels, "--lake", lake_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunIotad(args);
  }
  TempDir dir_;
  std::string gen_ = dir_ / "gen";
  std::string labels_ = dir_ / "gen/_labels.csv";
  std::string lake_ = dir_ / "lake";
};

TEST_F(LakeEvalTest, EveryKindHasItsRowAndTheFiguresAddUp) {
  MakeLake({"--devices", "20", "--hours", "72", "--anomaly-rate", "2"});
  const CmdResult r = Eval();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Detector default (v"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(: 20 devices, \d+ rows, 2024-01-01T00:00:00Z to 2024-01-03T23:59:00Z)")))
      << r.out;
  const std::vector<TableRow> rows = EventTable(r.out);
  ASSERT_EQ(rows.size(), 6u) << r.out;
  EXPECT_EQ(rows[0].kind, "all");
  const std::vector<std::string> kinds = {"drift", "dropout", "level_shift", "spike", "stuck"};
  long long events = 0, detected = 0;
  for (size_t i = 0; i < kinds.size(); ++i) {
    const TableRow& row = rows[i + 1];
    EXPECT_EQ(row.kind, kinds[i]);
    EXPECT_GT(row.events, 0) << row.kind;
    EXPECT_LE(row.detected, row.events) << row.kind;
    EXPECT_EQ(row.recall, fmt::format("{:.3f}", static_cast<double>(row.detected) / static_cast<double>(row.events)))
        << row.kind;
    events += row.events;
    detected += row.detected;
  }
  EXPECT_EQ(rows[0].events, events);
  EXPECT_EQ(rows[0].detected, detected);
  EXPECT_EQ(rows[0].events, static_cast<long long>(Lines(ReadFile(labels_)).size()) - 1);  // minus the header

  // The JSON carries the same figures, with alerts = true + false.
  const CmdResult json = Eval({"--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(JsonNumber(json.out, R"("devices":)"), 20);
  EXPECT_EQ(JsonNumber(json.out, R"("overall":{"kind":"all","events":)"), static_cast<double>(events));
  EXPECT_EQ(JsonNumber(json.out, R"("overall":{"kind":"all","events":)" + std::to_string(events) + R"(,"detected":)"),
            static_cast<double>(detected));
  const double alerts = JsonNumber(json.out, R"("alerts":)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(json.out, m, std::regex(R"("overall":\{[^}]*"true_alerts":(\d+),"false_alerts":(\d+))")))
      << json.out;
  EXPECT_EQ(alerts, std::stod(m[1]) + std::stod(m[2]));
  EXPECT_NEAR(JsonNumber(json.out, R"("device_days":)"), 20 * (72 * 60 - 1) / 1440.0, 1e-9);

  // Hours of normal operation: the 20 device-spans minus, per device, the union of its labelled
  // events (clipped to the span), computed here from the labels file.
  const long long first = *ParseTimestamp("2024-01-01T00:00:00Z");
  const long long last = *ParseTimestamp("2024-01-03T23:59:00Z");
  std::map<std::string, std::vector<std::pair<long long, long long>>> spans;
  for (const std::string& line : Lines(ReadFile(labels_))) {
    const std::vector<std::string> cells = Cells(line);
    if (cells.size() < 4 || cells[0] == "device_id") continue;
    const auto start = ParseTimestamp(cells[2]);
    const auto end = ParseTimestamp(cells[3]);
    ASSERT_TRUE(start && end) << line;
    spans[cells[0]].emplace_back(std::max<long long>(*start, first), std::min<long long>(*end, last));
  }
  long long event_us = 0;
  for (auto& [device, list] : spans) {
    std::sort(list.begin(), list.end());
    long long to = first;
    for (const auto& [a, b] : list) {
      if (b > std::max(a, to)) event_us += b - std::max(a, to);
      to = std::max(to, b);
    }
  }
  ASSERT_GT(event_us, 0);
  const double normal_hours = (20.0 * static_cast<double>(last - first) - static_cast<double>(event_us)) / 3.6e9;
  EXPECT_NEAR(JsonNumber(json.out, R"("normal_hours":)"), normal_hours, 1e-6);
  const double false_alerts = std::stod(m[2]);
  EXPECT_NEAR(JsonNumber(json.out, R"("false_alarm_events_per_normal_hour":)"), false_alerts / normal_hours, 1e-9);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(fmt::format(R"(false alarms per device-day over 60\.0 device-days, {:.3f} per hour of normal )"
                                    R"(operation over {:.1f} h\n)",
                                    false_alerts / normal_hours, normal_hours))))
      << r.out;
}

TEST_F(LakeEvalTest, PerEventListsEachLabelledEventAndEachFalseAlert) {
  MakeLake({"--devices", "20", "--hours", "72", "--anomaly-rate", "2"});
  const CmdResult r = Eval({"--per-event"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<TableRow> rows = EventTable(r.out);
  ASSERT_FALSE(rows.empty()) << r.out;
  // One line per label, in the labels' order, found or missed; a found one says when and why.
  std::vector<std::string> labels;
  for (const std::string& line : Lines(ReadFile(labels_))) {
    const std::vector<std::string> cells = Cells(line);
    if (cells.size() >= 5 && cells[0] != "device_id") labels.push_back(fmt::format("{} {} {} {}", cells[0], cells[1], cells[4], cells[2]));
  }
  std::vector<std::string> listed;
  long long found = 0, false_listed = -1, false_lines = 0;
  bool in_false = false;
  for (const std::string& line : Lines(r.out)) {
    if (line.starts_with("False alerts (")) {
      in_false = true;
      false_listed = std::stoll(line.substr(14));
      continue;
    }
    if (in_false) {
      ++false_lines;
      EXPECT_NE(line.find("detection"), std::string::npos) << line;
      continue;
    }
    if (!line.starts_with("found  ") && !line.starts_with("missed ")) continue;
    const std::vector<std::string> words = [&] {
      std::vector<std::string> w;
      std::istringstream in(line);
      for (std::string x; in >> x;) w.push_back(x);
      return w;
    }();
    ASSERT_GE(words.size(), 5u) << line;
    listed.push_back(fmt::format("{} {} {} {}", words[1], words[2], words[3], words[4]));
    if (words[0] == "found") {
      ++found;
      EXPECT_NE(line.find(": at "), std::string::npos) << line;
      EXPECT_TRUE(std::regex_search(line, std::regex(R"(\[[a-z_]+, .*score [01]\.\d+\]$)"))) << line;  // the flag's explanation
    }
  }
  EXPECT_EQ(listed, labels) << r.out;
  EXPECT_EQ(found, rows[0].detected);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(alerts \(\d+ true, (\d+) false\))"))) << r.out;
  EXPECT_EQ(false_listed, std::stoll(m[1]));
  EXPECT_EQ(false_lines, false_listed);
  // The false alerts by what reported them (a knob of 20 false alarms per series-day, so there
  // are some): each name counts the listed false alerts whose explanation it heads
  // ("[volatility, driven by ...]"), and the counts add up.
  const CmdResult loud = Eval({"--per-event", "--false-alarms-per-day", "20"});
  ASSERT_EQ(loud.exit_code, 0) << loud.err;
  ASSERT_TRUE(std::regex_search(loud.out, m, std::regex(R"(alerts \(\d+ true, (\d+) false\))"))) << loud.out;
  const long long loud_false = std::stoll(m[1]);
  ASSERT_GT(loud_false, 0) << loud.out;
  ASSERT_TRUE(std::regex_search(loud.out, m, std::regex(R"(\nfalse alerts by what reported them:((?: [a-z_]+ \d+)+)\n)")))
      << loud.out;
  {
    std::istringstream in(m[1].str());
    long long total = 0;
    for (std::string name, n; in >> name >> n;) {
      long long headed = 0;
      bool listing = false;
      for (const std::string& line : Lines(loud.out)) {
        if (line.starts_with("False alerts (")) listing = true;
        if (listing && line.find("[" + name + ", ") != std::string::npos) ++headed;
      }
      EXPECT_EQ(headed, std::stoll(n)) << name;
      total += std::stoll(n);
    }
    EXPECT_EQ(total, loud_false);
  }
  const CmdResult loud_json = Eval({"--false-alarms-per-day", "20", "--format", "json"});
  ASSERT_EQ(loud_json.exit_code, 0) << loud_json.err;
  ASSERT_TRUE(std::regex_search(loud_json.out, m, std::regex(R"("false_alerts_by_detector":\{([^}]*)\})")))
      << loud_json.out;
  long long by_detector = 0;
  const std::string counts = m[1].str();
  const std::regex pair(R"("[a-z_]+":(\d+))");
  for (std::sregex_iterator it(counts.begin(), counts.end(), pair), end; it != end; ++it) {
    by_detector += std::stoll((*it)[1].str());
  }
  EXPECT_EQ(by_detector, loud_false);
  // None, none listed.
  EXPECT_EQ(false_listed == 0, r.out.find("false alerts by what reported them") == std::string::npos) << r.out;

  // The same in JSON: "per_event" (one object per label) and "false_alerts".
  const CmdResult json = Eval({"--per-event", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto count = [&](const std::string& needle) {
    long long n = 0;
    for (size_t at = json.out.find(needle); at != std::string::npos; at = json.out.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(R"("found":true)"), found);
  EXPECT_EQ(count(R"("found":)"), static_cast<long long>(labels.size()));
  EXPECT_EQ(count(R"("found_at":)"), found);
  ASSERT_TRUE(std::regex_search(json.out, m, std::regex(R"("false_alerts":\[(.*)\]\}\n$)"))) << json.out.substr(json.out.size() - 300);
  EXPECT_EQ(count(R"("first":)"), false_listed + 1);  // and the replay's own "first"
  // Without the flag, no listing.
  const CmdResult plain = Eval({"--format", "json"});
  EXPECT_EQ(plain.out.find("per_event"), std::string::npos);
}

TEST_F(LakeEvalTest, SpikesOfThreeTimesTheValueAreFound) {
  MakeLake({"--devices", "20", "--hours", "72", "--anomaly-kinds", "spike", "--anomaly-rate", "1"});
  // Keep the labels of spikes that multiplied the reading by 3 or 3.5 (the value over the
  // reading a minute before); spikes down (x0.2, x0.3) are left out.
  // `iotad sql` reads only the lake unless told: --allow-read lets it join the labels file.
  const CmdResult x3_run = RunIotad({"sql", "--lake", lake_, "--format", "csv", "--allow-read", gen_, fmt::format("WITH l AS (SELECT * FROM read_csv('{}', header = true, all_varchar = true)), "
                         "s AS (SELECT device_id, event_time, temp_c / lag(temp_c) OVER w AS temp_c, "
                         "humidity_pc / lag(humidity_pc) OVER w AS humidity_pc, "
                         "vibration_g / lag(vibration_g) OVER w AS vibration_g FROM silver "
                         "WINDOW w AS (PARTITION BY device_id ORDER BY event_time)) "
                         "SELECT l.device_id || '|' || l.metric || '|' || l.start AS k FROM l JOIN s "
                         "ON s.device_id = l.device_id AND s.event_time = l.start::TIMESTAMPTZ "
                         "WHERE CASE l.metric WHEN 'temp_c' THEN s.temp_c WHEN 'humidity_pc' THEN s.humidity_pc "
                         "ELSE s.vibration_g END >= 2.5",
                         labels_)});
  ASSERT_EQ(x3_run.exit_code, 0) << x3_run.err;
  const std::string x3 = x3_run.out;
  std::vector<std::string> keep = Lines(x3);
  keep.erase(keep.begin());  // the column name
  ASSERT_GE(keep.size(), 5u) << x3;
  std::string labels = "device_id,metric,start,end,kind\n";
  for (std::string& k : keep) std::replace(k.begin(), k.end(), '|', ',');
  for (const std::string& line : Lines(ReadFile(labels_))) {
    for (const std::string& k : keep) {
      if (line.starts_with(k + ",")) labels += line + "\n";
    }
  }
  WriteFile(dir_ / "x3_labels.csv", labels);
  const CmdResult r = Eval({}, dir_ / "x3_labels.csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<TableRow> rows = EventTable(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(rows[1].kind, "spike");
  EXPECT_EQ(rows[1].events, static_cast<long long>(keep.size()));
  EXPECT_GE(static_cast<double>(rows[1].detected), 0.8 * static_cast<double>(rows[1].events)) << r.out;
}

TEST_F(LakeEvalTest, AFleetWithoutAnomaliesHasNoEventsAndCountsFalseAlarms) {
  MakeLake({"--devices", "20", "--hours", "72", "--anomaly-rate", "0"});
  CmdResult r = Eval();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<TableRow> rows = EventTable(r.out);
  ASSERT_EQ(rows.size(), 1u) << r.out;
  EXPECT_EQ(rows[0].kind, "all");
  EXPECT_EQ(rows[0].events, 0);
  EXPECT_EQ(rows[0].recall, "n/a");
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(; \d+\.\d{3} false alarms per device-day over 60\.0 device-days)")))
      << r.out;
  // Without events every covered hour is normal operation: 20 devices x (72 h - 1 min).
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(, \d+\.\d{3} per hour of normal operation over 1439\.7 h\n)")))
      << r.out;

  // The sensitivity is the lake's gold.false_alarms_per_day unless --false-alarms-per-day says otherwise.
  r = Eval({"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double configured = ConfiguredFalseAlarmsPerDay();
  ASSERT_GT(configured, 0);
  EXPECT_EQ(JsonNumber(r.out, R"("false_alarms_per_day":)"), configured);
  EXPECT_GE(JsonNumber(r.out, R"("false_alarms_per_device_day":)"), 0.0) << r.out;
  EXPECT_EQ(JsonNumber(r.out, R"("alerts":)"), JsonNumber(r.out, R"("false_alerts":)")) << r.out;
  const fs::path config = fs::path(lake_) / "iotad.toml";
  WriteFile(config, std::regex_replace(ReadFile(config), std::regex(R"(\nfalse_alarms_per_day = \S+\n)"),
                                       "\nfalse_alarms_per_day = 0.5\n"));
  r = Eval({"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonNumber(r.out, R"("false_alarms_per_day":)"), 0.5);
  r = Eval({"--format", "json", "--false-alarms-per-day", "0.01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonNumber(r.out, R"("false_alarms_per_day":)"), 0.01);
}

TEST_F(LakeEvalTest, BadUsageIsOneLine) {
  MakeLake({"--devices", "2", "--hours", "2"});
  const std::string empty_lake = dir_ / "empty";
  ASSERT_EQ(RunIotad({"init", empty_lake}).exit_code, 0);
  WriteFile(dir_ / "windows.json", "{}\n");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"eval", "--labels", labels_, "--lake", dir_ / "nope"}, 3, "no lake at"},
      {{"eval", "--labels", dir_ / "nope.csv", "--lake", lake_}, 3, "cannot read"},
      {{"eval", "--labels", labels_, "--lake", lake_, "--detector", "nope"}, 2, "unknown detector 'nope'"},
      {{"eval", "--labels", labels_, "--lake", empty_lake}, 3, "is empty: nothing to replay"},
      {{"eval", "--labels", dir_ / "windows.json", "--lake", lake_}, 1, "the labels CSV `iotad generate` writes"},
      {{"eval", "--labels", labels_, "--lake", lake_, "--data", dir_.path().string()}, 2, "give one of --lake"},
      {{"eval", "--labels", labels_, "--lake", lake_, "--false-alarms-per-day", "0"}, 2, "must be a number > 0"},
      {{"eval", "--labels", labels_, "--lake", lake_, "--per-file"}, 2, "not --lake"},
      {{"eval", "--labels", labels_, "--lake", lake_, "--leave-one-out"}, 2, "not --lake"},
      {{"eval", "--labels", labels_, "--lake", lake_, "--threshold", "0.5"}, 2, "not --lake"},
      {{"eval", "--labels", labels_}, 2, "give --lake LAKE"},
      // One name, one detector: `zscore` is gold's batch detector, not an online look-alike.
      {{"eval", "--labels", labels_, "--lake", lake_, "--detector", "zscore"}, 2,
       "zscore is a batch detector (it needs all of a series before scoring a point): only gold runs it; "
       "running_zscore is zscore without look-ahead"},
  };
  for (const Case& c : cases) {
    const CmdResult r = RunIotad(c.args);
    EXPECT_EQ(r.signal, 0) << c.message;
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // Labels of devices the lake does not have are counted, and said.
  WriteFile(dir_ / "ghost.csv", "device_id,metric,start,end,kind\nghost-1,temp_c,2024-01-01T00:30:00Z,"
                                "2024-01-01T00:30:00Z,spike\n");
  const CmdResult ghost = RunIotad({"eval", "--labels", dir_ / "ghost.csv", "--lake", lake_});
  EXPECT_EQ(ghost.exit_code, 0) << ghost.err;
  EXPECT_NE(ghost.out.find("note: 1 labelled events are on devices silver does not have"), std::string::npos)
      << ghost.out;
  // $IOTAD_LAKE names the lake as for every other command.
  const CmdResult env = RunIotad({"eval", "--labels", labels_}, {{"IOTAD_LAKE", lake_}});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_NE(env.out.find("2 devices"), std::string::npos) << env.out;
}

/// A flag of the detector: when (Score::at_us), its score, and the index of the point that raised it.
struct Flag {
  long long at_us;
  double score;
  size_t row;
};

TEST_F(LakeEvalTest, GoldsReplayIsTheDetectorPointByPoint) {
  // Dirty data: empty cells, late and out-of-order rows, so silver's files are not in time order.
  MakeLake({"--devices", "10", "--hours", "48", "--anomaly-rate", "2", "--dirty"});
  CmdResult r = RunIotad({"gold", "--detector", "default", "--lake", lake_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The three series with the most anomalies.
  std::vector<std::string> series = Lines(Sql(
      lake_, "SELECT device_id || '|' || metric FROM anomalies WHERE detector = 'default' "
             "GROUP BY device_id, metric ORDER BY count(*) DESC, device_id, metric LIMIT 3"));
  series.erase(series.begin());
  ASSERT_EQ(series.size(), 3u);
  detect::DetectorOptions options;
  options.false_alarms_per_day = ConfiguredFalseAlarmsPerDay();
  for (const std::string& s : series) {
    SCOPED_TRACE(s);
    const std::string device = s.substr(0, s.find('|'));
    const std::string metric = s.substr(s.find('|') + 1);
    // Gold's anomalies of this series, and the series itself from silver in time order.
    std::vector<std::string> anomalies = Lines(Sql(
        lake_, fmt::format("SELECT epoch_us(event_time), printf('%.17g', score), detector_version FROM anomalies "
                           "WHERE detector = 'default' AND device_id = '{}' AND metric = '{}' ORDER BY 1, 2",
                           device, metric)));
    anomalies.erase(anomalies.begin());
    ASSERT_FALSE(anomalies.empty());
    std::vector<std::string> points = Lines(Sql(
        lake_, fmt::format("SELECT epoch_us(event_time), strftime(event_time, '%Y-%m-%d %H:%M:%S'), {0} FROM silver "
                           "WHERE device_id = '{1}' AND {0} IS NOT NULL ORDER BY event_time",
                           metric, device)));
    points.erase(points.begin());
    ASSERT_GT(points.size(), 1000u);

    // Point by point through a fresh detector, here.
    auto made = detect::MakeSeriesDetector("default", options);
    ASSERT_TRUE(made.ok()) << made.status().message();
    detect::SeriesDetector& detector = **made;
    std::vector<Flag> flags;
    std::vector<double> scores;
    std::string series_csv = "timestamp,value\n";
    for (size_t i = 0; i < points.size(); ++i) {
      const std::vector<std::string> cells = Cells(points[i]);
      ASSERT_EQ(cells.size(), 3u) << points[i];
      const detect::Score sc = detector.Update(std::stoll(cells[0]), std::strtod(cells[2].c_str(), nullptr));
      scores.push_back(sc.score);
      if (sc.flag) flags.push_back({sc.at_us, sc.score, i});
      series_csv += cells[1] + "," + cells[2] + "\n";
    }
    std::sort(flags.begin(), flags.end(),
              [](const Flag& a, const Flag& b) { return std::tie(a.at_us, a.score) < std::tie(b.at_us, b.score); });
    ASSERT_EQ(flags.size(), anomalies.size());
    for (size_t k = 0; k < flags.size(); ++k) {
      const std::vector<std::string> cells = Cells(anomalies[k]);
      EXPECT_EQ(std::stoll(cells[0]), flags[k].at_us) << k;
      EXPECT_EQ(std::strtod(cells[1].c_str(), nullptr), flags[k].score) << k;  // bit for bit
      EXPECT_EQ(std::stoi(cells[2]), detector.version()) << k;
    }

    // And through `iotad score-file`: every row's score as printed (%.9g), so the flagged ones too.
    WriteFile(dir_ / "series.csv", series_csv);
    r = RunIotad({"score-file", "--input", dir_ / "series.csv", "--output", dir_ / "scored.csv", "--detector",
                  "default"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> scored = Lines(ReadFile(dir_ / "scored.csv"));
    ASSERT_EQ(scored.size(), points.size() + 1);
    for (size_t i = 0; i < points.size(); ++i) {
      ASSERT_EQ(scored[i + 1].substr(scored[i + 1].rfind(',') + 1), fmt::format("{:.9g}", scores[i])) << i;
    }
    for (size_t k = 0; k < flags.size(); ++k) {
      const std::string& row = scored[flags[k].row + 1];
      EXPECT_EQ(row.substr(row.rfind(',') + 1),
                fmt::format("{:.9g}", std::strtod(Cells(anomalies[k])[1].c_str(), nullptr)))
          << k;
    }
  }
}

}  // namespace
}  // namespace iotad::e2e
