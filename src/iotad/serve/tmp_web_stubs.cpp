// Temporary: the symbols of i10-server and i10-api that `iotad report` links against, until
// those branches are merged (then this file is deleted).
#include "iotad/serve/api.h"
#include "iotad/serve/assets.h"

namespace iotad::serve {
struct Api::Impl {};
Api::Api(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Api::~Api() = default;
Result<std::unique_ptr<Api>> Api::Open(const std::filesystem::path&, const ApiOptions&, const Clock&) {
  return Error(Errc::kInternal, "serve: the API is not built yet");
}
Response Api::Handle(const Request&) { return {}; }
std::span<const Asset> Assets() { return {}; }
const Asset* FindAsset(std::string_view) { return nullptr; }
}  // namespace iotad::serve
