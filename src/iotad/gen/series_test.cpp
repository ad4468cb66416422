#include "iotad/gen/series.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "iotad/core/timestamp.h"

namespace iotad::gen {
namespace {

using Files = std::map<std::string, std::string>;  // path under the output folder -> contents

SeriesReport GenerateInto(const SeriesOptions& options, Files& files) {
  Result<SeriesReport> report =
      GenerateSeriesSet(options, [&](const std::string& path, std::string_view contents) {
        files[path] = std::string(contents);
        return Status::Ok();
      });
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? std::move(report).value() : SeriesReport{};
}

struct Row {
  std::string time;  // as written
  TimestampUs at = 0;
  std::string value_text;
  double value = 0;
};

std::vector<Row> ParseRows(const std::string& csv) {
  std::vector<Row> rows;
  size_t pos = csv.find('\n');
  EXPECT_EQ(csv.substr(0, pos), "timestamp,value");
  ++pos;
  while (pos < csv.size()) {
    const size_t end = csv.find('\n', pos);
    const std::string line = csv.substr(pos, end - pos);
    const size_t comma = line.find(',');
    Row row;
    row.time = line.substr(0, comma);
    row.value_text = line.substr(comma + 1);
    const std::optional<TimestampUs> at = ParseTimestamp(row.time);
    EXPECT_TRUE(at.has_value()) << line;
    row.at = at.value_or(0);
    row.value = std::strtod(row.value_text.c_str(), nullptr);
    rows.push_back(row);
    pos = end + 1;
  }
  return rows;
}

/// The default set (6 families x 5 files) for the seed in the parameter.
class SeriesSetTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    options_.seed = GetParam();
    report_ = GenerateInto(options_, files_);
  }
  const std::string& Data(const SeriesFile& file) { return files_["data/" + file.key]; }
  SeriesOptions options_;
  Files files_;
  SeriesReport report_;
};

INSTANTIATE_TEST_SUITE_P(Seeds, SeriesSetTest, ::testing::Values(1, 2, 3, 17));

TEST_P(SeriesSetTest, SameOptionsGiveTheSameBytesAndAnotherSeedOthers) {
  Files again;
  GenerateInto(options_, again);
  EXPECT_EQ(again, files_);
  SeriesOptions other;
  other.seed = options_.seed + 1;
  Files different;
  GenerateInto(other, different);
  ASSERT_EQ(different.size(), files_.size());
  EXPECT_NE(different["data/counts/counts_1.csv"], files_["data/counts/counts_1.csv"]);
  EXPECT_NE(different["labels/combined_windows.json"], files_["labels/combined_windows.json"]);
}

TEST_P(SeriesSetTest, EachFamilyHasItsFilesAndTheLabelFiles) {
  EXPECT_EQ(files_.size(), 30u + 4u);
  for (SeriesFamily family : kDefaultSeriesFamilies) {
    const std::string name(SeriesFamilyName(family));
    for (int k = 1; k <= 5; ++k) {
      EXPECT_EQ(files_.count("data/" + name + "/" + name + "_" + std::to_string(k) + ".csv"), 1u)
          << name << " " << k;
    }
  }
  for (const char* label : {"labels/combined_windows.json", "labels/combined_labels.json",
                            "labels/anomalies.json", "labels/README.md"}) {
    EXPECT_EQ(files_.count(label), 1u) << label;
  }
  ASSERT_EQ(report_.files.size(), 30u);
}

TEST_P(SeriesSetTest, AFamilyReadsTheSameAloneAsInTheWholeSet) {
  SeriesOptions options = options_;
  options.families = {SeriesFamily::kSensor};
  options.files_per_family = 2;
  Files alone;
  GenerateInto(options, alone);
  EXPECT_EQ(alone.size(), 2u + 4u);  // two files and the four label files
  EXPECT_EQ(alone["data/sensor/sensor_2.csv"], files_["data/sensor/sensor_2.csv"]);
}

TEST_P(SeriesSetTest, SizesAnomalyCountsAndFilesWithoutAnomaly) {
  int without = 0;
  for (const SeriesFile& file : report_.files) {
    const std::vector<Row> rows = ParseRows(Data(file));
    EXPECT_EQ(static_cast<int64_t>(rows.size()), file.rows) << file.key;
    if (file.family == "hourly") {
      EXPECT_GE(file.rows, 1500) << file.key;
      EXPECT_LE(file.rows, 2500) << file.key;
    } else {
      EXPECT_GE(file.rows, 1500) << file.key;
      EXPECT_LE(file.rows, 12000) << file.key;
    }
    EXPECT_LE(file.anomalies.size(), 3u) << file.key;
    EXPECT_EQ(file.windows.size(), file.anomalies.size()) << file.key;
    without += file.anomalies.empty() ? 1 : 0;
  }
  EXPECT_EQ(without, 5);  // one in six
}

