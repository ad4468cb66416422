// Crash safety: kill -9 at many points of ingest, silver and gold (deterministic fault points,
// and at random moments), re-run, and compare with the lake an uninterrupted run gives.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e_util.h"

namespace iotad::e2e {
namespace {

namespace fs = std::filesystem;

/// Everything that defines a lake's content: its data files by name, and each table's rows.
std::string Fingerprint(const std::string& lake) {
  std::string out;
  for (const char* layer : {"bronze/", "silver/", "quarantine/", "gold/", "gold_summary/"}) {
    for (const auto& f : ListFiles(lake, layer)) out += f + "\n";
  }
  out += Sql(lake,
             "SELECT count(*), md5(string_agg(concat_ws('|', event_time, device_id, location, temp_c, humidity_pc, "
             "vibration_g), ',' ORDER BY device_id, event_time)) FROM silver");
  out += Sql(lake,
             "SELECT count(*), md5(string_agg(concat_ws('|', reason, detail, source_file, line, raw), ',' "
             "ORDER BY source_file, line, reason)) FROM quarantine");
  out += Sql(lake,
             "SELECT count(*), md5(string_agg(concat_ws('|', event_time, device_id, metric, value, z, detector, "
             "explanation), ',' ORDER BY device_id, event_time, metric, detector)) FROM anomalies");
  out += Sql(lake,
             "SELECT count(*), md5(string_agg(concat_ws('|', hour_start, device_id, metric, \"rows\", anomalies, mean, "
             "std, min, max), ',' ORDER BY device_id, hour_start, metric)) FROM gold_summary");
  // Nothing left behind in staging once a writer has run.
  for (const auto& f : ListFiles(lake, "_iotad/staging/")) out += "STAGING LEFTOVER " + f + "\n";
  return out;
}

class CrashTest : public ::testing::Test {
 protected:
  // The shared set-up (two batches and the reference lake) is built by the first test of the
  // process, in SetUp: a failure there fails that test (and every later one of the process). In
  // SetUpTestSuite, gtest would report a failure as "skipped" for every test of the suite.
  void SetUp() override {
    if (!prepared_) {
      prepared_ = true;
      Prepare();
      if (HasFailure()) setup_failed_ = true;
    }
    ASSERT_FALSE(setup_failed_) << "the crash tests' set-up failed (generate, or the reference lake)";
  }
  static void Prepare() {
    dir_ = new TempDir();
    // Two batches: the second brings late rows and duplicates for hours of the first.
    const CmdResult g = RunIotad({"generate", "--devices", "12", "--hours", "8", "--dirty", "--seed", "11",
                                  "--anomaly-rate", "3", "--late-rate", "0.05", "--duplicate-rate", "0.03",
                                  "--out", *dir_ / "gen"});
    ASSERT_EQ(g.exit_code, 0) << "set-up: iotad generate failed: " << g.err;
    int i = 0;
    for (const auto& f : ListFiles(dir_->path() / "gen", "fleet-")) {
      const fs::path target = dir_->path() / (i++ < 4 ? "batch1" : "batch2") / f;
      fs::create_directories(target.parent_path());
      fs::copy_file(dir_->path() / "gen" / f, target);
    }
    ASSERT_GT(i, 4) << "set-up: generate wrote too few files for two batches";
    reference_ = new std::string(BuildLake("reference", {}, 0));
    ASSERT_EQ(reference_->find("STAGING"), std::string::npos) << *reference_;
  }
  static void TearDownTestSuite() {
    delete reference_;
    delete dir_;
    reference_ = nullptr;
    dir_ = nullptr;
    prepared_ = false;  // the next suite of the process builds its own
    setup_failed_ = false;
  }

  static std::vector<std::string> RunArgs(const std::string& lake, int batch) {
    return {"run", "--no-inbox", "--input", *dir_ / fmt::format("batch{}", batch), "--lake", lake};
  }

