#include "iotad/alert/sink.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace iotad::alert {

Sink::Sink(const config::SinkCommon& common, std::string type, const config::AlertConfig& alert)
    : name_(common.name),
      type_(std::move(type)),
      timeout_us_(common.timeout_us.value_or(alert.timeout_us)),
      max_attempts_(common.max_attempts.value_or(alert.max_attempts)),
      concurrency_(common.concurrency) {}

Result<std::string> ResolveSecret(const config::SecretRef& ref, const std::string& key,
                                  const std::filesystem::path& lake_root, bool required) {
  if (!ref.env.empty()) {
    const char* v = std::getenv(ref.env.c_str());
    if (v == nullptr || *v == '\0') {
      return Error(Errc::kInvalidArgument, "{}_env names the environment variable {}, which is not set", key, ref.env);
    }
    return std::string(v);
  }
  if (!ref.file.empty()) {
    std::filesystem::path p(ref.file);
    if (p.is_relative()) p = lake_root / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) return Error(Errc::kInvalidArgument, "{}_file names {}, which cannot be read", key, p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t b = 0;
    while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
    s.erase(0, b);
    if (s.empty()) return Error(Errc::kInvalidArgument, "{}_file names {}, which is empty", key, p.string());
    return s;
  }
  if (required) return Error(Errc::kInvalidArgument, "{} needs {}_env or {}_file", key, key, key);
  return std::string();
}

Result<std::unique_ptr<Sink>> MakeSink(const config::Component& c, const SinkEnv& env) {
  using namespace config;
  Result<std::unique_ptr<Sink>> made = Error(Errc::kInvalidArgument, "alert sink '{}' has an unknown type '{}'",
                                             c.name, c.type);
  if (const auto* o = c.As<WebhookSinkOptions>()) made = MakeWebhookSink(*o, env);
  else if (const auto* o = c.As<SlackSinkOptions>()) made = MakeSlackSink(*o, env);
  else if (const auto* o = c.As<AlertmanagerSinkOptions>()) made = MakeAlertmanagerSink(*o, env);
  else if (const auto* o = c.As<PagerDutySinkOptions>()) made = MakePagerDutySink(*o, env);
  else if (const auto* o = c.As<SnsSinkOptions>()) made = MakeSnsSink(*o, env);
  else if (const auto* o = c.As<EmailSinkOptions>()) made = MakeEmailSink(*o, env);
  else if (const auto* o = c.As<ExecSinkOptions>()) made = MakeExecSink(*o, env);
  else if (const auto* o = c.As<FileSinkOptions>()) made = MakeFileSink(*o, env);
  if (!made.ok()) {
    return Error(made.status().code(), "alert sink '{}' ({}): {}", c.name, c.type, made.status().message());
  }
  return made;
}

Status CheckSinkSecrets(const config::Component& c, const SinkEnv& env) {
  auto made = MakeSink(c, env);
  return made.ok() ? Status::Ok() : made.status();
}

}  // namespace iotad::alert
