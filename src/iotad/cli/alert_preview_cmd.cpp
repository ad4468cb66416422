// `iotad alert preview`: the rules replayed over the anomalies already in the lake, reporting what
// would have been sent. Reads the lake's config, snapshot, gold and silver; sends and writes nothing.
#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "iotad/alert/engine.h"
#include "iotad/alert/gold_reader.h"
#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/core/json.h"

namespace iotad::cli {

namespace {

struct PreviewOptions {
  std::string from, to, rule;
  bool json = false;
};

Result<TimestampUs> ParseTimeOption(const std::string& text, const char* option, TimestampUs unset) {
  if (text.empty()) return unset;
  const auto ts = ParseTimestamp(text);
  if (!ts) {
    return Error(Errc::kInvalidArgument, "alert preview: {} must be a time such as 2024-01-05T00:00:00Z ({})", option,
                 DescribeBadTimestamp(text));
  }
  return *ts;
}

std::string Hours(double seconds) { return fmt::format("{:.1f} h", seconds / 3600.0); }

/// The entries of a count map, largest first (ties by key), at most `limit`.
template <typename K>
std::vector<std::pair<K, int64_t>> Top(const std::map<K, int64_t>& counts, size_t limit) {
  std::vector<std::pair<K, int64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > limit) v.resize(limit);
  return v;
}

Status RunPreview(lake::Lake& lake, const PreviewOptions& o) {
  constexpr TimestampUs kMin = std::numeric_limits<int64_t>::min() / 4, kMax = std::numeric_limits<int64_t>::max() / 4;
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs from, ParseTimeOption(o.from, "--from", kMin));
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs to, ParseTimeOption(o.to, "--to", kMax));
  if (from >= to) return Error(Errc::kInvalidArgument, "alert preview: --from must be before --to");
  std::vector<config::AlertRule> rules = config::AlertRulesOf(lake.config().components);
  if (!o.rule.empty()) {
    std::vector<std::string> names;
    for (const auto& r : rules) names.push_back(r.name);
    std::erase_if(rules, [&](const config::AlertRule& r) { return r.name != o.rule; });
    if (rules.empty()) {
      return Error(Errc::kInvalidArgument, "alert preview: --rule '{}' names no [[alert.rule]] of the config (known: {})",
                   o.rule, names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
    }
  }
  IOTAD_ASSIGN_OR_RETURN(const TimestampUs silver_end, alert::SilverWatermark(lake));
  IOTAD_ASSIGN_OR_RETURN(const std::vector<alert::Anomaly> anomalies, alert::ReadAnomalies(lake, rules, from, to));
  // The replay ends where the data does (or at --to, when earlier): alerts still firing then are
  // counted as in alert up to it.
  const TimestampUs watermark = std::min(silver_end, to);
  const alert::PreviewReport p = alert::Preview(rules, lake.config().alert, anomalies, watermark);
  const TimestampUs shown_from = o.from.empty() ? (anomalies.empty() ? 0 : anomalies.front().event_time) : from;
  const TimestampUs shown_to = o.to.empty() ? silver_end : to;

  if (o.json) {
    JsonWriter w;
    w.BeginObject();
    w.Key("from").Timestamp(shown_from).Key("to").Timestamp(shown_to);
    w.Key("rules").BeginArray();
    for (const auto& r : rules) w.String(r.name);
    w.EndArray();
    w.Key("anomalies_matched").Int(p.anomalies_matched).Key("alerts").Int(p.alerts);
    w.Key("notifications").Int(p.notifications).Key("seconds_in_alert").Double(p.seconds_in_alert);
    auto counts = [&w](const char* key, const auto& m) {
      w.Key(key).BeginObject();
      for (const auto& [k, n] : m) w.Key(fmt::format("{}", k)).Int(n);
      w.EndObject();
    };
    counts("per_rule", p.per_rule);
    counts("per_day", p.per_day);
    counts("per_device", p.per_device);
    counts("per_hour_of_day", p.per_hour_of_day);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return Status::Ok();
  }
  std::printf("alert preview: %zu rule%s over %s .. %s (nothing sent, nothing written)\n", rules.size(),
              rules.size() == 1 ? "" : "s", FormatTimestamp(shown_from).c_str(), FormatTimestamp(shown_to).c_str());
  std::printf("  anomalies matched  %lld\n  alerts             %lld\n  notifications      %lld\n  time in alert      %s\n",
              static_cast<long long>(p.anomalies_matched), static_cast<long long>(p.alerts),
              static_cast<long long>(p.notifications), Hours(p.seconds_in_alert).c_str());
  std::printf("\nnotifications per rule\n");
  for (const auto& r : rules) {
    const auto it = p.per_rule.find(r.name);
    std::printf("  %-30s %8lld\n", r.name.c_str(), static_cast<long long>(it == p.per_rule.end() ? 0 : it->second));
  }
  std::printf("\nnotifications per day\n");
  for (const auto& [day, n] : p.per_day) std::printf("  %-30s %8lld\n", day.c_str(), static_cast<long long>(n));
  if (p.per_day.empty()) std::printf("  (none)\n");
  std::printf("\nnotifications per device (top 20 of %zu)\n", p.per_device.size());
  for (const auto& [device, n] : Top(p.per_device, 20)) {
    std::printf("  %-30s %8lld\n", device.c_str(), static_cast<long long>(n));
  }
  if (p.per_device.empty()) std::printf("  (none)\n");
  std::printf("\nbusiest hours of day (UTC)\n");
  for (const auto& [hour, n] : Top(p.per_hour_of_day, 5)) {
    std::printf("  %02d:00-%02d:59%19s %8lld\n", hour, hour, "", static_cast<long long>(n));
  }
  if (p.per_hour_of_day.empty()) std::printf("  (none)\n");
  return Status::Ok();
}

}  // namespace

void RegisterAlertPreviewCommand(CLI::App& alert, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = alert.add_subcommand(
      "preview",
      "Replay the rules over the anomalies already in the lake and report what would have been sent: "
      "notifications per day, device and rule, time in alert, the busiest hours. Nothing is sent or written.");
  auto o = std::make_shared<PreviewOptions>();
  sub->add_option("--from", o->from, "Start of the replay (ISO-8601, UTC unless a zone is given; default: the first anomaly)");
  sub->add_option("--to", o->to, "End of the replay, exclusive (default: the end of the data)");
  sub->add_option("--rule", o->rule, "Only this [[alert.rule]] (default: every rule)");
  sub->add_flag("--json", o->json, "One JSON object instead of the tables");
  AddLakeOption(*sub, global);
  sub->callback([o, &global, &out] {
    auto lake_or = OpenLake(ResolveLakePath(global));
    if (!lake_or.ok()) {
      out.status = lake_or.status();
      return;
    }
    out.status = RunPreview(**lake_or, *o);
  });
}

}  // namespace iotad::cli
