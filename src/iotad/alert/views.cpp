#include "iotad/alert/views.h"

#include <fmt/ranges.h>

#include <cctype>
#include <cmath>
#include <map>
#include <span>
#include <optional>
#include <string>
#include <vector>

#include "iotad/alert/store.h"

namespace iotad::alert {
namespace {

struct Col {
  const char* name;
  const char* type;
};

constexpr Col kAlertCols[] = {
    {"id", "VARCHAR"},           {"dedup_key", "VARCHAR"},       {"rule", "VARCHAR"},
    {"severity", "VARCHAR"},     {"group_key", "VARCHAR"},       {"status", "VARCHAR"},
    {"device", "VARCHAR"},       {"metric", "VARCHAR"},          {"location", "VARCHAR"},
    {"detector", "VARCHAR"},     {"first_event", "TIMESTAMPTZ"},   {"last_event", "TIMESTAMPTZ"},
    {"resolved_event", "TIMESTAMPTZ"}, {"anomalies", "BIGINT"},    {"max_score", "DOUBLE"},
    {"explanation", "VARCHAR"},  {"acknowledged_at", "TIMESTAMPTZ"}, {"acknowledged_by", "VARCHAR"},
    {"ack_note", "VARCHAR"},     {"created_at", "TIMESTAMPTZ"},    {"updated_at", "TIMESTAMPTZ"},
    {"last_notified_at", "TIMESTAMPTZ"},
};

constexpr Col kDeliveryCols[] = {
    {"delivery_id", "VARCHAR"},  {"alert_id", "VARCHAR"},        {"sink", "VARCHAR"},
    {"kind", "VARCHAR"},         {"dedup_key", "VARCHAR"},       {"state", "VARCHAR"},
    {"attempt", "BIGINT"},       {"started_at", "TIMESTAMPTZ"},    {"finished_at", "TIMESTAMPTZ"},
    {"outcome", "VARCHAR"},      {"status_code", "BIGINT"},      {"response", "VARCHAR"},
    {"error", "VARCHAR"},        {"next_attempt_at", "TIMESTAMPTZ"}, {"created_at", "TIMESTAMPTZ"},
};

constexpr Col kSilenceCols[] = {
    {"id", "VARCHAR"},        {"matchers", "VARCHAR"},   {"starts_at", "TIMESTAMPTZ"},
    {"ends_at", "TIMESTAMPTZ"}, {"expired_at", "TIMESTAMPTZ"}, {"reason", "VARCHAR"},
    {"created_by", "VARCHAR"}, {"created_at", "TIMESTAMPTZ"}, {"active", "BOOLEAN"},
};

std::string Str(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    if (c == '\0') continue;
    out += c;
  }
  out += '\'';
  return out;
}
std::string NullableStr(std::string_view s) { return s.empty() ? "NULL" : Str(s); }
std::string Ts(TimestampUs us) { return us == 0 ? "NULL" : fmt::format("make_timestamptz({}::BIGINT)", us); }
std::string Int(int64_t v) { return std::to_string(v); }
std::string Dbl(double v) { return std::isfinite(v) ? fmt::format("{}::DOUBLE", v) : "NULL"; }

/// CREATE + INSERTs of one table, rows in chunks.
Status Fill(lake::DuckSession& session, std::string_view name, std::span<const Col> cols,
            const std::vector<std::string>& rows) {
  std::string ddl = fmt::format("CREATE OR REPLACE TEMP TABLE {} (", name);
  for (size_t i = 0; i < cols.size(); ++i) ddl += fmt::format("{}{} {}", i ? ", " : "", cols[i].name, cols[i].type);
  ddl += ")";
  IOTAD_TRY(session.Exec(ddl));
  constexpr size_t kChunk = 500;
  for (size_t from = 0; from < rows.size(); from += kChunk) {
    std::string sql = fmt::format("INSERT INTO {} VALUES ", name);
    for (size_t i = from; i < std::min(rows.size(), from + kChunk); ++i) {
      if (i > from) sql += ", ";
      sql += rows[i];
    }
    IOTAD_TRY(session.Exec(sql));
  }
  return Status::Ok();
}

std::string Label(const Alert& a, const char* key, const std::string& fallback) {
  auto it = a.labels.find(key);
  return it != a.labels.end() ? it->second : fallback;
}

std::string AlertRow(const Alert& a) {
  const std::vector<std::string> v = {
      Str(a.id),
      Str(a.dedup_key),
      Str(a.rule),
      Str(a.severity),
      Str(a.group_key),
      Str(AlertStatusName(a.status)),
      NullableStr(Label(a, "device", a.latest.device_id)),
      NullableStr(Label(a, "metric", a.latest.metric)),
      NullableStr(Label(a, "location", a.latest.location)),
      NullableStr(Label(a, "detector", a.latest.detector)),
      Ts(a.first_event_us),
      Ts(a.last_event_us),
      a.status == AlertStatus::kResolved ? Ts(a.resolved_event_us) : "NULL",
      Int(a.anomalies),
      Dbl(a.max_score),
      NullableStr(a.latest.explanation),
      Ts(a.acked_at_us),
      a.acked_at_us ? Str(a.acked_by) : "NULL",
      a.acked_at_us ? Str(a.ack_note) : "NULL",
      Ts(a.created_at_us),
      Ts(a.updated_at_us),
      Ts(a.last_notified_at_us),
  };
  return fmt::format("({})", fmt::join(v, ", "));
}

std::string DeliveryRow(const Delivery& d, const Attempt* at) {
  const std::vector<std::string> v = {
      Str(d.id),
      Str(d.alert_id),
      Str(d.sink),
      Str(NotificationKindName(d.notification.kind)),
      Str(d.notification.dedup_key),
      Str(DeliveryStateName(d.state)),
      at ? Int(at->n) : "NULL",
      at ? Ts(at->started_at_us) : "NULL",
      at ? Ts(at->finished_at_us) : "NULL",
      at ? Str(AttemptOutcomeName(at->result.outcome)) : "NULL",
      at && at->result.status_code != 0 ? Int(at->result.status_code) : "NULL",
      at ? NullableStr(at->result.response) : "NULL",
      at ? NullableStr(at->result.error) : "NULL",
      d.state == DeliveryState::kPending ? Ts(d.next_attempt_at_us) : "NULL",
      Ts(d.created_at_us),
  };
  return fmt::format("({})", fmt::join(v, ", "));
}

std::string MatchersText(const Silence& s) {
  std::string out;
  for (const auto& m : s.matchers) {
    if (!out.empty()) out += ",";
    out += m.label + m.op + m.value;
  }
  return out;
}

std::string SilenceRow(const Silence& s, TimestampUs now) {
  const std::vector<std::string> v = {
      Str(s.id),          Str(MatchersText(s)), Ts(s.starts_at_us),        Ts(s.ends_at_us),
      Ts(s.expired_at_us), NullableStr(s.reason), NullableStr(s.created_by), Ts(s.created_at_us),
      s.ActiveAt(now) ? "true" : "false",
  };
  return fmt::format("({})", fmt::join(v, ", "));
}

std::string Lowered(std::string_view sql) {
  std::string lowered(sql);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered;
}

}  // namespace

