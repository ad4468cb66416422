#include "iotad/cli/main_app.h"

#include <cstdio>
#include <cstdlib>

#include "iotad/cli/cli.h"

namespace iotad::cli {

std::string ResolveLakePath(const GlobalOptions& global) {
  if (!global.lake.empty()) return global.lake;
  if (const char* env = std::getenv("IOTAD_LAKE"); env != nullptr && *env != '\0') return env;
  return ".";
}

void AddLakeOption(CLI::App& sub, GlobalOptions& global) {
  sub.add_option("--lake", global.lake, "Lake folder (default: $IOTAD_LAKE, else the current folder)");
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Errc::kOk: return 0;
    case Errc::kInvalidArgument: return 2;
    case Errc::kNotFound: return 3;
    case Errc::kIo: return 4;
    default: return 1;
  }
}

int RunMain(int argc, char** argv) {
  CLI::App app{"iotad: anomaly detection for IoT telemetry on one machine (bronze -> silver -> gold, SQL)"};
  app.set_version_flag("--version", "iotad 0.1.0");
  app.require_subcommand(1);
  GlobalOptions global;
  CommandOutcome out;
  RegisterInitCommand(app, global, out);
  RegisterGenerateCommand(app, global, out);
  RegisterIngestCommand(app, global, out);
  RegisterSilverCommand(app, global, out);
  RegisterGoldCommand(app, global, out);
  RegisterSqlCommand(app, global, out);
  RegisterRunCommand(app, global, out);
  RegisterStatusCommand(app, global, out);
  RegisterDemoCommand(app, global, out);
  RegisterConfigCommand(app, global, out);
  RegisterScoreFileCommand(app, global, out);
  RegisterEvalCommand(app, global, out);
  RegisterVerifyCommand(app, global, out);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "iotad: %s (see `iotad --help`)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iotad: internal error: %s\n", e.what());
    return 1;
  }
  if (!out.status.ok()) {
    std::fprintf(stderr, "iotad: %s\n", out.status.message().c_str());
    return ExitCodeFor(out.status);
  }
  return out.exit_code;
}

}  // namespace iotad::cli
