// libFuzzer target: the alert log's readers (alert::ChangesFromJson for records,
// alert::StateFromJson for checkpoints) on arbitrary bytes: a damaged record is an error, never a
// crash, and what they accept survives a round trip through the writers unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "iotad/alert/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace iotad;
  const std::string_view json(reinterpret_cast<const char*>(bytes), size);
  if (auto changes = alert::ChangesFromJson(json); changes.ok()) {
    const std::string written = alert::ChangesToJson(*changes);
    const auto back = alert::ChangesFromJson(written);
    IOTAD_FUZZ_CHECK(back.ok());
    IOTAD_FUZZ_CHECK(alert::ChangesToJson(*back) == written);
  } else {
    IOTAD_FUZZ_CHECK(!changes.status().message().empty());
  }
  if (auto state = alert::StateFromJson(json); state.ok()) {
    const std::string written = alert::StateToJson(*state);
    const auto back = alert::StateFromJson(written);
    IOTAD_FUZZ_CHECK(back.ok());
    IOTAD_FUZZ_CHECK(alert::StateToJson(*back) == written);
  } else {
    IOTAD_FUZZ_CHECK(!state.status().message().empty());
  }
  return 0;
}
