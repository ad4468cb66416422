#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "iotad/alert/sink.h"
#include "iotad/alert/sinks_http_test_util.h"
#include "iotad/alert/template.h"

namespace iotad::alert {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("iotad-exec-sink-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Sink> Make(std::vector<std::string> command, int64_t timeout_us = 5'000'000) {
  config::ExecSinkOptions o;
  o.name = "script";
  o.command = std::move(command);
  o.timeout_us = timeout_us;
  auto sink = MakeExecSink(o, SinkEnv{});
  EXPECT_TRUE(sink.ok()) << sink.status().message();
  return sink.ok() ? std::move(sink).value() : nullptr;
}

size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// No child of this process is left (running or a zombie).
bool NoChildren() { return ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD; }

TEST(ExecSink, GetsTheJsonOnStdinAndTheEnvironmentAndExitZeroIsDelivered) {
  const fs::path dir = TempDir("ok");
  const fs::path got = dir / "stdin.json";
  auto sink = Make({"/bin/sh", "-c",
                    "cat > \"$1\"; echo \"id=$IOTAD_ALERT_ID status=$IOTAD_ALERT_STATUS key=$IOTAD_DEDUP_KEY\"; "
                    "echo on-stderr >&2",
                    "sh", got.string()});
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->type(), "exec");
  const Notification n = test_util::SampleNotification();
  const AttemptResult a = sink->Send(n);
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_EQ(a.status_code, 0);
  EXPECT_EQ(a.error, "");
  EXPECT_EQ(a.response, "id=a1b2c3d4e5f6 status=firing key=" + n.dedup_key + "\non-stderr\n");
  EXPECT_EQ(ReadAll(got), NotificationJson(n) + "\n");
  EXPECT_TRUE(NoChildren());
  fs::remove_all(dir);
}

TEST(ExecSink, ExitCodesDecideTheOutcome) {
  auto temp = Make({"/bin/sh", "-c", "echo busy; exit 75"});
  ASSERT_NE(temp, nullptr);
  AttemptResult a = temp->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 75);
  EXPECT_EQ(a.response, "busy\n");
  EXPECT_EQ(a.error, "exec: /bin/sh exited with status 75 (EX_TEMPFAIL: try again later)");

  auto bad = Make({"/bin/sh", "-c", "echo no such user >&2; exit 3"});
  a = bad->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRefused);
  EXPECT_EQ(a.status_code, 3);
  EXPECT_EQ(a.response, "no such user\n");
  EXPECT_EQ(a.error, "exec: /bin/sh exited with status 3");

  auto killed = Make({"/bin/sh", "-c", "kill -9 $$"});
  a = killed->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.status_code, 137);
  EXPECT_EQ(a.error.rfind("exec: /bin/sh was killed by signal 9", 0), 0u) << a.error;

  // By name, through PATH; a command that never reads its input is fine.
  auto by_name = Make({"true"});
  a = by_name->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
  EXPECT_TRUE(NoChildren());
}

TEST(ExecSink, ATimeoutKillsTheWholeProcessGroup) {
  const fs::path dir = TempDir("timeout");
  const fs::path pidfile = dir / "pid";
  auto sink = Make({"/bin/sh", "-c", "sleep 30 & echo $! > \"$1\"; echo started; wait", "sh", pidfile.string()},
                   400'000);
  ASSERT_NE(sink, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const AttemptResult a = sink->Send(test_util::SampleNotification());
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(a.outcome, AttemptOutcome::kRetry);
  EXPECT_EQ(a.error, "exec: /bin/sh did not finish within the timeout of 400 ms; its process group was killed");
  EXPECT_EQ(a.response, "started\n");
  EXPECT_GE(took, 0.35);
  EXPECT_LT(took, 3.0);
  EXPECT_TRUE(NoChildren());
  // The shell's background sleep (a grandchild) was killed too: gone, or a zombie awaiting its reaper.
  const std::string pid = ReadAll(pidfile).substr(0, ReadAll(pidfile).find('\n'));
  ASSERT_FALSE(pid.empty());
  std::string state;
  for (int i = 0; i < 100; ++i) {
    const std::string stat = ReadAll("/proc/" + pid + "/stat");
    state = stat.empty() ? "gone" : stat.substr(stat.rfind(')') + 2, 1);
    if (state == "gone" || state == "Z") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(state == "gone" || state == "Z") << "sleep " << pid << " is in state " << state;
  fs::remove_all(dir);
}

TEST(ExecSink, OutputIsCappedAndNoFdOrZombieIsLeft) {
  auto sink = Make({"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"});
  ASSERT_NE(sink, nullptr);
  const size_t before = OpenFds();
  for (int i = 0; i < 20; ++i) {
    const AttemptResult a = sink->Send(test_util::SampleNotification());
    EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered) << a.error;
    EXPECT_EQ(a.response, std::string(4096, 'x'));
  }
  EXPECT_EQ(OpenFds(), before);
  EXPECT_TRUE(NoChildren());
}

TEST(ExecSink, ThePipesAreNotInheritedByTheCommand) {
  // The command's descriptors: its stdin, stdout and stderr, plus whatever this process already
  // had open without close-on-exec (the test runner's); none of the sink's pipes.
  std::set<int> inheritable = {0, 1, 2};
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(e.path().filename().string());
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) inheritable.insert(fd);
  }
  auto sink = Make({"/bin/sh", "-c", "ls /proc/$$/fd"});
  ASSERT_NE(sink, nullptr);
  const AttemptResult a = sink->Send(test_util::SampleNotification());
  EXPECT_EQ(a.outcome, AttemptOutcome::kDelivered);
  std::istringstream lines(a.response);
  int seen = 0;
  for (std::string line; std::getline(lines, line);) {
    ++seen;
    EXPECT_TRUE(inheritable.count(std::stoi(line)) == 1) << "fd " << line << " leaked into the command";
  }
  EXPECT_GE(seen, 3);
}

TEST(ExecSink, AMissingProgramFailsAtBuildTime) {
  config::ExecSinkOptions o;
  o.name = "x";
  o.command = {"iotad-no-such-program"};
  auto sink = MakeExecSink(o, SinkEnv{});
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().message(), "command iotad-no-such-program is not an executable found in PATH");
  o.command = {"/nonexistent/notify"};
  sink = MakeExecSink(o, SinkEnv{});
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().message(), "command /nonexistent/notify cannot be run: No such file or directory");
}

}  // namespace
}  // namespace iotad::alert
