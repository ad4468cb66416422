// `iotad config` end to end: component tables ([[detect.rule]]) checked once at start, with
// their names, and the example the binary prints.
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {

class ConfigE2eTest : public LakeE2eTest {
 protected:
  void AppendConfig(const std::string& text) {
    const std::filesystem::path path = std::filesystem::path(lake_) / "iotad.toml";
    WriteFile(path, ReadFile(path) + text);
  }
};

TEST_F(ConfigE2eTest, CheckListsTheComponentTablesByName) {
  AppendConfig("\n[[detect.rule]]\nmetrics = [\"temp_c\"]\nmax = 40\n[[detect.rule]]\nname = \"freezers\"\n"
               "devices = [\"freezer-*\"]\nmax = -10\n");
  const CmdResult r = Iotad({"config", "check"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("iotad.toml is valid\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  [[detect.rule]]: 2 (detect.rule[0], freezers)\n"), std::string::npos) << r.out;
}

TEST_F(ConfigE2eTest, DuplicateNamesAndUnknownKeysAreOneLineErrorsAtCheckAndAtStart) {
  const std::string original = ReadFile(std::filesystem::path(lake_) / "iotad.toml");
  AppendConfig("\n[[detect.rule]]\nname = \"f\"\n[[detect.rule]]\nname = \"f\"\nmax = 1\n");
  for (const auto& args : std::vector<std::vector<std::string>>{{"config", "check"}, {"sql", "SELECT 1"}}) {
    const CmdResult r = Iotad(args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("detect.rule[0] and detect.rule[1] are both named \"f\""), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("iotad.toml"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
  WriteFile(std::filesystem::path(lake_) / "iotad.toml", original + "\n[[detect.rule]]\nmaximum = 1\n");
  const CmdResult typo = Iotad({"config", "check"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("unknown key 'detect.rule[0].maximum' (known: name, metrics, devices"), std::string::npos)
      << typo.err;
}

TEST_F(ConfigE2eTest, ExampleShowsTheRuleKindAndNoUnregisteredKinds) {
  const CmdResult r = RunIotad({"config", "example"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("# # [[detect.rule]] tables, any number:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# metrics = []\n"), std::string::npos) << r.out;
  // [[alert.sink]] is registered (issue 9): its types are shown, commented out.
  EXPECT_NE(r.out.find("# [[alert.sink]]\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# type = \"webhook\"\n"), std::string::npos) << r.out;
}

TEST_F(ConfigE2eTest, CheckNamesAMissingSinkSecretWithoutPrintingAnySecret) {
  AppendConfig("\n[[alert.sink]]\nname = \"ops-slack\"\ntype = \"slack\"\nurl_env = \"IOTAD_TEST_SLACK_URL\"\n");
  // The variable is not set: one sentence naming the sink, the key and the variable, exit 2.
  const CmdResult missing = RunIotad({"config", "check", "--lake", lake_});
  EXPECT_EQ(missing.exit_code, 2) << missing.out << missing.err;
  EXPECT_NE(missing.err.find("ops-slack"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("IOTAD_TEST_SLACK_URL"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("not set"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find('\n'), missing.err.size() - 1) << missing.err;
  // `iotad sql` does not need the secret (only alerting does).
  EXPECT_EQ(RunIotad({"sql", "--lake", lake_, "SELECT 1"}).exit_code, 0);
  // Set: valid, and the secret is printed nowhere.
  const std::string secret = "https://hooks.example.invalid/services/T000/B000/s3cr3t-token";
  const CmdResult ok = RunIotad({"config", "check", "--lake", lake_}, {{"IOTAD_TEST_SLACK_URL", secret}});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("[[alert.sink]]: 2 (alerts-file (file), ops-slack (slack))"), std::string::npos) << ok.out;
  EXPECT_EQ((ok.out + ok.err).find("s3cr3t"), std::string::npos);
}

}  // namespace iotad::e2e
