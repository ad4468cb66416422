// End-to-end: a device that goes silent and stays silent to the end of the data is flagged by
// gold's batch replay (each series is ticked at its end with the end of the data), filed under
// the hour the silence began, and `iotad eval --lake` counts the generator's `dark` label found.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

class SilentDeviceE2eTest : public LakeE2eTest {
 protected:
  void IngestSilverGold(const std::string& folder) {
    CmdResult r = Iotad({"ingest", folder});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Iotad({"silver"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Iotad({"gold"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

TEST_F(SilentDeviceE2eTest, ADeviceThatStopsForGoodIsFlaggedUnderTheHourItWentSilent) {
  // Two devices, a reading a minute for a day; `b` sends nothing after 13:59.
  std::string csv = "event_time,device_id,temp_c\n";
  for (int minute = 0; minute < 24 * 60; ++minute) {
    for (const char* device : {"a", "b"}) {
      if (device[0] == 'b' && minute >= 14 * 60) continue;
      const double value = 20 + 3 * std::sin(minute / 229.0) + 0.1 * std::sin(minute * 7.3 + device[0]);
      csv += fmt::format("2024-01-01T{:02}:{:02}:00Z,{},{:.3f}\n", minute / 60, minute % 60, device, value);
    }
  }
  const fs::path in = dir_.path() / "in";
  fs::create_directories(in);
  WriteFile(in / "data.csv", csv);
  IngestSilverGold(in.string());
  // One silence, found at the end of the data: 10 minutes (ten intervals) after b's last reading.
  EXPECT_EQ(Sql(lake_, "SELECT device_id, metric, CAST(event_time AS VARCHAR) AS at FROM anomalies "
                       "WHERE explanation LIKE '% no data for %' ORDER BY ALL"),
            "device_id,metric,at\nb,temp_c,2024-01-01 14:09:00+00\n");
  const std::string text = Sql(lake_, "SELECT explanation FROM anomalies WHERE device_id = 'b' AND explanation LIKE '% no data for %'");
  EXPECT_NE(text.find("no data for 36000 s"), std::string::npos) << text;
  // Filed under the hour the silence began: that hour's gold file holds it.
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE device_id = 'b' AND explanation LIKE '% no data for %' "
                          "AND date_trunc('hour', event_time) = TIMESTAMPTZ '2024-01-01 14:00:00+00'"),
            1);
  // A second gold run has nothing new to say.
  const CmdResult again = Iotad({"gold"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE explanation LIKE '% no data for %'"), 1);
}

TEST_F(SilentDeviceE2eTest, AGeneratedDeviceThatGoesDarkIsFlaggedAndEvalCountsItFound) {
  const std::string gen = dir_ / "gen";
  CmdResult r = RunIotad({"generate", "--out", gen, "--devices", "10", "--hours", "36", "--seed", "5",
                          "--dark-devices", "1", "--dark-hours", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 devices went dark"), std::string::npos) << r.out;
  const std::string labels = ReadFile(fs::path(gen) / "_labels.csv");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(labels, m, std::regex(R"((dev-\d+),\*,(\S+),(\S+),dark\n)"))) << labels;
  const std::string device = m[1];
  EXPECT_EQ(m[2], "2024-01-02T02:00:00Z");  // 10 hours before the end (the last reading is at 11:59)
  EXPECT_EQ(m[3], "2024-01-02T11:59:00Z");
  IngestSilverGold(gen);
  // Each of its three metrics is flagged silent, under the hour it went dark.
  EXPECT_EQ(Sql(lake_, fmt::format("SELECT metric, CAST(event_time AS VARCHAR) AS at FROM anomalies "
                                   "WHERE device_id = '{}' AND explanation LIKE '% no data for %' "
                                   "AND event_time >= TIMESTAMPTZ '2024-01-02 02:00:00+00' ORDER BY ALL",
                                   device)),
            "metric,at\nhumidity_pc,2024-01-02 02:09:00+00\ntemp_c,2024-01-02 02:09:00+00\n"
            "vibration_g,2024-01-02 02:09:00+00\n");
  // eval --lake finds the `dark` event.
  r = RunIotad({"eval", "--labels", fs::path(gen) / "_labels.csv", "--lake", lake_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\ndark +1 +1 +1\.000 )"))) << r.out;
}

}  // namespace
}  // namespace iotad::e2e
