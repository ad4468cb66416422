// The rules: anomalies -> alerts -> notifications (engine.h). Pure: no I/O, no clock.
//
// One evaluation, per rule: the matching anomalies are bucketed by group (hash map keyed by
// views into the anomalies: no string per anomaly), each group's anomalies (in time order) join
// the episode of their group whose [first - resolve_after, last + resolve_after] holds them, or
// open one; the hours of the input are then recounted whole for every alert of the rule (so a
// recomputed hour replaces its counts, never adds to them); alerts whose last anomaly is
// resolve_after behind the watermark resolve; then each alert of the rule is asked whether a
// notification is due (firing, update, repeat, resolved). Alerts are copied only when they change,
// and only changed alerts are returned: evaluating the same anomalies again changes nothing.
#include "iotad/alert/engine.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>
#include <memory>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "iotad/config/config.h"
#include "iotad/core/hash.h"

namespace iotad::alert {

namespace {

using config::AlertRule;

/// A group key as views into one anomaly's fields (the group_by decides which).
struct GroupView {
  std::string_view a, b;
  bool operator==(const GroupView& o) const { return a == o.a && b == o.b; }
};
struct GroupViewHash {
  size_t operator()(const GroupView& g) const {
    return static_cast<size_t>(HashShort(g.a) ^ (HashShort(g.b) * 0x9E3779B97F4A7C15ULL));
  }
};

enum class GroupBy : uint8_t { kDevice, kDeviceMetric, kLocation, kRule };

GroupBy GroupByOf(const AlertRule& rule) {
  if (rule.group_by == "device_metric") return GroupBy::kDeviceMetric;
  if (rule.group_by == "location") return GroupBy::kLocation;
  if (rule.group_by == "rule") return GroupBy::kRule;
  return GroupBy::kDevice;
}

GroupView ViewOf(GroupBy by, const Anomaly& a) {
  switch (by) {
    case GroupBy::kDevice: return {a.device_id, {}};
    case GroupBy::kDeviceMetric: return {a.device_id, a.metric};
    case GroupBy::kLocation: return {a.location, {}};
    case GroupBy::kRule: return {};
  }
  return {};
}

bool InList(const std::vector<std::string>& list, std::string_view v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}
bool InGlobs(const std::vector<std::string>& globs, std::string_view v) {
  return globs.empty() ||
         std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return config::GlobMatch(g, v); });
}

