#include <set>

#include "iotad/alert/views.h"
#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/lake/migrate.h"
#include "iotad/lake/snapshot.h"
#include "iotad/pipeline/run.h"

namespace iotad::cli {

void RegisterStatusCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand("status", "Show layers, partitions, row counts, bookmarks, checks and the last runs");
  auto runs = std::make_shared<int>(5);
  sub->add_option("--runs", *runs, "How many recent runs to show")->capture_default_str();
  AddLakeOption(*sub, global);
  sub->callback([runs, &global, &out] {
    auto lake_or = OpenLake(ResolveLakePath(global));
    if (!lake_or.ok()) {
      out.status = lake_or.status();
      return;
    }
    lake::Lake& lake = **lake_or;
    auto run = [&]() -> Status {
      std::printf("lake %s\n\nlayers\n", lake.root().c_str());
      std::printf("  %-14s %8s %10s\n", "layer", "files", "MiB");
      for (auto prefix : {lake::kBronzePrefix, lake::kSilverPrefix, lake::kQuarantinePrefix, lake::kGoldPrefix,
                          lake::kGoldSummaryPrefix, lake::kRunsPrefix}) {
        IOTAD_ASSIGN_OR_RETURN(auto files, lake.store().List(prefix));
        uint64_t bytes = 0;
        for (const auto& f : files) bytes += f.size_bytes;
        std::printf("  %-14s %8zu %10.1f\n", std::string(prefix.substr(0, prefix.size() - 1)).c_str(), files.size(),
                    static_cast<double>(bytes) / (1 << 20));
      }
      IOTAD_ASSIGN_OR_RETURN(const lake::Snapshot* snapshot, lake.snapshot());
      // Bronze keys of either folder layout (a migrated lake's older silver commits name padded ones).
      std::set<std::string> processed;
      for (const auto& k : snapshot->silver_inputs()) processed.insert(lake::SparkPartitionKey(k));
      const int64_t last_silver = snapshot->LastSeq("silver"), last_gold = snapshot->LastSeq("gold");
      IOTAD_ASSIGN_OR_RETURN(auto gold_meta, snapshot->LastGoldMeta());
      const int64_t gold_silver_seq = gold_meta ? gold_meta->silver_seq : 0;
      IOTAD_ASSIGN_OR_RETURN(auto bronze, lake.store().List(lake::kBronzePrefix));
      int64_t pending = 0;
      for (const auto& b : bronze) pending += processed.count(lake::SparkPartitionKey(b.key)) == 0;
      std::printf("\nbookmarks\n  silver: %zu bronze files processed, %lld pending (last silver commit %lld)\n",
                  processed.size(), static_cast<long long>(pending), static_cast<long long>(last_silver));
      std::printf("  gold: %s (last gold commit %lld, built from silver commit %lld)\n",
                  last_gold == 0 ? "never run" : (gold_silver_seq == last_silver ? "up to date" : "stale: run `iotad gold`"),
                  static_cast<long long>(last_gold), static_cast<long long>(gold_silver_seq));
      IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession());
      std::printf("\nrows and partitions\n");
      IOTAD_TRY(PrintQuery(*session,
                           "SELECT 'silver' AS \"table\", count(*) AS \"rows\", count(DISTINCT (year, month, day, hour)) AS hours, "
                           "min(event_time) AS first, max(event_time) AS last FROM silver "
                           "UNION ALL SELECT 'quarantine (rows)', count(*) FILTER (column_name IS NULL), NULL, NULL, NULL FROM quarantine "
                           "UNION ALL SELECT 'quarantine (cells)', count(*) FILTER (column_name IS NOT NULL), NULL, NULL, NULL "
                           "FROM quarantine "
                           "UNION ALL SELECT 'anomalies', count(*), count(DISTINCT (year, month, day, hour)), min(event_time), max(event_time) FROM anomalies "
                           "UNION ALL SELECT 'gold_summary', count(*), count(DISTINCT (year, month, day, hour)), min(hour_start), max(hour_start) FROM gold_summary",
                           OutputFormat::kTable));
      IOTAD_TRY(alert::CreateAlertViews(*session, lake));
      std::printf("\nalerts\n");
      // failed: pending after failed attempts; dead: given up (`iotad alert retry` re-queues).
      IOTAD_TRY(PrintQuery(*session,
                           "SELECT (SELECT count(*) FROM alerts WHERE status = 'firing') AS firing, "
                           "count(DISTINCT delivery_id) FILTER (state = 'pending') AS pending, "
                           "count(DISTINCT delivery_id) FILTER (state = 'pending' AND attempt IS NOT NULL) AS failed, "
                           "count(DISTINCT delivery_id) FILTER (state = 'dead') AS dead, "
                           "count(DISTINCT delivery_id) FILTER (state = 'delivered') AS delivered "
                           "FROM alert_deliveries",
                           OutputFormat::kTable));
      IOTAD_ASSIGN_OR_RETURN(auto checks, pipeline::ValidateLake(lake));
      std::printf("\nchecks\n");
      for (const auto& c : checks) {
        std::printf("  %-28s %s%s%s\n", c.name.c_str(), c.passed ? "ok" : "FAILED", c.passed ? "" : ": ", c.message.c_str());
      }
      std::printf("\nlast runs\n");
      return PrintQuery(*session,
                        fmt::format("SELECT run_id, command, status, started_at, round(seconds, 2) AS seconds, message "
                                    "FROM runs ORDER BY started_at DESC LIMIT {}",
                                    *runs),
                        OutputFormat::kTable);
    };
    out.status = run();
  });
}

}  // namespace iotad::cli
