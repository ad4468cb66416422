#include "iotad/core/thread.h"

#include <atomic>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace iotad {

TEST(StartThreadTest, RunsTheFunctionAndJoinsOnDestruction) {
  std::atomic<int> ran{0};
  {
    auto t = StartThread("a test", [&] { ran = 1; });
    ASSERT_TRUE(t.ok()) << t.status().message();
  }  // the jthread joins here
  EXPECT_EQ(ran, 1);
}

TEST(StartThreadTest, AnInjectedFailureIsAnErrorAndEarlierThreadsStillJoin) {
  std::atomic<int> ran{0};
  std::vector<std::jthread> threads;
  FailThreadStartAt(2);
  auto first = StartThread("gold scoring", [&] { ++ran; });
  ASSERT_TRUE(first.ok()) << first.status().message();
  threads.push_back(std::move(*first));
  auto second = StartThread("gold scoring", [&] { ++ran; });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Errc::kInternal);
  EXPECT_NE(second.status().message().find("cannot start a thread for gold scoring"), std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("Resource temporarily unavailable"), std::string::npos)
      << second.status().message();
  // Fired once: the fault is disarmed again.
  auto third = StartThread("gold scoring", [&] { ++ran; });
  ASSERT_TRUE(third.ok());
  threads.push_back(std::move(*third));
  threads.clear();  // returning early with running threads is safe: they join
  EXPECT_EQ(ran, 2);
}

// The real failure, not an injected one: a child process whose address space has no room left
// for a thread stack gets EAGAIN from pthread_create. It must come back as a Status (exit 7),
// not std::terminate (SIGABRT). Sanitizer runtimes reserve terabytes of address space and
// allocate on thread creation themselves, so they cannot run under this limit; the injected
// test above covers those builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IOTAD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IOTAD_SANITIZED 1
#endif
#endif
#ifndef IOTAD_SANITIZED
TEST(StartThreadTest, ARefusedThreadFromTheOsIsAnErrorNotTerminate) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    std::vector<std::jthread> threads;
    // Leave a little room above what is mapped now: less than one 8 MiB default stack.
    long pages = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    const rlim_t vm = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
    rlimit as{vm + (2u << 20), vm + (2u << 20)};
    if (pages == 0 || ::setrlimit(RLIMIT_AS, &as) != 0) ::_exit(5);
    for (int i = 0; i < 64; ++i) {
      auto t = StartThread("a test", [] {});
      if (!t.ok()) {
        const bool named = t.status().message().find("cannot start a thread for a test") != std::string::npos;
        ::_exit(named ? 7 : 6);
      }
      threads.push_back(std::move(*t));
    }
    ::_exit(8);  // every thread started: the limit did not bite
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died from signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 7);
}
#endif

}  // namespace iotad
