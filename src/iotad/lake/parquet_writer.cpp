#include "iotad/lake/parquet_writer.h"

namespace iotad::lake {

std::string SqlTypeName(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMPTZ";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    default: return "VARCHAR";
  }
}

Result<std::unique_ptr<ParquetFileWriter>> ParquetFileWriter::Make(DuckSession& session, std::string table,
                                                                   std::vector<ColumnSpec> columns,
                                                                   std::string compression) {
  std::unique_ptr<ParquetFileWriter> w(new ParquetFileWriter(session));
  w->table_ = std::move(table);
  w->columns_ = std::move(columns);
  w->compression_ = std::move(compression);
  std::string cols;
  for (const auto& c : w->columns_) {
    cols += fmt::format("{}{} {}", cols.empty() ? "" : ", ", SqlIdent(c.name), SqlTypeName(c.type));
  }
  IOTAD_TRY(session.Exec(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({})", SqlIdent(w->table_), cols)));
  IOTAD_TRY(w->Reopen());
  return w;
}

ParquetFileWriter::~ParquetFileWriter() {
  appender_.reset();
  (void)session_.Exec(fmt::format("DROP TABLE IF EXISTS {}", SqlIdent(table_)));
}

Status ParquetFileWriter::Reopen() {
  std::vector<duckdb_type> types;
  for (const auto& c : columns_) types.push_back(c.type);
  IOTAD_ASSIGN_OR_RETURN(appender_, ChunkAppender::Make(session_, table_, types));
  return Status::Ok();
}

Status ParquetFileWriter::Finish(const std::filesystem::path& local_file, std::string_view order_by) {
  IOTAD_TRY(appender_->Close());
  appender_.reset();
  const std::string source = order_by.empty()
                                 ? SqlIdent(table_)
                                 : fmt::format("(SELECT * FROM {} ORDER BY {})", SqlIdent(table_), order_by);
  IOTAD_TRY(session_.Exec(fmt::format("COPY {} TO {} (FORMAT parquet, COMPRESSION {})", source,
                                      SqlQuote(local_file.string()), compression_)));
  IOTAD_TRY(session_.Exec(fmt::format("DELETE FROM {}", SqlIdent(table_))));
  rows_ = 0;
  return Reopen();
}

}  // namespace iotad::lake
