// `iotad generate`: simulate a device fleet into hourly raw files plus ground-truth labels, or
// (`--profile pump`) pump testbed runs with one labelled fault each.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iotad/cli/cli.h"
#include "iotad/core/timestamp.h"
#include "iotad/gen/fleet.h"
#include "iotad/gen/pump.h"

namespace iotad::cli {
namespace {

/// The flags as typed; turned into gen::FleetOptions once CLI11 has parsed them.
struct GenerateFlags {
  gen::FleetOptions fleet;
  std::string start = "2024-01-01T00:00:00Z";
  std::string interval = "60s";
  std::string format = "csv";
  std::string kinds = "spike,level_shift,stuck,dropout,drift";
  std::string out_dir;
  std::string profile = "fleet";
  int64_t runs = 34;
  CLI::Option* runs_option = nullptr;
  std::vector<CLI::Option*> fleet_only;  // flags that --profile pump does not take
};

/// `--profile pump`: the pump testbed runs (gen/pump.h); --start, --seed and --labels apply.
Status RunGeneratePump(const GenerateFlags& flags, TimestampUs start_us, const std::string& out_dir,
                       const GlobalOptions& global) {
  for (const CLI::Option* option : flags.fleet_only) {
    if (option->count() > 0) {
      return Error(Errc::kInvalidArgument, "generate: {} does not apply to --profile pump",
                   option->get_name());
    }
  }
  gen::PumpOptions pump;
  pump.runs = flags.runs;
  pump.start_us = start_us;
  pump.seed = flags.fleet.seed;
  pump.labels_path = flags.fleet.labels_path;
  IOTAD_ASSIGN_OR_RETURN(const gen::PumpReport report, gen::GeneratePump(pump, out_dir));
  if (!global.quiet) std::printf("%s\n", gen::FormatPumpSummary(report).c_str());
  return Status::Ok();
}

Status RunGenerate(GenerateFlags& flags, const GlobalOptions& global) {
  gen::FleetOptions& fleet = flags.fleet;
  const std::optional<TimestampUs> start = ParseTimestamp(flags.start);
  if (!start) {
    return Error(Errc::kInvalidArgument, "generate: --start is not an ISO-8601 timestamp: '{}'",
                 flags.start);
  }
  fleet.start_us = *start;
  if (flags.profile != "fleet" && flags.profile != "pump") {
    return Error(Errc::kInvalidArgument, "generate: --profile must be fleet or pump, got '{}'",
                 flags.profile);
  }
  if (flags.profile == "fleet" && flags.runs_option->count() > 0) {
    return Status(Errc::kInvalidArgument, "generate: --runs applies only to --profile pump");
  }
  const std::optional<int64_t> interval = ParseDurationUs(flags.interval);
  if (!interval || *interval <= 0) {
    return Error(Errc::kInvalidArgument,
                 "generate: --interval is not a positive duration such as 60s or 5m: '{}'",
                 flags.interval);
  }
  fleet.interval_us = *interval;
  const std::optional<gen::FleetFormat> format = gen::ParseFleetFormat(flags.format);
  if (!format) {
    return Error(Errc::kInvalidArgument, "generate: --format must be csv or jsonl, got '{}'",
                 flags.format);
  }
  fleet.format = *format;
  IOTAD_ASSIGN_OR_RETURN(fleet.anomaly_kinds, gen::ParseAnomalyKinds(flags.kinds));

  if (flags.out_dir.empty() && global.lake.empty()) {
    return Status(Errc::kInvalidArgument, "generate: give --out DIR or --lake LAKE");
  }
  if (!flags.out_dir.empty() && !global.lake.empty()) {
    return Status(Errc::kInvalidArgument,
                  "generate: give either --out DIR or --lake LAKE, not both");
  }
  // A lake receives raw files in its inbox; no config is read for that.
  const std::string out_dir = !flags.out_dir.empty()
                                  ? flags.out_dir
                                  : (std::filesystem::path(global.lake) / "inbox").string();

  if (flags.profile == "pump") return RunGeneratePump(flags, fleet.start_us, out_dir, global);
  IOTAD_ASSIGN_OR_RETURN(const gen::GenerateReport report, gen::GenerateFleet(fleet, out_dir));
  if (!global.quiet) std::printf("%s\n", gen::FormatGenerateSummary(report, fleet.dirty).c_str());
  return Status::Ok();
}

}  // namespace

void RegisterGenerateCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  CLI::App* sub = app.add_subcommand(
      "generate",
      "Simulate a device fleet: hourly raw telemetry files (CSV or JSONL) plus a labels file of "
      "the anomalies injected; or, with --profile pump, pump testbed runs (8 sensors at 1 s, one "
      "file and device per run) with one labelled fault each");
  auto flags = std::make_shared<GenerateFlags>();
  gen::FleetOptions& fleet = flags->fleet;
  gen::DirtOptions& dirt = fleet.dirt;

