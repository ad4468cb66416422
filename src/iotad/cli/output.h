#pragma once
// Printing query results (aligned table, CSV, JSON) and stage reports for the CLI.
#include <cstdio>
#include <memory>
#include <string>

#include "iotad/core/result.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/lake.h"
#include "iotad/pipeline/run.h"

namespace iotad::cli {

enum class OutputFormat { kTable, kCsv, kJson };

Result<OutputFormat> ParseOutputFormat(std::string_view name);

/// Runs `sql` and prints its result; statements without a result print nothing.
Status PrintQuery(lake::DuckSession& session, const std::string& sql, OutputFormat format, FILE* out = stdout,
                  int64_t max_table_rows = 1000);

/// Opens the lake named by --lake / $IOTAD_LAKE / "." with a message that says how to make one.
Result<std::unique_ptr<lake::Lake>> OpenLake(const std::string& path);

void PrintIngestReport(const ingest::IngestReport& r, FILE* out = stdout);
void PrintSilverReport(const pipeline::SilverReport& r, FILE* out = stdout);
void PrintGoldReport(const pipeline::GoldReport& r, FILE* out = stdout);

}  // namespace iotad::cli
