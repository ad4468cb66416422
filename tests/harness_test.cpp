// The test harness itself: a set-up that cannot run must fail the tests that need it, never
// report them as skipped (ctest turned gtest's "skipped" into a pass-like "Skipped", so CI could
// pass while a suite never ran).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

struct SelfRun {
  int exit_code = -1;
  std::string output;
};

/// Runs this test binary again with `filter`, its iotad binary pointed at a file that is not there.
SelfRun RunSelfWithMissingBinary(const std::string& filter) {
  const TempDir dir;
  const std::string out_path = dir / "out.txt";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::setenv("IOTAD_E2E_BINARY", "/nonexistent/iotad", 1);
    std::string self = "/proc/self/exe", arg = "--gtest_filter=" + filter;
    char* argv[] = {self.data(), arg.data(), nullptr};
    ::execv("/proc/self/exe", argv);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  SelfRun r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.output = ReadFile(out_path);
  return r;
}

TEST(HarnessTest, ASuiteWhoseSetUpFailsFailsItsTestsInsteadOfSkippingThem) {
  for (const char* filter : {"CrashTest.KillMinusNineAtRandomMomentsThenRerunGivesTheSameLake",
                             "FaultPoints/CrashAtPointTest.RerunGivesTheLakeOfAnUninterruptedRun/commit_before_log_1_batch1"}) {
    const SelfRun r = RunSelfWithMissingBinary(filter);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("[  FAILED  ] " + std::string(filter)), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("set-up"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("SKIPPED"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("1 test, listed below"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace iotad::e2e
