#include "iotad/gen/fleet.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "iotad/core/timestamp.h"

namespace iotad::gen {
namespace {

using Files = std::map<std::string, std::string>;  // name -> contents, in time order

/// Runs the generator into memory.
GenerateReport GenerateInto(const FleetOptions& options, Files& files) {
  Result<GenerateReport> report =
      GenerateFleet(options, [&](const std::string& name, std::string_view contents) {
        files[name] = std::string(contents);
        return Status::Ok();
      });
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? std::move(report).value() : GenerateReport{};
}

FleetOptions SmallFleet(int64_t devices = 20, double hours = 24) {
  FleetOptions options;
  options.devices = devices;
  options.hours = hours;
  return options;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

/// Data lines of a file (header dropped for CSV, no trailing empty line).
std::vector<std::string_view> DataLines(std::string_view contents, bool csv) {
  std::vector<std::string_view> lines = Split(contents, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (csv && !lines.empty()) lines.erase(lines.begin());
  return lines;
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

/// One well-formed CSV row.
struct Row {
  TimestampUs time_us = 0;
  std::string device_id;
  std::string cells[3];  // metric text as written
  std::string location;
  std::string file;
  double Value(int metric) const { return *ParseNumber(cells[metric]); }
};

/// Parses a CSV row; nullopt for a malformed line.
std::optional<Row> ParseCsvRow(std::string_view line) {
  const std::vector<std::string_view> fields = Split(line, ',');
  if (fields.size() != 6) return std::nullopt;
  const std::optional<TimestampUs> time = ParseTimestamp(fields[0]);
  if (!time) return std::nullopt;
  Row row;
  row.time_us = *time;
  row.device_id = fields[1];
  for (int m = 0; m < 3; ++m) {
    if (!fields[2 + m].empty() && !ParseNumber(fields[2 + m])) return std::nullopt;
    row.cells[m] = fields[2 + m];
  }
  row.location = fields[5];
  return row;
}

/// All rows of a clean CSV run, keyed by device then time.
std::map<std::string, std::map<TimestampUs, Row>> RowsByDevice(const Files& files) {
  std::map<std::string, std::map<TimestampUs, Row>> by_device;
  for (const auto& [name, contents] : files) {
    for (std::string_view line : DataLines(contents, true)) {
      std::optional<Row> row = ParseCsvRow(line);
      EXPECT_TRUE(row.has_value()) << line;
      if (!row) continue;
      row->file = name;
      by_device[row->device_id][row->time_us] = *row;
    }
  }
  return by_device;
}

// A small strict JSON validator: enough to say a line is one well-formed object.
class JsonValidator {
 public:
  explicit JsonValidator(std::string_view text) : text_(text) {}
  bool IsObject() {
    SkipSpace();
    if (Peek() != '{' || !Value()) return false;
    SkipSpace();
    return pos_ == text_.size();
  }

 private:
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool String() {
    if (Peek() != '"') return false;
    ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\') ++pos_;
      if (static_cast<unsigned char>(c) < 0x20) return false;
    }
    return false;
  }
  bool Number() {
    const size_t start = pos_;
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    } else {
      return false;
    }
    if (Peek() == '.') {
      ++pos_;
      if (!(Peek() >= '0' && Peek() <= '9')) return false;
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!(Peek() >= '0' && Peek() <= '9')) return false;
      while (Peek() >= '0' && Peek() <= '9') ++pos_;
    }
    return pos_ > start;
  }
  bool Value() {
    SkipSpace();
    const char c = Peek();
    if (c == '"') return String();
    if (c == 'n') return Literal("null");
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == '{') {
      ++pos_;
      SkipSpace();
      if (Peek() == '}') return ++pos_, true;
      while (true) {
        SkipSpace();
        if (!String()) return false;
        SkipSpace();
        if (Peek() != ':') return false;
        ++pos_;
        if (!Value()) return false;
        SkipSpace();
        if (Peek() == '}') return ++pos_, true;
        if (Peek() != ',') return false;
        ++pos_;
      }
    }
    if (c == '[') {
      ++pos_;
      SkipSpace();
      if (Peek() == ']') return ++pos_, true;
      while (true) {
        if (!Value()) return false;
        SkipSpace();
        if (Peek() == ']') return ++pos_, true;
        if (Peek() != ',') return false;
        ++pos_;
      }
    }
    return Number();
  }
  std::string_view text_;
  size_t pos_ = 0;
};

int MetricIndex(std::string_view metric) {
  for (size_t m = 0; m < kFleetMetrics.size(); ++m) {
    if (kFleetMetrics[m] == metric) return static_cast<int>(m);
  }
  return -1;
}

std::string TempDir(std::string_view name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      fmt::format("iotad_fleet_test_{}_{}", name, static_cast<int>(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(FleetTest, SameSeedWritesIdenticalBytes) {
  FleetOptions options = SmallFleet(15, 6);
  options.dirty = true;
  Files first;
  Files second;
  GenerateInto(options, first);
  GenerateInto(options, second);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, second);
}

TEST(FleetTest, DifferentSeedWritesDifferentBytes) {
  FleetOptions options = SmallFleet(15, 6);
  Files first;
  Files second;
  GenerateInto(options, first);
  options.seed = 43;
  GenerateInto(options, second);
  ASSERT_EQ(first.size(), second.size());
  for (const auto& [name, contents] : first) EXPECT_NE(contents, second[name]) << name;
}

TEST(FleetTest, RowCountIsDevicesTimesStepsWithoutDirtOrDropouts) {
  FleetOptions options = SmallFleet(17, 16.6667);
  options.anomaly_kinds = {AnomalyKind::kSpike, AnomalyKind::kLevelShift, AnomalyKind::kStuck,
                           AnomalyKind::kDrift};
  options.anomaly_rate = 3;
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  EXPECT_EQ(report.steps, 1000);
  EXPECT_EQ(report.rows, 17 * 1000);
  EXPECT_EQ(report.readings, 17 * 1000);
  EXPECT_EQ(report.files, 17);  // 16 whole hours and 40 minutes
  EXPECT_EQ(report.first_us, *ParseTimestamp("2024-01-01T00:00:00Z"));
  EXPECT_EQ(report.last_us, *ParseTimestamp("2024-01-01T16:39:00Z"));
  int64_t lines = 0;
  for (const auto& [name, contents] : files) lines += std::ssize(DataLines(contents, true));
  EXPECT_EQ(lines, 17 * 1000);
}

TEST(FleetTest, DropoutsRemoveExactlyTheReadingsTheyCount) {
  FleetOptions options = SmallFleet(20, 48);
  options.anomaly_kinds = {AnomalyKind::kDropout};
  options.anomaly_rate = 2;
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  EXPECT_GT(report.dropped_readings, 0);
  EXPECT_EQ(report.readings + report.dropped_readings, 20 * 48 * 60);
  int64_t lines = 0;
  for (const auto& [name, contents] : files) lines += std::ssize(DataLines(contents, true));
  EXPECT_EQ(lines, report.rows);
  EXPECT_EQ(report.rows, report.readings);
}

TEST(FleetTest, CsvFilesHaveTheHeaderAndEveryCellParses) {
  FleetOptions options = SmallFleet(30, 3);
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(report.file_names, (std::vector<std::string>{
                                   "fleet-20240101T00.csv", "fleet-20240101T01.csv",
                                   "fleet-20240101T02.csv"}));
  std::set<std::string> locations;
  for (const auto& [name, contents] : files) {
    ASSERT_EQ(contents.substr(0, kFleetCsvHeader.size() + 1), std::string(kFleetCsvHeader) + "\n");
    const TimestampUs file_hour = *ParseTimestamp(
        fmt::format("{}-{}-{}T{}:00:00Z", name.substr(6, 4), name.substr(10, 2),
                    name.substr(12, 2), name.substr(15, 2)));
    TimestampUs previous_time = 0;
    std::string previous_device;
    for (std::string_view line : DataLines(contents, true)) {
      const std::vector<std::string_view> fields = Split(line, ',');
      ASSERT_EQ(fields.size(), 6u) << line;
      const std::optional<TimestampUs> time = ParseTimestamp(fields[0]);
      ASSERT_TRUE(time.has_value()) << line;
      EXPECT_EQ(FormatTimestamp(*time), fields[0]);
      EXPECT_EQ(HourStart(*time), file_hour) << line;
      // Ordered by time, then device.
      EXPECT_TRUE(*time > previous_time ||
                  (*time == previous_time && std::string(fields[1]) > previous_device))
          << line;
      previous_time = *time;
      previous_device = fields[1];
      EXPECT_EQ(fields[1].size(), 9u);
      EXPECT_EQ(fields[1].substr(0, 4), "dev-");
      const size_t decimals[3] = {2, 1, 4};
      for (int m = 0; m < 3; ++m) {
        ASSERT_TRUE(ParseNumber(fields[2 + m]).has_value()) << line;
        const size_t dot = fields[2 + m].find('.');
        ASSERT_NE(dot, std::string_view::npos) << line;
        EXPECT_EQ(fields[2 + m].size() - dot - 1, decimals[m]) << line;
      }
      const double humidity = *ParseNumber(fields[3]);
      EXPECT_GE(humidity, 0);
      EXPECT_LE(humidity, 100);
      EXPECT_GE(*ParseNumber(fields[4]), 0);
      EXPECT_FALSE(fields[5].empty());
      locations.insert(std::string(fields[5]));
    }
  }
  EXPECT_GE(locations.size(), 8u);  // 30 devices spread over ~20 cities
}

TEST(FleetTest, SignalsFollowADailyCycleAndAreNotFlatNoise) {
  FleetOptions options = SmallFleet(40, 24);
  options.anomaly_rate = 0;
  Files files;
  GenerateInto(options, files);
  const auto by_device = RowsByDevice(files);
  int with_cycle = 0;
  int anti_correlated = 0;
  for (const auto& [device, rows] : by_device) {
    double min_temp = 1e9;
    double max_temp = -1e9;
    double sum_t = 0, sum_h = 0, sum_tt = 0, sum_hh = 0, sum_th = 0;
    double n = 0;
    for (const auto& [time, row] : rows) {
      const double t = row.Value(0);
      const double h = row.Value(1);
      min_temp = std::min(min_temp, t);
      max_temp = std::max(max_temp, t);
      sum_t += t, sum_h += h, sum_tt += t * t, sum_hh += h * h, sum_th += t * h, n += 1;
    }
    const double cov = sum_th / n - sum_t / n * sum_h / n;
    const double var_t = sum_tt / n - sum_t / n * sum_t / n;
    const double var_h = sum_hh / n - sum_h / n * sum_h / n;
    if (max_temp - min_temp > 4) ++with_cycle;
    if (var_h > 0 && cov / std::sqrt(var_t * var_h) < -0.3) ++anti_correlated;
  }
  EXPECT_GE(with_cycle, 35);
  EXPECT_GE(anti_correlated, 30);
}

TEST(FleetTest, JsonlLinesAreValidJsonObjectsWithTheSameKeys) {
  FleetOptions options = SmallFleet(10, 2);
  options.format = FleetFormat::kJsonl;
  options.dirty = true;
  options.dirt.malformed_rate = 0;  // malformed lines are meant to be broken
  options.dirt.duplicate_rate = 0;  // so each empty cell is written once
  options.dirt.empty_cell_rate = 0.2;
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  EXPECT_EQ(report.file_names.front(), "fleet-20240101T00.jsonl");
  int64_t nulls = 0;
  int64_t lines = 0;
  for (const auto& [name, contents] : files) {
    for (std::string_view line : DataLines(contents, false)) {
      ++lines;
      EXPECT_TRUE(JsonValidator(line).IsObject()) << line;
      for (std::string_view key : {"\"event_time\":\"", "\"device_id\":\"", "\"temp_c\":",
                                   "\"humidity_pc\":", "\"vibration_g\":", "\"location\":"}) {
        EXPECT_NE(line.find(key), std::string_view::npos) << line;
      }
      for (size_t at = line.find("null"); at != std::string_view::npos;
           at = line.find("null", at + 1)) {
        ++nulls;
      }
    }
  }
  EXPECT_EQ(lines, report.rows);
  EXPECT_EQ(nulls, report.dirt.empty_cells);
}

TEST(FleetTest, MalformedJsonlLinesAreBrokenInTheThreeWays) {
  FleetOptions options = SmallFleet(50, 12);
  options.format = FleetFormat::kJsonl;
  options.dirty = true;
  options.dirt = DirtOptions{0, 0.02, 0, 0, 0};
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  int64_t invalid = 0, bad_time = 0, quoted_number = 0;
  for (const auto& [name, contents] : files) {
    for (std::string_view line : DataLines(contents, false)) {
      if (!JsonValidator(line).IsObject()) {
        ++invalid;
      } else if (line.find("\"yesterday\"") != std::string_view::npos ||
                 line.find("2024-13-45") != std::string_view::npos) {
        ++bad_time;
      } else if (line.find("_c\":\"") != std::string_view::npos ||
                 line.find("_pc\":\"") != std::string_view::npos ||
                 line.find("_g\":\"") != std::string_view::npos) {
        ++quoted_number;
      }
    }
  }
  EXPECT_GT(report.dirt.malformed_rows, 100);
  EXPECT_EQ(invalid + bad_time + quoted_number, report.dirt.malformed_rows);
  EXPECT_GT(invalid, 0);
  EXPECT_GT(bad_time, 0);
  EXPECT_GT(quoted_number, 0);
}

TEST(FleetTest, LabelsLieInRangeNameExistingDevicesAndNeverOverlap) {
  FleetOptions options = SmallFleet(100, 48);
  options.anomaly_rate = 2;
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  ASSERT_GT(report.labels.size(), 150u);
  int64_t by_kind[kAnomalyKindCount] = {};
  std::map<std::string, TimestampUs> last_end;
  for (size_t i = 0; i < report.labels.size(); ++i) {
    const AnomalyLabel& label = report.labels[i];
    EXPECT_GE(label.start_us, report.first_us);
    EXPECT_LE(label.end_us, report.last_us);
    EXPECT_LE(label.start_us, label.end_us);
    EXPECT_EQ(label.device_id.substr(0, 4), "dev-");
    const int device = std::stoi(label.device_id.substr(4));
    EXPECT_GE(device, 0);
    EXPECT_LT(device, 100);
    const std::optional<AnomalyKind> kind = ParseAnomalyKind(label.kind);
    ASSERT_TRUE(kind.has_value()) << label.kind;
    ++by_kind[static_cast<int>(*kind)];
    if (*kind == AnomalyKind::kDropout) {
      EXPECT_EQ(label.metric, "*");
    } else {
      EXPECT_GE(MetricIndex(label.metric), 0) << label.metric;
    }
    if (*kind == AnomalyKind::kSpike) {
      EXPECT_EQ(label.start_us, label.end_us);
    }
    if (i > 0) {
      const AnomalyLabel& previous = report.labels[i - 1];
      EXPECT_TRUE(previous.start_us < label.start_us ||
                  (previous.start_us == label.start_us && previous.device_id < label.device_id));
    }
    auto [it, inserted] = last_end.try_emplace(label.device_id, label.end_us);
    if (!inserted) {
      EXPECT_GT(label.start_us, it->second) << label.device_id;  // no overlap
      it->second = label.end_us;
    }
  }
  for (int k = 0; k < kAnomalyKindCount; ++k) {
    EXPECT_EQ(by_kind[k], report.anomalies_by_kind[static_cast<size_t>(k)]);
    EXPECT_GT(by_kind[k], 10) << AnomalyKindName(static_cast<AnomalyKind>(k));
  }
}

TEST(FleetTest, AnomalyRateIsRoughlyPerDeviceDay) {
  FleetOptions options = SmallFleet(200, 48);
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  // 0.5 per device-day over 400 device-days: about 200, a little less for the time anomalies
  // themselves take and for the edges of the range.
  EXPECT_GT(report.labels.size(), 150u);
  EXPECT_LT(report.labels.size(), 230u);
}

/// The anomalous run against the same seed without anomalies: signals come from separate
/// random streams, so any difference is an injected anomaly.
class FleetAnomalyTest : public ::testing::Test {
 protected:
  using RowMap = std::map<std::string, std::map<TimestampUs, Row>>;
  static void SetUpTestSuite() {
    FleetOptions options = SmallFleet(60, 48);
    options.anomaly_rate = 3;
    Files files;
    report_ = new GenerateReport(GenerateInto(options, files));
    rows_ = new RowMap(RowsByDevice(files));
    options.anomaly_rate = 0;
    Files clean_files;
    GenerateInto(options, clean_files);
    clean_ = new RowMap(RowsByDevice(clean_files));
  }
  static void TearDownTestSuite() {
    delete report_;
    delete rows_;
    delete clean_;
  }
  void SetUp() override {
    ASSERT_NE(report_, nullptr);
    report = *report_;
  }
  static GenerateReport* report_;
  static RowMap* rows_;
  static RowMap* clean_;
  GenerateReport report;
};

GenerateReport* FleetAnomalyTest::report_ = nullptr;
FleetAnomalyTest::RowMap* FleetAnomalyTest::rows_ = nullptr;
FleetAnomalyTest::RowMap* FleetAnomalyTest::clean_ = nullptr;

TEST_F(FleetAnomalyTest, OnlyLabelledWindowsDifferFromTheCleanRun) {
  int64_t differing = 0;
  for (const auto& [device, clean_rows] : *clean_) {
    for (const auto& [time, clean_row] : clean_rows) {
      const auto found = (*rows_)[device].find(time);
      bool inside = false;
      for (const AnomalyLabel& label : report.labels) {
        if (label.device_id == device && label.start_us <= time && time <= label.end_us) {
          inside = true;
          // Only the labelled metric changes.
          const int metric = MetricIndex(label.metric);
          for (int m = 0; m < 3 && found != (*rows_)[device].end(); ++m) {
            if (m != metric) {
              EXPECT_EQ(found->second.cells[m], clean_row.cells[m]);
            }
          }
        }
      }
      if (inside) {
        ++differing;
        continue;
      }
      ASSERT_NE(found, (*rows_)[device].end()) << device << " " << FormatTimestamp(time);
      for (int m = 0; m < 3; ++m) EXPECT_EQ(found->second.cells[m], clean_row.cells[m]);
    }
  }
  EXPECT_GT(differing, 1000);
}

TEST_F(FleetAnomalyTest, SpikeReadingsAreScaledByAKnownFactor) {
  int spikes = 0;
  for (const AnomalyLabel& label : report.labels) {
    if (label.kind != "spike") continue;
    ++spikes;
    const int m = MetricIndex(label.metric);
    ASSERT_GE(m, 0);
    const auto& rows = (*rows_)[label.device_id];
    const auto at = rows.find(label.start_us);
    ASSERT_NE(at, rows.end());
    ASSERT_NE(at, rows.begin());
    const auto after = std::next(at);
    ASSERT_NE(after, rows.end());
    const double neighbours = (std::prev(at)->second.Value(m) + after->second.Value(m)) / 2;
    const double ratio = at->second.Value(m) / neighbours;
    const double exact = at->second.Value(m) / (*clean_)[label.device_id][label.start_us].Value(m);
    bool near_factor = false;
    bool exact_factor = false;
    for (double factor : kSpikeFactors) {
      near_factor |= std::fabs(ratio / factor - 1) < 0.25;
      exact_factor |= std::fabs(exact / factor - 1) < 0.02;
    }
    EXPECT_TRUE(near_factor) << label.device_id << " " << label.metric << " ratio " << ratio;
    EXPECT_TRUE(exact_factor) << label.device_id << " " << label.metric << " ratio " << exact;
  }
  EXPECT_GT(spikes, 20);
}

TEST_F(FleetAnomalyTest, DropoutWindowsHaveNoRows) {
  int dropouts = 0;
  for (const AnomalyLabel& label : report.labels) {
    if (label.kind != "dropout") continue;
    ++dropouts;
    const auto& rows = (*rows_)[label.device_id];
    const auto first = rows.lower_bound(label.start_us);
    ASSERT_NE(first, rows.end());
    EXPECT_GT(first->first, label.end_us) << label.device_id;
    // The readings just outside the window are there.
    EXPECT_EQ(rows.count(label.start_us - 60 * kMicrosPerSecond), 1u);
    EXPECT_EQ(rows.count(label.end_us + 60 * kMicrosPerSecond), 1u);
    EXPECT_GE(label.end_us - label.start_us, 29 * kMicrosPerMinute);
    EXPECT_LE(label.end_us - label.start_us, 6 * kMicrosPerHour);
  }
  EXPECT_GT(dropouts, 20);
}

TEST_F(FleetAnomalyTest, StuckWindowsRepeatTheLastGoodValue) {
  int stuck = 0;
  for (const AnomalyLabel& label : report.labels) {
    if (label.kind != "stuck") continue;
    ++stuck;
    const int m = MetricIndex(label.metric);
    ASSERT_GE(m, 0);
    const auto& rows = (*rows_)[label.device_id];
    const auto first = rows.find(label.start_us);
    ASSERT_NE(first, rows.begin());
    const std::string last_good = std::prev(first)->second.cells[m];
    int64_t count = 0;
    for (auto it = first; it != rows.end() && it->first <= label.end_us; ++it, ++count) {
      EXPECT_EQ(it->second.cells[m], last_good) << label.device_id;
    }
    EXPECT_EQ(count, (label.end_us - label.start_us) / kMicrosPerMinute + 1);
    // At least an hour, unless cut short by the end of the range.
    if (label.end_us + kMicrosPerMinute < report.last_us) {
      EXPECT_GE(count, 60);
    }
  }
  EXPECT_GT(stuck, 20);
}

TEST_F(FleetAnomalyTest, LevelShiftsAndDriftsMoveTheMetricClearly) {
  const double noise[3] = {0.15, 0.8, 0};
  int checked = 0;
  for (const AnomalyLabel& label : report.labels) {
    if (label.kind != "level_shift" && label.kind != "drift") continue;
    ++checked;
    const int m = MetricIndex(label.metric);
    ASSERT_GE(m, 0);
    const auto& rows = (*rows_)[label.device_id];
    const auto& clean = (*clean_)[label.device_id];
    const double end_offset = rows.at(label.end_us).Value(m) - clean.at(label.end_us).Value(m);
    const double start_offset =
        rows.at(label.start_us).Value(m) - clean.at(label.start_us).Value(m);
    const double base = m == 2 ? clean.at(label.start_us).Value(m) : 8 * noise[m];
    EXPECT_GT(std::fabs(end_offset), base) << label.device_id << " " << label.kind;
    if (label.kind == "level_shift") {
      EXPECT_NEAR(start_offset, end_offset, 2 * std::pow(10.0, -(m == 0 ? 2 : m == 1 ? 1 : 4)));
    } else {
      EXPECT_LT(std::fabs(start_offset), std::fabs(end_offset) / 2) << label.device_id;
    }
  }
  EXPECT_GT(checked, 40);
}

TEST(FleetTest, DirtRatesAreRoughlyRespectedAndCountedExactly) {
  FleetOptions options = SmallFleet(200, 24);
  options.dirty = true;
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  const double readings = static_cast<double>(report.readings);
  ASSERT_GT(readings, 250000);
  const DirtCounts& dirt = report.dirt;
  EXPECT_NEAR(dirt.empty_cells / (4 * readings), 0.02, 0.02 * 0.1);
  EXPECT_NEAR(dirt.malformed_rows / readings, 0.001, 0.001 * 0.25);
  EXPECT_NEAR(dirt.duplicate_rows / readings, 0.005, 0.005 * 0.15);
  EXPECT_NEAR(dirt.out_of_order_rows / readings, 0.005, 0.005 * 0.15);
  EXPECT_NEAR(dirt.late_rows / readings, 0.002, 0.002 * 0.2);

  int64_t lines = 0, malformed = 0, empty = 0, later = 0, decreases = 0;
  std::set<std::string_view> distinct;
  for (const auto& [name, contents] : files) {
    const TimestampUs file_hour = *ParseTimestamp(
        fmt::format("{}-{}-{}T{}:00:00Z", name.substr(6, 4), name.substr(10, 2),
                    name.substr(12, 2), name.substr(15, 2)));
    std::map<std::string, TimestampUs> device_last;
    for (std::string_view line : DataLines(contents, true)) {
      ++lines;
      distinct.insert(line);
      const std::optional<Row> row = ParseCsvRow(line);
      if (!row) {
        ++malformed;
        continue;
      }
      for (int m = 0; m < 3; ++m) empty += row->cells[m].empty();
      empty += row->location.empty();
      const TimestampUs row_hour = HourStart(row->time_us);
      EXPECT_LE(row_hour, file_hour) << line;
      if (row_hour < file_hour) {
        ++later;
        EXPECT_LE(file_hour - row_hour, 6 * kMicrosPerHour) << line;
        continue;
      }
      auto [it, inserted] = device_last.try_emplace(row->device_id, row->time_us);
      if (!inserted) {
        decreases += row->time_us < it->second;
        it->second = row->time_us;
      }
    }
  }
  EXPECT_EQ(lines, report.rows);
  EXPECT_EQ(lines, report.readings + dirt.duplicate_rows);
  EXPECT_EQ(lines - std::ssize(distinct), dirt.duplicate_rows);
  // A duplicate of a malformed line is malformed too; the rest are exact.
  EXPECT_GE(malformed, dirt.malformed_rows);
  EXPECT_LE(malformed, dirt.malformed_rows + 5);
  EXPECT_NEAR(static_cast<double>(empty), static_cast<double>(dirt.empty_cells),
              dirt.empty_cells * 0.01);
  // Rows in a later file: the late ones and duplicates sent in the next file.
  EXPECT_NEAR(static_cast<double>(later),
              static_cast<double>(dirt.late_rows + dirt.duplicate_next_file_rows), 10);
  EXPECT_GT(dirt.duplicate_next_file_rows, dirt.duplicate_rows / 4);
  // Each swap puts one or two readings of a device before earlier ones.
  EXPECT_GE(decreases, dirt.out_of_order_rows * 9 / 10);
  EXPECT_LE(decreases, dirt.out_of_order_rows * 2);
}

TEST(FleetTest, LateRowsAppearInLaterFiles) {
  FleetOptions options = SmallFleet(50, 12);
  options.dirty = true;
  options.dirt = DirtOptions{0, 0, 0, 0, 0.05};
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  EXPECT_GT(report.dirt.late_rows, 1000);
  std::map<TimestampUs, int64_t> by_delay_h;
  for (const auto& [name, contents] : files) {
    const TimestampUs file_hour = *ParseTimestamp(
        fmt::format("{}-{}-{}T{}:00:00Z", name.substr(6, 4), name.substr(10, 2),
                    name.substr(12, 2), name.substr(15, 2)));
    for (std::string_view line : DataLines(contents, true)) {
      const std::optional<Row> row = ParseCsvRow(line);
      ASSERT_TRUE(row.has_value());
      const TimestampUs delay = file_hour - HourStart(row->time_us);
      if (delay != 0) ++by_delay_h[delay / kMicrosPerHour];
    }
  }
  int64_t late = 0;
  for (const auto& [delay_h, count] : by_delay_h) {
    EXPECT_GE(delay_h, 1);
    EXPECT_LE(delay_h, 6);
    late += count;
  }
  EXPECT_EQ(late, report.dirt.late_rows);
  EXPECT_EQ(by_delay_h.size(), 6u);
}

TEST(FleetTest, RatesAreIgnoredWithoutDirty) {
  FleetOptions options = SmallFleet(10, 3);
  Files plain;
  GenerateInto(options, plain);
  options.dirt = DirtOptions{0.5, 0.5, 0.5, 0.5, 0.5};
  Files with_rates;
  const GenerateReport report = GenerateInto(options, with_rates);
  EXPECT_EQ(plain, with_rates);
  EXPECT_EQ(report.dirt.empty_cells + report.dirt.malformed_rows + report.dirt.late_rows, 0);
}

TEST(FleetTest, DirtDoesNotChangeTheUnderlyingReadings) {
  FleetOptions options = SmallFleet(10, 3);
  options.dirt = DirtOptions{0, 0, 0, 0.05, 0};
  Files plain;
  GenerateInto(options, plain);
  options.dirty = true;
  Files dirty;
  const GenerateReport report = GenerateInto(options, dirty);
  EXPECT_GT(report.dirt.out_of_order_rows, 0);
  // Same lines, only in another order.
  for (const auto& [name, contents] : plain) {
    std::vector<std::string_view> a = DataLines(contents, true);
    std::vector<std::string_view> b = DataLines(dirty[name], true);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b) << name;
  }
}

TEST(FleetTest, DevicesDoNotDependOnFleetSizeOrChunking) {
  // 20000 devices split each hour into several chunks; the first ten devices must read the same
  // as in a fleet of ten, dirt included (swaps stay within a chunk, so they are left out).
  FleetOptions options = SmallFleet(20000, 1);
  options.anomaly_rate = 20;
  options.dirty = true;
  options.dirt = DirtOptions{0.05, 0.01, 0.05, 0, 0};
  const auto first_ten = [](std::string_view contents, std::string& out) {
    for (std::string_view line : DataLines(contents, true)) {
      if (line.find("dev-0000") != std::string_view::npos) (out += line) += '\n';
    }
  };
  std::string large_lines;
  Result<GenerateReport> large =
      GenerateFleet(options, [&](const std::string&, std::string_view contents) {
        first_ten(contents, large_lines);
        return Status::Ok();
      });
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->readings + large->dropped_readings, 20000 * 60);
  options.devices = 10;
  Files small;
  GenerateInto(options, small);
  ASSERT_EQ(small.size(), 1u);
  std::string small_lines;
  first_ten(small.begin()->second, small_lines);
  EXPECT_GT(small_lines.size(), 500u * 40);
  EXPECT_EQ(large_lines, small_lines);
}

TEST(FleetTest, DarkDevicesSendNothingFromTheirLabelOnAndTheOthersReadTheSame) {
  FleetOptions options = SmallFleet(20, 36);
  Files plain_files;
  const GenerateReport plain = GenerateInto(options, plain_files);
  options.dark_devices = 2;
  options.dark_hours = 10;
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  EXPECT_EQ(report.dark_devices, 2);
  std::vector<AnomalyLabel> dark;
  for (const AnomalyLabel& label : report.labels) {
    if (label.kind == kDarkKind) dark.push_back(label);
  }
  ASSERT_EQ(dark.size(), 2u);
  const auto plain_rows = RowsByDevice(plain_files);
  const auto rows = RowsByDevice(files);
  std::set<std::string> dark_ids;
  for (const AnomalyLabel& label : dark) {
    dark_ids.insert(label.device_id);
    EXPECT_EQ(label.metric, kDropoutMetric);
    EXPECT_EQ(label.start_us, report.last_us + kMicrosPerMinute - 10 * kMicrosPerHour);
    EXPECT_EQ(label.end_us, report.last_us);
    const auto& device_rows = rows.at(label.device_id);
    EXPECT_LT(device_rows.rbegin()->first, label.start_us);  // dark to the end
    EXPECT_EQ(device_rows.rbegin()->first, label.start_us - kMicrosPerMinute);
    // Its other anomalies are over before it goes dark (each has a normal reading after it).
    for (const AnomalyLabel& other : report.labels) {
      if (other.device_id == label.device_id && other.kind != kDarkKind) {
        EXPECT_LT(other.end_us, label.start_us - kMicrosPerMinute);
      }
    }
  }
  EXPECT_EQ(report.readings + report.dropped_readings, 20 * report.steps);
  EXPECT_LT(report.readings, plain.readings);
  // The other devices read exactly as without dark devices.
  for (const auto& [device, device_rows] : plain_rows) {
    if (dark_ids.count(device) != 0) continue;
    ASSERT_EQ(rows.at(device).size(), device_rows.size()) << device;
    for (const auto& [time, row] : device_rows) {
      const Row& other = rows.at(device).at(time);
      for (int m = 0; m < 3; ++m) EXPECT_EQ(other.cells[m], row.cells[m]) << device;
    }
  }
  // Off by default; a second run is byte-identical.
  Files again;
  GenerateInto(options, again);
  EXPECT_EQ(again, files);
  options.dark_devices = 21;
  EXPECT_EQ(ValidateFleetOptions(options).code(), Errc::kInvalidArgument);
  options.dark_devices = 1;
  options.dark_hours = 36;
  EXPECT_EQ(ValidateFleetOptions(options).code(), Errc::kInvalidArgument);
}

TEST(FleetTest, DeviceIdsWidenForLargeFleets) {
  EXPECT_EQ(FleetDeviceId(0, 200), "dev-00000");
  EXPECT_EQ(FleetDeviceId(42, 100000), "dev-00042");
  EXPECT_EQ(FleetDeviceId(99999, 100000), "dev-99999");
  EXPECT_EQ(FleetDeviceId(7, 100001), "dev-000007");
  EXPECT_EQ(FleetFileName(*ParseTimestamp("2024-03-05T07:00:00Z"), FleetFormat::kJsonl),
            "fleet-20240305T07.jsonl");
}

TEST(FleetTest, StepsAreTheFloorOfHoursOverInterval) {
  FleetOptions options;
  options.hours = 16.6667;
  EXPECT_EQ(FleetSteps(options), 1000);
  options.hours = 24;
  EXPECT_EQ(FleetSteps(options), 1440);
  options.interval_us = 7 * kMicrosPerMinute;
  EXPECT_EQ(FleetSteps(options), 205);
  options.hours = 0.1;
  options.interval_us = kMicrosPerSecond;
  EXPECT_EQ(FleetSteps(options), 360);
}

TEST(FleetTest, IntervalsLongerThanAnHourSkipEmptyHours) {
  FleetOptions options = SmallFleet(5, 10);
  options.interval_us = 150 * kMicrosPerMinute;
  options.start_us = *ParseTimestamp("2024-01-01T00:30:00Z");
  Files files;
  const GenerateReport report = GenerateInto(options, files);
  EXPECT_EQ(report.steps, 4);
  EXPECT_EQ(report.file_names, (std::vector<std::string>{
                                   "fleet-20240101T00.csv", "fleet-20240101T03.csv",
                                   "fleet-20240101T05.csv", "fleet-20240101T08.csv"}));
  EXPECT_EQ(report.last_us, *ParseTimestamp("2024-01-01T08:00:00Z"));
}

TEST(FleetTest, InvalidOptionsAreRejectedWithInvalidArgument) {
  const auto check = [](FleetOptions options, std::string_view needle) {
    const Status status = ValidateFleetOptions(options);
    EXPECT_EQ(status.code(), Errc::kInvalidArgument) << needle;
    EXPECT_NE(status.message().find(needle), std::string::npos) << status.message();
    EXPECT_EQ(status.message().rfind("generate: ", 0), 0u) << status.message();
    const Result<GenerateReport> report =
        GenerateFleet(options, [](const std::string&, std::string_view) {
          ADD_FAILURE() << "nothing may be written for invalid options";
          return Status::Ok();
        });
    EXPECT_FALSE(report.ok());
  };
  FleetOptions options;
  EXPECT_TRUE(ValidateFleetOptions(options).ok());
  options.devices = 0;
  check(options, "--devices");
  options = {};
  options.hours = 0;
  check(options, "--hours");
  options = {};
  options.hours = -1;
  check(options, "--hours");
  options = {};
  options.hours = 0.001;
  check(options, "shorter than one --interval");
  options = {};
  options.interval_us = 0;
  check(options, "--interval");
  options = {};
  options.anomaly_rate = -0.5;
  check(options, "--anomaly-rate");
  options = {};
  options.dirt.late_rate = 1.5;
  check(options, "--late-rate");
  options = {};
  options.dirt.empty_cell_rate = -0.1;
  check(options, "--empty-cell-rate");
}

TEST(FleetTest, ParseAnomalyKindsAcceptsKnownNamesOnly) {
  Result<std::vector<AnomalyKind>> kinds = ParseAnomalyKinds("spike,stuck, drift,spike");
  ASSERT_TRUE(kinds.ok());
  EXPECT_EQ(*kinds, (std::vector<AnomalyKind>{AnomalyKind::kSpike, AnomalyKind::kStuck,
                                              AnomalyKind::kDrift}));
  Result<std::vector<AnomalyKind>> unknown = ParseAnomalyKinds("spike,wobble");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Errc::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("'wobble'"), std::string::npos);
  EXPECT_FALSE(ParseAnomalyKinds("").ok());
  for (AnomalyKind kind : kAllAnomalyKinds) {
    EXPECT_EQ(ParseAnomalyKind(AnomalyKindName(kind)), kind);
  }
}