  /// Builds a lake from both batches; `crash_env` arms a fault point during batch `crash_batch`
  /// (0: none), then the same command is run again, as a scheduler would retry it.
  static std::string BuildLake(const std::string& name, const std::map<std::string, std::string>& crash_env,
                               int crash_batch) {
    const std::string lake = *dir_ / name;
    EXPECT_EQ(RunIotad({"init", lake}).exit_code, 0);
    for (int batch = 1; batch <= 2; ++batch) {
      if (batch == crash_batch) {
        const CmdResult crashed = RunIotad(RunArgs(lake, batch), crash_env);
        EXPECT_EQ(crashed.signal, SIGKILL) << "fault point not reached: " << crash_env.begin()->second << "\n"
                                           << crashed.out << crashed.err;
      }
      const CmdResult r = RunIotad(RunArgs(lake, batch));
      EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    return Fingerprint(lake);
  }

  static TempDir* dir_;
  static std::string* reference_;
  static bool prepared_;
  static bool setup_failed_;
};

TempDir* CrashTest::dir_ = nullptr;
std::string* CrashTest::reference_ = nullptr;
bool CrashTest::prepared_ = false;
bool CrashTest::setup_failed_ = false;

struct CrashPoint {
  const char* point;
  int hit;
  int batch;
};

class CrashAtPointTest : public CrashTest, public ::testing::WithParamInterface<CrashPoint> {};

TEST_P(CrashAtPointTest, RerunGivesTheLakeOfAnUninterruptedRun) {
  const CrashPoint& c = GetParam();
  const std::string spec = fmt::format("{}:{}", c.point, c.hit);
  const std::string got = BuildLake(fmt::format("crash-{}-{}-{}", c.point, c.hit, c.batch),
                                    {{"IOTAD_CRASH_AT", spec}}, c.batch);
  EXPECT_EQ(got, *reference_) << "after a crash at " << spec << " in batch " << c.batch;
}

// Commits per run: 1 ingest, 2 silver, 3 gold. Batch 2 exercises late rows and replacement.
INSTANTIATE_TEST_SUITE_P(
    FaultPoints, CrashAtPointTest,
    ::testing::Values(CrashPoint{"ingest.after_stage_file", 1, 1}, CrashPoint{"ingest.after_stage_file", 3, 2},
                      CrashPoint{"commit.before_log", 1, 1}, CrashPoint{"commit.before_log", 2, 2},
                      CrashPoint{"commit.after_log", 1, 2}, CrashPoint{"commit.after_log", 2, 2},
                      CrashPoint{"commit.after_log", 3, 2}, CrashPoint{"commit.apply.after_first_move", 1, 1},
                      CrashPoint{"commit.apply.after_first_move", 2, 2},
                      CrashPoint{"commit.apply.after_first_move", 3, 2},
                      CrashPoint{"commit.apply.before_deletes", 3, 2}, CrashPoint{"commit.apply.before_marker", 2, 1},
                      CrashPoint{"commit.apply.before_marker", 3, 2}, CrashPoint{"silver.after_hour_file", 1, 1},
                      CrashPoint{"silver.after_hour_file", 3, 2}, CrashPoint{"silver.before_commit", 1, 2},
                      CrashPoint{"gold.after_stage_file", 1, 1}, CrashPoint{"gold.after_stage_file", 7, 2},
                      CrashPoint{"gold.before_commit", 1, 2}, CrashPoint{"store.put_file.before_rename", 1, 1},
                      CrashPoint{"store.put_file.before_rename", 9, 2}, CrashPoint{"store.put.before_rename", 1, 2},
                      CrashPoint{"store.put.before_rename", 4, 2}),
    [](const ::testing::TestParamInfo<CrashPoint>& info) {
      std::string name = fmt::format("{}_{}_batch{}", info.param.point, info.param.hit, info.param.batch);
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

/// Starts `iotad args...` (output discarded), waits `delay_ms`, sends SIGKILL. True when the kill
/// ended the process (false: it had already finished).
bool KillAfter(const std::vector<std::string>& args, int delay_ms) {
  const std::string binary = IotadBinary();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<std::string> argv_s{binary};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST_F(CrashTest, KillMinusNineAtRandomMomentsThenRerunGivesTheSameLake) {
  // Real SIGKILLs from outside, at moments spread over a run of batch 2. The moments are
  // fractions of what an uninterrupted run takes on this machine now (measured first), so a slow
  // or loaded machine (or a sanitizer build) still gets kills spread over the whole run. Every
  // attempt must land a kill mid-run: a run that finished before its kill is redone, on a fresh
  // lake, with an earlier kill.
  const std::string timing = *dir_ / "random-timing";
  ASSERT_EQ(RunIotad({"init", timing}).exit_code, 0);
  ASSERT_EQ(RunIotad(RunArgs(timing, 1)).exit_code, 0);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(RunIotad(RunArgs(timing, 2)).exit_code, 0);
  const int run_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  std::mt19937 rng(20261123);
  for (int attempt = 0; attempt < 6; ++attempt) {
    double fraction = std::uniform_real_distribution<double>(0.01, 0.95)(rng);
    bool killed = false;
    std::string lake;
    int delay_ms = 0;
    for (int tries = 0; tries < 8 && !killed; ++tries, fraction /= 2) {
      lake = *dir_ / fmt::format("random-{}-{}", attempt, tries);
      ASSERT_EQ(RunIotad({"init", lake}).exit_code, 0);
      ASSERT_EQ(RunIotad(RunArgs(lake, 1)).exit_code, 0);
      delay_ms = std::max(1, static_cast<int>(fraction * run_ms));
      killed = KillAfter(RunArgs(lake, 2), delay_ms);
    }
    ASSERT_TRUE(killed) << "every run of batch 2 finished before its kill (an uninterrupted run took " << run_ms
                        << " ms)";
    const CmdResult r = RunIotad(RunArgs(lake, 2));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(Fingerprint(lake), *reference_)
        << "after SIGKILL at " << delay_ms << " ms of a " << run_ms << " ms run";
  }
}

TEST_F(CrashTest, CrashDuringSilverRebuildThenRerunGivesTheSameLake) {
  // A rebuild re-partitions silver into other (deterministic) files: compare with an
  // uninterrupted rebuild.
  auto build = [&](const std::string& name, const std::string& crash_point) {
    const std::string lake = *dir_ / name;
    EXPECT_EQ(RunIotad({"init", lake}).exit_code, 0);
    EXPECT_EQ(RunIotad(RunArgs(lake, 1)).exit_code, 0);
    EXPECT_EQ(RunIotad(RunArgs(lake, 2)).exit_code, 0);
    if (!crash_point.empty()) {
      EXPECT_EQ(RunIotad({"silver", "--rebuild", "--lake", lake}, {{"IOTAD_CRASH_AT", crash_point}}).signal, SIGKILL)
          << crash_point;
    }
    EXPECT_EQ(RunIotad({"silver", "--rebuild", "--lake", lake}).exit_code, 0);
    EXPECT_EQ(RunIotad({"gold", "--lake", lake}).exit_code, 0);
    return Fingerprint(lake);
  };
  const std::string expected = build("rebuild-reference", "");
  for (const char* point : {"silver.after_hour_file:2", "commit.after_log:1", "commit.apply.before_deletes:1"}) {
    EXPECT_EQ(build(fmt::format("rebuild-{}", point), point), expected) << "after a crash at " << point;
  }
}

TEST_F(CrashTest, CrashWhileGoldReplacesItsOutputsThenRerunGivesTheSameLake) {
  // A new threshold changes every anomaly file: gold replaces them all in one commit.
  auto build = [&](const std::string& name, const std::string& crash_point) {
    const std::string lake = *dir_ / name;
    EXPECT_EQ(RunIotad({"init", lake}).exit_code, 0);
    EXPECT_EQ(RunIotad(RunArgs(lake, 1)).exit_code, 0);
    EXPECT_EQ(RunIotad(RunArgs(lake, 2)).exit_code, 0);
    WriteFile(fs::path(lake) / "iotad.toml", "[gold]\nzscore_threshold = 2.5\n");
    if (!crash_point.empty()) {
      EXPECT_EQ(RunIotad({"gold", "--lake", lake}, {{"IOTAD_CRASH_AT", crash_point}}).signal, SIGKILL) << crash_point;
    }
    EXPECT_EQ(RunIotad({"gold", "--lake", lake}).exit_code, 0);
    return Fingerprint(lake);
  };
  const std::string expected = build("regold-reference", "");
  EXPECT_NE(expected, *reference_);
  for (const char* point : {"gold.after_stage_file:3", "gold.before_commit:1", "commit.apply.after_first_move:1",
                            "commit.apply.before_deletes:1"}) {
    EXPECT_EQ(build(fmt::format("regold-{}", point), point), expected) << "after a crash at " << point;
  }
}

}  // namespace
}  // namespace iotad::e2e
