// The `[[alert.sink]]` kind: its types come from HttpSinkTypes() and OtherSinkTypes(); here the
// pieces every type shares (templates, secrets, URLs).
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "iotad/config/alert_config.h"

namespace iotad::config {

const std::vector<std::string>& AlertTemplateFields() {
  static const std::vector<std::string> fields = {
      "alert_id", "dedup_key", "rule",     "severity",    "group_key",   "status",      "kind",
      "device",   "metric",    "location", "detector",    "starts_at",   "ends_at",     "event_time",
      "anomalies", "max_score", "value",   "expected",    "expected_lo", "expected_hi", "z",
      "score",    "explanation", "anomaly_rule", "url"};
  return fields;
}

Status CheckAlertTemplate(const std::string& text, const std::string& key) {
  const auto& fields = AlertTemplateFields();
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{') {
      if (i + 1 < text.size() && text[i + 1] == '{') {
        ++i;
        continue;
      }
      const size_t end = text.find('}', i + 1);
      if (end == std::string::npos) {
        return Error(Errc::kInvalidArgument, "config: '{}' has a '{{' without its '}}' (write {{{{ for a literal brace)",
                     key);
      }
      const std::string field = text.substr(i + 1, end - i - 1);
      if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
        return Error(Errc::kInvalidArgument, "config: '{}' uses the unknown field {{{}}} (known: {})", key, field,
                     fmt::join(fields, ", "));
      }
      i = end;
    } else if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        ++i;
        continue;
      }
      return Error(Errc::kInvalidArgument, "config: '{}' has a '}}' without its '{{' (write }}}} for a literal brace)",
                   key);
    }
  }
  return Status::Ok();
}

Status SetTemplateField(std::string& field, const Node& n, const std::string& key) {
  IOTAD_ASSIGN_OR_RETURN(std::string text, ReadString(n, key));
  IOTAD_TRY(CheckAlertTemplate(text, key));
  field = std::move(text);
  return Status::Ok();
}

Status CheckSecretRef(const SecretRef& ref, const std::string& base, const ComponentContext& ctx, bool required) {
  if (!ref.env.empty() && !ref.file.empty()) {
    return Error(Errc::kInvalidArgument, "config: {} sets both {}_env and {}_file; set one", ctx.key, base, base);
  }
  if (required && ref.empty()) {
    return Error(Errc::kInvalidArgument,
                 "config: {} needs {}_env (an environment variable) or {}_file (a file) for its secret {}; secrets "
                 "are never written in the config itself",
                 ctx.key, base, base, base);
  }
  return Status::Ok();
}

Status CheckHttpUrl(const std::string& url, const std::string& key) {
  const bool scheme = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  const size_t host_at = url.find("://") + 3;
  const bool host = scheme && host_at < url.size() && url[host_at] != '/' && url[host_at] != ':';
  const bool clean = std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\';
  });
  if (!scheme || !host || !clean) {
    return Error(Errc::kInvalidArgument, "config: '{}' must be an http:// or https:// URL with a host (got \"{}\")",
                 key, url);
  }
  return Status::Ok();
}

ComponentKind AlertSinkKind() {
  std::vector<ComponentType> types = HttpSinkTypes();
  for (ComponentType& t : OtherSinkTypes()) types.push_back(std::move(t));
  ComponentKind kind = TypedKind(
      "alert.sink",
      "where notifications go. Each sink has a unique name (rules name it in sinks = [...]) and a type: webhook, "
      "slack, alertmanager, pagerduty, sns, email, exec or file. Secrets (webhook URLs of Slack, routing keys, "
      "passwords, tokens) are never written here: name an environment variable (<key>_env) or a file (<key>_file).",
      std::move(types));
  kind.example =
      "# # For example:\n"
      "# [[alert.sink]]\n"
      "# name = \"ops-slack\"\n"
      "# type = \"slack\"\n"
      "# url_env = \"SLACK_WEBHOOK_URL\"\n";
  return kind;
}

const SinkCommon* SinkCommonOf(const Component& c) {
  if (c.kind != "alert.sink") return nullptr;
  if (const auto* o = c.As<WebhookSinkOptions>()) return o;
  if (const auto* o = c.As<SlackSinkOptions>()) return o;
  if (const auto* o = c.As<AlertmanagerSinkOptions>()) return o;
  if (const auto* o = c.As<PagerDutySinkOptions>()) return o;
  if (const auto* o = c.As<SnsSinkOptions>()) return o;
  if (const auto* o = c.As<EmailSinkOptions>()) return o;
  if (const auto* o = c.As<ExecSinkOptions>()) return o;
  if (const auto* o = c.As<FileSinkOptions>()) return o;
  return nullptr;
}

}  // namespace iotad::config
