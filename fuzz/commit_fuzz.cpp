// libFuzzer target: lake::CommitFromJson (the commit-record reader) on arbitrary bytes. A record
// it accepts survives a round trip through CommitToJson unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "iotad/lake/lake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad;
  const std::string_view json(reinterpret_cast<const char*>(bytes), size);
  const auto commit = lake::CommitFromJson(json, "_iotad/log/fuzz.json");
  if (!commit.ok()) {
    IOTAD_FUZZ_CHECK(!commit.status().message().empty());
    return 0;
  }
  const std::string written = lake::CommitToJson(*commit);
  const auto back = lake::CommitFromJson(written, "_iotad/log/fuzz.json");
  IOTAD_FUZZ_CHECK(back.ok());
  IOTAD_FUZZ_CHECK(back->seq == commit->seq);
  IOTAD_FUZZ_CHECK(back->stage == commit->stage);
  IOTAD_FUZZ_CHECK(back->run_id == commit->run_id);
  IOTAD_FUZZ_CHECK(back->committed_at_us == commit->committed_at_us);
  IOTAD_FUZZ_CHECK(back->moves == commit->moves);
  IOTAD_FUZZ_CHECK(back->deletes == commit->deletes);
  IOTAD_FUZZ_CHECK(back->inputs == commit->inputs);
  IOTAD_FUZZ_CHECK(back->meta_json == commit->meta_json);
  return 0;
}
