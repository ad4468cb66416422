// The `[[alert.rule]]` kind: which anomalies, how they group into alerts, when to notify, where.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "iotad/config/alert_config.h"
#include "iotad/config/config.h"
#include "iotad/detect/registry.h"

namespace iotad::config {

namespace {

const std::vector<std::string>& RuleDetectorNames() {
  static const std::vector<std::string> names = detect::DetectorNames();
  return names;
}

Status ValidateAlertRule(AlertRule& rule, const ComponentContext& ctx) {
  rule.name = ctx.name;
  if (rule.sinks.empty()) {
    return Error(Errc::kInvalidArgument, "config: '{}.sinks' must name at least one [[alert.sink]]", ctx.key);
  }
  for (size_t i = 0; i < rule.sinks.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (rule.sinks[i] == rule.sinks[j]) {
        return Error(Errc::kInvalidArgument, "config: '{}.sinks' names '{}' twice", ctx.key, rule.sinks[i]);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

ComponentKind AlertRuleKind() {
  using R = AlertRule;
  std::vector<Option<R>> options = {
      {"detectors", "list", "[\"default\"]",
       "Detectors whose anomalies the rule takes (gold.detectors names); an empty list takes every detector.",
       SetList(&R::detectors, RuleDetectorNames())},
      {"metrics", "list", "[]", "Metrics the rule takes; an empty list takes every metric.", SetList(&R::metrics)},
      {"devices", "list", "[]",
       "Device ids the rule takes, as glob patterns (* any run, ? one character); empty takes every device.",
       SetList(&R::devices)},
      {"locations", "list", "[]", "Locations the rule takes, as glob patterns; empty takes any (and none).",
       SetList(&R::locations)},
      {"min_score", "number", "", "Only anomalies with score >= this (0 to 1).", SetNumber(&R::min_score, 0.0, 1.0)},
      {"min_abs_z", "number", "",
       "Only anomalies with |z| >= this (above 0; anomalies of detectors without z never match).",
       SetNumber(&R::min_abs_z, 0.0, 1e9, true)},
      {"severity", "string", "\"warning\"", "info, warning or critical.",
       SetString(&R::severity, {"info", "warning", "critical"})},
      {"group_by", "string", "\"device\"",
       "What one alert covers: device, device_metric (one per device and metric), location, or rule (one for "
       "everything the rule matches).",
       SetString(&R::group_by, {"device", "device_metric", "location", "rule"})},
      {"group_wait", "duration", "\"5m\"",
       "First notification once the data reached the alert's first anomaly + this (event time), so a burst is "
       "one notification.",
       SetDuration(&R::group_wait_us)},
      {"group_interval", "duration", "\"30m\"",
       "An update on new anomalies of a firing alert at most this often (event time).",
       SetDuration(&R::group_interval_us)},
      {"repeat_interval", "duration", "\"4h\"",
       "A reminder for a firing alert that nobody acknowledged, this often (wall time).",
       SetDuration(&R::repeat_interval_us)},
      {"resolve_after", "duration", "\"1h\"",
       "Resolved once no matching anomaly came for this long (event time); a later one opens a new alert.",
       SetDuration(&R::resolve_after_us)},
      {"max_per_device_per_hour", "int", "10",
       "Notifications per device per wall-clock hour at most, more are recorded as throttled (0: no cap; up to "
       "100000).",
       SetInt(&R::max_per_device_per_hour, 0, 100'000)},
      {"send_resolved", "bool", "true", "Also notify when an alert that was notified resolves.",
       SetBool(&R::send_resolved)},
      {"sinks", "list", "[\"alerts-file\"]", "The [[alert.sink]] names this rule's notifications go to.",
       SetList(&R::sinks, {}, true), /*required=*/true},
  };
  ComponentKind kind = UntypedKind(
      "alert.rule",
      "which anomalies alert whom. Matching anomalies group into alerts (one per group_by key and episode, with a "
      "stable dedup key), notified to the rule's sinks after group_wait, updated at most every group_interval, "
      "repeated every repeat_interval until acknowledged, resolved after resolve_after without anomalies.",
      MakeComponentType<R>("", "", std::move(options), ValidateAlertRule));
  kind.name_required = true;
  kind.example =
      "# # For example:\n"
      "# [[alert.rule]]\n"
      "# name = \"freezers-critical\"\n"
      "# devices = [\"freezer-*\"]\n"
      "# metrics = [\"temp_c\"]\n"
      "# min_score = 0.9\n"
      "# severity = \"critical\"\n"
      "# group_by = \"device_metric\"\n"
      "# sinks = [\"ops-slack\"]\n";
  return kind;
}

std::vector<AlertRule> AlertRulesOf(const Components& components) {
  std::vector<AlertRule> rules;
  for (const AlertRule* r : components.OptionsOf<AlertRule>("alert.rule")) rules.push_back(*r);
  return rules;
}

Status CheckAlertRuleSinks(const Components& components) {
  std::vector<std::string> known;
  for (const Component& c : components.Of("alert.sink")) known.push_back(c.name);
  for (const Component& c : components.Of("alert.rule")) {
    const AlertRule* rule = c.As<AlertRule>();
    if (rule == nullptr) continue;
    for (const std::string& sink : rule->sinks) {
      if (std::find(known.begin(), known.end(), sink) == known.end()) {
        return Error(Errc::kInvalidArgument, "config: 'alert.rule[{}].sinks' names '{}', which is no [[alert.sink]] "
                     "(known: {})", c.index, sink, known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", ")));
      }
    }
  }
  return Status::Ok();
}

}  // namespace iotad::config
