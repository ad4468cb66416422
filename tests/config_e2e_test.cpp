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

}  // namespace iotad::e2e