/// Labels an alert carries: what its group (and the rule's filters) fix.
std::map<std::string, std::string> LabelsOf(const AlertRule& rule, GroupBy by, const Anomaly& a) {
  std::map<std::string, std::string> labels;
  if (by == GroupBy::kDevice || by == GroupBy::kDeviceMetric) labels["device"] = a.device_id;
  if (by == GroupBy::kDeviceMetric) labels["metric"] = a.metric;
  if (by == GroupBy::kLocation) labels["location"] = a.location;
  if (rule.detectors.size() == 1) labels["detector"] = rule.detectors.front();
  return labels;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

/// One alert during an evaluation: the state's (read-only) until it changes, then a copy.
struct Slot {
  const Alert* orig = nullptr;
  std::unique_ptr<Alert> copy;
  bool is_new = false;
  bool changed = false;
  // This evaluation's anomalies that joined it.
  std::vector<std::pair<TimestampUs, int64_t>> batch_hours;  // in time order, one entry per hour
  const Anomaly* batch_latest = nullptr;
  double batch_max_score = 0;
  TimestampUs live_last = 0;  // last event including this batch (episode windows)
  int64_t issued = 0;         // the last notification number given out in this evaluation
  int rule_mark = 0;          // which rule's evaluation it belongs to (Evaluator::rule_mark_)

  const Alert& get() const { return copy ? *copy : *orig; }
  Alert& Mut() {
    if (!copy) copy = std::make_unique<Alert>(*orig);
    changed = true;
    return *copy;
  }
};

/// The notification number of a delivery id "<alert id>-<n>-<sink>" (0 when not of that shape).
int64_t NotificationNumber(std::string_view id, std::string_view alert_id) {
  if (id.size() <= alert_id.size() + 1 || id.compare(0, alert_id.size(), alert_id) != 0 || id[alert_id.size()] != '-') {
    return 0;
  }
  int64_t n = 0;
  for (size_t i = alert_id.size() + 1; i < id.size() && id[i] != '-'; ++i) {
    if (id[i] < '0' || id[i] > '9') return 0;
    n = n * 10 + (id[i] - '0');
  }
  return n;
}

class Evaluator {
 public:
  Evaluator(const AlertState& state, const EvalInput& input) : state_(state), in_(input) {
    cfg_ = input.config != nullptr ? input.config : &default_config_;
    base_url_ = !input.base_url.empty() ? input.base_url : cfg_->base_url;
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    for (const auto& [id, alert] : state.alerts) {
      auto [it, inserted] = slots_.try_emplace(id);
      it->second.orig = &alert;
      it->second.live_last = alert.last_event_us;
      by_rule_[alert.rule].push_back(&it->second);
    }
  }

  EvalResult Run() {
    out_.anomalies_read = static_cast<int64_t>(in_.anomalies.size());
    if (in_.rules != nullptr) {
      for (const AlertRule& rule : *in_.rules) EvaluateRule(rule);
    }
    size_t changed = 0;
    for (auto& [id, slot] : slots_) changed += slot.copy && (slot.changed || slot.is_new);
    out_.alerts.reserve(changed);
    // (Moving an alert out leaves its map key dangling; the map is only destroyed after this.)
    for (auto& [id, slot] : slots_) {
      if (slot.copy && (slot.changed || slot.is_new)) out_.alerts.push_back(std::move(*slot.copy));
    }
    return std::move(out_);
  }

 private:
  void EvaluateRule(const AlertRule& rule) {
    const GroupBy by = GroupByOf(rule);
    const int64_t ra = rule.resolve_after_us;
    const TimestampUs open_from = in_.watermark_us - cfg_->lookback_us;

    // The rule's alerts per group key, each group's sorted by episode start.
    // (Keys are views into the alerts' own strings: the state's, or copies held by unique_ptr.)
    ++rule_mark_;
    std::vector<Slot*>& rule_slots = by_rule_[rule.name];
    for (Slot* s : rule_slots) s->rule_mark = rule_mark_;
    std::unordered_map<std::string_view, std::vector<Slot*>> groups;
    groups.reserve(rule_slots.size());
    for (Slot* s : rule_slots) groups[s->get().group_key].push_back(s);
    for (auto& [key, list] : groups) {
      std::sort(list.begin(), list.end(),
                [](const Slot* x, const Slot* y) { return x->get().first_event_us < y->get().first_event_us; });
    }

    // The matching anomalies in input (time) order, each joining or opening an alert of its group.
    // A group's key is built once, the first time the group is seen; groups are independent, so
    // the interleaving does not change any decision. While a group's anomalies keep joining the
    // same alert (the usual case: a burst), they are tallied in the group's entry and folded into
    // the alert when it changes, so most anomalies touch only their group's entry.
    std::unordered_map<GroupView, GroupState, GroupViewHash> seen;
    for (const Anomaly& a : in_.anomalies) {
      if (!RuleMatches(rule, a)) continue;
      ++out_.anomalies_matched;
      auto [git, inserted] = seen.try_emplace(ViewOf(by, a));
      GroupState& g = git->second;
      if (inserted) {
        g.key = GroupKey(rule, a);
        auto found = groups.find(g.key);
        g.list = found != groups.end() ? &found->second : &new_lists_.emplace_back();
      }
      const TimestampUs t = a.event_time;
      if (g.cur == nullptr || t < g.cur_first || t >= g.cur_next_first || t > g.cur_last + ra) {
        Flush(g);
        std::vector<Slot*>& list = *g.list;
        Slot* slot = Find(list, t, ra);
        if (slot == nullptr) {
          if (t < open_from) continue;  // too old to page anyone
          slot = Open(rule, by, g.key, a);
          list.insert(std::upper_bound(list.begin(), list.end(), t,
                                       [](TimestampUs v, const Slot* s) { return v < s->get().first_event_us; }),
                      slot);
          slot->rule_mark = rule_mark_;
        }
        g.cur = slot;
        g.cur_first = slot->get().first_event_us;
        g.cur_last = slot->live_last;
        const auto next = std::upper_bound(list.begin(), list.end(), g.cur_first,
                                           [](TimestampUs v, const Slot* s) { return v < s->get().first_event_us; });
        g.cur_next_first = next == list.end() ? std::numeric_limits<TimestampUs>::max() : (*next)->get().first_event_us;
      }
      const TimestampUs h = HourStart(t);
      if (g.hour_n > 0 && g.hour != h) FlushHour(g);
      g.hour = h;
      ++g.hour_n;
      if (g.latest == nullptr || t >= g.latest->event_time) g.latest = &a;
      g.max_score = std::max(g.max_score, a.score);
      g.cur_last = std::max(g.cur_last, t);
    }
    for (auto& [view, g] : seen) Flush(g);

    // Recount the input's hours for every alert of the rule, fold in latest and max score; then
    // resolution and notifications, in id order.
    for (auto& [id, slot] : slots_) {
      if (slot.rule_mark != rule_mark_) continue;
      Slot* s = &slot;
      Recount(*s);
      const Alert& a = s->get();
      if (a.status == AlertStatus::kFiring && a.last_event_us + ra <= in_.watermark_us) {
        Alert& m = s->Mut();
        m.status = AlertStatus::kResolved;
        m.resolved_event_us = m.last_event_us + ra;
        ++out_.alerts_resolved;
      }
      Decide(rule, *s);
      if (s->changed) s->Mut().updated_at_us = in_.now_us;
      s->batch_hours.clear();
      s->batch_latest = nullptr;
      s->batch_max_score = 0;
    }
  }

  /// One group's anomalies while they join the same alert (`cur`), not yet folded into it.
  struct GroupState {
    std::string key;
    std::vector<Slot*>* list = nullptr;
    Slot* cur = nullptr;
    TimestampUs cur_first = 0, cur_next_first = 0, cur_last = 0;
    TimestampUs hour = 0;
    int64_t hour_n = 0;
    const Anomaly* latest = nullptr;
    double max_score = 0;
  };

  static void FlushHour(GroupState& g) {
    std::vector<std::pair<TimestampUs, int64_t>>& hours = g.cur->batch_hours;
    if (!hours.empty() && hours.back().first == g.hour) hours.back().second += g.hour_n;
    else hours.emplace_back(g.hour, g.hour_n);
    g.hour_n = 0;
  }

  static void Flush(GroupState& g) {
    if (g.cur == nullptr) return;
    Slot& s = *g.cur;
    if (g.hour_n > 0) FlushHour(g);
    if (g.latest != nullptr && (s.batch_latest == nullptr || g.latest->event_time >= s.batch_latest->event_time)) {
      s.batch_latest = g.latest;
    }
    s.batch_max_score = std::max(s.batch_max_score, g.max_score);
    s.live_last = std::max(s.live_last, g.cur_last);
    g.cur = nullptr;
    g.latest = nullptr;
    g.max_score = 0;
  }

  /// The alert of the group an anomaly at `t` joins: one whose [first, last] holds it, else one
  /// whose window [first - ra, last + ra] does (the earlier on a tie); nullptr when none.
  static Slot* Find(const std::vector<Slot*>& list, TimestampUs t, int64_t ra) {
    if (list.empty()) return nullptr;
    // The last alert starting at or before t.
    auto it = std::upper_bound(list.begin(), list.end(), t,
                               [](TimestampUs v, const Slot* s) { return v < s->get().first_event_us; });
    Slot* before = it == list.begin() ? nullptr : *(it - 1);
    Slot* after = it == list.end() ? nullptr : *it;
    if (before != nullptr && t <= before->live_last + ra) return before;
    if (after != nullptr && t >= after->get().first_event_us - ra) return after;
    return nullptr;
  }

  Slot* Open(const AlertRule& rule, GroupBy by, const std::string& key, const Anomaly& a) {
    auto alert = std::make_unique<Alert>();
    Alert& al = *alert;
    al.dedup_key = fmt::format("{}|{}|{}", rule.name, key, FormatTimestamp(a.event_time));
    al.id = ShortId(al.dedup_key);
    auto [it, inserted] = slots_.try_emplace(std::string_view(al.id));
    Slot& s = it->second;
    if (!inserted) return &s;  // the same episode (cannot happen through Find, kept safe)
    s.is_new = true;
    s.copy = std::move(alert);
    al.rule = rule.name;
    al.severity = rule.severity;
    al.group_key = key;
    al.labels = LabelsOf(rule, by, a);
    al.first_event_us = al.last_event_us = a.event_time;
    al.latest = a;
    al.max_score = a.score;
    al.created_at_us = al.updated_at_us = in_.now_us;
    s.live_last = a.event_time;
    ++out_.alerts_opened;
    return &s;
  }

  void Recount(Slot& s) {
    const Alert& a = s.get();
    // The counts this evaluation says for the input's hours.
    bool differs = false;
    for (const auto& [h, n] : s.batch_hours) {
      auto it = a.hour_counts.find(h);
      if (it == a.hour_counts.end() || it->second != n) differs = true;
    }
    for (const auto& [h, n] : a.hour_counts) {
      if (in_.hours.count(h) == 0) continue;
      const bool in_batch = std::any_of(s.batch_hours.begin(), s.batch_hours.end(),
                                        [h = h](const auto& p) { return p.first == h; });
      if (!in_batch) differs = true;
    }
    if (differs) {
      Alert& m = s.Mut();
      for (auto it = m.hour_counts.begin(); it != m.hour_counts.end();) {
        it = in_.hours.count(it->first) != 0 ? m.hour_counts.erase(it) : std::next(it);
      }
      for (const auto& [h, n] : s.batch_hours) m.hour_counts[h] = n;
      m.anomalies = 0;
      for (const auto& [h, n] : m.hour_counts) m.anomalies += n;
    }
    if (s.batch_latest != nullptr) {
      const Anomaly& l = *s.batch_latest;
      if (l.event_time > a.last_event_us) {
        Alert& m = s.Mut();
        m.last_event_us = l.event_time;
        m.latest = l;
        if (m.status == AlertStatus::kResolved) m.resolved_event_us = m.last_event_us + ResolveAfter(m.rule);
      }
      if (s.batch_max_score > s.get().max_score) s.Mut().max_score = s.batch_max_score;
    }
  }

  int64_t ResolveAfter(const std::string& rule) const {
    for (const AlertRule& r : *in_.rules) {
      if (r.name == rule) return r.resolve_after_us;
    }
    return 0;
  }

  void Decide(const AlertRule& rule, Slot& s) {
    const Alert& a0 = s.get();
    if (a0.resolved_notified) return;
    const bool notified = a0.last_notified_at_us != 0;
    const bool resolved = a0.status == AlertStatus::kResolved;
    std::optional<NotificationKind> kind;
    if (!notified) {
      if (resolved || in_.watermark_us >= a0.first_event_us + rule.group_wait_us) kind = NotificationKind::kFiring;
    } else if (!resolved) {
      if (a0.last_event_us > a0.last_notified_event_us) {
        if (in_.watermark_us >= a0.last_notified_event_us + rule.group_interval_us) kind = NotificationKind::kUpdate;
      } else if (a0.acked_at_us == 0 && in_.now_us - a0.last_notified_at_us >= rule.repeat_interval_us) {
        kind = NotificationKind::kRepeat;
      }
    }
    bool firing_sent = notified;
    if (kind) firing_sent = Notify(rule, s, *kind) || notified;
    if (resolved && rule.send_resolved && firing_sent && !s.get().resolved_notified) {
      Notify(rule, s, NotificationKind::kResolved);
    }
  }

  /// Creates one notification (a Delivery per sink). True when it goes out (pending).
  bool Notify(const AlertRule& rule, Slot& s, NotificationKind kind) {
    const Alert& a = s.get();
    // The alert's deliveries so far: the next notification number, and whether this very
    // notification was already recorded as silenced or throttled (not recorded again each run).
    int64_t n = 0;
    const std::string prefix = a.id + "-";
    const Delivery* held = nullptr;
    for (auto it = state_.deliveries.lower_bound(prefix);
         it != state_.deliveries.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      n = std::max(n, NotificationNumber(it->first, a.id));
      const Delivery& d = it->second;
      if ((d.state == DeliveryState::kSilenced || d.state == DeliveryState::kThrottled) &&
          d.notification.kind == kind && d.notification.event_time_us == a.latest.event_time &&
          d.notification.anomalies == a.anomalies) {
        held = &d;
      }
    }
    n = std::max(n, s.issued) + 1;

    DeliveryState state = DeliveryState::kPending;
    std::string reason, silence_id;
    if (const Silence* silence = ActiveSilence(state_, a, in_.now_us)) {
      state = DeliveryState::kSilenced;
      silence_id = silence->id;
      reason = fmt::format("silenced by {}{}", silence->id, silence->reason.empty() ? "" : ": " + silence->reason);
    } else if (rule.max_per_device_per_hour > 0) {
      const std::string& device = a.latest.device_id;
      const TimestampUs hour = HourStart(in_.now_us);
      int64_t count = 0;
      if (auto d = out_.sent_increments.find(device); d != out_.sent_increments.end()) {
        if (auto h = d->second.find(hour); h != d->second.end()) count += h->second;
      }
      if (auto d = state_.sent_per_device_hour.find(device); d != state_.sent_per_device_hour.end()) {
        if (auto h = d->second.find(hour); h != d->second.end()) count += h->second;
      }
      if (count >= rule.max_per_device_per_hour) {
        state = DeliveryState::kThrottled;
        reason = fmt::format("over the rule's cap of {} notifications per device per hour for {}",
                             rule.max_per_device_per_hour, device);
      }
    }
    if (state != DeliveryState::kPending && held != nullptr && held->state == state && held->silence_id == silence_id) {
      return false;  // already recorded; it goes out once the silence ends or the hour turns
    }
    s.issued = n;

    Notification base;
    base.kind = kind;
    base.alert_id = a.id;
    base.dedup_key = a.dedup_key;
    base.rule = a.rule;
    base.severity = a.severity;
    base.group_key = a.group_key;
    base.status = kind == NotificationKind::kResolved ? "resolved" : "firing";
    base.device = a.latest.device_id;
    base.metric = a.latest.metric;
    base.location = a.latest.location;
    base.detector = a.latest.detector;
    base.starts_at_us = a.first_event_us;
    base.ends_at_us = kind == NotificationKind::kResolved ? a.resolved_event_us : 0;
    base.event_time_us = a.latest.event_time;
    base.anomalies = a.anomalies;
    base.max_score = a.max_score;
    base.latest = a.latest;
    base.url = base_url_ + "/devices/" + UrlEncode(a.latest.device_id);
    base.created_at_us = in_.now_us;
    for (size_t i = 0; i < rule.sinks.size(); ++i) {
      const std::string& sink = rule.sinks[i];
      Delivery d;
      d.id = fmt::format("{}-{}-{}", a.id, n, sink);
      d.alert_id = a.id;
      d.sink = sink;
      d.notification = i + 1 == rule.sinks.size() ? std::move(base) : base;
      d.notification.id = d.id;
      d.state = state;
      d.created_at_us = in_.now_us;
      d.next_attempt_at_us = state == DeliveryState::kPending ? in_.now_us : 0;
      d.last_error = reason;
      d.silence_id = silence_id;
      out_.deliveries.push_back(std::move(d));
    }
    if (state == DeliveryState::kSilenced) {
      ++out_.silenced;
      return false;
    }
    if (state == DeliveryState::kThrottled) {
      ++out_.throttled;
      return false;
    }
    ++out_.notifications;
    ++out_.sent_increments[a.latest.device_id][HourStart(in_.now_us)];
    Alert& m = s.Mut();
    m.last_notified_at_us = in_.now_us;
    m.last_notified_event_us = m.last_event_us;
    m.last_notified_anomalies = m.anomalies;
    if (kind == NotificationKind::kResolved) m.resolved_notified = true;
    return true;
  }

  const AlertState& state_;
  const EvalInput& in_;
  const config::AlertConfig* cfg_ = nullptr;
  config::AlertConfig default_config_;
  std::string base_url_;
  std::map<std::string_view, Slot> slots_;  // every alert by id (views into the alerts' ids)
  std::unordered_map<std::string, std::vector<Slot*>> by_rule_;
  std::deque<std::vector<Slot*>> new_lists_;
  int rule_mark_ = 0;  // the alerts of groups new in this evaluation
  EvalResult out_;
};

}  // namespace

