#include "iotad/alert/deliver.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "iotad/alert/engine.h"
#include "iotad/core/fault.h"
#include "iotad/core/hash.h"
#include "iotad/core/log.h"
#include "iotad/core/thread.h"

namespace iotad::alert {

DeliverOptions DeliverOptions::From(const config::AlertConfig& config, int64_t budget_us) {
  DeliverOptions o;
  o.budget_us = budget_us >= 0 ? budget_us : config.delivery_budget_us;
  o.concurrency = std::max<int64_t>(1, config.concurrency);
  o.backoff_initial_us = config.backoff_initial_us;
  o.backoff_max_us = config.backoff_max_us;
  return o;
}

int64_t RetryDelayUs(const std::string& delivery_id, int64_t attempts, const DeliverOptions& options,
                     std::optional<int64_t> retry_after_us) {
  const int64_t cap = std::max<int64_t>(0, options.backoff_max_us);
  int64_t base = std::max<int64_t>(0, options.backoff_initial_us);
  for (int64_t i = 1; i < attempts && base < cap; ++i) base *= 2;
  base = std::min(base, cap);
  // +-20%: a fraction in [-0.2, 0.2] from the hash of (id, attempt), the same on every run.
  const uint64_t h = HashBytes(fmt::format("{}#{}", delivery_id, attempts)).lo;
  const double unit = static_cast<double>(h % 1'000'001) / 1'000'000.0;  // [0, 1]
  const double factor = 0.8 + 0.4 * unit;
  const int64_t backoff = static_cast<int64_t>(static_cast<double>(base) * factor);
  // The receiver's Retry-After wins when it asks for longer (never retry sooner than it said).
  if (retry_after_us && *retry_after_us > backoff) return *retry_after_us;
  return backoff;
}

Delivery AfterAttempt(const Delivery& d, const AttemptResult& result, int64_t max_attempts, TimestampUs now_us,
                      const DeliverOptions& options) {
  Delivery out = d;
  out.attempts = d.attempts + 1;
  switch (result.outcome) {
    case AttemptOutcome::kDelivered:
      out.state = DeliveryState::kDelivered;
      out.delivered_at_us = now_us;
      out.last_error.clear();
      break;
    case AttemptOutcome::kRefused:
      out.state = DeliveryState::kDead;
      out.last_error = fmt::format("refused by the receiver: {}", result.error.empty() ? result.response : result.error);
      break;
    case AttemptOutcome::kRetry:
      if (out.attempts >= max_attempts) {
        out.state = DeliveryState::kDead;
        out.last_error = fmt::format("{} attempts failed, the last: {}", out.attempts, result.error);
      } else {
        out.state = DeliveryState::kPending;
        out.last_error = result.error;
        out.next_attempt_at_us = now_us + RetryDelayUs(d.id, out.attempts, options, result.retry_after_us);
      }
      break;
  }
  return out;
}

Delivery Requeued(const Delivery& d, TimestampUs now_us) {
  Delivery out = d;
  out.state = DeliveryState::kPending;
  out.next_attempt_at_us = now_us;
  return out;
}

namespace {

/// Deliveries of one alert to one sink go out in notification order (a resolve never overtakes
/// its trigger: PagerDuty would drop the resolve and keep the incident, Alertmanager would keep a
/// late firing post until its endsAt). Their key: "<alert id>|<sink>" (delivery ids are
/// "<alert id>-<n>-<sink>", alert ids have no '-').
std::string OrderKey(const std::string& delivery_id, const std::string& sink) {
  return delivery_id.substr(0, delivery_id.find('-')) + "|" + sink;
}

/// The notification number n of a delivery id "<alert id>-<n>-<sink>" (0 when it has none).
int64_t NotificationNo(const Delivery& d) {
  const std::string prefix = d.alert_id + "-";
  if (d.id.compare(0, prefix.size(), prefix) != 0) return 0;
  int64_t n = 0;
  for (size_t i = prefix.size(); i < d.id.size() && d.id[i] >= '0' && d.id[i] <= '9'; ++i) n = n * 10 + (d.id[i] - '0');
  return n;
}

/// Oldest first; within one creation time by notification number (so "-10-" after "-9-").
bool Earlier(const Delivery& a, const Delivery& b) {
  if (a.created_at_us != b.created_at_us) return a.created_at_us < b.created_at_us;
  const int64_t na = NotificationNo(a), nb = NotificationNo(b);
  if (na != nb) return na < nb;
  return a.id < b.id;
}

/// One record: a delivery's new state and the attempt that led to it.
Changes OneDelivery(const Delivery& d, const Attempt* attempt) {
  Changes c;
  c.deliveries.push_back(d);
  if (attempt != nullptr) c.attempts.push_back(*attempt);
  return c;
}

/// The shared state of one Deliver call: the queue of due deliveries and the slots in use.
/// Lock order: commit_mu_ (the log) before mu_ (the queue and the report).
class Dispatcher {
 public:
  Dispatcher(AlertLog& log, const std::map<std::string, Sink*>& sinks, const DeliverOptions& options,
             const Clock& clock, std::vector<std::pair<std::string, std::string>> queue)
      : log_(log), sinks_(sinks), options_(options), clock_(clock), queue_(queue.begin(), queue.end()),
        deadline_(std::chrono::steady_clock::now() + std::chrono::microseconds(std::max<int64_t>(0, options.budget_us))) {}

