#include "iotad/cli/output.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "iotad/core/json.h"

namespace iotad::cli {
namespace {

bool IsNumeric(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
      return true;
    default:
      return false;
  }
}

std::string CsvCell(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

size_t DisplayWidth(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;  // count UTF-8 code points
  return w;
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  return Error(Errc::kInvalidArgument, "--format must be table, csv or json (got '{}')", name);
}

Status PrintQuery(lake::DuckSession& session, const std::string& sql_in, OutputFormat format, FILE* out,
                  int64_t max_table_rows) {
  std::string sql = sql_in;
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) sql.pop_back();
  auto sql_error = [](const char* raw) {
    std::string msg = raw ? raw : "query failed";
    // DuckDB repeats the offending line with a caret; one sentence is enough here.
    if (const size_t at = msg.find("\nLINE "); at != std::string::npos) msg.resize(at);
    for (char& c : msg) {
      if (c == '\n') c = ' ';
    }
    return Error(Errc::kInvalidArgument, "sql: {}", msg);
  };
  // Learn the result's columns and types without running it.
  duckdb_prepared_statement prepared;
  if (duckdb_prepare(session.connection(), sql.c_str(), &prepared) != DuckDBSuccess) {
    Status st = sql_error(duckdb_prepare_error(prepared));
    duckdb_destroy_prepare(&prepared);
    return st;
  }
  const bool is_select = duckdb_prepared_statement_type(prepared) == DUCKDB_STATEMENT_TYPE_SELECT;
  const size_t ncols = duckdb_prepared_statement_column_count(prepared);
  std::vector<std::string> names(ncols);
  std::vector<bool> numeric(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    const char* name = duckdb_prepared_statement_column_name(prepared, c);
    names[c] = name ? name : "";
    if (name) duckdb_free(const_cast<char*>(name));
    numeric[c] = IsNumeric(duckdb_prepared_statement_column_type(prepared, c));
  }
  duckdb_destroy_prepare(&prepared);
  if (ncols == 0) {  // DDL, SET...: nothing to print
    IOTAD_ASSIGN_OR_RETURN(auto r, session.Query(sql));
    (void)r;
    return Status::Ok();
  }
  // SELECTs are wrapped so DuckDB renders every value (timestamps in UTC, decimals, lists...);
  // EXPLAIN, PRAGMA, SHOW and friends cannot be wrapped and return plain text columns anyway.
  const std::string to_run =
      is_select ? fmt::format("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ({}) iotad_q", sql) : sql;
  if (!is_select) std::fill(numeric.begin(), numeric.end(), false);
  auto result = session.Stream(to_run);
  if (!result.ok()) return Error(Errc::kInvalidArgument, "{}", result.status().message());
  std::vector<std::vector<std::string>> table_rows;
  std::vector<std::vector<bool>> table_nulls;
  int64_t total = 0;
  std::string text;
  if (format == OutputFormat::kCsv) {
    for (size_t c = 0; c < ncols; ++c) text += (c ? "," : "") + CsvCell(names[c]);
    text += '\n';
  } else if (format == OutputFormat::kJson) {
    text += "[";
  }
  while (true) {
    auto chunk = result->Next();
    if (!chunk.ok()) return Error(Errc::kInvalidArgument, "{}", chunk.status().message());
    if (!*chunk) break;
    const size_t n = chunk->size();
    std::vector<const duckdb_string_t*> data(ncols);
    std::vector<const uint64_t*> valid(ncols);
    for (size_t c = 0; c < ncols; ++c) {
      data[c] = chunk->Data<duckdb_string_t>(c);
      valid[c] = chunk->Validity(c);
    }
    for (size_t r = 0; r < n; ++r, ++total) {
      if (format == OutputFormat::kTable) {
        if (total >= max_table_rows) continue;
        auto& row = table_rows.emplace_back(ncols);
        auto& nulls = table_nulls.emplace_back(ncols);
        for (size_t c = 0; c < ncols; ++c) {
          nulls[c] = !lake::DuckChunk::IsValid(valid[c], r);
          row[c] = nulls[c] ? "NULL" : std::string(lake::DuckChunk::StringAt(data[c], r));
        }
        continue;
      }
      if (format == OutputFormat::kCsv) {
        for (size_t c = 0; c < ncols; ++c) {
          if (c) text += ',';
          if (lake::DuckChunk::IsValid(valid[c], r)) text += CsvCell(std::string(lake::DuckChunk::StringAt(data[c], r)));
        }
        text += '\n';
      } else {
        text += total ? ",\n {" : "{";
        for (size_t c = 0; c < ncols; ++c) {
          if (c) text += ", ";
          AppendJsonString(text, names[c]);
          text += ": ";
          if (!lake::DuckChunk::IsValid(valid[c], r)) {
            text += "null";
            continue;
          }
          const std::string_view v = lake::DuckChunk::StringAt(data[c], r);
          if (numeric[c] && v != "nan" && v != "inf" && v != "-inf") text += v;
          else AppendJsonString(text, v);
        }
        text += "}";
      }
      if (text.size() > (1 << 20)) {
        std::fwrite(text.data(), 1, text.size(), out);
        text.clear();
      }
    }
  }
  if (format == OutputFormat::kJson) text += "]\n";
  if (format != OutputFormat::kTable) {
    std::fwrite(text.data(), 1, text.size(), out);
    return Status::Ok();
  }
  std::vector<size_t> width(ncols);
  for (size_t c = 0; c < ncols; ++c) width[c] = DisplayWidth(names[c]);
  for (const auto& row : table_rows) {
    for (size_t c = 0; c < ncols; ++c) width[c] = std::max(width[c], DisplayWidth(row[c]));
  }
  auto line = [&](const std::vector<std::string>& row, bool header) {
    std::string s;
    for (size_t c = 0; c < ncols; ++c) {
      const size_t pad = width[c] - DisplayWidth(row[c]);
      if (c) s += "  ";
      if (numeric[c] && !header) s += std::string(pad, ' ') + row[c];
      else s += row[c] + (c + 1 < ncols ? std::string(pad, ' ') : "");
    }
    std::fprintf(out, "%s\n", s.c_str());
  };
  line(names, true);
  std::vector<std::string> rule(ncols);
  for (size_t c = 0; c < ncols; ++c) rule[c] = std::string(width[c], '-');
  line(rule, true);
  for (const auto& row : table_rows) line(row, false);
  if (total > max_table_rows) {
    std::fprintf(out, "(%lld rows, first %lld shown; use --format csv for all)\n", static_cast<long long>(total),
                 static_cast<long long>(max_table_rows));
  } else {
    std::fprintf(out, "(%lld row%s)\n", static_cast<long long>(total), total == 1 ? "" : "s");
  }
  return Status::Ok();
}

Result<std::unique_ptr<lake::Lake>> OpenLake(const std::string& path) { return lake::Lake::Open(path); }

void PrintIngestReport(const ingest::IngestReport& r, FILE* out) {
  std::fprintf(out, "ingest: %lld new file%s (%.1f MiB) landed in bronze, %lld already there\n",
               static_cast<long long>(r.new_files), r.new_files == 1 ? "" : "s",
               static_cast<double>(r.new_bytes) / (1 << 20), static_cast<long long>(r.duplicate_files));
  for (const auto& s : r.skipped) std::fprintf(out, "  skipped %s\n", s.c_str());
}

void PrintSilverReport(const pipeline::SilverReport& r, FILE* out) {
  if (r.commit_seq == 0) {
    std::fprintf(out, "silver: up to date (no new bronze files)\n");
    return;
  }
  const auto& a = r.accounting;
  std::fprintf(out,
               "silver: %lld bronze file%s -> %lld hour partition%s in %.2f s (%.0f rows/s)\n"
               "  accounting: %lld bronze rows = %lld stored + %lld quarantined + %lld duplicates%s%s\n",
               static_cast<long long>(r.bronze_files), r.bronze_files == 1 ? "" : "s",
               static_cast<long long>(r.hours_written), r.hours_written == 1 ? "" : "s", r.seconds,
               r.seconds > 0 ? static_cast<double>(a.rows) / r.seconds : 0.0, static_cast<long long>(a.rows),
               static_cast<long long>(a.stored), static_cast<long long>(a.quarantined),
               static_cast<long long>(a.duplicates),
               a.merged > 0 ? fmt::format(" + {} merged", a.merged).c_str() : "",
               a.Balanced() ? "" : "  (DOES NOT BALANCE)");
  std::fprintf(out, "  cpu: parse %.2f s, dedup + write %.2f s (the writer and its encoders)\n", r.parse_seconds, r.write_seconds);
  if (r.late_rows > 0) {
    std::fprintf(out, "  late rows appended to hours already in silver: %lld\n", static_cast<long long>(r.late_rows));
  }
  for (const auto& [reason, n] : a.quarantine_reasons) {
    std::fprintf(out, "  quarantined %-22s %lld\n", reason.c_str(), static_cast<long long>(n));
  }
  if (a.cells_quarantined > 0) {
    std::fprintf(out, "  cells quarantined (row stored, that value NULL): %lld\n",
                 static_cast<long long>(a.cells_quarantined));
    for (const auto& [reason, n] : a.cell_reasons) {
      std::fprintf(out, "    %-22s %lld\n", reason.c_str(), static_cast<long long>(n));
    }
  }
  const pipeline::ParseTotals& p = r.parse;
  std::string notes;
  auto note = [&](int64_t n, const char* what) {
    if (n > 0) notes += fmt::format("{}{} {}", notes.empty() ? "" : ", ", n, what);
  };
  note(p.zoneless_timestamps, "zone-less timestamps (silver.default_timezone applied)");
  note(p.rounded_timestamps, "timestamps rounded to microseconds");
  note(p.null_cells, "null cells");
  note(p.replaced_characters, "invalid characters replaced");
  if (!notes.empty()) std::fprintf(out, "  parsed: %s\n", notes.c_str());
}

void PrintGoldReport(const pipeline::GoldReport& r, FILE* out) {
  if (r.up_to_date) {
    std::fprintf(out, "gold: up to date (silver and detector config unchanged)\n");
    return;
  }
  std::fprintf(out, "gold: %lld rows scored over %lld hours, %lld device-metric baselines in %.2f s (%.0f rows/s)\n",
               static_cast<long long>(r.rows_scanned), static_cast<long long>(r.hours), static_cast<long long>(r.series),
               r.seconds, r.seconds > 0 ? static_cast<double>(r.rows_scanned) / r.seconds : 0.0);
  for (const auto& [d, n] : r.anomalies) {
    std::fprintf(out, "  anomalies by %-14s %lld\n", d.c_str(), static_cast<long long>(n));
  }
  std::fprintf(out, "  files: %lld written, %lld unchanged, %lld removed; %lld summary rows\n",
               static_cast<long long>(r.files_written), static_cast<long long>(r.files_unchanged),
               static_cast<long long>(r.files_deleted), static_cast<long long>(r.summary_rows));
  std::fprintf(out, "  time: moments %.2f s, robust baselines %.2f s, online replay %.2f s, scoring and writing %.2f s\n",
               r.moments_seconds, r.robust_seconds, r.replay_seconds, r.score_seconds);
}

}  // namespace iotad::cli
