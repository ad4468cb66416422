#pragma once
// Helpers for end-to-end tests: run the real `iotad` binary, temp folders, file access.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace iotad::e2e {

struct CmdResult {
  int exit_code = -1;   // exit status, or -1 when killed by a signal
  int signal = 0;       // the signal that ended it, if any
  std::string out;
  std::string err;
};

/// The iotad binary the tests run: IOTAD_BINARY (the build's), unless the environment names
/// another in IOTAD_E2E_BINARY (the harness self-test points it at a missing file).
std::string IotadBinary();

/// Runs `iotad args...` with extra environment variables and optional standard input.
CmdResult RunIotad(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                   const std::string& stdin_text = "");

/// A unique folder removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, const std::string& text);
/// Every file below `root` (relative paths, sorted), optionally only those under `prefix`.
std::vector<std::string> ListFiles(const std::filesystem::path& root, const std::string& prefix = "");
/// Runs `iotad sql --format csv` and returns its output (fails the test on error).
std::string Sql(const std::string& lake, const std::string& sql);
/// One number from `iotad sql`.
long long SqlInt(const std::string& lake, const std::string& sql);

/// gzip of `text` (one member), for tests that feed compressed files.
std::string Gzip(const std::string& text);

/// A fresh lake in a temp folder (`iotad init` in SetUp: a failure there fails the test) and
/// `Iotad(args)`, which runs the binary with `--lake` pointing at it.
class LakeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_ / "lake";
    ASSERT_EQ(RunIotad({"init", lake_}).exit_code, 0);
  }
  CmdResult Iotad(std::vector<std::string> args) {
    args.push_back("--lake");
    args.push_back(lake_);
    return RunIotad(args);
  }
  TempDir dir_;
  std::string lake_;
};

}  // namespace iotad::e2e