  void Work() {
    for (;;) {
      std::string id, key;
      Sink* sink = nullptr;
      {
        std::unique_lock lock(mu_);
        for (;;) {
          if (stop_ || queue_.empty() || std::chrono::steady_clock::now() >= deadline_) {
            cv_.notify_all();
            return;
          }
          if (Take(id, sink, key)) break;
          if (queue_.empty()) continue;  // Take dropped what was held back: done
          cv_.wait_until(lock, deadline_);
        }
      }
      const bool still_pending = One(id, sink);
      {
        std::lock_guard lock(mu_);
        if (sink != nullptr) --in_flight_[sink->name()];
        busy_.erase(key);
        if (still_pending) held_.insert(key);  // its later notifications wait for the next run
      }
      cv_.notify_all();
    }
  }

  Status status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  DeliverReport report() {
    std::lock_guard lock(mu_);
    return report_;
  }

 private:
  /// The oldest queued delivery whose sink has a free slot and that no earlier delivery of the
  /// same alert and sink is ahead of (queued or in flight) (mu_ held). One whose earlier delivery
  /// failed in this run is dropped from the queue (it stays pending for the next run). A delivery
  /// of an unknown sink is taken with sink == nullptr.
  bool Take(std::string& id, Sink*& sink, std::string& taken_key) {
    std::set<std::string> ahead;  // keys with an earlier delivery still queued
    for (auto it = queue_.begin(); it != queue_.end();) {
      const std::string& sink_name = it->second;
      const std::string key = OrderKey(it->first, sink_name);
      if (held_.count(key) != 0) {
        it = queue_.erase(it);
        continue;
      }
      if (busy_.count(key) != 0 || !ahead.insert(key).second) {
        ++it;
        continue;
      }
      auto s = sinks_.find(sink_name);
      if (s == sinks_.end() || s->second == nullptr) {
        id = it->first;
        sink = nullptr;
        busy_.insert(key);
        taken_key = key;
        queue_.erase(it);
        return true;
      }
      int64_t& used = in_flight_[sink_name];
      if (used >= std::max<int64_t>(1, s->second->concurrency())) {
        ++it;
        continue;
      }
      ++used;
      id = it->first;
      sink = s->second;
      busy_.insert(key);
      taken_key = key;
      queue_.erase(it);
      return true;
    }
    return false;
  }

  /// Commits one record (commit_mu_ held by the caller); remembers the first failure and stops.
  void CommitLocked(const Changes& changes) {
    auto seq = log_.Commit(changes);
    if (!seq.ok()) {
      std::lock_guard lock(mu_);
      if (status_.ok()) status_ = seq.status();
      stop_ = true;
    }
  }

