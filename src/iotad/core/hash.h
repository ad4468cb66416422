#pragma once
// Content hashing for content-addressed names (bronze files, gold outputs) and hash tables.
#include <cstdint>
#include <string>
#include <string_view>

namespace iotad {

/// 128-bit MurmurHash3 (x64). Not cryptographic: it names content, it does not authenticate it.
struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  /// 32 lowercase hex digits.
  std::string Hex() const;
  bool operator==(const Hash128&) const = default;
};

/// Incremental hasher: feed any number of chunks; the digest equals hashing their concatenation.
class ContentHasher {
 public:
  explicit ContentHasher(uint64_t seed = 0x10Ad) : h1_(seed), h2_(seed) {}
  void Update(std::string_view data);
  Hash128 Finish();

 private:
  void Block(const unsigned char* p);
  uint64_t h1_, h2_;
  uint64_t total_ = 0;
  unsigned char tail_[16];
  size_t tail_len_ = 0;
};

Hash128 HashBytes(std::string_view data, uint64_t seed = 0x10Ad);

/// Fast 64-bit hash for short keys (device ids): eight bytes at a time.
inline uint64_t HashShort(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (s.size() * 0xff51afd7ed558ccdULL);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < s.size(); ++k) tail |= static_cast<uint64_t>(static_cast<unsigned char>(s[i + k])) << (8 * k);
  h = (h ^ tail) * 0x94d049bb133111ebULL;
  h ^= h >> 29;
  return h;
}

}  // namespace iotad
