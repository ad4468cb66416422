#include "iotad/lake/duck.h"

namespace iotad::lake {
namespace {

Status ResultError(duckdb_result& result, std::string_view sql) {
  const char* err = duckdb_result_error(&result);
  std::string msg = err ? err : "unknown DuckDB error";
  duckdb_destroy_result(&result);
  std::string head(sql.substr(0, 160));
  for (char& c : head) {
    if (c == '\n') c = ' ';
  }
  return Error(Errc::kInternal, "sql: {}{}", msg,
               sql.size() > 0 ? fmt::format(" (in: {}{})", head, sql.size() > 160 ? "..." : "") : "");
}

}  // namespace

Result<DuckChunk> DuckResult::Next() {
  duckdb_data_chunk chunk = duckdb_fetch_chunk(result_);
  if (chunk == nullptr) {
    const char* err = duckdb_result_error(&result_);
    if (err != nullptr && *err != '\0') return Error(Errc::kInternal, "sql: {}", err);
    return DuckChunk();
  }
  return DuckChunk(chunk);
}

Result<std::unique_ptr<DuckSession>> DuckSession::Open(const DuckSessionOptions& options) {
  std::unique_ptr<DuckSession> s(new DuckSession());
  duckdb_config config;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    return Error(Errc::kInternal, "duckdb: cannot create a configuration");
  }
  if (options.threads > 0) {
    duckdb_set_config(config, "threads", std::to_string(options.threads).c_str());
  }
  if (!options.memory_limit.empty()) duckdb_set_config(config, "memory_limit", options.memory_limit.c_str());
  if (!options.temp_directory.empty()) {
    duckdb_set_config(config, "temp_directory", options.temp_directory.c_str());
  }
  // Our lake files never need network access or extension downloads.
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  char* open_error = nullptr;
  const duckdb_state rc = duckdb_open_ext(nullptr, &s->database_, config, &open_error);
  duckdb_destroy_config(&config);
  if (rc != DuckDBSuccess) {
    std::string msg = open_error ? open_error : "unknown error";
    if (open_error) duckdb_free(open_error);
    return Error(Errc::kInternal, "duckdb: cannot open a database: {}", msg);
  }
  if (duckdb_connect(s->database_, &s->connection_) != DuckDBSuccess) {
    return Error(Errc::kInternal, "duckdb: cannot connect");
  }
  // Every timestamp iotad shows is UTC.
  IOTAD_TRY(s->Exec("SET TimeZone = 'UTC'"));
  return s;
}

DuckSession::~DuckSession() {
  if (connection_ != nullptr) duckdb_disconnect(&connection_);
  if (database_ != nullptr) duckdb_close(&database_);
}

Status DuckSession::Exec(std::string_view sql) {
  duckdb_result result;
  const std::string text(sql);
  if (duckdb_query(connection_, text.c_str(), &result) != DuckDBSuccess) return ResultError(result, sql);
  duckdb_destroy_result(&result);
  return Status::Ok();
}

Result<DuckResult> DuckSession::Query(std::string_view sql) {
  duckdb_result result;
  const std::string text(sql);
  if (duckdb_query(connection_, text.c_str(), &result) != DuckDBSuccess) return ResultError(result, sql);
  return DuckResult(result);
}

Result<DuckResult> DuckSession::Stream(std::string_view sql) {
  const std::string text(sql);
  duckdb_prepared_statement prepared;
  if (duckdb_prepare(connection_, text.c_str(), &prepared) != DuckDBSuccess) {
    std::string msg = duckdb_prepare_error(prepared) ? duckdb_prepare_error(prepared) : "prepare failed";
    duckdb_destroy_prepare(&prepared);
    return Error(Errc::kInternal, "sql: {}", msg);
  }
  duckdb_pending_result pending;
  if (duckdb_pending_prepared_streaming(prepared, &pending) != DuckDBSuccess) {
    std::string msg = duckdb_pending_error(pending) ? duckdb_pending_error(pending) : "execution failed";
    duckdb_destroy_pending(&pending);
    duckdb_destroy_prepare(&prepared);
    return Error(Errc::kInternal, "sql: {}", msg);
  }
  duckdb_result result;
  const duckdb_state rc = duckdb_execute_pending(pending, &result);
  duckdb_destroy_pending(&pending);
  duckdb_destroy_prepare(&prepared);
  if (rc != DuckDBSuccess) return ResultError(result, sql);
  return DuckResult(result);
}

Result<int64_t> DuckSession::QueryInt(std::string_view sql) {
  duckdb_result result;
  const std::string text(sql);
  if (duckdb_query(connection_, text.c_str(), &result) != DuckDBSuccess) return ResultError(result, sql);
  int64_t v = 0;
  if (duckdb_row_count(&result) > 0 && !duckdb_value_is_null(&result, 0, 0)) {
    v = duckdb_value_int64(&result, 0, 0);
  }
  duckdb_destroy_result(&result);
  return v;
}

std::string SqlQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string SqlIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string SqlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += SqlQuote(items[i]);
  }
  out += "]";
  return out;
}

}  // namespace iotad::lake
