#pragma once
// The HTTP sinks' requests as pure functions (no I/O, tested field by field against the
// receivers' documented formats): webhook (generic JSON), Slack incoming webhook, Alertmanager
// API v2 (iotad as an alert source), PagerDuty Events API v2. The sinks (sink.h's
// Make*Sink) resolve their secrets once, then send what these build through HttpSend.
#include <string>
#include <string_view>

#include "iotad/alert/http.h"
#include "iotad/alert/types.h"
#include "iotad/config/alert_config.h"

namespace iotad::alert {

/// The subject and body of `n` under the sink's templates (empty template: the defaults).
std::string RenderSubject(const config::SinkCommon& o, const Notification& n);
std::string RenderBody(const config::SinkCommon& o, const Notification& n);

/// POST <url>: NotificationJson plus "subject" and "body"; Content-Type application/json,
/// Idempotency-Key: <delivery id>, Authorization: Bearer when `bearer_token` is not empty, the
/// configured extra headers.
HttpRequest WebhookRequest(const config::WebhookSinkOptions& o, const std::string& bearer_token,
                           const Notification& n);

/// POST <webhook url>: {"text": subject, "blocks": [header, section (mrkdwn body), context
/// (dedup key, alert id, link)], "channel", "username" (when set)}. Text is escaped for Slack
/// (&, <, >) and cut to Slack's limits.
HttpRequest SlackRequest(const config::SlackSinkOptions& o, const std::string& webhook_url, const Notification& n);

/// POST <url>/api/v2/alerts: a JSON array of one alert. labels: alertname (the rule), severity,
/// dedup_key, and device / metric / location as far as the alert's group fixes them (so an
/// alert's labels never change between its notifications), plus the configured labels;
/// annotations: summary, description, explanation, the latest anomaly's values...;
/// startsAt: the episode start; endsAt: resolved: the resolved time (at most now); firing:
/// now + firing_ttl (a test notification: at most now + 5 minutes); generatorURL: the
/// notification's url. Basic auth when a user is set.
HttpRequest AlertmanagerRequest(const config::AlertmanagerSinkOptions& o, const std::string& password,
                                const Notification& n, TimestampUs now_us);

/// PagerDuty Events API v2: trigger (firing, update, repeat, test), acknowledge, resolve.
/// A trigger carries routing_key, event_action, dedup_key, payload {summary (<= 1024 bytes),
/// source, severity, timestamp, component, group, class, custom_details}, links, client,
/// client_url; acknowledge and resolve carry only routing_key, event_action and dedup_key.
HttpRequest PagerDutyRequest(const config::PagerDutySinkOptions& o, const std::string& routing_key,
                             const Notification& n, const std::string& client_url);

/// Our severity (info, warning, critical, or anything) as PagerDuty's (critical, error, warning, info).
std::string_view PagerDutySeverity(std::string_view severity);
/// trigger, acknowledge or resolve.
std::string_view PagerDutyAction(const Notification& n);
/// The dedup key as PagerDuty takes it (at most 255 bytes: a longer key is cut and suffixed
/// with its hash, the same for the same key).
std::string PagerDutyDedupKey(const std::string& dedup_key);

/// The notification `iotad alert test SINK` sends: kind test, device "test-device", dedup key
/// "iotad-test-<now, ISO-8601>", plausible anomaly fields, the dashboard link under `base_url`.
Notification TestNotification(TimestampUs now_us, const std::string& base_url, const std::string& sink);

/// `text` cut to at most `max_bytes` bytes without splitting a UTF-8 sequence ("..." marks a cut).
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace iotad::alert
