// `iotad alert test SINK`: one test notification to one sink, and exactly what the receiver said.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "iotad/alert/sink.h"
#include "iotad/alert/sinks_http.h"
#include "iotad/cli/cli.h"
#include "iotad/cli/main_app.h"
#include "iotad/cli/output.h"

namespace iotad::cli {

void RegisterAlertTestCommand(CLI::App& alert, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = alert.add_subcommand(
      "test",
      "Send one test notification (kind test, device test-device) to the sink named SINK and print its answer: "
      "\"sink NAME (TYPE): delivered|retry|refused, status N\", then the receiver's response body as received; "
      "exit 1 unless delivered");
  auto sink_name = std::make_shared<std::string>();
  sub->add_option("SINK", *sink_name, "Name of an [[alert.sink]] table of the lake's iotad.toml")->required();
  AddLakeOption(*sub, global);
  sub->callback([sink_name, &global, &out] {
    auto run = [&]() -> Status {
      IOTAD_ASSIGN_OR_RETURN(auto lake, OpenLake(ResolveLakePath(global)));
      lake->set_clock(CliClock());
      const config::LakeConfig& cfg = lake->config();
      const config::Component* component = cfg.components.Find("alert.sink", *sink_name);
      if (component == nullptr) {
        std::vector<std::string> known;
        for (const config::Component& c : cfg.components.Of("alert.sink")) known.push_back(c.name);
        if (known.empty()) {
          return Error(Errc::kNotFound, "alert test: there is no sink '{}': {} has no [[alert.sink]] tables",
                       *sink_name, (lake->root() / "iotad.toml").string());
        }
        return Error(Errc::kNotFound, "alert test: there is no sink '{}' (known: {})", *sink_name,
                     fmt::join(known, ", "));
      }
      alert::SinkEnv env;
      env.lake_root = lake->root();
      env.alert = cfg.alert;
      env.clock = &lake->clock();
      IOTAD_ASSIGN_OR_RETURN(std::unique_ptr<alert::Sink> sink, alert::MakeSink(*component, env));
      const alert::Notification n = alert::TestNotification(lake->clock().NowUs(), cfg.alert.base_url, sink->name());
      const alert::AttemptResult r = sink->Send(n);
      std::printf("sink %s (%s): %s, status %lld\n", sink->name().c_str(), sink->type().c_str(),
                  alert::AttemptOutcomeName(r.outcome), static_cast<long long>(r.status_code));
      // The receiver's words, as received (a newline added when they lack one).
      std::fwrite(r.response.data(), 1, r.response.size(), stdout);
      if (!r.response.empty() && r.response.back() != '\n') std::fputc('\n', stdout);
      std::fflush(stdout);
      if (!r.error.empty()) std::fprintf(stderr, "iotad: alert test: %s\n", r.error.c_str());
      if (r.outcome != alert::AttemptOutcome::kDelivered) out.exit_code = 1;
      return Status::Ok();
    };
    out.status = run();
  });
}

}  // namespace iotad::cli