bool NamesAlertViews(std::string_view sql) {
  if (sql.empty()) return true;
  const std::string l = Lowered(sql);
  return l.find("alerts") != std::string::npos || l.find("alert_deliveries") != std::string::npos ||
         l.find("silences") != std::string::npos;
}

Status CreateAlertViews(lake::DuckSession& session, const AlertState& state, TimestampUs now_us,
                        std::string_view sql) {
  const std::string l = Lowered(sql);
  auto wanted = [&](std::string_view name) { return sql.empty() || l.find(name) != std::string::npos; };
  if (wanted("alerts")) {
    std::vector<std::string> rows;
    rows.reserve(state.alerts.size());
    for (const auto& [id, a] : state.alerts) rows.push_back(AlertRow(a));
    IOTAD_TRY(Fill(session, "alerts", kAlertCols, rows));
  }
  if (wanted("alert_deliveries")) {
    std::map<std::string, std::vector<const Attempt*>> by_delivery;
    for (const auto& at : state.attempts) by_delivery[at.delivery_id].push_back(&at);
    std::vector<std::string> rows;
    for (const auto& [id, d] : state.deliveries) {
      auto it = by_delivery.find(id);
      if (it == by_delivery.end()) {
        rows.push_back(DeliveryRow(d, nullptr));
      } else {
        for (const Attempt* at : it->second) rows.push_back(DeliveryRow(d, at));
      }
    }
    IOTAD_TRY(Fill(session, "alert_deliveries", kDeliveryCols, rows));
  }
  if (wanted("silences")) {
    std::vector<std::string> rows;
    for (const auto& [id, s] : state.silences) rows.push_back(SilenceRow(s, now_us));
    IOTAD_TRY(Fill(session, "silences", kSilenceCols, rows));
  }
  return Status::Ok();
}

Status CreateAlertViews(lake::DuckSession& session, lake::Lake& lake, std::string_view sql) {
  if (!NamesAlertViews(sql)) return Status::Ok();
  IOTAD_ASSIGN_OR_RETURN(AlertLog log, AlertLog::Open(lake.store(), lake.clock()));
  return CreateAlertViews(session, log.state(), lake.clock().NowUs(), sql);
}

}  // namespace iotad::alert