TEST(FleetTest, GeneratingIntoAFolderWritesHourFilesAndLabels) {
  const std::string dir = TempDir("folder");
  FleetOptions options = SmallFleet(10, 2.5);
  options.anomaly_rate = 10;
  Result<GenerateReport> report = GenerateFleet(options, dir);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->labels_path, (std::filesystem::path(dir) / "_labels.csv").string());
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"_labels.csv", "fleet-20240101T00.csv",
                                             "fleet-20240101T01.csv", "fleet-20240101T02.csv"}));
  Result<std::vector<AnomalyLabel>> labels = ReadLabelsCsv(report->labels_path);
  ASSERT_TRUE(labels.ok()) << labels.status().message();
  EXPECT_EQ(*labels, report->labels);
  EXPECT_FALSE(labels->empty());
  const std::string summary = FormatGenerateSummary(*report, false);
  EXPECT_NE(summary.find("3 files"), std::string::npos) << summary;
  EXPECT_EQ(report->rows, 1500 - report->dropped_readings);
  EXPECT_NE(summary.find(fmt::format("{} rows", report->rows)), std::string::npos) << summary;
  EXPECT_NE(summary.find("_labels.csv"), std::string::npos) << summary;
  std::filesystem::remove_all(dir);
}

TEST(FleetTest, AnUnwritableFolderIsAnIoError) {
  const std::string dir = TempDir("unwritable");
  std::filesystem::create_directories(dir);
  const std::string blocker = dir + "/a-file";
  std::FILE* file = std::fopen(blocker.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fclose(file);
  Result<GenerateReport> report = GenerateFleet(SmallFleet(2, 1), blocker + "/out");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Errc::kIo);
  EXPECT_NE(report.status().message().find("cannot create folder"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(FleetTest, LabelsRoundTripThroughCsv) {
  const std::string dir = TempDir("labels");
  const std::vector<AnomalyLabel> labels = {
      {"dev-00001", "temp_c", "spike", 1704067200000000, 1704067200000000},
      {"dev-00002", "*", "dropout", 1704067260000000, 1704070800000000},
      {"dev-00002", "humidity_pc", "drift", 1704070800500000, 1704074400000000},
  };
  const std::string path = dir + "/sub/labels.csv";
  ASSERT_TRUE(WriteLabelsCsv(labels, path).ok());
  Result<std::vector<AnomalyLabel>> read = ReadLabelsCsv(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(*read, labels);
  std::filesystem::remove_all(dir);
}

TEST(FleetTest, ReadLabelsCsvRejectsMissingFilesAndBadLines) {
  const std::string dir = TempDir("bad_labels");
  std::filesystem::create_directories(dir);
  EXPECT_EQ(ReadLabelsCsv(dir + "/missing.csv").status().code(), Errc::kNotFound);
  const auto write = [&](std::string_view text) {
    const std::string path = dir + "/labels.csv";
    std::FILE* file = std::fopen(path.c_str(), "w");
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
    return ReadLabelsCsv(path);
  };
  EXPECT_EQ(write("a,b,c\n").status().code(), Errc::kParse);
  EXPECT_EQ(write("").status().code(), Errc::kParse);
  const std::string header = std::string(kLabelsCsvHeader) + "\n";
  EXPECT_EQ(write(header + "dev-1,temp_c,2024-01-01T00:00:00Z,spike\n").status().code(),
            Errc::kParse);
  EXPECT_EQ(write(header + "dev-1,temp_c,2024-01-01T00:00:00Z,later,spike\n").status().code(),
            Errc::kParse);
  const std::string unknown_kind =
      "dev-1,temp_c,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,wobble\n";
  EXPECT_EQ(write(header + unknown_kind).status().code(), Errc::kParse);
  Result<std::vector<AnomalyLabel>> ok =
      write(header + "dev-1,temp_c,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,stuck\r\n");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace iotad::gen
