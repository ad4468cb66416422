#include <fmt/format.h>
#include <fmt/ranges.h>

#include "iotad/alert/sink.h"
#include "iotad/cli/cli.h"
#include "iotad/config/config.h"
#include "iotad/lake/lake.h"

namespace iotad::cli {

void RegisterConfigCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("config", "Show or check configuration");
  sub->require_subcommand(1);
  auto* example = sub->add_subcommand("example", "Print a config file with every option, its default and doc");
  example->callback([] { std::fputs(config::ExampleConfigToml().c_str(), stdout); });
  auto* check = sub->add_subcommand("check", "Validate the lake's iotad.toml");
  AddLakeOption(*check, global);
  check->callback([&global, &out] {
    auto lake = lake::Lake::Open(ResolveLakePath(global));
    if (!lake.ok()) {
      out.status = lake.status();
      return;
    }
    const config::LakeConfig& cfg = (*lake)->config();
    // What only run time could tell: every alert sink's secrets are there and readable (the
    // variable set, the file readable and not empty), said as one sentence naming the key.
    alert::SinkEnv env{(*lake)->root(), cfg.alert, &(*lake)->clock()};
    for (const config::Component& c : cfg.components.Of("alert.sink")) {
      if (Status st = alert::CheckSinkSecrets(c, env); !st.ok()) {
        out.status = Error(Errc::kInvalidArgument, "config: {}", st.message());
        return;
      }
    }
    const auto& warnings = cfg.warnings;
    if (warnings.empty()) {
      std::printf("%s/iotad.toml is valid\n", (*lake)->root().c_str());
    } else {
      std::printf("%s/iotad.toml is valid, with %zu adjusted value%s:\n", (*lake)->root().c_str(), warnings.size(),
                  warnings.size() == 1 ? "" : "s");
      for (const auto& w : warnings) std::printf("  %s\n", w.c_str());
    }
    // The component tables it holds, by kind, as their factories accepted them.
    for (const config::ComponentKind& kind : config::ComponentRegistry::Default().kinds()) {
      const auto& tables = cfg.components.Of(kind.section);
      if (tables.empty()) continue;
      std::vector<std::string> names;
      for (const config::Component& c : tables) {
        names.push_back(c.type.empty() ? c.name : fmt::format("{} ({})", c.name, c.type));
      }
      const std::string listed = fmt::format("{}", fmt::join(names, ", "));
      std::printf("  [[%s]]: %zu (%s)\n", kind.section.c_str(), tables.size(), listed.c_str());
    }
  });
}

}  // namespace iotad::cli
