// `iotad alert`: the alert stage (evaluate, commit the outbox, deliver), and the commands that
// change the alert log beside it: ack, silence add|list|expire, retry, list. The stage takes the
// lake's writer lock (two deliveries of one outbox never run at once); the others only append a
// record to the alert log, which needs no lock.
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "iotad/alert/deliver.h"
#include "iotad/alert/engine.h"
#include "iotad/alert/run.h"
#include "iotad/alert/store.h"
#include "iotad/alert/views.h"
#include "iotad/cli/cli.h"
#include "iotad/cli/main_app.h"
#include "iotad/cli/output.h"
#include "iotad/cli/recorded_stage.h"
#include "iotad/lake/lake.h"

namespace iotad::cli {
namespace {

/// The lake, for a command that appends to the alert log (no writer lock).
Result<std::unique_ptr<lake::Lake>> OpenForAlertLog(const GlobalOptions& global) {
  IOTAD_ASSIGN_OR_RETURN(auto lake, OpenLake(ResolveLakePath(global)));
  lake->set_clock(CliClock());
  return lake;
}

std::string DefaultUser() {
  const char* u = std::getenv("USER");
  return u != nullptr && *u != '\0' ? std::string(u) : std::string("cli");
}

Result<int64_t> ParseDurationFlag(const std::string& text, const std::string& flag) {
  const auto d = ParseDurationUs(text);
  if (!d || *d < 0) {
    return Error(Errc::kInvalidArgument, "alert: {} '{}' is not a duration (e.g. 30s, 5m, 2h, 7d)", flag, text);
  }
  return *d;
}

/// "label=glob" or "label!=glob"; labels as engine.h's SilenceMatches knows them.
Result<alert::Matcher> ParseMatcher(const std::string& text) {
  static const std::set<std::string> kLabels = {"device", "metric", "location", "detector", "rule", "severity",
                                                "group"};
  const size_t ne = text.find("!=");
  const size_t eq = text.find('=');
  alert::Matcher m;
  if (ne != std::string::npos && ne < eq) {
    m = {text.substr(0, ne), "!=", text.substr(ne + 2)};
  } else if (eq != std::string::npos) {
    m = {text.substr(0, eq), "=", text.substr(eq + 1)};
  } else {
    return Error(Errc::kInvalidArgument, "alert: --match '{}' is not label=glob or label!=glob", text);
  }
  if (kLabels.count(m.label) == 0) {
    return Error(Errc::kInvalidArgument,
                 "alert: --match '{}' names the label '{}'; labels are device, metric, location, detector, rule, "
                 "severity, group",
                 text, m.label);
  }
  if (m.value.empty()) return Error(Errc::kInvalidArgument, "alert: --match '{}' has an empty pattern", text);
  return m;
}

/// Prints a query over the alert tables of `state`.
Status PrintAlertQuery(lake::Lake& lake, const alert::AlertState& state, const std::string& sql, OutputFormat format) {
  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(/*with_views=*/false));
  IOTAD_TRY(alert::CreateAlertViews(*session, state, lake.clock().NowUs(), sql));
  return PrintQuery(*session, sql, format);
}

void RegisterAck(CLI::App& alert, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = alert.add_subcommand("ack", "Acknowledge an alert: no more repeat notifications for it");
  auto id = std::make_shared<std::string>();
  auto note = std::make_shared<std::string>();
  auto by = std::make_shared<std::string>(DefaultUser());
  sub->add_option("ID", *id, "The alert's id (the `id` column of `iotad alert list`)")->required();
  sub->add_option("--note", *note, "Why, or what is being done");
  sub->add_option("--by", *by, "Who acknowledges (default: $USER)");
  AddLakeOption(*sub, global);
  sub->callback([id, note, by, &global, &out] {
    out.status = [&]() -> Status {
      IOTAD_ASSIGN_OR_RETURN(auto lake, OpenForAlertLog(global));
      IOTAD_ASSIGN_OR_RETURN(auto log, alert::AlertLog::Open(lake->store(), lake->clock()));
      if (log.state().alerts.count(*id) == 0) {
        return Error(Errc::kNotFound, "alert: no alert '{}' (see `iotad alert list --status all`)", *id);
      }
      alert::Changes c;
      c.acks.push_back({*id, lake->clock().NowUs(), *by, *note});
      IOTAD_TRY(log.Commit(c).status());
      std::printf("acknowledged alert %s (by %s)\n", id->c_str(), by->c_str());
      return Status::Ok();
    }();
  });
}

void RegisterSilence(CLI::App& alert, GlobalOptions& global, CommandOutcome& out) {
  auto* silence = alert.add_subcommand("silence", "Silence alerts by label: matching notifications are recorded, not sent");
  silence->require_subcommand(1);

  auto* add = silence->add_subcommand("add", "Add a silence; prints its id");
  auto matches = std::make_shared<std::vector<std::string>>();
  auto duration = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  auto by = std::make_shared<std::string>(DefaultUser());
  add->add_option("--match", *matches,
                  "label=glob or label!=glob (repeatable, all must match); labels: device, metric, location, "
                  "detector, rule, severity, group")
      ->required();
  add->add_option("--for", *duration, "How long, e.g. 2h, 30m, 7d")->required();
  add->add_option("--reason", *reason, "Why (shown in `silence list`)");
  add->add_option("--by", *by, "Who silences (default: $USER)");
  AddLakeOption(*add, global);
  add->callback([matches, duration, reason, by, &global, &out] {
    out.status = [&]() -> Status {
      alert::Silence s;
      for (const auto& m : *matches) {
        IOTAD_ASSIGN_OR_RETURN(auto matcher, ParseMatcher(m));
        s.matchers.push_back(std::move(matcher));
      }
      IOTAD_ASSIGN_OR_RETURN(int64_t for_us, ParseDurationFlag(*duration, "--for"));
      if (for_us <= 0) return Error(Errc::kInvalidArgument, "alert: --for must be longer than zero");
      IOTAD_ASSIGN_OR_RETURN(auto lake, OpenForAlertLog(global));
      const TimestampUs now = lake->clock().NowUs();
      std::string key;
      for (const auto& m : s.matchers) key += m.label + m.op + m.value + ",";
      key += std::to_string(now);
      s.id = alert::ShortId(key);
      s.starts_at_us = now;
      s.ends_at_us = now + for_us;
      s.reason = *reason;
      s.created_by = *by;
      s.created_at_us = now;
      IOTAD_ASSIGN_OR_RETURN(auto log, alert::AlertLog::Open(lake->store(), lake->clock()));
      alert::Changes c;
      c.silences.push_back(s);
      IOTAD_TRY(log.Commit(c).status());
      std::printf("%s\n", s.id.c_str());
      return Status::Ok();
    }();
  });

  auto* list = silence->add_subcommand("list", "List the active silences (--all: also ended and expired ones)");
  auto all = std::make_shared<bool>(false);
  list->add_flag("--all", *all, "Also ended and expired silences");
  AddLakeOption(*list, global);
  list->callback([all, &global, &out] {
    out.status = [&]() -> Status {
      IOTAD_ASSIGN_OR_RETURN(auto lake, OpenForAlertLog(global));
      IOTAD_ASSIGN_OR_RETURN(auto log, alert::AlertLog::Open(lake->store(), lake->clock()));
      return PrintAlertQuery(*lake, log.state(),
                             fmt::format("SELECT id, matchers, starts_at, ends_at, expired_at, active, reason, created_by "
                                         "FROM silences {} ORDER BY created_at",
                                         *all ? "" : "WHERE active"),
                             OutputFormat::kTable);
    }();
  });

  auto* expire = silence->add_subcommand("expire", "End a silence now");
  auto id = std::make_shared<std::string>();
  expire->add_option("ID", *id, "The silence's id")->required();
  AddLakeOption(*expire, global);
  expire->callback([id, &global, &out] {
    out.status = [&]() -> Status {
      IOTAD_ASSIGN_OR_RETURN(auto lake, OpenForAlertLog(global));
      IOTAD_ASSIGN_OR_RETURN(auto log, alert::AlertLog::Open(lake->store(), lake->clock()));
      auto it = log.state().silences.find(*id);
      if (it == log.state().silences.end()) {
        return Error(Errc::kNotFound, "alert: no silence '{}' (see `iotad alert silence list --all`)", *id);
      }
      alert::Silence s = it->second;
      s.expired_at_us = lake->clock().NowUs();
      alert::Changes c;
      c.silences.push_back(s);
      IOTAD_TRY(log.Commit(c).status());
      std::printf("expired silence %s\n", id->c_str());
      return Status::Ok();
    }();
  });
}

void RegisterRetry(CLI::App& alert, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = alert.add_subcommand("retry", "Re-queue dead deliveries (sent by the next `iotad alert` or `iotad run`)");
  auto ids = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  sub->add_option("ID", *ids, "Delivery ids, or alert ids (all of the alert's dead deliveries)");
  sub->add_flag("--all", *all, "Every dead delivery");
  AddLakeOption(*sub, global);
  sub->callback([ids, all, &global, &out] {
    out.status = [&]() -> Status {
      if (ids->empty() && !*all) {
        return Error(Errc::kInvalidArgument, "alert: retry needs delivery or alert ids, or --all");
      }
      IOTAD_ASSIGN_OR_RETURN(auto lake, OpenForAlertLog(global));
      IOTAD_ASSIGN_OR_RETURN(auto log, alert::AlertLog::Open(lake->store(), lake->clock()));
      const alert::AlertState& st = log.state();
      const TimestampUs now = lake->clock().NowUs();
      alert::Changes c;
      auto requeue = [&](const alert::Delivery& d) {
        if (d.state == alert::DeliveryState::kDead) c.deliveries.push_back(alert::Requeued(d, now));
      };
      if (*all) {
        for (const auto& [id, d] : st.deliveries) requeue(d);
      }
      for (const auto& id : *ids) {
        if (auto it = st.deliveries.find(id); it != st.deliveries.end()) {
          if (it->second.state != alert::DeliveryState::kDead) {
            return Error(Errc::kInvalidArgument, "alert: delivery '{}' is {}, not dead", id,
                         alert::DeliveryStateName(it->second.state));
          }
          requeue(it->second);
        } else if (st.alerts.count(id) != 0) {
          for (const auto& [did, d] : st.deliveries) {
            if (d.alert_id == id) requeue(d);
          }
        } else {
          return Error(Errc::kNotFound, "alert: no delivery or alert '{}' (see the alert_deliveries table)", id);
        }
      }
      if (!c.deliveries.empty()) IOTAD_TRY(log.Commit(c).status());
      std::printf("%zu dead deliveries re-queued (sent by the next `iotad alert` or `iotad run`)\n",
                  c.deliveries.size());
      return Status::Ok();
    }();
  });
}

void RegisterList(CLI::App& alert, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = alert.add_subcommand("list", "List alerts");
  auto status = std::make_shared<std::string>("firing");
  auto json = std::make_shared<bool>(false);
  sub->add_option("--status", *status, "firing, resolved or all")
      ->check(CLI::IsMember({"firing", "resolved", "all"}))
      ->capture_default_str();
  sub->add_flag("--json", *json, "JSON instead of a table");
  AddLakeOption(*sub, global);
  sub->callback([status, json, &global, &out] {
    out.status = [&]() -> Status {
      IOTAD_ASSIGN_OR_RETURN(auto lake, OpenForAlertLog(global));
      IOTAD_ASSIGN_OR_RETURN(auto log, alert::AlertLog::Open(lake->store(), lake->clock()));
      const std::string where = *status == "all" ? "" : fmt::format("WHERE status = '{}'", *status);
      const std::string cols =
          *json ? "*"
                : "id, rule, severity, group_key, status, first_event, last_event, anomalies, round(max_score, 2) AS "
                  "max_score, acknowledged_by, last_notified_at";
      return PrintAlertQuery(*lake, log.state(),
                             fmt::format("SELECT {} FROM alerts {} ORDER BY last_event DESC, id", cols, where),
                             *json ? OutputFormat::kJson : OutputFormat::kTable);
    }();
  });
}

}  // namespace

void RegisterAlertCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* alert = app.add_subcommand(
      "alert", "Alerts from anomalies: evaluate the rules, commit the outbox, deliver (or ack, silence, retry, list)");
  auto no_deliver = std::make_shared<bool>(false);
  auto budget = std::make_shared<std::string>();
  alert->add_flag("--no-deliver", *no_deliver, "Evaluate and commit the outbox only; send nothing");
  alert->add_option("--budget", *budget, "Wall time spent delivering at most, e.g. 30s (default: alert.delivery_budget)");
  AddLakeOption(*alert, global);
  alert->footer(
      "Examples:\n"
      "  iotad alert                                   evaluate new anomalies and deliver\n"
      "  iotad alert list --status all\n"
      "  iotad alert ack 3f2a9c0b1d4e --note \"replacing the sensor\"\n"
      "  iotad alert silence add --match device=dev-00042 --for 2h --reason \"maintenance\"\n"
      "  iotad alert retry --all\n"
      "  iotad sql \"SELECT sink, state, count(*) FROM alert_deliveries GROUP BY ALL\"");
  RegisterAck(*alert, global, out);
  RegisterSilence(*alert, global, out);
  RegisterRetry(*alert, global, out);
  RegisterList(*alert, global, out);
  // ---- other helpers' subcommands (added when their branches are merged) ----
  RegisterAlertPreviewCommand(*alert, global, out);  // helper engine: `iotad alert preview`
  RegisterAlertTestCommand(*alert, global, out);     // helper http: `iotad alert test SINK`
  alert->callback([alert, no_deliver, budget, &global, &out] {
    if (!alert->get_subcommands().empty()) return;  // a subcommand ran instead of the stage
    alert::AlertRunOptions options;
    options.deliver = !*no_deliver;
    if (!budget->empty()) {
      auto b = ParseDurationFlag(*budget, "--budget");
      if (!b.ok()) {
        out.status = b.status();
        return;
      }
      options.budget_us = *b;
    }
    out.status = RunRecordedStage(global, "alert", [&](lake::Lake& lake, const std::string&) -> Result<std::string> {
      IOTAD_ASSIGN_OR_RETURN(auto report, alert::RunAlerts(lake, options));
      std::printf("%s\n", alert::AlertReportLine(report).c_str());
      return alert::AlertReportJson(report);
    });
  });
}

}  // namespace iotad::cli
