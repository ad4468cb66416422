#include "iotad/lake/duck.h"

#include <cctype>
#include <filesystem>

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

/// A minimal SQL lexer, enough to find a COPY's target and strip an EXPLAIN prefix: words,
/// string literals ('..', E'..', $tag$..$tag$), quoted identifiers, comments, punctuation.
struct SqlToken {
  enum Kind { kEnd, kWord, kString, kQuotedIdent, kPunct, kBad } kind = kEnd;
  std::string text;  // lower-cased word, or the unescaped string value, or the punctuation
  size_t begin = 0, end = 0;
};

size_t SkipSpaceAndComments(std::string_view s, size_t i) {
  for (;;) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (s.compare(i, 2, "--") == 0) {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (s.compare(i, 2, "/*") == 0) {
      const size_t close = s.find("*/", i + 2);
      if (close == std::string_view::npos) return s.size();
      i = close + 2;
    } else {
      return i;
    }
  }
}

SqlToken NextToken(std::string_view s, size_t i) {
  SqlToken t;
  i = SkipSpaceAndComments(s, i);
  t.begin = i;
  if (i >= s.size()) {
    t.end = i;
    return t;
  }
  auto quoted = [&](size_t open, char quote, bool backslash, SqlToken::Kind kind) {
    t.kind = SqlToken::kBad;
    for (size_t j = open + 1; j < s.size(); ++j) {
      if (backslash && s[j] == '\\' && j + 1 < s.size()) {
        t.text += s[++j];
      } else if (s[j] == quote) {
        if (j + 1 < s.size() && s[j + 1] == quote) {
          t.text += quote;
          ++j;
        } else {
          t.kind = kind;
          t.end = j + 1;
          return t;
        }
      } else {
        t.text += s[j];
      }
    }
    t.end = s.size();
    return t;
  };
  const char c = s[i];
  if ((c == 'e' || c == 'E') && i + 1 < s.size() && s[i + 1] == '\'') return quoted(i + 1, '\'', true, SqlToken::kString);
  if (c == '\'') return quoted(i, '\'', false, SqlToken::kString);
  if (c == '"') return quoted(i, '"', false, SqlToken::kQuotedIdent);
  if (c == '$') {
    size_t j = i + 1;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    if (j < s.size() && s[j] == '$') {
      const std::string tag(s.substr(i, j + 1 - i));
      const size_t close = s.find(tag, j + 1);
      if (close == std::string_view::npos) {
        t.kind = SqlToken::kBad;
        t.end = s.size();
        return t;
      }
      t.kind = SqlToken::kString;
      t.text = std::string(s.substr(j + 1, close - j - 1));
      t.end = close + tag.size();
      return t;
    }
  }
  if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
    size_t j = i;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '$')) {
      t.text += static_cast<char>(std::tolower(static_cast<unsigned char>(s[j])));
      ++j;
    }
    t.kind = SqlToken::kWord;
    t.end = j;
    return t;
  }
  t.kind = SqlToken::kPunct;
  t.text = std::string(1, c);
  t.end = i + 1;
  return t;
}

