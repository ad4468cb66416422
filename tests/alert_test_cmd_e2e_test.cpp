// `iotad alert test SINK` against a real HTTP receiver (cpp-httplib on 127.0.0.1): the status
// line, the receiver's answer as received, the exit code, and what arrived.
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "e2e_util.h"
#include "iotad/alert/test_http_server.h"

namespace iotad::e2e {
namespace {

class AlertTestCmdE2eTest : public LakeE2eTest {
 protected:
  void SetUp() override {
    LakeE2eTest::SetUp();
    srv_.server().Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      paths_.push_back(req.path);
      bodies_.push_back(req.body);
      res.status = status_;
      res.set_content(answer_, "text/plain");
    });
    ASSERT_TRUE(srv_.Start());
    const auto config = std::filesystem::path(lake_) / "iotad.toml";
    WriteFile(config, ReadFile(config) + "\n[[alert.sink]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"" +
                          srv_.url("/hook") +
                          "\"\n\n[[alert.sink]]\nname = \"ops-slack\"\ntype = \"slack\"\nurl_env = "
                          "\"IOTAD_E2E_SLACK_URL\"\n");
  }
  CmdResult AlertTest(const std::string& sink, std::map<std::string, std::string> env = {}) {
    env["IOTAD_TEST_NOW"] = "2024-03-01T10:00:00Z";
    return RunIotad({"alert", "test", sink, "--lake", lake_}, env);
  }

  alert::testutil::TestHttpServer srv_;
  std::mutex mu_;
  std::vector<std::string> paths_, bodies_;
  int status_ = 200;
  std::string answer_ = "{\"accepted\": 1}";
};

TEST_F(AlertTestCmdE2eTest, DeliveredPrintsTheStatusAndTheAnswerAsReceived) {
  const CmdResult r = AlertTest("hook");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sink hook (webhook): delivered, status 200\n{\"accepted\": 1}\n");
  std::lock_guard lock(mu_);
  ASSERT_EQ(paths_.size(), 1u);
  EXPECT_EQ(paths_[0], "/hook");
  for (const char* part : {"\"kind\":\"test\"", "\"device\":\"test-device\"",
                           "\"dedup_key\":\"iotad-test-2024-03-01T10:00:00Z\"", "\"version\":1"}) {
    EXPECT_NE(bodies_[0].find(part), std::string::npos) << part << " in " << bodies_[0];
  }
}

TEST_F(AlertTestCmdE2eTest, ARetryOrARefusalExitsOne) {
  status_ = 503;
  answer_ = "maintenance";
  CmdResult r = AlertTest("hook");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "sink hook (webhook): retry, status 503\nmaintenance\n");
  status_ = 404;
  answer_ = "no_service";
  r = AlertTest("ops-slack", {{"IOTAD_E2E_SLACK_URL", srv_.url("/services/T/B/X")}});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "sink ops-slack (slack): refused, status 404\nno_service\n");
  std::lock_guard lock(mu_);
  ASSERT_EQ(paths_.size(), 2u);
  EXPECT_EQ(paths_[1], "/services/T/B/X");
}

TEST_F(AlertTestCmdE2eTest, UnknownSinkAndMissingSecretAreOneSentence) {
  CmdResult r = AlertTest("pager");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no sink 'pager'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hook, ops-slack"), std::string::npos) << r.err;
  r = AlertTest("ops-slack");  // IOTAD_E2E_SLACK_URL not set
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("ops-slack"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("url_env"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("IOTAD_E2E_SLACK_URL"), std::string::npos) << r.err;
  std::lock_guard lock(mu_);
  EXPECT_TRUE(paths_.empty());
}

}  // namespace
}  // namespace iotad::e2e
