#include "iotad/cli/main_app.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "iotad/cli/cli.h"
#include "iotad/core/log.h"
#include "iotad/core/timestamp.h"

namespace iotad::cli {
namespace {

/// Set from IOTAD_TEST_NOW by RunMain (tests only); null: the system clock.
std::unique_ptr<ManualClock> g_test_clock;

/// The clock IOTAD_TEST_NOW names; an error when it is set but not a time.
Status SetTestClockFromEnv() {
  const char* env = std::getenv("IOTAD_TEST_NOW");
  if (env == nullptr || *env == '\0') return Status::Ok();
  const auto ts = ParseTimestamp(env);
  if (!ts) return Error(Errc::kInvalidArgument, "IOTAD_TEST_NOW '{}' is not an ISO-8601 time like 2024-03-01T10:00:00Z", env);
  g_test_clock = std::make_unique<ManualClock>(*ts);
  return Status::Ok();
}

}  // namespace

metrics::Registry& CliMetrics() {
  static metrics::Registry registry;
  return registry;
}

const Clock& CliClock() {
  if (g_test_clock) return *g_test_clock;
  return SystemClock::Instance();
}

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
  app.set_version_flag("--version", "iotad " IOTAD_VERSION);
  app.require_subcommand(1);
  // Global options may also follow the subcommand (`iotad run --log-format json`).
  app.fallthrough();
  std::string log_format = "text", log_level, metrics_file;
  app.add_option("--log-format", log_format, "Diagnostics on stderr as text (for people) or json (one object a line)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level,
                 "Least severe diagnostics shown: debug, info, warn, error, off (default: warn with text, info with "
                 "json; command output on stdout is not affected)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  app.add_option("--metrics-file", metrics_file,
                 "When the command ends, write its metrics there in the Prometheus text format (replaced whole, for "
                 "a textfile collector or a scheduler)");
  if (Status clock_status = SetTestClockFromEnv(); !clock_status.ok()) {
    std::fprintf(stderr, "iotad: %s\n", clock_status.message().c_str());
    return 2;
  }
  app.parse_complete_callback([&] {
    // Before any subcommand runs: every diagnostic, from the first, has the chosen form.
    const log::Format format = *log::ParseFormat(log_format);
    const log::Level level = !log_level.empty()             ? *log::ParseLevel(log_level)
                             : format == log::Format::kJson ? log::Level::kInfo
                                                            : log::Level::kWarn;
    log::Configure(format, level, &CliClock());
  });
  GlobalOptions global;
  CommandOutcome out;
  RegisterInitCommand(app, global, out);
  RegisterGenerateCommand(app, global, out);
  RegisterGenerateSeriesCommand(app, global, out);
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
  RegisterAlertCommand(app, global, out);
  RegisterServeCommand(app, global, out);
  RegisterReportCommand(app, global, out);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    // CLI11 lists every unexpected argument, values included: after a mistyped `--tokn SECRET`
    // that would print the secret. Name the unexpected options only.
    std::string options;
    for (const auto& arg : app.remaining(true)) {
      if (arg.size() > 1 && arg[0] == '-') options += (options.empty() ? "" : " ") + arg.substr(0, arg.find('='));
    }
    std::fprintf(stderr, "iotad: unexpected arguments%s%s (values are not shown; see `iotad --help`)\n",
                 options.empty() ? "" : ": ", options.c_str());
    return 2;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "iotad: %s (see `iotad --help`)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    log::Error(fmt::format("internal error: {}", e.what()));
    return 1;
  }
  if (!metrics_file.empty()) {
    // Written whatever the outcome: a failed run's metrics are the ones a scheduler needs.
    if (Status written = metrics::WriteTextFile(CliMetrics(), metrics_file); !written.ok()) {
      log::Error(written.message(), {{"exit_code", ExitCodeFor(written)}});
      if (out.status.ok() && out.exit_code == 0) return ExitCodeFor(written);
    }
  }
  if (!out.status.ok()) {
    log::Error(out.status.message(), {{"exit_code", ExitCodeFor(out.status)}});
    return ExitCodeFor(out.status);
  }
  return out.exit_code;
}

}  // namespace iotad::cli