/// `path` is `dir` or below it (both absolute and canonical).
bool IsWithin(const std::filesystem::path& path, const std::filesystem::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

std::string StatementName(duckdb_statement_type type) {
  switch (type) {
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "transaction";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_ANALYZE: return "ANALYZE";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE FUNCTION";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "INSTALL/LOAD";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    default: return "non-reading";
  }
}

Status PrepareError(const char* raw) {
  std::string msg = raw ? raw : "the statement cannot be prepared";
  if (const size_t at = msg.find("\nLINE "); at != std::string::npos) msg.resize(at);
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  return Error(Errc::kInvalidArgument, "sql: {}", msg);
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
  // The database is shared by the sessions Connect() makes; the last one closes it.
  s->database_owner_ = std::shared_ptr<void>(s->database_, [](void* db) {
    auto handle = static_cast<duckdb_database>(db);
    duckdb_close(&handle);
  });
  if (duckdb_connect(s->database_, &s->connection_) != DuckDBSuccess) {
    return Error(Errc::kInternal, "duckdb: cannot connect");
  }
  // Every timestamp iotad shows is UTC.
  IOTAD_TRY(s->Exec("SET TimeZone = 'UTC'"));
  return s;
}

DuckSession::~DuckSession() {
  if (connection_ != nullptr) duckdb_disconnect(&connection_);
  database_owner_.reset();  // closes the database when no other session shares it
}

Result<std::unique_ptr<DuckSession>> DuckSession::Connect() {
  std::unique_ptr<DuckSession> s(new DuckSession());
  s->database_ = database_;
  s->database_owner_ = database_owner_;
  s->table_functions_ = table_functions_;
  s->restricted_ = restricted_;
  s->write_dir_ = write_dir_;
  if (duckdb_connect(s->database_, &s->connection_) != DuckDBSuccess) {
    return Error(Errc::kInternal, "duckdb: cannot connect");
  }
  // TimeZone is a session setting: every timestamp iotad shows is UTC. A locked configuration
  // refuses SET (it was set on the first connection before the lock, and DuckDB keeps the
  // database's default then, which RestrictToReadOnly's caller set to UTC first).
  if (!restricted_) IOTAD_TRY(s->Exec("SET TimeZone = 'UTC'"));
  return s;
}

void DuckSession::Interrupt() {
  if (connection_ != nullptr) duckdb_interrupt(connection_);
}

Result<DuckResult> DuckSession::QueryParams(std::string_view sql, const std::vector<DuckParam>& params) {
  const std::string text(sql);
  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare(connection_, text.c_str(), &prepared) != DuckDBSuccess) {
    std::string msg = duckdb_prepare_error(prepared) ? duckdb_prepare_error(prepared) : "prepare failed";
    duckdb_destroy_prepare(&prepared);
    return Error(Errc::kInternal, "sql: {}", msg);
  }
  struct Guard {
    duckdb_prepared_statement* p;
    ~Guard() { duckdb_destroy_prepare(p); }
  } guard{&prepared};
  const idx_t expected = duckdb_nparams(prepared);
  if (expected != params.size()) {
    return Error(Errc::kInternal, "sql: the statement has {} parameters, {} were given", expected, params.size());
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const idx_t at = i + 1;
    const DuckParam& p = params[i];
    duckdb_state rc = DuckDBError;
    if (std::holds_alternative<std::nullptr_t>(p)) {
      rc = duckdb_bind_null(prepared, at);
    } else if (const bool* b = std::get_if<bool>(&p)) {
      rc = duckdb_bind_boolean(prepared, at, *b);
    } else if (const int64_t* n = std::get_if<int64_t>(&p)) {
      rc = duckdb_bind_int64(prepared, at, *n);
    } else if (const double* d = std::get_if<double>(&p)) {
      rc = duckdb_bind_double(prepared, at, *d);
    } else if (const std::string* str = std::get_if<std::string>(&p)) {
      rc = duckdb_bind_varchar_length(prepared, at, str->data(), str->size());
    } else if (const DuckTimestamp* ts = std::get_if<DuckTimestamp>(&p)) {
      duckdb_timestamp t;
      t.micros = ts->us;
      rc = duckdb_bind_timestamp_tz(prepared, at, t);
    }
    if (rc != DuckDBSuccess) {
      const char* err = duckdb_prepare_error(prepared);
      return Error(Errc::kInternal, "sql: cannot bind parameter {}{}{}", at, err ? ": " : "", err ? err : "");
    }
  }
  duckdb_result result;
  if (duckdb_execute_prepared(prepared, &result) != DuckDBSuccess) return ResultError(result, sql);
  return DuckResult(result);
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

Status DuckSession::RestrictToReadOnly(const std::vector<std::string>& read_dirs, const std::string& write_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> allowed;
  auto add_dir = [&](const std::string& dir) -> Result<std::string> {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(fs::absolute(dir, ec), ec);
    if (ec) return Error(Errc::kIo, "sql: cannot resolve the folder '{}': {}", dir, ec.message());
    std::string text = canonical.string();
    if (text.empty() || text.back() != '/') text += '/';  // a prefix: /lake/silver/ and not /lake/silver2
    allowed.push_back(text);
    return text;
  };
  for (const auto& dir : read_dirs) IOTAD_TRY(add_dir(dir).status());
  write_dir_.clear();
  if (!write_dir.empty()) {
    IOTAD_ASSIGN_OR_RETURN(write_dir_, add_dir(write_dir));
  }
  // Order matters: the allowed folders can only be set while external access is on, and the
  // lock comes last so no later SET (of these or of anything) is possible.
  IOTAD_TRY(Exec("SET autoinstall_known_extensions = false"));
  IOTAD_TRY(Exec("SET autoload_known_extensions = false"));
  IOTAD_TRY(Exec("SET allow_community_extensions = false"));
  IOTAD_TRY(Exec(fmt::format("SET allowed_directories = {}", SqlList(allowed))));
  IOTAD_TRY(Exec("SET enable_external_access = false"));
  IOTAD_TRY(Exec("SET lock_configuration = true"));
  restricted_ = true;
  return Status::Ok();
}

Status DuckSession::CheckStatement(std::string_view sql) {
  if (!restricted_) return Error(Errc::kInternal, "sql: CheckStatement before RestrictToReadOnly");
  const std::string text(sql);
  duckdb_extracted_statements extracted = nullptr;
  const idx_t count = duckdb_extract_statements(connection_, text.c_str(), &extracted);
  Status st;
  if (count == 0) {
    const char* err = duckdb_extract_statements_error(extracted);
    st = err != nullptr ? PrepareError(err) : Error(Errc::kInvalidArgument, "sql: the query holds no statement");
  }
  if (count > 1) st = Error(Errc::kInvalidArgument, "sql: give one statement at a time (this query holds {})", count);
  if (count == 1) st = CheckOne(extracted, 0, sql, 0);
  duckdb_destroy_extracted(&extracted);
  return st;
}

Status DuckSession::CheckOne(duckdb_extracted_statements extracted, idx_t index, std::string_view sql, int depth) {
  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare_extracted_statement(connection_, extracted, index, &prepared) != DuckDBSuccess) {
    Status st = PrepareError(duckdb_prepare_error(prepared));
    duckdb_destroy_prepare(&prepared);
    return st;
  }
  const duckdb_statement_type type = duckdb_prepared_statement_type(prepared);
  duckdb_destroy_prepare(&prepared);
  // DESCRIBE, SHOW, SUMMARIZE, FROM t, VALUES and PRAGMA table_info/show_tables are planned as SELECT.
  if (type == DUCKDB_STATEMENT_TYPE_SELECT) return Status::Ok();
  if (type == DUCKDB_STATEMENT_TYPE_EXPLAIN && depth == 0) {
    // EXPLAIN ANALYZE runs its statement: what follows EXPLAIN [ANALYZE] [(options)] must pass too.
    size_t at = NextToken(sql, 0).end;  // EXPLAIN
    SqlToken t = NextToken(sql, at);
    if (t.kind == SqlToken::kWord && (t.text == "analyze" || t.text == "analyse")) {
      at = t.end;
      t = NextToken(sql, at);
    }
    if (t.kind == SqlToken::kPunct && t.text == "(") {
      int open = 0;
      do {
        if (t.kind == SqlToken::kEnd || t.kind == SqlToken::kBad) break;
        if (t.kind == SqlToken::kPunct && t.text == "(") ++open;
        if (t.kind == SqlToken::kPunct && t.text == ")") --open;
        at = t.end;
        t = NextToken(sql, at);
      } while (open > 0);
    }
    const std::string inner(sql.substr(std::min(at, sql.size())));
    duckdb_extracted_statements inner_extracted = nullptr;
    const idx_t n = duckdb_extract_statements(connection_, inner.c_str(), &inner_extracted);
    Status st = n == 1 ? CheckOne(inner_extracted, 0, inner, depth + 1)
                       : Error(Errc::kInvalidArgument, "sql: EXPLAIN must be followed by one reading statement");
    duckdb_destroy_extracted(&inner_extracted);
    return st;
  }
  if (type == DUCKDB_STATEMENT_TYPE_COPY && !write_dir_.empty()) return CheckCopyTarget(sql);
  return Error(Errc::kInvalidArgument,
               "sql: {} statements are refused: `iotad sql` only reads the lake (SELECT, EXPLAIN, DESCRIBE, SHOW, "
               "SUMMARIZE){}",
               StatementName(type),
               type == DUCKDB_STATEMENT_TYPE_COPY ? ", and COPY ... TO writes only with --allow-writes DIR, into DIR"
                                                  : "");
}

