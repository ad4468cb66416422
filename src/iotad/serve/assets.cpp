#include "iotad/serve/assets.h"

#include <cstddef>

namespace iotad::serve {
namespace generated {
// assets_data.cpp, generated at build time (cmake/embed_assets.cmake).
extern const Asset kAssets[];
extern const size_t kAssetCount;
}  // namespace generated

std::span<const Asset> Assets() { return {generated::kAssets, generated::kAssetCount}; }

const Asset* FindAsset(std::string_view name) {
  if (name.empty()) return nullptr;
  for (const Asset& asset : Assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

}  // namespace iotad::serve
