#pragma once
// A sink delivers notifications to one receiver. One Sink per `[[alert.sink]]` table, built by
// MakeSink from the parsed component (secrets resolved then). Send() is one attempt: no retry
// inside (deliver.h retries), bounded by the sink's timeout, safe to call from several threads.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "iotad/alert/types.h"
#include "iotad/config/alert_config.h"
#include "iotad/config/component.h"
#include "iotad/core/clock.h"
#include "iotad/core/result.h"

namespace iotad::alert {

/// What building a sink needs besides its options.
struct SinkEnv {
  std::filesystem::path lake_root;      // relative file paths (secret files, file sink) resolve here
  config::AlertConfig alert;            // defaults for timeout and max_attempts
  /// Wall clock for what a sink stamps at send time (Alertmanager's endsAt of a firing alert);
  /// null: the system clock. Must outlive the sinks (the lake's clock).
  const Clock* clock = nullptr;
};

class Sink {
 public:
  virtual ~Sink() = default;
  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  int64_t timeout_us() const { return timeout_us_; }
  int64_t max_attempts() const { return max_attempts_; }
  int64_t concurrency() const { return concurrency_; }
  /// One attempt. Never throws; a transport failure is an AttemptResult with its reason.
  virtual AttemptResult Send(const Notification& n) = 0;

 protected:
  /// Fills name, type and the limits from the common options and the [alert] defaults.
  Sink(const config::SinkCommon& common, std::string type, const config::AlertConfig& alert);

 private:
  std::string name_, type_;
  int64_t timeout_us_ = 0, max_attempts_ = 0, concurrency_ = 1;
};

/// Builds the sink of an `[[alert.sink]]` component. A missing secret (variable not set, file
/// unreadable or empty) is one sentence naming the key, e.g. "alert.sink 'ops-slack': url_env
/// names SLACK_URL, which is not set". The secret's value never appears in any message.
Result<std::unique_ptr<Sink>> MakeSink(const config::Component& component, const SinkEnv& env);
/// The same checks without building (for `iotad config check` and the start of alerting).
Status CheckSinkSecrets(const config::Component& component, const SinkEnv& env);

/// Reads a secret from its env variable or file (trimmed); `key` names it in messages
/// ("alert.sink[1].url"). Errors never contain the value.
Result<std::string> ResolveSecret(const config::SecretRef& ref, const std::string& key,
                                  const std::filesystem::path& lake_root, bool required);

// The types' factories (sink.cpp dispatches on the component's type).
Result<std::unique_ptr<Sink>> MakeWebhookSink(const config::WebhookSinkOptions& o, const SinkEnv& env);
Result<std::unique_ptr<Sink>> MakeSlackSink(const config::SlackSinkOptions& o, const SinkEnv& env);
Result<std::unique_ptr<Sink>> MakeAlertmanagerSink(const config::AlertmanagerSinkOptions& o, const SinkEnv& env);
Result<std::unique_ptr<Sink>> MakePagerDutySink(const config::PagerDutySinkOptions& o, const SinkEnv& env);
Result<std::unique_ptr<Sink>> MakeSnsSink(const config::SnsSinkOptions& o, const SinkEnv& env);
Result<std::unique_ptr<Sink>> MakeEmailSink(const config::EmailSinkOptions& o, const SinkEnv& env);
Result<std::unique_ptr<Sink>> MakeExecSink(const config::ExecSinkOptions& o, const SinkEnv& env);
Result<std::unique_ptr<Sink>> MakeFileSink(const config::FileSinkOptions& o, const SinkEnv& env);

}  // namespace iotad::alert
