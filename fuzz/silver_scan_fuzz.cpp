// libFuzzer target: silver's own Parquet reader (lake::ScanSilverFiles) on arbitrary bytes as a
// silver file. A file it takes for the silver encoder's (a footer naming "iotad version", flat
// OPTIONAL columns, row groups it could have written) is read to the end or refused with
// kCorrupt: never a crash, a hang, another error, an allocation past the fuzzer's limit, or an
// empty or oversized chunk. Other files go to DuckDB in the product; they are not this target's.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "iotad/lake/duck.h"
#include "iotad/lake/silver_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad;
  static std::unique_ptr<lake::DuckSession> session = [] {
    auto s = lake::DuckSession::Open({});
    IOTAD_FUZZ_CHECK(s.ok());
    return std::move(*s);
  }();
  static const std::string path = "/tmp/iotad_fuzz_silver_scan_" + std::to_string(::getpid()) + ".parquet";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(size));
  }
  const std::vector<std::string> columns{"event_time", "device_id", "location", "temp_c", "humidity_pc", "vibration_g"};
  if (!lake::ScansNatively({path}, columns)) return 0;
  auto stream = lake::ScanSilverFiles(*session, {path}, columns);
  IOTAD_FUZZ_CHECK(stream.ok() || stream.status().code() == Errc::kCorrupt);
  if (!stream.ok()) return 0;
  while (true) {
    auto chunk = (*stream)->Next();
    if (!chunk.ok()) {
      IOTAD_FUZZ_CHECK(chunk.status().code() == Errc::kCorrupt);
      break;
    }
    if (!*chunk) break;
    IOTAD_FUZZ_CHECK(chunk->size() > 0 && chunk->size() <= 2048);
    // Touch every string cell: a pointer into freed or foreign memory shows under ASan. (Only a
    // VARCHAR column has string cells: a file may type device_id or location otherwise, and its
    // column then comes out as numbers, 8 bytes a row. The stream's ColumnType says so, as the
    // pipeline's readers ask it.)
    for (size_t c = 0; c < (*stream)->ColumnCount(); ++c) {
      if ((*stream)->ColumnName(c) != "device_id" && (*stream)->ColumnName(c) != "location") continue;
      if ((*stream)->ColumnType(c) != DUCKDB_TYPE_VARCHAR) continue;
      const lake::DuckStrings s = chunk->Strings(c);
      size_t sum = 0;
      for (size_t r = 0; r < chunk->size(); ++r) {
        if (lake::DuckChunk::IsValid(chunk->Validity(c), r)) sum += s[r].size() + (s[r].empty() ? 0 : s[r][0]);
      }
      (void)sum;
    }
  }
  return 0;
}