TEST_P(SeriesSetTest, TimestampsStrictlyIncreaseAndTheIrregularFamiliesAreIrregular) {
  for (const SeriesFile& file : report_.files) {
    const std::vector<Row> rows = ParseRows(Data(file));
    std::set<int64_t> gaps;
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_LT(rows[i - 1].at, rows[i].at) << file.key << " row " << i;
      gaps.insert((rows[i].at - rows[i - 1].at) / kMicrosPerSecond);
    }
    ASSERT_EQ(rows.front().time.size(), 19u) << file.key;  // YYYY-MM-DD HH:MM:SS
    EXPECT_EQ(rows.front().at, file.first_us);
    EXPECT_EQ(rows.back().at, file.last_us);
    if (file.family == "traffic") {
      EXPECT_GE(*gaps.begin(), 180) << file.key;
      EXPECT_LE(*gaps.rbegin(), 900) << file.key;
      EXPECT_GT(gaps.size(), 100u) << file.key;
    } else if (file.family == "sensor") {
      EXPECT_GT(gaps.size(), 5u) << file.key;  // jitter and missing points
    } else {
      EXPECT_EQ(gaps, (std::set<int64_t>{file.family == "hourly" ? 3600 : 300})) << file.key;
    }
  }
}

TEST_P(SeriesSetTest, CountsAreNonNegativeIntegersAndPercentStaysIn0To100) {
  for (const SeriesFile& file : report_.files) {
    const std::vector<Row> rows = ParseRows(Data(file));
    for (const Row& row : rows) {
      if (file.family == "counts") {
        int64_t count = -1;
        const auto [end, ec] = std::from_chars(row.value_text.data(),
                                               row.value_text.data() + row.value_text.size(), count);
        ASSERT_TRUE(ec == std::errc() && end == row.value_text.data() + row.value_text.size())
            << file.key << " " << row.value_text;
        ASSERT_GE(count, 0) << file.key;
      } else if (file.family == "percent") {
        ASSERT_GE(row.value, 0.0) << file.key << " " << row.time;
        ASSERT_LE(row.value, 100.0) << file.key << " " << row.time;
      } else if (file.family == "latency" || file.family == "hourly" || file.family == "traffic") {
        ASSERT_GE(row.value, 0.0) << file.key << " " << row.time;
      }
      // No "-0" or "-0.00": a value that rounds to zero is written as zero.
      ASSERT_FALSE(row.value_text[0] == '-' &&
                   row.value_text.find_first_not_of("-0.") == std::string::npos)
          << file.key << " " << row.value_text;
    }
  }
}

TEST_P(SeriesSetTest, AnomaliesJsonGivesEachAnomalyItsKindRowsAndWindow) {
  // labels/anomalies.json: the README's tables for programs (hits counted by kind), each anomaly
  // with the NAB window combined_windows.json gives it, in the same order.
  const std::string& json = files_["labels/anomalies.json"];
  size_t at = 0;
  int anomalies = 0;
  for (const SeriesFile& file : report_.files) {
    at = json.find("\"" + file.key + "\": [", at);
    ASSERT_NE(at, std::string::npos) << file.key;
    const std::vector<Row> rows = ParseRows(Data(file));
    const auto time_of = [&](TimestampUs t) {
      const auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.at == t; });
      return it == rows.end() ? std::string("?") : it->time;
    };
    for (size_t j = 0; j < file.anomalies.size(); ++j) {
      const SeriesAnomaly& a = file.anomalies[j];
      const std::string item = "{\"kind\": \"" + a.kind + "\", \"start\": \"" + time_of(a.start_us) +
                               ".000000\", \"row\": " + std::to_string(a.start_row) +
                               ", \"rows\": " + std::to_string(a.rows) + ", \"magnitude\": \"" + a.magnitude +
                               "\", \"window\": [\"" + time_of(file.windows[j].first) + ".000000\", \"" +
                               time_of(file.windows[j].second) + ".000000\"]}";
      const size_t found = json.find(item, at);
      ASSERT_NE(found, std::string::npos) << file.key << " " << item;
      at = found + item.size();
      ++anomalies;
    }
  }
  EXPECT_EQ(anomalies, report_.anomalies);
}

