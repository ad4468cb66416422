#pragma once
// Shared by the libFuzzer targets: an invariant check that aborts with a message (libFuzzer
// then saves the input as a crash), and the switch for checks that hold only once issue 7's
// parser work is merged.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace iotad::fuzz {

[[noreturn]] inline void Fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant violated at %s:%d: %s\n", file, line, what);
  std::abort();
}

/// Strict checks (the parser promises of issue 7: every physical line counted, text handed to the
/// sink is valid UTF-8, `raw` bounded) are on when built with -DIOTAD_FUZZ_STRICT=1 or when the
/// environment has IOTAD_FUZZ_STRICT=1; off otherwise.
inline bool Strict() {
#if defined(IOTAD_FUZZ_STRICT) && IOTAD_FUZZ_STRICT
  return true;
#else
  static const bool on = [] {
    const char* v = std::getenv("IOTAD_FUZZ_STRICT");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return on;
#endif
}

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace iotad::fuzz

#define IOTAD_FUZZ_CHECK(cond) \
  do {                         \
    if (!(cond)) ::iotad::fuzz::Fail(#cond, __FILE__, __LINE__); \
  } while (0)
