#include "iotad/alert/run.h"

#include <chrono>
#include <map>
#include <memory>

#include "iotad/alert/deliver.h"
#include "iotad/alert/engine.h"
#include "iotad/alert/gold_reader.h"
#include "iotad/alert/sink.h"
#include "iotad/alert/store.h"
#include "iotad/core/fault.h"
#include "iotad/core/json.h"
#include "iotad/core/log.h"

namespace iotad::alert {

Result<AlertReport> RunAlerts(lake::Lake& lake, const AlertRunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const config::LakeConfig& config = lake.config();
  AlertReport report;

  // Every sink first: a missing secret fails the stage before anything is read or decided.
  SinkEnv env{lake.root(), config.alert, &lake.clock()};
  std::vector<std::unique_ptr<Sink>> owned;
  std::map<std::string, Sink*> sinks;
  for (const config::Component& c : config.components.Of("alert.sink")) {
    IOTAD_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(c, env));
    sinks[c.name] = sink.get();
    owned.push_back(std::move(sink));
  }

  const std::vector<config::AlertRule> rules = config::AlertRulesOf(config.components);
  IOTAD_ASSIGN_OR_RETURN(AlertLog log, AlertLog::Open(lake.store(), lake.clock()));

  if (!rules.empty()) {
    IOTAD_ASSIGN_OR_RETURN(GoldDelta delta, ReadGoldDelta(lake, log.state(), rules));
    EvalInput input;
    input.rules = &rules;
    input.config = &config.alert;
    input.anomalies = delta.anomalies;
    input.hours = delta.hours;
    input.watermark_us = delta.watermark_us;
    input.now_us = lake.clock().NowUs();
    input.base_url = config.alert.base_url;
    EvalResult eval = Evaluate(log.state(), input);
    report.anomalies_read = eval.anomalies_read;
    report.anomalies_matched = eval.anomalies_matched;
    report.alerts_opened = eval.alerts_opened;
    report.alerts_resolved = eval.alerts_resolved;
    report.notifications = eval.notifications;
    report.silenced = eval.silenced;
    report.throttled = eval.throttled;

    // The outbox commit: alerts and their deliveries are in the lake before anything is sent.
    Changes changes;
    changes.alerts = std::move(eval.alerts);
    changes.deliveries = std::move(eval.deliveries);
    changes.gold_seen_set = std::move(delta.seen_set);
    changes.gold_seen_erase = std::move(delta.seen_erase);
    changes.sent_increments = std::move(eval.sent_increments);
    if (!changes.empty()) {
      IOTAD_ASSIGN_OR_RETURN(int64_t seq, log.Commit(changes));
      log::Debug(fmt::format("alert: outbox record {} committed", seq));
    }
    IOTAD_FAULT_POINT("alert_after_outbox_commit");
  }

  if (options.deliver) {
    const DeliverOptions dopt = DeliverOptions::From(config.alert, options.budget_us);
    IOTAD_ASSIGN_OR_RETURN(DeliverReport d, Deliver(log, sinks, dopt, lake.clock()));
    report.delivered = d.delivered;
    report.failed_attempts = d.failed_attempts;
    report.dead = d.dead;
    report.silenced += d.silenced;
    report.pending = d.pending;
  } else {
    for (const auto& [id, d] : log.state().deliveries) {
      if (d.state == DeliveryState::kPending) ++report.pending;
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::Info(fmt::format("alert: {} anomalies read, {} alerts opened, {} resolved, {} notifications, {} delivered, "
                        "{} failed attempts, {} dead, {} silenced, {} pending",
                        report.anomalies_read, report.alerts_opened, report.alerts_resolved, report.notifications,
                        report.delivered, report.failed_attempts, report.dead, report.silenced, report.pending),
            {{"anomalies_read", report.anomalies_read},
             {"notifications", report.notifications},
             {"delivered", report.delivered},
             {"dead", report.dead},
             {"pending", report.pending}});
  return report;
}

std::string AlertReportJson(const AlertReport& r) {
  JsonWriter w;
  w.BeginObject()
      .Key("anomalies_read").Int(r.anomalies_read)
      .Key("anomalies_matched").Int(r.anomalies_matched)
      .Key("alerts_opened").Int(r.alerts_opened)
      .Key("alerts_resolved").Int(r.alerts_resolved)
      .Key("notifications").Int(r.notifications)
      .Key("delivered").Int(r.delivered)
      .Key("failed_attempts").Int(r.failed_attempts)
      .Key("dead").Int(r.dead)
      .Key("silenced").Int(r.silenced)
      .Key("throttled").Int(r.throttled)
      .Key("pending").Int(r.pending)
      .EndObject();
  return w.Take();
}

std::string AlertReportLine(const AlertReport& r) {
  return fmt::format(
      "alert: {} anomalies read ({} matched), {} alerts opened, {} resolved; {} notifications: {} delivered, "
      "{} failed attempts, {} dead, {} silenced, {} throttled, {} pending ({:.2f} s)",
      r.anomalies_read, r.anomalies_matched, r.alerts_opened, r.alerts_resolved, r.notifications, r.delivered,
      r.failed_attempts, r.dead, r.silenced, r.throttled, r.pending, r.seconds);
}

}  // namespace iotad::alert
