// TEMPORARY (deleted at merge): stand-ins for helper engine's engine.cpp / gold_reader.cpp so
// the outbox links before i9-engine is merged. Evaluate and ReadGoldDelta decide nothing.
#include "iotad/alert/engine.h"
#include "iotad/alert/gold_reader.h"
#include "iotad/config/config.h"
#include "iotad/core/hash.h"

namespace iotad::alert {

std::string ShortId(std::string_view key) { return HashBytes(key).Hex().substr(0, 12); }

bool SilenceMatches(const Silence& s, const Alert& a) {
  for (const auto& m : s.matchers) {
    std::string value;
    if (m.label == "rule") {
      value = a.rule;
    } else if (m.label == "severity") {
      value = a.severity;
    } else if (m.label == "group") {
      value = a.group_key;
    } else {
      auto it = a.labels.find(m.label);
      if (it != a.labels.end()) value = it->second;
    }
    const bool match = config::GlobMatch(m.value, value);
    if (m.op == "!=" ? match : !match) return false;
  }
  return true;
}

const Silence* ActiveSilence(const AlertState& state, const Alert& a, TimestampUs now) {
  for (const auto& [id, s] : state.silences) {
    if (s.ActiveAt(now) && SilenceMatches(s, a)) return &s;
  }
  return nullptr;
}

EvalResult Evaluate(const AlertState&, const EvalInput&) { return {}; }

Result<GoldDelta> ReadGoldDelta(lake::Lake&, const AlertState&, const std::vector<config::AlertRule>&) {
  return GoldDelta{};
}

}  // namespace iotad::alert
