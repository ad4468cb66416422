#include "iotad/alert/deliver.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

// Changes{.deliveries = {...}}: the other members stay empty on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "iotad/alert/engine.h"

namespace iotad::alert {
namespace {
namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

constexpr TimestampUs kT0 = 1'704'067'200'000'000;  // 2024-01-01T00:00:00Z
constexpr int64_t kSecond = 1'000'000;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / fmt::format("iotad-alert-deliver-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// A receiver in the test: records every call, sleeps, fails the first `fail_first` calls (with
/// `fail_status`, and a Retry-After when set), refuses when told to. Counts calls in flight.
class TestSink : public Sink {
 public:
  struct Behaviour {
    std::chrono::milliseconds delay{0};
    int fail_first = 0;
    int64_t fail_status = 500;
    std::optional<int64_t> retry_after_us;
    bool refuse = false;
  };
  TestSink(std::string name, int64_t concurrency, int64_t max_attempts, Behaviour b)
      : Sink(Common(std::move(name), concurrency, max_attempts), "test", config::AlertConfig{}), b_(b) {}

  AttemptResult Send(const Notification& n) override {
    const int now_in = ++in_flight_;
    {
      std::lock_guard lock(mu_);
      max_in_flight_ = std::max(max_in_flight_, now_in);
      calls_.push_back(n.id);
    }
    std::this_thread::sleep_for(b_.delay);
    AttemptResult r;
    const int call = ++count_;
    if (b_.refuse) {
      r.outcome = AttemptOutcome::kRefused;
      r.status_code = 403;
      r.error = "HTTP 403";
    } else if (call <= b_.fail_first) {
      r.outcome = AttemptOutcome::kRetry;
      r.status_code = b_.fail_status;
      r.error = fmt::format("HTTP {}", b_.fail_status);
      r.retry_after_us = b_.retry_after_us;
    } else {
      r.outcome = AttemptOutcome::kDelivered;
      r.status_code = 200;
      r.response = "ok";
    }
    {
      std::lock_guard lock(mu_);
      finished_.push_back(Clock_::now());
    }
    --in_flight_;
    return r;
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int max_in_flight() {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }
  std::vector<Clock_::time_point> finished() {
    std::lock_guard lock(mu_);
    return finished_;
  }
  /// Every sink in flight at once over all test sinks.
  static std::atomic<int>& Global() {
    static std::atomic<int> g{0};
    return g;
  }

 private:
  static config::SinkCommon Common(std::string name, int64_t concurrency, int64_t max_attempts) {
    config::SinkCommon c;
    c.name = std::move(name);
    c.concurrency = concurrency;
    c.max_attempts = max_attempts;
    c.timeout_us = 5 * kSecond;
    return c;
  }
  Behaviour b_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> count_{0};
  std::mutex mu_;
  int max_in_flight_ = 0;
  std::vector<std::string> calls_;
  std::vector<Clock_::time_point> finished_;
};

/// Counts the calls in flight over several sinks (wraps them).
class CountingSink : public Sink {
 public:
  CountingSink(TestSink& inner, std::atomic<int>& global, std::atomic<int>& max_global)
      : Sink(Common(inner), "test", config::AlertConfig{}), inner_(inner), global_(global), max_(max_global) {}
  AttemptResult Send(const Notification& n) override {
    const int now = ++global_;
    int prev = max_.load();
    while (now > prev && !max_.compare_exchange_weak(prev, now)) {
    }
    auto r = inner_.Send(n);
    --global_;
    return r;
  }

 private:
  static config::SinkCommon Common(const TestSink& s) {
    config::SinkCommon c;
    c.name = s.name();
    c.concurrency = s.concurrency();
    c.max_attempts = s.max_attempts();
    return c;
  }
  TestSink& inner_;
  std::atomic<int>& global_;
  std::atomic<int>& max_;
};

Delivery MakeDelivery(const std::string& sink, int i, TimestampUs created) {
  Delivery d;
  d.alert_id = fmt::format("alert{:07d}", i);
  d.id = fmt::format("{}-1-{}", d.alert_id, sink);
  d.sink = sink;
  d.notification.id = d.id;
  d.notification.alert_id = d.alert_id;
  d.notification.device = fmt::format("dev-{}", i);
  d.state = DeliveryState::kPending;
  d.created_at_us = created;
  d.next_attempt_at_us = created;
  return d;
}

Alert MakeAlert(int i) {
  Alert a;
  a.id = fmt::format("alert{:07d}", i);
  a.rule = "r";
  a.labels = {{"device", fmt::format("dev-{}", i)}};
  a.group_key = "device=" + a.labels["device"];
  return a;
}

class DeliverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenLocalStore(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto log = AlertLog::Open(*store_, clock_);
    ASSERT_TRUE(log.ok()) << log.status().message();
    log_.emplace(std::move(*log));
    options_.budget_us = 30 * kSecond;
    options_.concurrency = 4;
    options_.backoff_initial_us = 10 * kSecond;
    options_.backoff_max_us = 300 * kSecond;
  }
  void Add(const std::string& sink, int from, int to) {
    Changes c;
    for (int i = from; i < to; ++i) {
      c.alerts.push_back(MakeAlert(i));
      c.deliveries.push_back(MakeDelivery(sink, i, kT0 + i));
    }
    ASSERT_TRUE(log_->Commit(c).ok());
  }
  DeliverReport Run(const std::map<std::string, Sink*>& sinks) {
    auto r = Deliver(*log_, sinks, options_, clock_);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : DeliverReport{};
  }
  const Delivery& Get(const std::string& id) { return log_->state().deliveries.at(id); }

  TempDir dir_;
  ManualClock clock_{kT0 + 1000};
  std::unique_ptr<store::ObjectStore> store_;
  std::optional<AlertLog> log_;
  DeliverOptions options_;
};

TEST_F(DeliverTest, DeliversOldestFirstAndRecordsEveryAttempt) {
  TestSink sink("s", 1, 5, {});
  Add("s", 0, 5);
  const auto report = Run({{"s", &sink}});
  EXPECT_EQ(report.delivered, 5);
  EXPECT_EQ(report.pending, 0);
  const auto calls = sink.calls();
  ASSERT_EQ(calls.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(calls[i], MakeDelivery("s", i, 0).id);
  EXPECT_EQ(log_->state().attempts.size(), 5u);
  // One record for the outbox, one per attempt, readable by anyone.
  auto fresh = AlertLog::Open(*store_, clock_);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->state().seq, 6);
  for (const auto& [id, d] : fresh->state().deliveries) {
    EXPECT_EQ(d.state, DeliveryState::kDelivered) << id;
    EXPECT_EQ(d.attempts, 1);
  }
  // A second pass has nothing due.
  const auto again = Run({{"s", &sink}});
  EXPECT_EQ(again.attempted, 0);
  EXPECT_EQ(sink.calls().size(), 5u);
}

TEST_F(DeliverTest, ConcurrencyBoundsHoldOverAllAndPerSink) {
  TestSink a("a", 2, 5, {.delay = std::chrono::milliseconds(60)});
  TestSink b("b", 3, 5, {.delay = std::chrono::milliseconds(60)});
  TestSink c("c", 3, 5, {.delay = std::chrono::milliseconds(60)});
  std::atomic<int> global{0}, max_global{0};
  CountingSink ca(a, global, max_global), cb(b, global, max_global), cc(c, global, max_global);
  Add("a", 0, 8);
  Add("b", 8, 16);
  Add("c", 16, 24);
  options_.concurrency = 4;
  const auto report = Run({{"a", &ca}, {"b", &cb}, {"c", &cc}});
  EXPECT_EQ(report.delivered, 24);
  EXPECT_LE(max_global.load(), 4);
  EXPECT_GE(max_global.load(), 3);  // it did run in parallel
  EXPECT_LE(a.max_in_flight(), 2);
  EXPECT_LE(b.max_in_flight(), 3);
  EXPECT_LE(c.max_in_flight(), 3);
}

TEST_F(DeliverTest, SlowSinkDoesNotDelayTheOthers) {
  TestSink slow("slow", 1, 5, {.delay = std::chrono::milliseconds(1000)});
  TestSink fast("fast", 2, 5, {.delay = std::chrono::milliseconds(20)});
  // The slow sink's deliveries are the oldest: a FIFO without per-sink slots would block on them.
  Add("slow", 0, 3);
  Add("fast", 3, 23);
  options_.concurrency = 3;
  const auto start = Clock_::now();
  const auto report = Run({{"slow", &slow}, {"fast", &fast}});
  EXPECT_EQ(report.delivered, 23);
  const auto fast_done = fast.finished();
  const auto slow_done = slow.finished();
  ASSERT_EQ(fast_done.size(), 20u);
  ASSERT_EQ(slow_done.size(), 3u);
  const auto fast_last = *std::max_element(fast_done.begin(), fast_done.end());
  const auto slow_last = *std::max_element(slow_done.begin(), slow_done.end());
  // 20 fast requests over 2 slots take ~0.2 s; the slow sink needs ~3 s, one at a time.
  EXPECT_LT(fast_last - start, std::chrono::milliseconds(900));
  EXPECT_GT(slow_last - start, std::chrono::milliseconds(2900));
  EXPECT_EQ(slow.max_in_flight(), 1);
}

TEST_F(DeliverTest, BackoffScheduleDoublesWithJitterAndCaps) {
  for (int64_t attempts = 1; attempts <= 10; ++attempts) {
    const int64_t base = std::min<int64_t>(300 * kSecond, (10 * kSecond) << (attempts - 1));
    const int64_t d = RetryDelayUs("x-1-s", attempts, options_, std::nullopt);
    EXPECT_GE(d, base * 8 / 10) << attempts;
    EXPECT_LE(d, base * 12 / 10) << attempts;
    EXPECT_EQ(d, RetryDelayUs("x-1-s", attempts, options_, std::nullopt)) << "reproducible";
  }
  // Jitter differs between deliveries (not every one retries at the same instant).
  std::set<int64_t> delays;
  for (int i = 0; i < 20; ++i) delays.insert(RetryDelayUs(fmt::format("d{}", i), 3, options_, std::nullopt));
  EXPECT_GT(delays.size(), 15u);

  TestSink sink("s", 1, 10, {.fail_first = 100});
  Add("s", 0, 1);
  const std::string id = MakeDelivery("s", 0, 0).id;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    const auto report = Run({{"s", &sink}});
    EXPECT_EQ(report.attempted, 1) << attempt;
    EXPECT_EQ(report.failed_attempts, 1);
    const Delivery& d = Get(id);
    EXPECT_EQ(d.state, DeliveryState::kPending);
    EXPECT_EQ(d.attempts, attempt);
    EXPECT_EQ(d.last_error, "HTTP 500");
    EXPECT_EQ(d.next_attempt_at_us, clock_.NowUs() + RetryDelayUs(id, attempt, options_, std::nullopt));
    // Not due yet: nothing is sent.
    clock_.Advance(RetryDelayUs(id, attempt, options_, std::nullopt) - 1);
    EXPECT_EQ(Run({{"s", &sink}}).attempted, 0);
    clock_.Advance(1);
  }
  EXPECT_EQ(sink.calls().size(), 4u);
  // A Retry-After shorter than the backoff does not shorten it.
  EXPECT_EQ(RetryDelayUs(id, 3, options_, 1 * kSecond), RetryDelayUs(id, 3, options_, std::nullopt));
}

TEST_F(DeliverTest, RetryAfterIsHonoured) {
  TestSink sink("s", 1, 10, {.fail_first = 1, .fail_status = 429, .retry_after_us = 90 * kSecond});
  Add("s", 0, 1);
  const std::string id = MakeDelivery("s", 0, 0).id;
  Run({{"s", &sink}});
  EXPECT_EQ(Get(id).next_attempt_at_us, clock_.NowUs() + 90 * kSecond);
  ASSERT_EQ(log_->state().attempts.size(), 1u);
  EXPECT_EQ(log_->state().attempts[0].result.status_code, 429);
  EXPECT_EQ(log_->state().attempts[0].result.retry_after_us, 90 * kSecond);
  clock_.Advance(89 * kSecond);
  EXPECT_EQ(Run({{"s", &sink}}).attempted, 0);
  clock_.Advance(kSecond);
  EXPECT_EQ(Run({{"s", &sink}}).delivered, 1);
  EXPECT_EQ(Get(id).state, DeliveryState::kDelivered);
  EXPECT_EQ(Get(id).attempts, 2);
}

TEST_F(DeliverTest, DeadAfterMaxAttemptsThenRetryRequeues) {
  TestSink sink("s", 1, 3, {.fail_first = 3});
  Add("s", 0, 1);
  const std::string id = MakeDelivery("s", 0, 0).id;
  for (int i = 0; i < 3; ++i) {
    Run({{"s", &sink}});
    clock_.Advance(3600 * kSecond);
  }
  EXPECT_EQ(Get(id).state, DeliveryState::kDead);
  EXPECT_EQ(Get(id).attempts, 3);
  EXPECT_NE(Get(id).last_error.find("3 attempts failed"), std::string::npos) << Get(id).last_error;
  EXPECT_EQ(Run({{"s", &sink}}).attempted, 0);
  // `iotad alert retry`: pending again, due now, attempts kept.
  ASSERT_TRUE(log_->Commit(Changes{.deliveries = {Requeued(Get(id), clock_.NowUs())}}).ok());
  EXPECT_EQ(Get(id).attempts, 3);
  const auto report = Run({{"s", &sink}});
  EXPECT_EQ(report.delivered, 1);
  EXPECT_EQ(Get(id).state, DeliveryState::kDelivered);
  EXPECT_EQ(Get(id).attempts, 4);
}

TEST_F(DeliverTest, RefusedIsDeadAtOnce) {
  TestSink sink("s", 1, 8, {.refuse = true});
  Add("s", 0, 1);
  const std::string id = MakeDelivery("s", 0, 0).id;
  const auto report = Run({{"s", &sink}});
  EXPECT_EQ(report.dead, 1);
  EXPECT_EQ(Get(id).state, DeliveryState::kDead);
  EXPECT_EQ(Get(id).attempts, 1);
  EXPECT_NE(Get(id).last_error.find("refused"), std::string::npos);
  EXPECT_NE(Get(id).last_error.find("HTTP 403"), std::string::npos);
}

TEST_F(DeliverTest, BudgetStopsNewAttempts) {
  TestSink sink("s", 1, 8, {.delay = std::chrono::milliseconds(200)});
  Add("s", 0, 10);
  options_.budget_us = 500'000;
  const auto start = Clock_::now();
  const auto report = Run({{"s", &sink}});
  const auto took = Clock_::now() - start;
  EXPECT_GE(report.attempted, 2);
  EXPECT_LE(report.attempted, 4);
  EXPECT_EQ(report.pending, 10 - report.attempted);
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  // The rest goes out on the next run.
  options_.budget_us = 30 * kSecond;
  const auto next = Run({{"s", &sink}});
  EXPECT_EQ(next.delivered, 10 - report.attempted);
  EXPECT_EQ(next.pending, 0);
}

TEST_F(DeliverTest, SilenceAtSendTime) {
  TestSink sink("s", 1, 8, {});
  Add("s", 0, 3);
  Silence s;
  s.id = "silence00001";
  s.matchers = {{"device", "=", "dev-1"}};
  s.starts_at_us = kT0;
  s.ends_at_us = kT0 + 3600 * kSecond;
  ASSERT_TRUE(log_->Commit(Changes{.silences = {s}}).ok());
  const auto report = Run({{"s", &sink}});
  EXPECT_EQ(report.delivered, 2);
  EXPECT_EQ(report.silenced, 1);
  const Delivery& d = Get(MakeDelivery("s", 1, 0).id);
  EXPECT_EQ(d.state, DeliveryState::kSilenced);
  EXPECT_EQ(d.silence_id, "silence00001");
  for (const auto& id : sink.calls()) EXPECT_NE(id, d.id);
}

TEST_F(DeliverTest, UnknownSinkIsDead) {
  Add("gone", 0, 1);
  const auto report = Run({});
  EXPECT_EQ(report.dead, 1);
  EXPECT_NE(Get(MakeDelivery("gone", 0, 0).id).last_error.find("'gone'"), std::string::npos);
}

}  // namespace
}  // namespace iotad::alert
