#include <filesystem>
#include <iostream>
#include <iterator>

#include <unistd.h>

#include "iotad/cli/cli.h"
#include "iotad/cli/output.h"
#include "iotad/lake/lake.h"

namespace iotad::cli {
namespace {

namespace fs = std::filesystem;

/// The folders the views read: SQL may read files there and nowhere else.
std::vector<std::string> LakeReadDirs(const lake::Lake& lake) {
  std::vector<std::string> dirs;
  for (const std::string_view prefix : {lake::kBronzePrefix, lake::kSilverPrefix, lake::kGoldPrefix,
                                        lake::kGoldSummaryPrefix, lake::kQuarantinePrefix, lake::kRunsPrefix}) {
    dirs.push_back((lake.root() / std::string(prefix)).string());
  }
  return dirs;
}

bool IsWithin(const fs::path& path, const fs::path& dir) {
  const auto rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

/// --allow-writes DIR: created when missing; it must hold none of the lake's own folders and be
/// inside none of them, so COPY cannot touch a table or the commit log.
Result<std::string> ExportDir(const lake::Lake& lake, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(Errc::kIo, "sql: cannot create the --allow-writes folder '{}': {}", dir, ec.message());
  const fs::path canonical = fs::weakly_canonical(fs::absolute(dir), ec);
  const fs::path root = fs::weakly_canonical(lake.root(), ec);
  std::vector<std::string> own = LakeReadDirs(lake);
  own.push_back((lake.root() / "_iotad").string());
  own.push_back((lake.root() / "inbox").string());
  bool clash = IsWithin(root, canonical);  // DIR is the lake or holds it
  for (const auto& d : own) clash = clash || IsWithin(canonical, fs::weakly_canonical(d, ec));
  if (clash) {
    return Error(Errc::kInvalidArgument,
                 "sql: --allow-writes '{}' must be outside the lake's own folders (bronze, silver, gold, "
                 "gold_summary, quarantine, runs, inbox, _iotad) and must not contain the lake",
                 dir);
  }
  return canonical.string();
}

}  // namespace

void RegisterSqlCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand(
      "sql", "Run read-only SQL (DuckDB) over the views silver, quarantine, anomalies, gold_summary, runs, bronze, "
             "bronze_rows");
  auto query = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  auto max_rows = std::make_shared<int64_t>(1000);
  auto allow_writes = std::make_shared<std::string>();
  auto allow_reads = std::make_shared<std::vector<std::string>>();
  sub->add_option("QUERY", *query, "SQL text; read from standard input when omitted or '-'");
  sub->add_option("--format", *format, "Output: table, csv or json")->capture_default_str();
  sub->add_option("--max-rows", *max_rows, "Rows shown in table format")->capture_default_str();
  sub->add_option("--allow-writes", *allow_writes,
                  "Let COPY ... TO write files into this folder (created; outside the lake's own folders)");
  sub->add_option("--allow-read", *allow_reads,
                  "Also let the SQL read files in this folder (repeatable), e.g. a labels file to join")
      ->allow_extra_args(false);
  AddLakeOption(*sub, global);
  sub->footer(
      "Examples:\n"
      "  iotad sql \"SELECT device_id, count(*) FROM anomalies GROUP BY ALL ORDER BY 2 DESC LIMIT 10\"\n"
      "  iotad sql --format csv \"SELECT * FROM silver WHERE year = 2024 AND month = 1 AND day = 2\"\n"
      "  iotad sql --allow-writes exports \"COPY (SELECT * FROM anomalies) TO 'exports/anomalies.csv'\"\n"
      "Filters on year/month/day/hour read only the matching partitions.\n"
      "The SQL only reads the lake: other files (unless --allow-read DIR), writes, ATTACH,\n"
      "INSTALL/LOAD and SET are refused (exit 2); --allow-writes DIR lets COPY ... TO write into DIR\n"
      "and nowhere else.");
  sub->callback([query, format, max_rows, allow_writes, allow_reads, &global, &out] {
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
    std::string write_dir;
    if (!allow_writes->empty()) {
      auto dir = ExportDir(**lake, *allow_writes);
      if (!dir.ok()) {
        out.status = dir.status();
        return;
      }
      write_dir = *dir;
    }
    auto session = (*lake)->OpenSession(/*with_views=*/true, sql);
    if (!session.ok()) {
      out.status = session.status();
      return;
    }
    // The views exist now; from here on the session reads only the lake's folders.
    std::vector<std::string> read_dirs = LakeReadDirs(**lake);
    read_dirs.insert(read_dirs.end(), allow_reads->begin(), allow_reads->end());
    out.status = (*session)->RestrictToReadOnly(read_dirs, write_dir);
    if (out.status.ok()) out.status = (*session)->CheckStatement(sql);
    if (out.status.ok()) out.status = PrintQuery(**session, sql, *fmt_choice, stdout, *max_rows);
  });
}

}  // namespace iotad::cli