TEST_P(SeriesSetTest, WindowsAreRowTimesCentredOnAnomaliesAfterProbationWithoutOverlap) {
  const std::string& windows_json = files_["labels/combined_windows.json"];
  const std::string& labels_json = files_["labels/combined_labels.json"];
  for (const SeriesFile& file : report_.files) {
    const std::vector<Row> rows = ParseRows(Data(file));
    const auto n = static_cast<int64_t>(rows.size());
    const auto row_of = [&](TimestampUs at) {
      const auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.at == at; });
      return it == rows.end() ? int64_t{-1} : it - rows.begin();
    };
    EXPECT_NE(windows_json.find("\"" + file.key + "\": ["), std::string::npos) << file.key;
    EXPECT_NE(labels_json.find("\"" + file.key + "\": ["), std::string::npos) << file.key;
    TimestampUs previous_end = 0;
    for (size_t j = 0; j < file.anomalies.size(); ++j) {
      const SeriesAnomaly& a = file.anomalies[j];
      const auto& [start, end] = file.windows[j];
      ASSERT_EQ(row_of(a.start_us), a.start_row) << file.key;
      EXPECT_GE(a.start_row * 100, 15 * n) << file.key << " " << a.kind;  // not in probation
      const int64_t left = row_of(start);
      const int64_t right = row_of(end);
      ASSERT_GE(left, 0) << file.key << ": a window edge is no row's time";
      ASSERT_GE(right, 0) << file.key << ": a window edge is no row's time";
      const int64_t half = n / 10 / static_cast<int64_t>(file.anomalies.size()) / 2;
      EXPECT_EQ(left, std::max<int64_t>(0, a.start_row - half)) << file.key;
      EXPECT_EQ(right, std::min(n - 1, a.start_row + half)) << file.key;
      EXPECT_GT(start, previous_end) << file.key << ": windows overlap";
      previous_end = end;
      const std::string edge = rows[static_cast<size_t>(left)].time + ".000000";
      EXPECT_NE(windows_json.find("\"" + edge + "\""), std::string::npos) << edge;
      EXPECT_NE(labels_json.find("\"" + rows[static_cast<size_t>(a.start_row)].time + "\""),
                std::string::npos);
      if (j + 1 < file.anomalies.size() && a.kind != "level_shift" && a.kind != "drift") {
        EXPECT_LT(a.start_row + a.rows, file.anomalies[j + 1].start_row) << file.key;
      }
    }
  }
}

TEST(SeriesStuckTest, AStuckSensorRepeatsOneValue) {
  // Over a few seeds, every stuck anomaly holds its value for all its rows.
  int stuck = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SeriesOptions options;
    options.seed = seed;
    options.families = {SeriesFamily::kSensor, SeriesFamily::kPercent, SeriesFamily::kLatency};
    Files files;
    const SeriesReport report = GenerateInto(options, files);
    for (const SeriesFile& file : report.files) {
      const std::vector<Row> rows = ParseRows(files["data/" + file.key]);
      for (const SeriesAnomaly& a : file.anomalies) {
        if (a.kind != "stuck") continue;
        ++stuck;
        ASSERT_GT(a.rows, 1) << file.key;
        for (int64_t i = a.start_row; i < a.start_row + a.rows; ++i) {
          ASSERT_EQ(rows[static_cast<size_t>(i)].value_text,
                    rows[static_cast<size_t>(a.start_row - 1)].value_text)
              << file.key << " row " << i;
        }
      }
    }
  }
  EXPECT_GT(stuck, 0);
}

TEST_P(SeriesSetTest, TheReadmeNamesEveryFileAndAnomaly) {
  const std::string& readme = files_["labels/README.md"];
  for (const SeriesFile& file : report_.files) {
    EXPECT_NE(readme.find("## " + file.key + "\n"), std::string::npos) << file.key;
    for (const SeriesAnomaly& a : file.anomalies) {
      EXPECT_NE(readme.find("| " + a.kind + " | "), std::string::npos) << a.kind;
    }
  }
}

