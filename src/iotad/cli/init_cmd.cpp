#include "iotad/cli/cli.h"
#include "iotad/lake/lake.h"

namespace iotad::cli {

void RegisterInitCommand(CLI::App& app, GlobalOptions& /*global*/, CommandOutcome& out) {
  auto* sub = app.add_subcommand("init", "Create a lake folder: bronze/ silver/ gold/ gold_summary/ and a commented iotad.toml");
  auto path = std::make_shared<std::string>();
  sub->add_option("LAKE", *path, "Folder to create the lake in")->required();
  sub->callback([path, &out] {
    out.status = lake::Lake::Init(*path);
    if (out.status.ok()) {
      std::printf("created lake %s (config: %s/iotad.toml, drop files into %s/inbox and run `iotad run --lake %s`)\n",
                  path->c_str(), path->c_str(), path->c_str(), path->c_str());
    }
  });
}

}  // namespace iotad::cli
