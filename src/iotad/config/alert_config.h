#pragma once
// The alerting options: flat `[alert]` keys (AlertConfig, in LakeConfig::alert) and two component
// kinds, `[[alert.rule]]` (AlertRule) and `[[alert.sink]]` (one options struct per sink type).
// Factories validate the shape of every table (types, ranges, URLs, template fields, that each
// secret is named by exactly one of `*_env` / `*_file`); whether a named secret is actually there
// is checked by alert::CheckSinkSecrets at `iotad config check` and when alerting starts (so
// `iotad sql` does not need the Slack variable set).
//
// Secrets never come from the config text: a key that would hold one (a Slack webhook URL, a
// PagerDuty routing key, a password, a bearer token) is given as `<key>_env` (an environment
// variable's name) or `<key>_file` (a file whose contents, trimmed, are the secret).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "iotad/config/component.h"

namespace iotad::config {

/// `[alert]`: delivery settings shared by every sink (a sink may override some).
struct AlertConfig {
  bool enabled = true;                 // false: `iotad run` skips the alert stage
  std::string base_url = "http://127.0.0.1:8080";  // dashboard; links are base_url + "/devices/<id>"
  int64_t max_attempts = 8;            // failed attempts before a delivery is dead-lettered
  int64_t backoff_initial_us = 30'000'000;     // first retry after ~this (x2 each time, +-20% jitter)
  int64_t backoff_max_us = 3'600'000'000;      // cap of the backoff
  int64_t delivery_budget_us = 60'000'000;     // wall time one run spends delivering at most
  int64_t concurrency = 4;             // deliveries in flight at once, over all sinks
  int64_t timeout_us = 10'000'000;     // per request, unless the sink sets its own
  int64_t lookback_us = 7LL * 24 * 3'600'000'000;  // anomalies older than watermark - this never open alerts
};

/// One `[[alert.rule]]`: which anomalies, how they group into alerts, when to notify, where.
/// Durations in event time (the data's clock) unless said otherwise.
struct AlertRule {
  std::string name;                           // filled from the table's `name` (required)
  std::vector<std::string> detectors{"default"};  // empty: any detector
  std::vector<std::string> metrics;           // empty: any metric
  std::vector<std::string> devices;           // glob patterns; empty: any device
  std::vector<std::string> locations;         // glob patterns; empty: any location
  std::optional<double> min_score;            // score >= this
  std::optional<double> min_abs_z;            // |z| >= this (anomalies without z never match)
  std::string severity = "warning";           // info, warning, critical
  std::string group_by = "device";            // device, device_metric, location, rule
  int64_t group_wait_us = 300'000'000;        // first notification once data reached first anomaly + this
  int64_t group_interval_us = 1'800'000'000;  // an update on new anomalies of a firing alert at most this often
  int64_t repeat_interval_us = 14'400'000'000;  // WALL time: reminder for a firing, unacknowledged alert
  int64_t resolve_after_us = 3'600'000'000;   // resolved once no matching anomaly for this long
  int64_t max_per_device_per_hour = 10;       // notifications per device per wall-clock hour; 0: no cap
  bool send_resolved = true;
  std::vector<std::string> sinks;             // names of [[alert.sink]] tables (required, non-empty)
};

/// What every sink type has besides its own options.
struct SinkCommon {
  std::string name;                      // filled from the table's `name` (required)
  std::optional<int64_t> timeout_us;     // unset: alert.timeout
  std::optional<int64_t> max_attempts;   // unset: alert.max_attempts
  int64_t concurrency = 2;               // this sink's requests in flight at once
  /// Templates over the notification's fields ({device}, {explanation}...: alert::TemplateFields()),
  /// `{{` and `}}` for literal braces; an unknown field is a config error. Empty: the type's default.
  std::string subject;
  std::string body;
};

/// A secret named by `<key>_env` or `<key>_file` (exactly one, when required).
struct SecretRef {
  std::string env;   // environment variable name
  std::string file;  // path (relative paths: to the lake folder)
  bool empty() const { return env.empty() && file.empty(); }
};

/// type = "webhook": POST of the generic JSON (alert::NotificationJson) to `url`.
struct WebhookSinkOptions : SinkCommon {
  std::string url;                 // http(s)://...
  SecretRef bearer_token;          // bearer_token_env / bearer_token_file: Authorization: Bearer
  std::vector<std::string> headers;  // extra "Name: value" headers (not secrets)
};

/// type = "slack": Slack incoming webhook (`text` plus blocks). The URL is the secret.
struct SlackSinkOptions : SinkCommon {
  SecretRef url;                   // url_env / url_file (required)
  std::string channel;             // optional override
  std::string username;            // optional override
};

/// type = "alertmanager": POST /api/v2/alerts as an alert source (labels, annotations,
/// startsAt, endsAt, generatorURL); resolved alerts are re-posted with endsAt in the past.
struct AlertmanagerSinkOptions : SinkCommon {
  std::string url;                 // base, e.g. http://127.0.0.1:9093 (the path is added)
  std::string basic_auth_user;
  SecretRef basic_auth_password;   // basic_auth_password_env / _file
  std::vector<std::string> labels; // extra "name=value" labels on every alert
  /// A firing alert is posted with endsAt = now + this, so Alertmanager resolves it by itself
  /// if iotad goes quiet (as Prometheus does with 4x its resend delay). iotad re-posts on updates
  /// and every repeat_interval: keep it above the rules' repeat_interval.
  int64_t firing_ttl_us = 8LL * 3'600'000'000;
};

/// type = "pagerduty": Events API v2 (trigger / acknowledge / resolve with dedup_key).
struct PagerDutySinkOptions : SinkCommon {
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  SecretRef routing_key;           // routing_key_env / routing_key_file (required)
  std::string source;              // payload.source; empty: the device id
  std::string component;           // payload.component; empty: the metric
};

/// type = "sns": the Publish action of the SNS Query API, SigV4-signed by libcurl.
struct SnsSinkOptions : SinkCommon {
  std::string topic_arn;           // required; a ".fifo" topic gets MessageGroupId + MessageDeduplicationId
  std::string region;              // empty: from the ARN, else AWS_REGION / AWS_DEFAULT_REGION
  std::string endpoint;            // empty: https://sns.<region>.amazonaws.com
  std::string profile;             // shared-credentials profile; empty: AWS_PROFILE, else "default"
  std::string credentials_file;    // empty: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials
  std::string message_group_id = "{device}";  // FIFO topics: template of MessageGroupId
};

/// type = "email": SMTP through libcurl.
struct EmailSinkOptions : SinkCommon {
  std::string url;                 // smtp://host:port or smtps://host:port
  std::string from;                // required
  std::vector<std::string> to;     // required, non-empty
  std::string starttls = "try";    // "require", "try" or "off" (smtp:// only)
  std::string username;
  SecretRef password;              // password_env / password_file
  std::string ca_file;             // PEM CA bundle the server's certificate is checked against (relative paths:
                                   // to the lake folder); empty: the system's CAs
};

/// type = "exec": runs `command` (argv, no shell) with the notification JSON on stdin; exit 0 is delivered.
struct ExecSinkOptions : SinkCommon {
  std::vector<std::string> command;  // required, non-empty
};

/// type = "file": appends the notification JSON as one line to `path`.
struct FileSinkOptions : SinkCommon {
  std::string path = "alerts.jsonl";  // relative paths: to the lake folder
};

/// The option rows every sink type starts with: timeout, max_attempts, concurrency, subject, body.
template <typename T>
std::vector<Option<T>> CommonSinkOptions();

/// Two option rows, `<base>_env` and `<base>_file`, filling `field` (which of them is required is
/// checked by the type's validate with RequireSecret).
template <typename T>
std::vector<Option<T>> SecretOptions(SecretRef T::*field, const std::string& base, const std::string& what);

/// Fails unless exactly one of `<base>_env` / `<base>_file` is set (or none, when !required).
Status CheckSecretRef(const SecretRef& ref, const std::string& base, const ComponentContext& ctx, bool required);

/// Checks an http(s) URL's shape ("http://host[:port]/..."): one sentence naming `key` otherwise.
Status CheckHttpUrl(const std::string& url, const std::string& key);

/// The `[[alert.rule]]` kind (alert_rule_config.cpp).
ComponentKind AlertRuleKind();
/// The parsed `[[alert.rule]]` tables, in file order.
std::vector<AlertRule> AlertRulesOf(const Components& components);
/// Fails (one sentence naming 'alert.rule[i].sinks') when a rule names a sink no `[[alert.sink]]`
/// table has; ParseConfig calls it once every table is parsed.
Status CheckAlertRuleSinks(const Components& components);
/// The `[[alert.sink]]` kind (alert_sink_config.cpp): its types from the two lists below.
ComponentKind AlertSinkKind();
/// webhook, slack, alertmanager, pagerduty (alert_sink_http_config.cpp).
std::vector<ComponentType> HttpSinkTypes();
/// sns, email, exec, file (alert_sink_other_config.cpp).
std::vector<ComponentType> OtherSinkTypes();

/// The fields a subject/body template may use (alert::TemplateFields() is the same list).
const std::vector<std::string>& AlertTemplateFields();
/// Checks a template: balanced braces and known fields only. `key` names it in the message.
Status CheckAlertTemplate(const std::string& text, const std::string& key);

/// The SinkCommon of any sink component (nullptr when `c` is not an alert sink).
const SinkCommon* SinkCommonOf(const Component& c);

// ---- templates' definitions ----
Status SetTemplateField(std::string& field, const Node& n, const std::string& key);

template <typename T>
std::vector<Option<T>> CommonSinkOptions() {
  return {
      {"timeout", "duration", "", "Per request (\"10s\"); unset: alert.timeout.", SetDuration(&T::timeout_us)},
      {"max_attempts", "int", "", "Failed attempts before a delivery is dead-lettered; unset: alert.max_attempts.",
       [](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN(int64_t v, ReadInt(n, key, 1, 1000));
         t.max_attempts = v;
         return Status::Ok();
       }},
      {"concurrency", "int", "2", "This sink's requests in flight at once (1 to 64).", SetInt(&T::concurrency, 1, 64)},
      {"subject", "string", "",
       "Subject template: {field} from the notification (device, metric, severity, status, explanation, url...); "
       "unset: the type's default.",
       [](T& t, const Node& n, const std::string& key) { return SetTemplateField(t.subject, n, key); }},
      {"body", "string", "", "Body template, like subject; unset: the type's default.",
       [](T& t, const Node& n, const std::string& key) { return SetTemplateField(t.body, n, key); }},
  };
}

template <typename T>
std::vector<Option<T>> SecretOptions(SecretRef T::*field, const std::string& base, const std::string& what) {
  return {
      {base + "_env", "string", "", "Environment variable holding " + what + " (a secret: never in this file).",
       [field](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN((t.*field).env, ReadString(n, key));
         return Status::Ok();
       }},
      {base + "_file", "string", "", "File holding " + what + " (trimmed; relative to the lake folder).",
       [field](T& t, const Node& n, const std::string& key) -> Status {
         IOTAD_ASSIGN_OR_RETURN((t.*field).file, ReadString(n, key));
         return Status::Ok();
       }},
  };
}

}  // namespace iotad::config