bool RuleMatches(const AlertRule& rule, const Anomaly& a) {
  if (!InList(rule.detectors, a.detector) || !InList(rule.metrics, a.metric)) return false;
  if (rule.min_score && a.score < *rule.min_score) return false;
  if (rule.min_abs_z && (!a.z || std::abs(*a.z) < *rule.min_abs_z)) return false;
  return InGlobs(rule.devices, a.device_id) && InGlobs(rule.locations, a.location);
}

std::string GroupKey(const AlertRule& rule, const Anomaly& a) {
  switch (GroupByOf(rule)) {
    case GroupBy::kDevice: return "device=" + a.device_id;
    case GroupBy::kDeviceMetric: return "device=" + a.device_id + ",metric=" + a.metric;
    case GroupBy::kLocation: return "location=" + a.location;
    case GroupBy::kRule: return "rule=" + rule.name;
  }
  return {};
}

bool SilenceMatches(const Silence& s, const Alert& a) {
  for (const Matcher& m : s.matchers) {
    std::string_view value;
    if (m.label == "rule") value = a.rule;
    else if (m.label == "severity") value = a.severity;
    else if (m.label == "group") value = a.group_key;
    else if (auto it = a.labels.find(m.label); it != a.labels.end()) value = it->second;
    else if (m.label == "device") value = a.latest.device_id;
    else if (m.label == "metric") value = a.latest.metric;
    else if (m.label == "location") value = a.latest.location;
    else if (m.label == "detector") value = a.latest.detector;
    const bool hit = config::GlobMatch(m.value, value);
    if (m.op == "!=" ? hit : !hit) return false;
  }
  return true;
}

