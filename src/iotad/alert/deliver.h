#pragma once
// Delivery of the outbox: the due deliveries of the alert state (pending, next_attempt_at <= now,
// oldest first) go to their sinks from worker threads, with bounded concurrency over all sinks
// (alert.concurrency) and per sink (Sink::concurrency()): a worker takes the oldest delivery whose
// sink has a free slot, so a slow sink never holds up the others. Each sink bounds its own Send
// by its timeout. No attempt starts after the wall-time budget; what is left stays pending for
// the next run. Every finished attempt is committed to the alert log at once (one record: the
// Attempt and the updated Delivery), so a crash repeats at most the attempts in flight.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "iotad/alert/sink.h"
#include "iotad/alert/store.h"
#include "iotad/alert/types.h"
#include "iotad/config/alert_config.h"
#include "iotad/core/clock.h"
#include "iotad/core/result.h"

namespace iotad::alert {

struct DeliverOptions {
  int64_t budget_us = 60'000'000;  // no attempt starts after this much wall time
  int64_t concurrency = 4;         // deliveries in flight at once, over all sinks
  int64_t backoff_initial_us = 30'000'000;
  int64_t backoff_max_us = 3'600'000'000;
  /// From the [alert] table (budget: `budget_us` >= 0 overrides alert.delivery_budget).
  static DeliverOptions From(const config::AlertConfig& config, int64_t budget_us = -1);
};

struct DeliverReport {
  int64_t attempted = 0, delivered = 0, failed_attempts = 0, dead = 0, silenced = 0;
  int64_t pending = 0;  // pending deliveries left in the state afterwards (not due, or budget spent)
  double seconds = 0;
};

/// Delivers the due deliveries of `log`'s state (refreshed first) through `sinks` (by name).
/// A delivery whose sink is not in `sinks` is dead-lettered with that reason. Errors only when
/// the alert log cannot be written; a failing receiver is an attempt, never an error.
Result<DeliverReport> Deliver(AlertLog& log, const std::map<std::string, Sink*>& sinks, const DeliverOptions& options,
                              const Clock& clock);

/// The wait before the next attempt after `attempts` failed ones: min(max, initial * 2^(attempts-1))
/// with +-20% jitter derived from (delivery id, attempts), so it is reproducible; a Retry-After
/// from the receiver wins when it is longer (never sooner than the receiver asked).
int64_t RetryDelayUs(const std::string& delivery_id, int64_t attempts, const DeliverOptions& options,
                     std::optional<int64_t> retry_after_us);

/// The delivery after one attempt (state, attempts, next_attempt_at, last_error, delivered_at).
Delivery AfterAttempt(const Delivery& d, const AttemptResult& result, int64_t max_attempts, TimestampUs now_us,
                      const DeliverOptions& options);

/// `iotad alert retry`: a dead delivery back to pending, due now (its attempts are kept).
Delivery Requeued(const Delivery& d, TimestampUs now_us);

}  // namespace iotad::alert
