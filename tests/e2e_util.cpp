#include "e2e_util.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "iotad/lake/gzip_stream.h"

namespace iotad::e2e {
namespace fs = std::filesystem;

std::string IotadBinary() {
  const char* override_path = std::getenv("IOTAD_E2E_BINARY");
  return override_path != nullptr && *override_path != '\0' ? override_path : IOTAD_BINARY;
}

CmdResult RunIotad(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                   const std::string& stdin_text) {
  static std::atomic<int> counter{0};
  const fs::path base = fs::temp_directory_path() /
                        ("iotad-e2e-io-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  const std::string out_path = base.string() + ".out", err_path = base.string() + ".err",
                    in_path = base.string() + ".in";
  WriteFile(in_path, stdin_text);
  const std::string binary = IotadBinary();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<std::string> argv_s{binary};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CmdResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  fs::remove(out_path);
  fs::remove(err_path);
  fs::remove(in_path);
  return r;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("iotad-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::string> ListFiles(const fs::path& root, const std::string& prefix) {
  std::vector<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), root).string();
    if (rel.rfind(prefix, 0) == 0) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Sql(const std::string& lake, const std::string& sql) {
  const CmdResult r = RunIotad({"sql", "--lake", lake, "--format", "csv", sql});
  EXPECT_EQ(r.exit_code, 0) << "sql failed: " << sql << "\n" << r.err;
  return r.out;
}

long long SqlInt(const std::string& lake, const std::string& sql) {
  const std::string out = Sql(lake, sql);
  const size_t nl = out.find('\n');
  if (nl == std::string::npos) return -1;
  return std::stoll(out.substr(nl + 1));
}

std::string Gzip(const std::string& text) { return lake::Gzip(text); }

}  // namespace iotad::e2e
