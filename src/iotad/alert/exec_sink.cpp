// type = "exec": runs `command` (argv, no shell) in its own process group with the notification
// JSON on stdin. posix_spawnp (glibc: clone + exec, no fork of a multi-threaded process) does
// what fork/execvp would. stdout and stderr together are the response (4 KiB kept); past the
// timeout the whole process group is killed. Exit 0: delivered; 75 (EX_TEMPFAIL): retry; other
// exits: refused; killed by a signal: retry.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/template.h"

extern char** environ;

namespace iotad::alert {
namespace {

constexpr size_t kMaxOutput = 4 * 1024;
constexpr int kExTempFail = 75;

std::string ErrnoText(int e) { return std::error_code(e, std::generic_category()).message(); }

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// An executable `name` in PATH (what execvp would run), or "" when there is none.
std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return "";
}

// Writes to a pipe whose reader may be gone without this process getting SIGPIPE: the signal is
// blocked in this thread for the write and a pending one is consumed (the usual technique).
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  const ssize_t w = ::write(fd, data, size);
  const int saved = errno;
  if (w < 0 && saved == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return w;
}

class ExecSink final : public Sink {
 public:
  ExecSink(const config::ExecSinkOptions& o, const SinkEnv& env) : Sink(o, "exec", env.alert), command_(o.command) {}

