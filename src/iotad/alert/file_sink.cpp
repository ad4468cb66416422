// type = "file": each notification's generic JSON as one line appended to a file (JSON lines).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

#include <fmt/format.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/template.h"

namespace iotad::alert {
namespace {

std::string ErrnoText(int e) { return std::error_code(e, std::generic_category()).message(); }

class FileSink final : public Sink {
 public:
  FileSink(const config::FileSinkOptions& o, const SinkEnv& env, std::filesystem::path path)
      : Sink(o, "file", env.alert), path_(std::move(path)) {}

  // One open, one write() of the whole line (O_APPEND: lines of concurrent writers never
  // interleave), fsync, close. Opening per line follows a file that was rotated away.
  AttemptResult Send(const Notification& n) override {
    AttemptResult a;
    const std::string line = NotificationJson(n) + "\n";
    std::lock_guard lock(mu_);
    int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT && path_.has_parent_path()) {
      // The folder is made when the first line is written (not when `iotad config check` builds
      // the sink), and again if it was removed.
      std::error_code ec;
      std::filesystem::create_directories(path_.parent_path(), ec);
      if (ec) return Failed(a, "create the folder of", ec.value());
      fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd < 0) return Failed(a, "open", errno);
    ssize_t w;
    do {
      w = ::write(fd, line.data(), line.size());
    } while (w < 0 && errno == EINTR);
    if (w < 0 || static_cast<size_t>(w) != line.size()) {
      const int e = w < 0 ? errno : ENOSPC;
      // A short write left part of a line: truncating back is not possible under O_APPEND with
      // other writers, so the reader skips a line that does not parse; the retry writes it whole.
      ::close(fd);
      return Failed(a, "write to", e);
    }
    if (::fsync(fd) != 0) {
      const int e = errno;
      ::close(fd);
      return Failed(a, "fsync", e);
    }
    if (::close(fd) != 0) return Failed(a, "close", errno);
    a.outcome = AttemptOutcome::kDelivered;
    a.response = fmt::format("appended {} bytes to {}", line.size(), path_.string());
    return a;
  }

 private:
  AttemptResult Failed(AttemptResult& a, const char* what, int e) const {
    a.outcome = AttemptOutcome::kRetry;  // a full disk or a permission fixed later: worth retrying
    a.error = fmt::format("file: cannot {} {}: {}", what, path_.string(), ErrnoText(e));
    return a;
  }

  std::filesystem::path path_;
  std::mutex mu_;
};

}  // namespace

Result<std::unique_ptr<Sink>> MakeFileSink(const config::FileSinkOptions& o, const SinkEnv& env) {
  if (o.path.empty()) return Error(Errc::kInvalidArgument, "path is empty");
  std::filesystem::path path(o.path);
  if (path.is_relative()) path = env.lake_root / path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error(Errc::kInvalidArgument, "path {} is a folder, not a file", path.string());
  }
  return std::unique_ptr<Sink>(new FileSink(o, env, std::move(path)));
}

}  // namespace iotad::alert
