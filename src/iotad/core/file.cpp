#include "iotad/core/file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace iotad {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Error(errno == ENOENT ? Errc::kNotFound : Errc::kIo, "cannot read '{}': {}", path, std::strerror(errno));
  }
  std::string text;
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, n);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return Error(Errc::kIo, "cannot read '{}'", path);
  return text;
}

}  // namespace iotad