  AttemptResult Send(const Notification& n) override {
    AttemptResult a;
    const auto t0 = std::chrono::steady_clock::now();
    const auto deadline = t0 + std::chrono::microseconds(timeout_us());
    auto finish = [&a, t0](AttemptOutcome outcome, std::string error) {
      a.outcome = outcome;
      a.error = std::move(error);
      a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return a;
    };
    const std::string& prog = command_.front();

    int in_pipe[2], out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
      return finish(AttemptOutcome::kRetry, fmt::format("exec: cannot make a pipe: {}", ErrnoText(errno)));
    }
    Fd in_read(in_pipe[0]), in_write(in_pipe[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
      return finish(AttemptOutcome::kRetry, fmt::format("exec: cannot make a pipe: {}", ErrnoText(errno)));
    }
    Fd out_read(out_pipe[0]), out_write(out_pipe[1]);

    // argv and envp, built before the spawn.
    std::vector<char*> argv;
    for (const std::string& s : command_) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    const std::vector<std::pair<std::string, std::string>> extra = {
        {"IOTAD_ALERT_ID", n.alert_id},        {"IOTAD_DEDUP_KEY", n.dedup_key},
        {"IOTAD_ALERT_STATUS", n.status},      {"IOTAD_NOTIFICATION_KIND", NotificationKindName(n.kind)},
        {"IOTAD_DELIVERY_ID", n.id},           {"IOTAD_SEVERITY", n.severity}};
    std::vector<std::string> env_strings;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string_view kv(*e);
      bool replaced = false;
      for (const auto& [k, v] : extra) replaced = replaced || (kv.substr(0, k.size() + 1) == k + "=");
      if (!replaced) env_strings.emplace_back(kv);
    }
    for (const auto& [k, v] : extra) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_read.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDERR_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t no_signals, default_signals;
    sigemptyset(&no_signals);
    sigemptyset(&default_signals);
    sigaddset(&default_signals, SIGPIPE);
    sigaddset(&default_signals, SIGINT);
    sigaddset(&default_signals, SIGTERM);
    sigaddset(&default_signals, SIGCHLD);
    posix_spawnattr_setsigmask(&attr, &no_signals);
    posix_spawnattr_setsigdefault(&attr, &default_signals);
    posix_spawnattr_setpgroup(&attr, 0);  // its own process group: the timeout kills all of it
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int spawn_error = posix_spawnp(&pid, prog.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    in_read.Close();
    out_write.Close();
    if (spawn_error != 0) {
      // A missing or non-executable program does not fix itself by retrying.
      return finish(AttemptOutcome::kRefused, fmt::format("exec: cannot run {}: {}", prog, ErrnoText(spawn_error)));
    }

    const std::string input = NotificationJson(n) + "\n";
    size_t written = 0;
    ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
    std::string output;
    bool output_open = true, exited = false, timed_out = false;
    int status = 0;
    std::chrono::steady_clock::time_point exited_at;
    while (true) {
      if (!exited) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
          exited = true;
          exited_at = std::chrono::steady_clock::now();
        }
      }
      if (exited) {
        in_write.Close();
        // Output still buffered in the pipe is read; a background process that inherited it
        // does not hold this attempt past a short grace.
        if (!output_open || std::chrono::steady_clock::now() - exited_at > std::chrono::milliseconds(200)) break;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        timed_out = !exited;
        break;
      }
      pollfd fds[2];
      nfds_t nfds = 0;
      if (output_open) fds[nfds++] = {out_read.get(), POLLIN, 0};
      const bool want_write = in_write.get() >= 0 && written < input.size();
      if (want_write) fds[nfds++] = {in_write.get(), POLLOUT, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      const int wait_ms = static_cast<int>(std::min<int64_t>({left + 1, 20}));
      const int pr = ::poll(fds, nfds, wait_ms);
      if (pr < 0 && errno != EINTR) break;
      for (nfds_t i = 0; pr > 0 && i < nfds; ++i) {
        if (fds[i].fd == out_read.get() && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
          char buf[4096];
          const ssize_t r = ::read(out_read.get(), buf, sizeof buf);
          if (r > 0) {
            if (output.size() < kMaxOutput) output.append(buf, std::min<size_t>(r, kMaxOutput - output.size()));
          } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
            output_open = false;
          }
        } else if (fds[i].fd == in_write.get() && (fds[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
          const ssize_t w = WriteNoSigpipe(in_write.get(), input.data() + written, input.size() - written);
          if (w > 0) written += static_cast<size_t>(w);
          // The command need not read its input (EPIPE): what it exits with decides.
          if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in_write.Close();
        }
      }
    }
    if (!exited) {
      ::kill(-pid, SIGKILL);  // the whole group: a shell's children too
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    a.response = std::move(output);
    if (timed_out) {
      return finish(AttemptOutcome::kRetry,
                    fmt::format("exec: {} did not finish within the timeout of {} ms; its process group was killed",
                                prog, (timeout_us() + 999) / 1000));
    }
    if (WIFSIGNALED(status)) {
      a.status_code = 128 + WTERMSIG(status);
      return finish(AttemptOutcome::kRetry, fmt::format("exec: {} was killed by signal {} ({})", prog,
                                                        WTERMSIG(status), strsignal(WTERMSIG(status))));
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    a.status_code = code;
    if (code == 0) return finish(AttemptOutcome::kDelivered, "");
    if (code == kExTempFail) {
      return finish(AttemptOutcome::kRetry, fmt::format("exec: {} exited with status 75 (EX_TEMPFAIL: try again later)", prog));
    }
    return finish(AttemptOutcome::kRefused, fmt::format("exec: {} exited with status {}", prog, code));
  }

 private:
  std::vector<std::string> command_;
};

}  // namespace

Result<std::unique_ptr<Sink>> MakeExecSink(const config::ExecSinkOptions& o, const SinkEnv& env) {
  if (o.command.empty() || o.command.front().empty()) return Error(Errc::kInvalidArgument, "command is empty");
  const std::string& prog = o.command.front();
  if (prog.find('/') != std::string::npos) {
    if (::access(prog.c_str(), X_OK) != 0) {
      return Error(Errc::kInvalidArgument, "command {} cannot be run: {}", prog, ErrnoText(errno));
    }
  } else if (FindInPath(prog).empty()) {
    return Error(Errc::kInvalidArgument, "command {} is not an executable found in PATH", prog);
  }
  return std::unique_ptr<Sink>(new ExecSink(o, env));
}

}  // namespace iotad::alert