  /// One delivery: true when it is still pending afterwards (the attempt failed, a retry is due later).
  bool One(const std::string& id, Sink* sink) {
    Delivery d;
    {
      std::lock_guard lock(commit_mu_);
      d = log_.state().deliveries.at(id);
      const TimestampUs now = clock_.NowUs();
      if (sink == nullptr) {
        d.state = DeliveryState::kDead;
        d.last_error = fmt::format("alert.sink '{}' is not in the config", d.sink);
        CommitLocked(OneDelivery(d, nullptr));
        std::lock_guard rl(mu_);
        ++report_.dead;
        return false;
      }
      auto alert = log_.state().alerts.find(d.alert_id);
      if (alert != log_.state().alerts.end()) {
        if (const Silence* s = ActiveSilence(log_.state(), alert->second, now)) {
          d.state = DeliveryState::kSilenced;
          d.silence_id = s->id;
          d.last_error = fmt::format("silenced by {}", s->id);
          CommitLocked(OneDelivery(d, nullptr));
          std::lock_guard rl(mu_);
          ++report_.silenced;
          return false;
        }
      }
    }
    IOTAD_FAULT_POINT("alert_before_send");
    Attempt attempt;
    attempt.delivery_id = d.id;
    attempt.n = d.attempts + 1;
    attempt.started_at_us = clock_.NowUs();
    const auto t0 = std::chrono::steady_clock::now();
    attempt.result = sink->Send(d.notification);
    attempt.result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    IOTAD_FAULT_POINT("alert_after_response");
    attempt.finished_at_us = clock_.NowUs();
    const Delivery after = AfterAttempt(d, attempt.result, sink->max_attempts(), attempt.finished_at_us, options_);
    {
      std::lock_guard lock(commit_mu_);
      CommitLocked(OneDelivery(after, &attempt));
    }
    IOTAD_FAULT_POINT("alert_after_attempt_commit");
    if (attempt.result.outcome != AttemptOutcome::kDelivered) {
      log::Warn(fmt::format("alert: delivery {} to sink '{}' failed (attempt {}): {}", d.id, d.sink, attempt.n,
                            attempt.result.error.empty() ? attempt.result.response : attempt.result.error),
                {{"delivery", d.id}, {"sink", d.sink}, {"state", DeliveryStateName(after.state)}});
    }
    std::lock_guard rl(mu_);
    ++report_.attempted;
    if (attempt.result.outcome == AttemptOutcome::kDelivered) {
      ++report_.delivered;
    } else {
      ++report_.failed_attempts;
    }
    if (after.state == DeliveryState::kDead) ++report_.dead;
    return after.state == DeliveryState::kPending;
  }

  AlertLog& log_;
  const std::map<std::string, Sink*>& sinks_;
  const DeliverOptions& options_;
  const Clock& clock_;
  std::mutex commit_mu_;  // the log and its state
  std::mutex mu_;         // everything below
  std::condition_variable cv_;
  std::list<std::pair<std::string, std::string>> queue_;  // delivery id, sink name
  std::map<std::string, int64_t> in_flight_;
  std::set<std::string> busy_;  // order keys with a delivery in flight
  std::set<std::string> held_;  // order keys whose delivery failed in this run
  const std::chrono::steady_clock::time_point deadline_;
  bool stop_ = false;
  Status status_ = Status::Ok();
  DeliverReport report_;
};

}  // namespace

Result<DeliverReport> Deliver(AlertLog& log, const std::map<std::string, Sink*>& sinks, const DeliverOptions& options,
                              const Clock& clock) {
  const auto t0 = std::chrono::steady_clock::now();
  IOTAD_TRY(log.Refresh());
  const TimestampUs now = clock.NowUs();
  std::vector<const Delivery*> due;
  for (const auto& [id, d] : log.state().deliveries) {
    if (d.state == DeliveryState::kPending && d.next_attempt_at_us <= now) due.push_back(&d);
  }
  // A due delivery waits while an earlier one of its alert and sink is pending but not due yet
  // (e.g. the trigger is in backoff: its resolve must not go first).
  std::map<std::string, const Delivery*> earliest_pending;  // order key -> earliest pending
  for (const auto& [id, d] : log.state().deliveries) {
    if (d.state != DeliveryState::kPending) continue;
    const Delivery*& e = earliest_pending[OrderKey(d.id, d.sink)];
    if (e == nullptr || Earlier(d, *e)) e = &d;
  }
  std::erase_if(due, [&](const Delivery* d) {
    const Delivery* e = earliest_pending[OrderKey(d->id, d->sink)];
    return e != d && e->next_attempt_at_us > now;
  });
  std::sort(due.begin(), due.end(), [](const Delivery* a, const Delivery* b) { return Earlier(*a, *b); });
  std::vector<std::pair<std::string, std::string>> queue;
  queue.reserve(due.size());
  for (const Delivery* d : due) queue.emplace_back(d->id, d->sink);
  DeliverReport report;
  if (!queue.empty()) {
    Dispatcher dispatcher(log, sinks, options, clock, std::move(queue));
    const int64_t workers = std::min<int64_t>(std::max<int64_t>(1, options.concurrency),
                                              static_cast<int64_t>(due.size()));
    std::vector<std::jthread> threads;
    Status started = Status::Ok();
    for (int64_t i = 0; i < workers; ++i) {
      auto t = StartThread("alert delivery", [&dispatcher] { dispatcher.Work(); });
      if (!t.ok()) {
        started = t.status();
        break;
      }
      threads.push_back(std::move(*t));
    }
    if (threads.empty()) return started;  // nothing ran; everything stays pending
    threads.clear();                      // joins
    IOTAD_TRY(dispatcher.status());
    report = dispatcher.report();
  }
  for (const auto& [id, d] : log.state().deliveries) {
    if (d.state == DeliveryState::kPending) ++report.pending;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace iotad::alert
