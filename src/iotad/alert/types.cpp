#include "iotad/alert/types.h"

namespace iotad::alert {

const char* AlertStatusName(AlertStatus s) {
  switch (s) {
    case AlertStatus::kFiring: return "firing";
    case AlertStatus::kResolved: return "resolved";
  }
  return "firing";
}

const char* NotificationKindName(NotificationKind k) {
  switch (k) {
    case NotificationKind::kFiring: return "firing";
    case NotificationKind::kUpdate: return "update";
    case NotificationKind::kRepeat: return "repeat";
    case NotificationKind::kResolved: return "resolved";
    case NotificationKind::kAcknowledged: return "acknowledged";
    case NotificationKind::kTest: return "test";
  }
  return "firing";
}

const char* DeliveryStateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending: return "pending";
    case DeliveryState::kDelivered: return "delivered";
    case DeliveryState::kSilenced: return "silenced";
    case DeliveryState::kThrottled: return "throttled";
    case DeliveryState::kDead: return "dead";
  }
  return "pending";
}

const char* AttemptOutcomeName(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::kDelivered: return "delivered";
    case AttemptOutcome::kRetry: return "retry";
    case AttemptOutcome::kRefused: return "refused";
  }
  return "retry";
}

}  // namespace iotad::alert
