#include <filesystem>

#include "iotad/alert/views.h"
#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/gen/fleet.h"
#include "iotad/lake/lake.h"
#include "iotad/pipeline/run.h"

namespace iotad::cli {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDemoMarker = "_iotad/demo-lake";

struct DemoOptions {
  int64_t devices = 200;
  double days = 7;
  uint64_t seed = 42;
};

Status RunDemo(const std::string& path, const DemoOptions& o) {
  std::error_code ec;
  const fs::path root(path);
  if (fs::exists(root, ec)) {
    if (fs::exists(root / kDemoMarker, ec)) {
      std::printf("demo: replacing the earlier demo lake %s\n", path.c_str());
      fs::remove_all(root, ec);
      if (ec) return Error(Errc::kIo, "demo: cannot remove the old demo lake '{}': {}", path, ec.message());
    } else if (!fs::is_empty(root, ec)) {
      return Error(Errc::kConflict, "demo: '{}' exists and is not a demo lake; give another folder with --lake", path);
    }
  }
  IOTAD_TRY(lake::Lake::Init(root));
  IOTAD_ASSIGN_OR_RETURN(auto lake, lake::Lake::Open(root));
  IOTAD_TRY(lake->store().Put(kDemoMarker, "made by `iotad demo`; the next demo may replace this folder\n"));

  gen::FleetOptions fleet;
  fleet.devices = o.devices;
  fleet.hours = o.days * 24;
  fleet.seed = o.seed;
  fleet.dirty = true;
  const std::string labels = (root / "labels" / "injected_anomalies.csv").string();
  fs::create_directories(root / "labels", ec);
  fleet.labels_path = labels;
  std::printf("demo: simulating %lld devices for %g days at one reading a minute, with dirt and labelled anomalies\n",
              static_cast<long long>(o.devices), o.days);
  IOTAD_ASSIGN_OR_RETURN(auto generated, gen::GenerateFleet(fleet, (root / "inbox").string()));
  std::printf("%s\n\n", gen::FormatGenerateSummary(generated, true).c_str());

  IOTAD_ASSIGN_OR_RETURN(auto report, pipeline::RunPipeline(*lake, pipeline::RunOptions{}));
  PrintRunReport(report);

  IOTAD_ASSIGN_OR_RETURN(auto session, lake->OpenSession());
  std::printf("\nrows per layer\n");
  IOTAD_TRY(PrintQuery(*session,
                       "SELECT 'bronze files' AS layer, count(*) AS \"rows\" FROM bronze "
                       "UNION ALL SELECT 'silver', count(*) FROM silver "
                       "UNION ALL SELECT 'quarantine (rows)', count(*) FILTER (column_name IS NULL) FROM quarantine "
                       "UNION ALL SELECT 'quarantine (cells)', count(*) FILTER (column_name IS NOT NULL) FROM quarantine "
                       "UNION ALL SELECT 'anomalies', count(*) FROM anomalies "
                       "UNION ALL SELECT 'gold_summary', count(*) FROM gold_summary",
                       OutputFormat::kTable));
  std::printf("\nquarantine by reason\n");
  IOTAD_TRY(PrintQuery(*session, "SELECT reason, count(*) FILTER (column_name IS NULL) AS \"rows\", "
                                 "count(*) FILTER (column_name IS NOT NULL) AS cells, any_value(detail) AS example "
                                 "FROM quarantine GROUP BY reason ORDER BY count(*) DESC",
                       OutputFormat::kTable));
  std::printf("\nanomalies by device (top 10)\n");
  IOTAD_TRY(PrintQuery(*session,
                       "SELECT device_id, any_value(location) AS location, count(*) FILTER (detector = 'zscore') AS zscore, "
                       "count(*) FILTER (detector = 'robust_zscore') AS robust_zscore, "
                       "count(*) FILTER (detector = 'default') AS \"default\" FROM anomalies "
                       "GROUP BY device_id ORDER BY zscore DESC, robust_zscore DESC, device_id LIMIT 10",
                       OutputFormat::kTable));
  std::printf("\ninjected anomalies found, by kind and detector (a label counts as found when the detector flags "
              "that device and metric inside its window)\n");
  IOTAD_TRY(PrintQuery(
      *session,
      fmt::format("WITH l AS (SELECT * FROM read_csv({}, header = true, columns = {{'device_id': 'VARCHAR', "
                  "'metric': 'VARCHAR', 'start': 'TIMESTAMPTZ', 'end': 'TIMESTAMPTZ', 'kind': 'VARCHAR'}})), "
                  "d AS (SELECT unnest(['zscore', 'robust_zscore', 'default']) AS detector), "
                  "hits AS (SELECT DISTINCT l.device_id, l.metric, l.start, d.detector FROM l JOIN anomalies a "
                  "ON a.device_id = l.device_id AND (l.metric = '*' OR a.metric = l.metric) "
                  "AND a.event_time BETWEEN l.start AND l.\"end\" JOIN d ON a.detector = d.detector) "
                  "SELECT l.kind, d.detector, count(*) AS injected, count(h.detector) AS found, "
                  "round(100.0 * count(h.detector) / count(*), 1) AS pct FROM l CROSS JOIN d LEFT JOIN hits h "
                  "ON h.device_id = l.device_id AND h.metric = l.metric AND h.start = l.start AND h.detector = d.detector "
                  "GROUP BY ALL ORDER BY 1, 2",
                  lake::SqlQuote(labels)),
      OutputFormat::kTable));
  std::printf(
      "(zscore and robust_zscore are the tutorial's batch detectors: a silent device has no reading to flag,\n"
      " and drift and level shifts move their baseline itself. `default` is the online ensemble: one pass,\n"
      " no look-ahead, time-of-day aware, with stuck and silence checks; see `iotad eval --help`.)\n");
  std::printf(
      "\nnext, try:\n"
      "  iotad sql --lake %1$s \"SELECT * FROM anomalies WHERE device_id = 'dev-00007' ORDER BY event_time LIMIT 5\"\n"
      "  iotad sql --lake %1$s \"SELECT location, round(avg(temp_c), 2) AS temp_c, round(avg(humidity_pc), 1) AS humidity "
      "FROM silver WHERE year = 2024 AND month = 1 AND day = 3 GROUP BY ALL ORDER BY 1\"\n"
      "  iotad sql --lake %1$s \"SELECT date_trunc('day', hour_start) AS day, sum(anomalies) AS anomalies, sum(\\\"rows\\\") AS readings "
      "FROM gold_summary GROUP BY ALL ORDER BY 1\"\n",
      path.c_str());

  // The alerts the run raised, and where they went.
  if (report.alert_ran) {
    IOTAD_TRY(alert::CreateAlertViews(*session, *lake));
    IOTAD_ASSIGN_OR_RETURN(int64_t firing, session->QueryInt("SELECT count(*) FROM alerts WHERE status = 'firing'"));
    IOTAD_ASSIGN_OR_RETURN(int64_t resolved, session->QueryInt("SELECT count(*) FROM alerts WHERE status = 'resolved'"));
    std::printf("\nalerts: %lld firing, %lld resolved; %lld notifications delivered", static_cast<long long>(firing),
                static_cast<long long>(resolved), static_cast<long long>(report.alert.delivered));
    std::string files;
    for (const auto& c : lake->config().components.Of("alert.sink")) {
      if (const auto* f = c.As<config::FileSinkOptions>()) {
        const fs::path p = fs::path(f->path).is_relative() ? root / f->path : fs::path(f->path);
        files += (files.empty() ? "" : ", ") + p.string();
      }
    }
    if (!files.empty()) std::printf(", written to %s", files.c_str());
    std::printf(
        "\n  iotad sql --lake %1$s \"SELECT id, device, status, anomalies, explanation FROM alerts ORDER BY last_event "
        "DESC LIMIT 10\"\n"
        "  iotad sql --lake %1$s \"SELECT sink, state, count(*) FROM alert_deliveries GROUP BY ALL\"\n",
        path.c_str());
  }
  std::printf(
      "\ndashboard: the four overview charts, each device's readings with its anomalies, the alerts and the\n"
      "pipeline's runs, in the browser. Start it with\n"
      "  iotad serve --lake %s\n"
      "and open http://127.0.0.1:8080/ (stop it with Ctrl-C).\n",
      path.c_str());
  return Status::Ok();
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("demo", "Create a lake, simulate a fleet with dirt and anomalies, run the pipeline, show results");
  auto options = std::make_shared<DemoOptions>();
  sub->add_option("--devices", options->devices, "Devices to simulate")->capture_default_str();
  sub->add_option("--days", options->days, "Days of readings (one a minute)")->capture_default_str();
  sub->add_option("--seed", options->seed, "Random seed")->capture_default_str();
  AddLakeOption(*sub, global);
  sub->callback([options, &global, &out] {
    out.status = RunDemo(global.lake.empty() ? "demo-lake" : global.lake, *options);
  });
}

}  // namespace iotad::cli
