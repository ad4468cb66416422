// Readers see committed snapshots only (issue 8): while `iotad run` lands a batch that makes gold
// rewrite nearly every file, `iotad sql` polled in a loop must print the old total or the new one,
// never a mix of old and new files and never a file-not-found error.
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "e2e_util.h"

extern char** environ;

namespace iotad::e2e {
namespace {

/// Starts `iotad args...` with its output discarded; returns its pid.
pid_t StartIotad(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = {IotadBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

class SnapshotE2eTest : public LakeE2eTest {};

TEST_F(SnapshotE2eTest, SqlPolledDuringARunSeesTheOldOrTheNewTotalsOnly) {
  // Many hours, so gold has many files to replace and applying its commit takes a while.
  ASSERT_EQ(Iotad({"generate", "--devices", "20", "--hours", "72", "--seed", "1"}).exit_code, 0);
  ASSERT_EQ(Iotad({"run"}).exit_code, 0);
  const long long old_total = SqlInt(lake_, "SELECT count(*) FROM anomalies");
  const size_t old_files = ListFiles(lake_, "gold/").size();
  // New data moves every device's baselines: gold rewrites nearly every hour under new names.
  ASSERT_EQ(Iotad({"generate", "--devices", "400", "--hours", "36", "--start", "2024-01-04T00:00:00Z", "--seed", "2"})
                .exit_code,
            0);

  const pid_t run = StartIotad({"run", "--lake", lake_});
  ASSERT_GT(run, 0);
  std::vector<CmdResult> polls;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(run, &status, WNOHANG);
    ASSERT_GE(done, 0);
    if (done == run) break;
    polls.push_back(RunIotad({"sql", "--format", "csv", "SELECT count(*) FROM anomalies", "--lake", lake_}));
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const long long new_total = SqlInt(lake_, "SELECT count(*) FROM anomalies");
  ASSERT_NE(new_total, old_total);
  // Most gold files were replaced (the case where globbing readers saw old and new files at once).
  EXPECT_GT(old_files, 50u);

  std::map<std::string, int> seen;  // printed total (or error) -> polls
  int bad = 0;
  for (const auto& p : polls) {
    const std::string value = p.exit_code == 0 ? p.out.substr(p.out.find('\n') + 1) : "error: " + p.err;
    const bool ok = p.exit_code == 0 && (value == fmt::format("{}\n", old_total) || value == fmt::format("{}\n", new_total));
    if (!ok) ++bad;
    ++seen[value];
  }
  std::string summary;
  for (const auto& [value, n] : seen) summary += fmt::format("  {} x {}", n, value);
  std::printf("%zu polls during the run: %s\n", polls.size(), summary.c_str());
  EXPECT_EQ(bad, 0) << "old " << old_total << ", new " << new_total << "; polls:\n" << summary;
  // Enough polls to have overlapped the run's commits (no sleeps: as many as fit in the run). A
  // quiet 2-core machine fits 40-57; a heavily loaded one slows the run and the polls alike, and
  // fitted 13 at worst, so the bound leaves room for load without letting a run with no
  // overlapping poll pass.
  EXPECT_GE(polls.size(), 10u) << summary;
}

}  // namespace
}  // namespace iotad::e2e
