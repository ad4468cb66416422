#include <iostream>
#include <iterator>

#include <unistd.h>

#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"

namespace iotad::cli {

void RegisterSqlCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand(
      "sql", "Run SQL (DuckDB) over the views silver, quarantine, anomalies, gold_summary, runs, bronze, bronze_rows");
  auto query = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  auto max_rows = std::make_shared<int64_t>(1000);
  sub->add_option("QUERY", *query, "SQL text; read from standard input when omitted or '-'");
  sub->add_option("--format", *format, "Output: table, csv or json")->capture_default_str();
  sub->add_option("--max-rows", *max_rows, "Rows shown in table format")->capture_default_str();
  AddLakeOption(*sub, global);
  sub->footer(
      "Examples:\n"
      "  iotad sql \"SELECT device_id, count(*) FROM anomalies GROUP BY ALL ORDER BY 2 DESC LIMIT 10\"\n"
      "  iotad sql --format csv \"SELECT * FROM silver WHERE year = 2024 AND month = 1 AND day = 2\"\n"
      "Filters on year/month/day/hour read only the matching partitions.");
  sub->callback([query, format, max_rows, &global, &out] {
    auto fmt_choice = ParseOutputFormat(*format);
    if (!fmt_choice.ok()) {
      out.status = fmt_choice.status();
      return;
    }
    std::string sql = *query;
    if (sql.empty() || sql == "-") {
      if (sql.empty() && ::isatty(STDIN_FILENO)) {
        out.status = Error(Errc::kInvalidArgument, "sql: give a query, or pipe one on standard input");
        return;
      }
      sql.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    auto lake = OpenLake(ResolveLakePath(global));
    if (!lake.ok()) {
      out.status = lake.status();
      return;
    }
    auto session = (*lake)->OpenSession(/*with_views=*/true, sql);
    if (!session.ok()) {
      out.status = session.status();
      return;
    }
    out.status = PrintQuery(**session, sql, *fmt_choice, stdout, *max_rows);
  });
}

}  // namespace iotad::cli
