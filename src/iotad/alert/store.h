#pragma once
// The alert log: the durable outbox and the memory of alerting, in the lake through the
// ObjectStore. Records `_iotad/alerts/log/<seq, 12 digits>.json`, each claimed with PutIfAbsent
// (the commit point), hold changes; the state is the newest checkpoint
// (`_iotad/alerts/checkpoint/<seq>.json`, after 64 records once the records since the last one
// outweigh it, pointer `_iotad/alerts/last_checkpoint`, the newest two kept)
// plus the records after it. Writers need no lock: a sequence conflict re-reads the new records
// and claims the next number. Upserts replace whole objects, except the ack fields of an alert,
// which only Ack changes, so `iotad alert ack` racing a run loses nothing.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "iotad/alert/types.h"
#include "iotad/core/clock.h"
#include "iotad/core/result.h"
#include "iotad/store/object_store.h"

namespace iotad::alert {

inline constexpr std::string_view kAlertLogPrefix = "_iotad/alerts/log/";
inline constexpr std::string_view kAlertCheckpointPrefix = "_iotad/alerts/checkpoint/";

struct AckChange {
  std::string alert_id;
  TimestampUs at_us = 0;
  std::string by, note;
};

/// One record's changes.
struct Changes {
  std::vector<Alert> alerts;          // upserted (ack fields kept from the state)
  std::vector<Delivery> deliveries;   // upserted
  std::vector<Attempt> attempts;      // appended
  std::vector<Silence> silences;      // upserted
  std::vector<AckChange> acks;
  std::map<std::string, std::string> gold_seen_set;  // key -> hash
  std::vector<std::string> gold_seen_erase;
  std::map<std::string, std::map<TimestampUs, int64_t>> sent_increments;
  bool empty() const;
};

class AlertLog {
 public:
  /// Loads the state (checkpoint + records after it). Missing log: an empty state.
  static Result<AlertLog> Open(store::ObjectStore& store, const Clock& clock);
  const AlertState& state() const { return state_; }
  /// Reads records written by others since.
  Status Refresh();
  /// Writes one record and folds it into state(); returns its sequence number. On a conflict
  /// it refreshes and claims the next one (the changes are re-applied over the newer state).
  Result<int64_t> Commit(const Changes& changes);

 private:
  AlertLog(store::ObjectStore& store, const Clock& clock) : store_(&store), clock_(&clock) {}
  /// Writes a checkpoint when 64 records and at least the last checkpoint's size in record bytes
  /// came since it (so checkpoints cost O(log size) in total, not a copy of the state every 64
  /// records), then removes all but the newest two checkpoints.
  void MaybeCheckpoint();

  store::ObjectStore* store_;
  const Clock* clock_;
  AlertState state_;
  int64_t checkpoint_seq_ = 0;     // the newest checkpoint this log knows of
  int64_t checkpoint_bytes_ = 0;   // its size
  int64_t records_since_checkpoint_ = 0;
  int64_t bytes_since_checkpoint_ = 0;
};

/// Applies one record's changes to a state (the fold; also what tests and preview use).
void ApplyChanges(AlertState& state, const Changes& changes);

/// JSON of a state (checkpoints) and of a record's changes, and back.
std::string StateToJson(const AlertState& state);
Result<AlertState> StateFromJson(std::string_view json);
std::string ChangesToJson(const Changes& changes);
Result<Changes> ChangesFromJson(std::string_view json);

}  // namespace iotad::alert
