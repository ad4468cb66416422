#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <iterator>

#include <unistd.h>

#include "iotad/alert/views.h"
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

/// How many snapshots a query is tried on before its error is shown.
constexpr int kSnapshotAttempts = 5;

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

/// One query on one snapshot: views over its files, the read-only policy, the statement check,
/// and the result printed into `out`.
Status QueryOnce(lake::Lake& lake, const std::string& sql, OutputFormat format, int64_t max_rows,
                 const std::vector<std::string>& read_dirs, const std::string& write_dir, FILE* out) {
  IOTAD_ASSIGN_OR_RETURN(auto session, lake.OpenSession(/*with_views=*/true, sql));
  // alerts, alert_deliveries, silences: tables from the alert log (only when the SQL names them).
  IOTAD_TRY(alert::CreateAlertViews(*session, lake, sql));
  // The views exist now; from here on the session reads only the lake's folders.
  IOTAD_TRY(session->RestrictToReadOnly(read_dirs, write_dir));
  IOTAD_TRY(session->CheckStatement(sql));
  return PrintQuery(*session, sql, format, out, max_rows);
}

/// Runs the query on the lake's snapshot. A writer may apply a commit meanwhile and delete a
/// file of that snapshot (its moves come first, then its deletes, then the applied marker). The
/// query then fails; when the log has moved on, it runs again on the newest commit, whose files
/// are all in place once its deletes have begun. The result goes to a temporary file first, so
/// the user sees one whole result, of the old state or the new one, never parts of both.
Status RunOnSnapshot(lake::Lake& lake, const std::string& sql, OutputFormat format, int64_t max_rows,
                     const std::vector<std::string>& read_dirs, const std::string& write_dir) {
  Status status;
  bool skipping_missing = false;
  for (int attempt = 0; attempt < kSnapshotAttempts; ++attempt) {
    std::unique_ptr<FILE, int (*)(FILE*)> buffer(std::tmpfile(), &std::fclose);
    if (!buffer) return Error(Errc::kIo, "sql: cannot create a temporary file for the result");
    status = QueryOnce(lake, sql, format, max_rows, read_dirs, write_dir, buffer.get());
    if (status.ok()) {
      for (const auto& key : lake.missing_view_files()) {
        std::fprintf(stderr, "iotad: warning: %s is committed but missing on disk: the query left it out (run `iotad verify`)\n",
                     key.c_str());
      }
      std::rewind(buffer.get());
      char chunk[1 << 16];
      size_t n = 0;
      while ((n = std::fread(chunk, 1, sizeof chunk, buffer.get())) > 0) {
        if (std::fwrite(chunk, 1, n, stdout) != n) return Error(Errc::kIo, "sql: cannot write the result");
      }
      return Status::Ok();
    }
    // Only a query whose snapshot is no longer the lake's is tried again; any other error stands,
    // except one committed files lost from disk cause: the views then leave those out, and a
    // warning names them (`iotad verify` says more).
    auto moved = lake.RefreshSnapshot(/*committed_head=*/true);
    if (!moved.ok()) return status;
    if (!*moved) {
      if (skipping_missing) return status;
      skipping_missing = true;
      lake.SetViewsSkipMissingFiles(true);
    }
  }
  return status.WithContext(fmt::format("sql: the lake changed under the query {} times in a row; last error: ",
                                        kSnapshotAttempts));
}

}  // namespace

void RegisterSqlCommand(CLI::App& app, GlobalOptions& global, CommandOutcome& out) {
  auto* sub = app.add_subcommand(
      "sql", "Run read-only SQL (DuckDB) over the views silver, quarantine, anomalies, gold_summary, runs, bronze, "
             "bronze_rows, alerts, alert_deliveries, silences");
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
    std::vector<std::string> read_dirs = LakeReadDirs(**lake);
    read_dirs.insert(read_dirs.end(), allow_reads->begin(), allow_reads->end());
    out.status = RunOnSnapshot(**lake, sql, *fmt_choice, *max_rows, read_dirs, write_dir);
  });
}

}  // namespace iotad::cli