Status DuckSession::CheckCopyTarget(std::string_view sql) {
  namespace fs = std::filesystem;
  // COPY <table or (query)> TO 'path' [options]: the first TO or FROM outside parentheses.
  size_t at = NextToken(sql, 0).end;  // COPY
  int depth = 0;
  for (SqlToken t = NextToken(sql, at);; t = NextToken(sql, at)) {
    if (t.kind == SqlToken::kEnd || t.kind == SqlToken::kBad) break;
    at = t.end;
    if (t.kind == SqlToken::kPunct && t.text == "(") ++depth;
    if (t.kind == SqlToken::kPunct && t.text == ")") --depth;
    if (depth != 0 || t.kind != SqlToken::kWord || (t.text != "to" && t.text != "from")) continue;
    if (t.text == "from") break;
    const SqlToken target = NextToken(sql, at);
    if (target.kind != SqlToken::kString) break;
    // DuckDB expands ~ and strips file:// style prefixes, which a path check here would miss;
    // and ".." in an option (FILENAME_PATTERN) could lead a file out of the folder.
    const size_t colon = target.text.find(':'), slash = target.text.find('/');
    bool odd = target.text.empty() || target.text[0] == '~' || (colon != std::string::npos && colon < slash);
    for (SqlToken o = NextToken(sql, target.end); o.kind != SqlToken::kEnd; o = NextToken(sql, o.end)) {
      if (o.kind == SqlToken::kBad || (o.kind == SqlToken::kString && o.text.find("..") != std::string::npos)) {
        odd = true;
        break;
      }
    }
    if (odd) {
      return Error(Errc::kInvalidArgument,
                   "sql: COPY needs a plain file path below {} (no ~, no scheme, no '..' in its options), not '{}'",
                   write_dir_, target.text);
    }
    std::error_code ec;
    const fs::path path = fs::weakly_canonical(fs::absolute(target.text, ec), ec);
    if (!ec && IsWithin(path, fs::path(write_dir_))) return Status::Ok();
    return Error(Errc::kInvalidArgument, "sql: COPY may only write below {} (the --allow-writes folder), not to '{}'",
                 write_dir_, target.text);
  }
  return Error(Errc::kInvalidArgument,
               "sql: only COPY ... TO 'path' is allowed, with the path a quoted string below {} (the --allow-writes "
               "folder)",
               write_dir_);
}

duckdb_type DuckTypeOf(ColumnType type) {
  switch (type) {
    case ColumnType::kBoolean: return DUCKDB_TYPE_BOOLEAN;
    case ColumnType::kInteger: return DUCKDB_TYPE_INTEGER;
    case ColumnType::kBigint: return DUCKDB_TYPE_BIGINT;
    case ColumnType::kDouble: return DUCKDB_TYPE_DOUBLE;
    case ColumnType::kVarchar: return DUCKDB_TYPE_VARCHAR;
    case ColumnType::kTimestampTz: return DUCKDB_TYPE_TIMESTAMP_TZ;
    case ColumnType::kDate: return DUCKDB_TYPE_DATE;
    case ColumnType::kJson: return DUCKDB_TYPE_VARCHAR;
  }
  return DUCKDB_TYPE_VARCHAR;
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