TEST(RegimeSeriesTest, AMachineSwitchesBetweenTheSetpointsItsReadmeNames) {
  // Not in the default set (the validation sets' figures stay comparable), named on request.
  EXPECT_EQ(std::find(kDefaultSeriesFamilies.begin(), kDefaultSeriesFamilies.end(), SeriesFamily::kRegime),
            kDefaultSeriesFamilies.end());
  const Result<std::vector<SeriesFamily>> parsed = ParseSeriesFamilies("regime");
  ASSERT_TRUE(parsed.ok());
  SeriesOptions options;
  options.seed = 3;
  options.families = parsed.value();
  options.files_per_family = 6;
  Files files;
  const SeriesReport report = GenerateInto(options, files);
  ASSERT_EQ(report.files.size(), 6u);
  for (const SeriesFile& file : report.files) {
    // "N setpoints a / b[ / c], every ...s, ..., AR(1) phi p sd s": the setpoints and the sd.
    std::vector<double> setpoints;
    const size_t from = file.params.find("setpoints ") + 10;
    for (size_t pos = from; pos < file.params.find(", every");) {
      const size_t end = std::min(file.params.find(" / ", pos), file.params.find(", every", pos));
      setpoints.push_back(std::strtod(file.params.substr(pos, end - pos).c_str(), nullptr));
      pos = end == file.params.find(", every", pos) ? end : end + 3;
    }
    ASSERT_GE(setpoints.size(), 2u) << file.params;
    ASSERT_LE(setpoints.size(), 3u) << file.params;
    const double sd = std::strtod(file.params.substr(file.params.find(" sd ") + 4).c_str(), nullptr);
    ASSERT_GT(sd, 0.0) << file.params;
    for (size_t k = 1; k < setpoints.size(); ++k) {
      EXPECT_GE(setpoints[k] - setpoints[k - 1], 7.9 * sd) << file.params;  // far beyond the noise
    }
    // Before the first anomaly, every reading lies near a setpoint, and the machine switches
    // between them many times (each held ~20-200 rows).
    const std::vector<Row> rows = ParseRows(files["data/" + file.key]);
    const int64_t clean = file.anomalies.empty() ? file.rows : file.anomalies.front().start_row;
    int near = 0, switches = 0;
    size_t last = 0;
    for (int64_t i = 0; i < clean; ++i) {
      const double v = rows[static_cast<size_t>(i)].value;
      size_t nearest = 0;
      for (size_t k = 1; k < setpoints.size(); ++k) {
        if (std::fabs(v - setpoints[k]) < std::fabs(v - setpoints[nearest])) nearest = k;
      }
      near += std::fabs(v - setpoints[nearest]) < 5.0 * sd;
      switches += i > 0 && nearest != last;
      last = nearest;
    }
    EXPECT_GE(near, clean * 999 / 1000) << file.key << " " << file.params;
    EXPECT_GE(switches, clean / 500) << file.key << " " << file.params;
    EXPECT_GE(switches, 3) << file.key << " " << file.params;
  }
}

TEST(SeriesOptionsTest, BadFlagsAreRefusedNamingTheFlag) {
  const Result<std::vector<SeriesFamily>> bad = ParseSeriesFamilies("counts,bogus");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--families"), std::string::npos);
  EXPECT_NE(bad.status().message().find("bogus"), std::string::npos);
  EXPECT_NE(bad.status().message().find("regime"), std::string::npos);  // every family is named
  const Result<std::vector<SeriesFamily>> good = ParseSeriesFamilies("latency,counts,latency");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), (std::vector<SeriesFamily>{SeriesFamily::kLatency, SeriesFamily::kCounts}));
  SeriesOptions none;
  none.files_per_family = 0;
  const Status status = ValidateSeriesOptions(none);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("--files-per-family"), std::string::npos);
  for (double length : {0.5, 11.0, std::nan("")}) {
    SeriesOptions bad_length;
    bad_length.length = length;
    const Status refused = ValidateSeriesOptions(bad_length);
    ASSERT_FALSE(refused.ok()) << length;
    EXPECT_NE(refused.message().find("--length"), std::string::npos);
  }
}

TEST(SeriesLengthTest, LongerFilesHoldMoreRowsOfTheSameKindAndLengthOneChangesNoByte) {
  SeriesOptions options;
  options.seed = 5;
  options.files_per_family = 2;
  Files plain, one, long_files;
  const SeriesReport plain_report = GenerateInto(options, plain);
  options.length = 1.0;  // said out loud: the same bytes as not saying it
  GenerateInto(options, one);
  EXPECT_EQ(one, plain);
  options.length = 3.0;
  const SeriesReport long_report = GenerateInto(options, long_files);
  ASSERT_EQ(long_report.files.size(), plain_report.files.size());
  for (size_t i = 0; i < long_report.files.size(); ++i) {
    const SeriesFile& a = plain_report.files[i];
    const SeriesFile& b = long_report.files[i];
    ASSERT_EQ(a.key, b.key);
    // Each file's drawn rows, three times over (the parameters drawn after the rows, such as
    // traffic's after its irregular clock, are other draws).
    EXPECT_EQ(b.family, a.family) << b.key;
    EXPECT_EQ(b.rows, 3 * a.rows) << b.key;
    EXPECT_EQ(ParseRows(long_files["data/" + b.key]).size(), static_cast<size_t>(b.rows)) << b.key;
    EXPECT_EQ(b.windows.size(), b.anomalies.size()) << b.key;
    for (const SeriesAnomaly& anomaly : b.anomalies) {
      EXPECT_LT(anomaly.start_row, b.rows) << b.key;
      EXPECT_GT(anomaly.start_row, b.rows * 15 / 100) << b.key;  // after NAB's probation
    }
  }
  EXPECT_NE(long_files["labels/README.md"].find("--length 3"), std::string::npos);
  EXPECT_EQ(plain["labels/README.md"].find("--length"), std::string::npos);
}

}  // namespace
}  // namespace iotad::gen
