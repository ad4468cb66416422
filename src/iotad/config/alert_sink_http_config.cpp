// webhook, slack, alertmanager, pagerduty: option tables and validation.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "iotad/config/alert_config.h"

namespace iotad::config {
namespace {

/// An RFC 9110 token character (what a header name is made of).
bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

/// Checks one "Name: value" header; `key` names the list.
Status CheckHeader(const std::string& header, const std::string& key) {
  const size_t colon = header.find(':');
  const std::string name = header.substr(0, colon == std::string::npos ? 0 : colon);
  if (colon == std::string::npos || name.empty() ||
      !std::all_of(name.begin(), name.end(), [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); })) {
    return Error(Errc::kInvalidArgument, "config: '{}' has \"{}\", which is not a header \"Name: value\"", key, header);
  }
  if (std::any_of(header.begin() + static_cast<std::ptrdiff_t>(colon), header.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
      })) {
    return Error(Errc::kInvalidArgument, "config: '{}' has a header {} whose value holds a control character", key,
                 name);
  }
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "authorization") {
    return Error(Errc::kInvalidArgument,
                 "config: '{}' sets Authorization, which holds a secret: use bearer_token_env or bearer_token_file",
                 key);
  }
  if (lower == "content-type" || lower == "content-length" || lower == "host" || lower == "transfer-encoding") {
    return Error(Errc::kInvalidArgument, "config: '{}' sets {}, which iotad sets itself", key, name);
  }
  return Status::Ok();
}

/// A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved).
bool IsLabelName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0) return false;
  if (name.rfind("__", 0) == 0) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

/// The labels the alertmanager sink sets itself (alert/sinks_http.cpp).
const std::vector<std::string>& OwnAlertmanagerLabels() {
  static const std::vector<std::string> labels = {"alertname", "severity", "device", "metric",
                                                  "location",  "detector", "dedup_key"};
  return labels;
}

Status CheckLabels(const std::vector<std::string>& labels, const std::string& key) {
  std::set<std::string> seen;
  for (const std::string& l : labels) {
    const size_t eq = l.find('=');
    const std::string name = l.substr(0, eq == std::string::npos ? 0 : eq);
    if (eq == std::string::npos || eq + 1 == l.size()) {
      return Error(Errc::kInvalidArgument, "config: '{}' has \"{}\", which is not a label \"name=value\"", key, l);
    }
    if (!IsLabelName(name)) {
      return Error(Errc::kInvalidArgument,
                   "config: '{}' has the label name \"{}\", which is not a Prometheus label name (letters, digits "
                   "and _, not starting with a digit or __)",
                   key, name);
    }
    const auto& own = OwnAlertmanagerLabels();
    if (std::find(own.begin(), own.end(), name) != own.end()) {
      return Error(Errc::kInvalidArgument, "config: '{}' sets the label {}, which iotad sets itself", key, name);
    }
    if (!seen.insert(name).second) {
      return Error(Errc::kInvalidArgument, "config: '{}' sets the label {} twice", key, name);
    }
  }
  return Status::Ok();
}

template <typename T>
FieldSetter<T> SetHttpUrl(std::string T::*field) {
  return [field](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(std::string url, ReadString(n, key));
    IOTAD_TRY(CheckHttpUrl(url, key));
    t.*field = std::move(url);
    return Status::Ok();
  };
}

/// SecretOptions for a required secret: the `<base>_env` row shows `example` in `config example`,
/// so the example block, uncommented, is a valid table (either key may be used).
template <typename T>
std::vector<Option<T>> RequiredSecretOptions(SecretRef T::*field, const std::string& base, const std::string& what,
                                             const std::string& example) {
  std::vector<Option<T>> rows = SecretOptions<T>(field, base, what);
  rows[0].default_toml = "\"" + example + "\"";
  rows[0].doc += " One of " + base + "_env and " + base + "_file is required; the example names a variable.";
  return rows;
}

/// The rows of `T`: the common ones, then `own`.
template <typename T>
std::vector<Option<T>> Rows(std::vector<std::vector<Option<T>>> parts) {
  std::vector<Option<T>> rows = CommonSinkOptions<T>();
  for (auto& part : parts) {
    for (auto& row : part) rows.push_back(std::move(row));
  }
  return rows;
}

/// `validate` after filling SinkCommon::name from the table's name.
template <typename T>
std::function<Status(T&, const ComponentContext&)> Named(std::function<Status(T&, const ComponentContext&)> validate) {
  return [validate = std::move(validate)](T& t, const ComponentContext& ctx) -> Status {
    t.name = ctx.name;
    return validate(t, ctx);
  };
}

