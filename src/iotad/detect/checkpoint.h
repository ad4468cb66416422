#pragma once
// Plain-bytes state blocks for detector checkpoints (SeriesDetector::SaveState/RestoreState).
// A detector's state is made of value types (online.h, checks.h), so each block is copied as it
// lies in memory: the layout of this build, which is why a checkpoint records every detector's
// name and version and a reader refuses any other.
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "iotad/core/result.h"

namespace iotad::detect {

/// Appends the bytes of each block.
template <typename... T>
void SaveBlocks(std::string& out, const T&... blocks) {
  static_assert((std::is_trivially_copyable_v<T> && ...), "a state block must be plain bytes");
  (out.append(reinterpret_cast<const char*>(&blocks), sizeof(T)), ...);
}

/// Reads the blocks SaveBlocks wrote from the front of `in` (all or nothing).
template <typename... T>
Status RestoreBlocks(std::string_view& in, std::string_view detector, T&... blocks) {
  static_assert((std::is_trivially_copyable_v<T> && ...), "a state block must be plain bytes");
  constexpr size_t kBytes = (sizeof(T) + ... + 0);
  if (in.size() < kBytes) {
    return Error(Errc::kCorrupt, "checkpoint: the state of detector {} is {} bytes, expected {}", detector,
                 in.size(), kBytes);
  }
  ((std::memcpy(static_cast<void*>(&blocks), in.data(), sizeof(T)), in.remove_prefix(sizeof(T))), ...);
  return Status::Ok();
}

}  // namespace iotad::detect
