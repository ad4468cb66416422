#include "iotad/lake/parquet_writer.h"

#include <mutex>
#include <unordered_map>

#include "iotad/lake/duck.h"

namespace iotad::lake {
namespace {

/// Sources currently exposed to DuckDB, by id. One per process: ids are unique across sessions.
struct SourceRegistry {
  std::mutex mu;
  std::unordered_map<int64_t, ChunkSource*> sources;
  int64_t next_id = 1;
};

SourceRegistry& Registry() {
  static SourceRegistry registry;
  return registry;
}

void Bind(duckdb_bind_info info) {
  duckdb_value param = duckdb_bind_get_parameter(info, 0);
  const int64_t id = duckdb_get_int64(param);
  duckdb_destroy_value(&param);
  ChunkSource* source = nullptr;
  {
    auto& reg = Registry();
    std::lock_guard<std::mutex> lock(reg.mu);
    auto it = reg.sources.find(id);
    if (it != reg.sources.end()) source = it->second;
  }
  if (source == nullptr) {
    duckdb_bind_set_error(info, "iotad_rows: unknown source id");
    return;
  }
  for (const auto& c : source->columns()) {
    duckdb_logical_type t = duckdb_create_logical_type(DuckTypeOf(c.type));
    duckdb_bind_add_result_column(info, c.name.c_str(), t);
    duckdb_destroy_logical_type(&t);
  }
  duckdb_bind_set_bind_data(info, source, nullptr);
}

void Init(duckdb_init_info /*info*/) {}

void Produce(duckdb_function_info info, duckdb_data_chunk output) {
  auto* source = static_cast<ChunkSource*>(duckdb_function_get_bind_data(info));
  ChunkFiller filler(output);
  duckdb_data_chunk_set_size(output, source->Fill(filler));
}

Status EnsureRegistered(DuckSession& session) {
  if (session.HasTableFunction("iotad_rows")) return Status::Ok();
  duckdb_table_function tf = duckdb_create_table_function();
  duckdb_table_function_set_name(tf, "iotad_rows");
  duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  duckdb_table_function_add_parameter(tf, bigint);
  duckdb_destroy_logical_type(&bigint);
  duckdb_table_function_set_bind(tf, Bind);
  duckdb_table_function_set_init(tf, Init);
  duckdb_table_function_set_function(tf, Produce);
  const duckdb_state rc = duckdb_register_table_function(session.connection(), tf);
  duckdb_destroy_table_function(&tf);
  if (rc != DuckDBSuccess) return Error(Errc::kInternal, "duckdb: cannot register the iotad_rows table function");
  session.MarkTableFunction("iotad_rows");
  return Status::Ok();
}

}  // namespace

void* ChunkFiller::ColumnData(size_t col) {
  return duckdb_vector_get_data(duckdb_data_chunk_get_vector(static_cast<duckdb_data_chunk>(chunk_), col));
}

void ChunkFiller::SetNull(size_t col, size_t row) {
  duckdb_vector v = duckdb_data_chunk_get_vector(static_cast<duckdb_data_chunk>(chunk_), col);
  duckdb_vector_ensure_validity_writable(v);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
}

void ChunkFiller::SetString(size_t col, size_t row, std::string_view value) {
  duckdb_vector_assign_string_element_len(duckdb_data_chunk_get_vector(static_cast<duckdb_data_chunk>(chunk_), col),
                                          row, value.data(), value.size());
}

Status WriteParquet(DuckSession& session, ChunkSource& source, const std::filesystem::path& local_file,
                    std::string_view compression) {
  IOTAD_TRY(EnsureRegistered(session));
  auto& reg = Registry();
  int64_t id;
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    id = reg.next_id++;
    reg.sources[id] = &source;
  }
  Status st = session.Exec(fmt::format("COPY (SELECT * FROM iotad_rows({})) TO {} (FORMAT parquet, COMPRESSION {})",
                                       id, SqlQuote(local_file.string()), compression));
  std::lock_guard<std::mutex> lock(reg.mu);
  reg.sources.erase(id);
  return st;
}

}  // namespace iotad::lake
