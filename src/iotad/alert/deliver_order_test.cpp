// Order of one alert's notifications at one sink (deliver.cpp): a resolve never overtakes its
// trigger, even with free slots, a failed trigger or a trigger in backoff; other alerts go on.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "iotad/alert/deliver.h"

namespace iotad::alert {
namespace {
namespace fs = std::filesystem;

constexpr TimestampUs kT0 = 1'704'067'200'000'000;  // 2024-01-01T00:00:00Z
constexpr int64_t kSecond = 1'000'000;

/// Records the order of calls; fails every call of the delivery ids in `fail` (retry).
class OrderSink : public Sink {
 public:
  OrderSink(int64_t concurrency, std::set<std::string> fail)
      : Sink(Common(concurrency), "test", config::AlertConfig{}), fail_(std::move(fail)) {}
  AttemptResult Send(const Notification& n) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // long enough for a second worker to race
    AttemptResult r;
    std::lock_guard lock(mu_);
    calls_.push_back(n.id);
    if (fail_.count(n.id) != 0) {
      r.outcome = AttemptOutcome::kRetry;
      r.status_code = 500;
      r.error = "HTTP 500";
    } else {
      r.outcome = AttemptOutcome::kDelivered;
      r.status_code = 200;
    }
    return r;
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void Heal() {
    std::lock_guard lock(mu_);
    fail_.clear();
  }

 private:
  static config::SinkCommon Common(int64_t concurrency) {
    config::SinkCommon c;
    c.name = "s";
    c.concurrency = concurrency;
    c.max_attempts = 5;
    c.timeout_us = 5 * kSecond;
    return c;
  }
  std::mutex mu_;
  std::set<std::string> fail_;
  std::vector<std::string> calls_;
};

Delivery Make(const std::string& alert_id, int n, NotificationKind kind) {
  Delivery d;
  d.alert_id = alert_id;
  d.id = fmt::format("{}-{}-s", alert_id, n);
  d.sink = "s";
  d.notification.id = d.id;
  d.notification.alert_id = alert_id;
  d.notification.kind = kind;
  d.state = DeliveryState::kPending;
  d.created_at_us = kT0;  // one run created them all
  d.next_attempt_at_us = kT0;
  return d;
}

size_t IndexOf(const std::vector<std::string>& v, const std::string& x) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == x) return i;
  }
  return v.size();
}

class DeliverOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / fmt::format("iotad-deliver-order-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(dir_);
    auto store = store::OpenLocalStore(dir_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto log = AlertLog::Open(*store_, clock_);
    ASSERT_TRUE(log.ok()) << log.status().message();
    log_.emplace(std::move(*log));
    options_.budget_us = 30 * kSecond;
    options_.concurrency = 4;
    options_.backoff_initial_us = 10 * kSecond;
    options_.backoff_max_us = 10 * kSecond;
    Changes c;
    // Alerts a..d each fired and resolved in one run (n = 1 firing, n = 2 resolved); e fired,
    // updated 8 times, then resolved (n = 1..10: "-10-" sorts before "-9-" as text).
    for (const char* a : {"aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc", "dddddddddddd"}) {
      c.deliveries.push_back(Make(a, 1, NotificationKind::kFiring));
      c.deliveries.push_back(Make(a, 2, NotificationKind::kResolved));
    }
    for (int n = 1; n <= 10; ++n) {
      c.deliveries.push_back(Make("eeeeeeeeeeee", n,
                                  n == 1 ? NotificationKind::kFiring
                                  : n == 10 ? NotificationKind::kResolved
                                            : NotificationKind::kUpdate));
    }
    ASSERT_TRUE(log_->Commit(c).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  DeliverReport Run(Sink& sink) {
    auto r = Deliver(*log_, {{"s", &sink}}, options_, clock_);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : DeliverReport{};
  }

  fs::path dir_;
  ManualClock clock_{kT0 + 1000};
  std::unique_ptr<store::ObjectStore> store_;
  std::optional<AlertLog> log_;
  DeliverOptions options_;
};

TEST_F(DeliverOrderTest, EachAlertsNotificationsArriveInOrderWithFreeSlots) {
  OrderSink sink(4, {});
  const auto report = Run(sink);
  EXPECT_EQ(report.delivered, 18);
  const auto calls = sink.calls();
  ASSERT_EQ(calls.size(), 18u);
  for (const char* a : {"aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc", "dddddddddddd"}) {
    EXPECT_LT(IndexOf(calls, fmt::format("{}-1-s", a)), IndexOf(calls, fmt::format("{}-2-s", a))) << a;
  }
  for (int n = 1; n < 10; ++n) {
    EXPECT_LT(IndexOf(calls, fmt::format("eeeeeeeeeeee-{}-s", n)), IndexOf(calls, fmt::format("eeeeeeeeeeee-{}-s", n + 1)))
        << n;
  }
}

TEST_F(DeliverOrderTest, AFailedTriggerHoldsItsResolveUntilItIsDelivered) {
  OrderSink sink(4, {"aaaaaaaaaaaa-1-s"});
  auto report = Run(sink);
  // a's resolve waited (pending, never sent); every other alert went through.
  EXPECT_EQ(report.delivered, 16);
  EXPECT_EQ(IndexOf(sink.calls(), "aaaaaaaaaaaa-2-s"), sink.calls().size());
  EXPECT_EQ(log_->state().deliveries.at("aaaaaaaaaaaa-2-s").state, DeliveryState::kPending);
  EXPECT_EQ(log_->state().deliveries.at("aaaaaaaaaaaa-2-s").attempts, 0);
  // The trigger is in backoff: a run before it is due sends neither.
  clock_.Advance(2 * kSecond);
  report = Run(sink);
  EXPECT_EQ(report.attempted, 0);
  // Due again: the trigger goes first, then its resolve.
  sink.Heal();
  clock_.Advance(20 * kSecond);
  report = Run(sink);
  EXPECT_EQ(report.delivered, 2);
  const auto calls = sink.calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[calls.size() - 2], "aaaaaaaaaaaa-1-s");
  EXPECT_EQ(calls.back(), "aaaaaaaaaaaa-2-s");
}

}  // namespace
}  // namespace iotad::alert