ComponentType WebhookType() {
  using W = WebhookSinkOptions;
  return MakeComponentType<W>(
      "webhook",
      "POST of the generic notification JSON (version 1: kind, status, dedup_key, labels, the latest anomaly...; "
      "alert/README.md) to url, with an Idempotency-Key header carrying the delivery id.",
      Rows<W>({
          {{"url", "string", "\"https://example.com/iotad-hook\"", "Where to POST (http:// or https://).",
            SetHttpUrl(&W::url), /*required=*/true}},
          SecretOptions<W>(&W::bearer_token, "bearer_token", "a token sent as Authorization: Bearer"),
          {{"headers", "list", "", "Extra headers, each \"Name: value\" (not secrets: use bearer_token_env for those).",
            [](W& w, const Node& n, const std::string& key) -> Status {
              IOTAD_ASSIGN_OR_RETURN(std::vector<std::string> headers, ReadStringList(n, key));
              for (const std::string& h : headers) IOTAD_TRY(CheckHeader(h, key));
              w.headers = std::move(headers);
              return Status::Ok();
            }}},
      }),
      Named<W>([](W& w, const ComponentContext& ctx) { return CheckSecretRef(w.bearer_token, "bearer_token", ctx, false); }));
}

ComponentType SlackType() {
  using S = SlackSinkOptions;
  return MakeComponentType<S>(
      "slack",
      "a Slack incoming webhook: text plus blocks (subject, body, a context line with the dedup key). The webhook "
      "URL is a secret: url_env or url_file.",
      Rows<S>({
          RequiredSecretOptions<S>(&S::url, "url", "the Slack incoming-webhook URL", "SLACK_WEBHOOK_URL"),
          {{"url", "string", "", "Refused: a Slack webhook URL is a secret; give url_env or url_file instead.",
            [](S&, const Node&, const std::string& key) -> Status {
              return Error(Errc::kInvalidArgument,
                           "config: '{}' is refused because a Slack webhook URL is a secret: name an environment "
                           "variable with url_env or a file with url_file",
                           key);
            }},
           {"channel", "string", "", "Channel override (\"#ops\"); unset: the webhook's own.", SetString(&S::channel)},
           {"username", "string", "", "Sender name override; unset: the webhook's own.", SetString(&S::username)}},
      }),
      Named<S>([](S& s, const ComponentContext& ctx) { return CheckSecretRef(s.url, "url", ctx, true); }));
}

ComponentType AlertmanagerType() {
  using A = AlertmanagerSinkOptions;
  return MakeComponentType<A>(
      "alertmanager",
      "iotad as an alert source for Prometheus Alertmanager: POST <url>/api/v2/alerts with labels, annotations, "
      "startsAt, endsAt and generatorURL; a resolved alert is posted again with its endsAt.",
      Rows<A>({
          {{"url", "string", "\"http://127.0.0.1:9093\"",
            "Alertmanager's base URL (the path /api/v2/alerts is added).", SetHttpUrl(&A::url), /*required=*/true},
           {"basic_auth_user", "string", "", "User for HTTP basic auth (with basic_auth_password_env or _file).",
            SetString(&A::basic_auth_user)}},
          SecretOptions<A>(&A::basic_auth_password, "basic_auth_password", "the HTTP basic auth password"),
          {{"labels", "list", "", "Extra labels on every alert, each \"name=value\" (e.g. \"team=plant\").",
            [](A& a, const Node& n, const std::string& key) -> Status {
              IOTAD_ASSIGN_OR_RETURN(std::vector<std::string> labels, ReadStringList(n, key));
              IOTAD_TRY(CheckLabels(labels, key));
              a.labels = std::move(labels);
              return Status::Ok();
            }},
           {"firing_ttl", "duration", "\"8h\"",
            "A firing alert's endsAt is the send time plus this, so Alertmanager resolves it by itself if iotad "
            "goes quiet; keep it above the rules' repeat_interval (iotad re-posts a firing alert then).",
            SetDuration(&A::firing_ttl_us)}},
      }),
      Named<A>([](A& a, const ComponentContext& ctx) -> Status {
        IOTAD_TRY(CheckSecretRef(a.basic_auth_password, "basic_auth_password", ctx, false));
        if (a.basic_auth_user.empty() != a.basic_auth_password.empty()) {
          return Error(Errc::kInvalidArgument,
                       "config: {} needs both basic_auth_user and basic_auth_password_env (or _file) for basic auth",
                       ctx.key);
        }
        return Status::Ok();
      }));
}

ComponentType PagerDutyType() {
  using P = PagerDutySinkOptions;
  return MakeComponentType<P>(
      "pagerduty",
      "PagerDuty Events API v2: trigger, acknowledge and resolve events with the alert's dedup_key. The routing "
      "key is a secret: routing_key_env or routing_key_file.",
      Rows<P>({
          {{"url", "string", "\"https://events.pagerduty.com/v2/enqueue\"", "The Events API v2 endpoint.",
            SetHttpUrl(&P::url)}},
          RequiredSecretOptions<P>(&P::routing_key, "routing_key", "the integration's routing key",
                                   "PAGERDUTY_ROUTING_KEY"),
          {{"source", "string", "", "payload.source; unset: the device id.", SetString(&P::source)},
           {"component", "string", "", "payload.component; unset: the metric.", SetString(&P::component)}},
      }),
      Named<P>([](P& p, const ComponentContext& ctx) { return CheckSecretRef(p.routing_key, "routing_key", ctx, true); }));
}

}  // namespace

std::vector<ComponentType> HttpSinkTypes() { return {WebhookType(), SlackType(), AlertmanagerType(), PagerDutyType()}; }

}  // namespace iotad::config