  sub->add_option("--out", flags->out_dir, "Folder to write the files into (created)");
  AddLakeOption(*sub, global);
  sub->add_option("--profile", flags->profile,
                  "fleet: the device fleet below; pump: pump testbed runs of 15-25 min, run k "
                  "starting k hours after --start, each with one fault (valve_closure, cavitation, "
                  "imbalance, leak, overheating, sensor_drift) labelled with metric *; only "
                  "--start, --seed, --labels and --runs apply to it")
      ->capture_default_str();
  flags->runs_option =
      sub->add_option("--runs", flags->runs, "With --profile pump: number of runs")
          ->capture_default_str();
  sub->add_option("--devices", fleet.devices, "Number of devices")->capture_default_str();
  sub->add_option("--start", flags->start, "Time of the first reading (ISO-8601, UTC)")
      ->capture_default_str();
  sub->add_option("--hours", fleet.hours,
                  "Hours of data; readings = floor(hours / interval) per device")
      ->capture_default_str();
  sub->add_option("--interval", flags->interval, "Time between readings: 60s, 5m, 1h ...")
      ->capture_default_str();
  sub->add_option("--seed", fleet.seed, "Random seed; the same flags give byte-identical files")
      ->capture_default_str();
  sub->add_option("--format", flags->format, "csv or jsonl")->capture_default_str();
  sub->add_option("--labels", fleet.labels_path,
                  "Where to write the labels CSV (default: DIR/_labels.csv; the underscore "
                  "makes ingest skip it)");
  sub->add_option("--anomaly-rate", fleet.anomaly_rate, "Injected anomalies per device-day")
      ->capture_default_str();
  sub->add_option("--anomaly-kinds", flags->kinds,
                  "Comma-separated kinds to inject: spike, level_shift, stuck, dropout, drift")
      ->capture_default_str();
  sub->add_option("--dark-devices", fleet.dark_devices,
                  "Devices that go dark and stay dark to the end (labelled `dark`, metric `*`)")
      ->capture_default_str();
  sub->add_option("--dark-hours", fleet.dark_hours,
                  "How many hours before the end the --dark-devices go dark (0: each at a random "
                  "time in the second half)")
      ->capture_default_str();
  sub->add_flag("--dirty", fleet.dirty,
                "Add the dirt real fleets send: empty cells, malformed lines, duplicates, "
                "out-of-order and late rows (rates below)");
  const char* kNeedsDirty = " (applies only with --dirty)";
  sub->add_option("--empty-cell-rate", dirt.empty_cell_rate,
                  std::string("Chance that a metric or location cell is empty") + kNeedsDirty)
      ->capture_default_str();
  sub->add_option("--malformed-rate", dirt.malformed_rate,
                  std::string("Chance that a line is malformed: bad number, bad timestamp or "
                              "wrong column count") +
                      kNeedsDirty)
      ->capture_default_str();
  sub->add_option("--duplicate-rate", dirt.duplicate_rate,
                  std::string("Chance that a row is written twice (right after or in the next "
                              "file)") +
                      kNeedsDirty)
      ->capture_default_str();
  sub->add_option("--out-of-order-rate", dirt.out_of_order_rate,
                  std::string("Chance that a row is swapped with a nearby earlier row") +
                      kNeedsDirty)
      ->capture_default_str();
  sub->add_option("--late-rate", dirt.late_rate,
                  std::string("Chance that a row arrives in a file 1-6 hours later") + kNeedsDirty)
      ->capture_default_str();
  for (const char* name : {"--devices", "--hours", "--interval", "--format", "--anomaly-rate",
                           "--anomaly-kinds", "--dark-devices", "--dark-hours", "--dirty",
                           "--empty-cell-rate", "--malformed-rate", "--duplicate-rate",
                           "--out-of-order-rate", "--late-rate"}) {
    flags->fleet_only.push_back(sub->get_option(name));
  }

  sub->callback([flags, &global, &out] { out.status = RunGenerate(*flags, global); });
}

}  // namespace iotad::cli
