// `iotad alert preview` on a real lake made by `iotad init` (its rule `device-anomalies` and sink
// `alerts-file`), `iotad generate` and `iotad run`: what it reports, and that it writes nothing.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

/// Every file of the lake with its bytes.
std::map<std::string, std::string> LakeFiles(const std::string& lake) {
  std::map<std::string, std::string> files;
  for (const std::string& f : ListFiles(lake)) files[f] = ReadFile(std::filesystem::path(lake) / f);
  return files;
}

long long JsonInt(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const size_t at = json.find(k);
  EXPECT_NE(at, std::string::npos) << key << " in " << json;
  if (at == std::string::npos) return -1;
  return std::stoll(json.substr(at + k.size()));
}

class AlertPreviewE2eTest : public LakeE2eTest {
 protected:
  void SetUp() override {
    LakeE2eTest::SetUp();
    ASSERT_EQ(RunIotad({"generate", "--devices", "8", "--hours", "30", "--anomaly-kinds", "spike,level_shift",
                        "--anomaly-rate", "20", "--out", dir_ / "gen"})
                  .exit_code,
              0);
    const CmdResult run = Iotad({"run", "--input", dir_ / "gen"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    matched_ = SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'default'");
    ASSERT_GT(matched_, 0) << "the generated data should make the default detector flag";
  }
  long long matched_ = 0;
};

TEST_F(AlertPreviewE2eTest, ReportsWhatTheInitRuleWouldHaveSentAndWritesNothing) {
  const auto before = LakeFiles(lake_);
  const CmdResult text = Iotad({"alert", "preview"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* part : {"alert preview: 1 rule over ", "(nothing sent, nothing written)", "anomalies matched",
                           "notifications per rule", "device-anomalies", "notifications per day",
                           "notifications per device (top 20 of ", "busiest hours of day (UTC)", "time in alert"}) {
    EXPECT_NE(text.out.find(part), std::string::npos) << part << "\n" << text.out;
  }
  EXPECT_NE(text.out.find(fmt::format("anomalies matched  {}\n", matched_)), std::string::npos) << text.out;

  const CmdResult json = Iotad({"alert", "preview", "--json", "--rule", "device-anomalies"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out.front(), '{');
  EXPECT_EQ(JsonInt(json.out, "anomalies_matched"), matched_);
  const long long alerts = JsonInt(json.out, "alerts"), notifications = JsonInt(json.out, "notifications");
  EXPECT_GT(alerts, 0);
  // Every alert fires once; resolved ones also resolve once (the data ends; the last may still fire).
  EXPECT_GE(notifications, alerts);
  EXPECT_LE(notifications, 2 * alerts + alerts * 30 / 4);  // at most a repeat every 4 h besides
  EXPECT_NE(json.out.find("\"per_rule\":{\"device-anomalies\":" + std::to_string(notifications) + "}"),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find("\"per_day\":{\"2024-01-01\":"), std::string::npos) << json.out;

  // A window: fewer anomalies, all within it.
  const CmdResult window =
      Iotad({"alert", "preview", "--json", "--from", "2024-01-01T06:00:00Z", "--to", "2024-01-01T12:00:00Z"});
  ASSERT_EQ(window.exit_code, 0) << window.err;
  EXPECT_EQ(JsonInt(window.out, "anomalies_matched"),
            SqlInt(lake_, "SELECT count(*) FROM anomalies WHERE detector = 'default' AND event_time >= "
                          "'2024-01-01T06:00:00Z' AND event_time < '2024-01-01T12:00:00Z'"));
  EXPECT_NE(window.out.find("\"from\":\"2024-01-01T06:00:00Z\",\"to\":\"2024-01-01T12:00:00Z\""), std::string::npos)
      << window.out;

  // The lake is byte for byte what it was.
  EXPECT_EQ(LakeFiles(lake_), before);
}

TEST_F(AlertPreviewE2eTest, BadOptionsAreOneSentence) {
  CmdResult r = Iotad({"alert", "preview", "--rule", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "iotad: alert preview: --rule 'nope' names no [[alert.rule]] of the config (known: "
                   "device-anomalies)\n");
  r = Iotad({"alert", "preview", "--from", "yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("alert preview: --from must be a time"), std::string::npos) << r.err;
  r = Iotad({"alert", "preview", "--from", "2024-01-02", "--to", "2024-01-01"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "iotad: alert preview: --from must be before --to\n");
}

}  // namespace
}  // namespace iotad::e2e