const Silence* ActiveSilence(const AlertState& state, const Alert& a, TimestampUs now) {
  for (const auto& [id, s] : state.silences) {
    if (s.ActiveAt(now) && SilenceMatches(s, a)) return &s;
  }
  return nullptr;
}

std::string ShortId(std::string_view key) { return HashBytes(key).Hex().substr(0, 12); }

EvalResult Evaluate(const AlertState& state, const EvalInput& input) { return Evaluator(state, input).Run(); }

void ApplyEvalResult(AlertState& state, const EvalResult& result) {
  for (const Alert& a : result.alerts) {
    Alert& dst = state.alerts[a.id];
    // Acknowledgement is the ack command's; keep it.
    const TimestampUs acked = dst.acked_at_us;
    std::string by = dst.acked_by, note = dst.ack_note;
    dst = a;
    if (acked != 0) {
      dst.acked_at_us = acked;
      dst.acked_by = std::move(by);
      dst.ack_note = std::move(note);
    }
  }
  for (const Delivery& d : result.deliveries) state.deliveries[d.id] = d;
  for (const auto& [device, hours] : result.sent_increments) {
    for (const auto& [hour, n] : hours) state.sent_per_device_hour[device][hour] += n;
  }
}

PreviewReport Preview(const std::vector<AlertRule>& rules, const config::AlertConfig& config,
                      std::span<const Anomaly> anomalies, TimestampUs watermark_us) {
  PreviewReport report;
  AlertState state;
  // No lookback in a replay: every anomaly of the range counts.
  config::AlertConfig cfg = config;
  cfg.lookback_us = std::numeric_limits<int64_t>::max() / 4;
  std::set<std::string> counted;  // "<alert id>-<n>": one notification, however many sinks
  auto fold = [&](const EvalResult& r) {
    report.anomalies_matched += r.anomalies_matched;
    for (const Delivery& d : r.deliveries) {
      if (d.state != DeliveryState::kPending) continue;
      const std::string key = d.id.substr(0, d.id.size() - d.sink.size() - 1);
      if (!counted.insert(key).second) continue;
      ++report.notifications;
      const std::string day = FormatTimestamp(d.created_at_us).substr(0, 10);
      ++report.per_day[day];
      ++report.per_device[d.notification.device];
      ++report.per_rule[d.notification.rule];
      const int64_t hour_of_day = ((d.created_at_us / kMicrosPerHour) % 24 + 24) % 24;
      ++report.per_hour_of_day[static_cast<int>(hour_of_day)];
    }
    ApplyEvalResult(state, r);
    // The cap counts per wall hour; older hours do not matter to a replay.
    for (auto& [device, hours] : state.sent_per_device_hour) {
      while (hours.size() > 2) hours.erase(hours.begin());
    }
  };
  size_t i = 0;
  TimestampUs hour = anomalies.empty() ? HourStart(watermark_us) : HourStart(anomalies.front().event_time);
  const TimestampUs end = std::max(watermark_us, anomalies.empty() ? watermark_us : anomalies.back().event_time);
  // Step hour by hour (so resolutions and group waits happen when they would have), jumping
  // over long stretches without anomalies once every alert resolved.
  while (true) {
    size_t j = i;
    while (j < anomalies.size() && HourStart(anomalies[j].event_time) == hour) ++j;
    EvalInput in;
    in.rules = &rules;
    in.config = &cfg;
    in.anomalies = anomalies.subspan(i, j - i);
    if (j > i) in.hours = {hour};
    in.watermark_us = std::min(hour + kMicrosPerHour, end);
    in.now_us = in.watermark_us;  // wall time taken as event time
    fold(Evaluate(state, in));
    i = j;
    if (hour + kMicrosPerHour > end && i >= anomalies.size()) break;
    hour += kMicrosPerHour;
    const bool all_quiet = std::all_of(state.alerts.begin(), state.alerts.end(), [](const auto& kv) {
      return kv.second.status == AlertStatus::kResolved;
    });
    if (all_quiet && i >= anomalies.size()) break;
    if (all_quiet && HourStart(anomalies[i].event_time) > hour) hour = HourStart(anomalies[i].event_time);
  }
  report.alerts = static_cast<int64_t>(state.alerts.size());
  for (const auto& [id, a] : state.alerts) {
    const TimestampUs until = a.status == AlertStatus::kResolved ? a.resolved_event_us : std::max(end, a.last_event_us);
    report.seconds_in_alert += static_cast<double>(until - a.first_event_us) / 1e6;
  }
  return report;
}

}  // namespace iotad::alert
