#include "iotad/core/hash.h"

#include <cstring>

namespace iotad {
namespace {

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t Fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}
constexpr uint64_t kC1 = 0x87c37b91114253d5ULL;
constexpr uint64_t kC2 = 0x4cf5ad432745937fULL;

}  // namespace

std::string Hash128::Hex() const {
  static const char* kDigits = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(hi >> (4 * i)) & 15];
    out[31 - i] = kDigits[(lo >> (4 * i)) & 15];
  }
  return out;
}

void ContentHasher::Block(const unsigned char* p) {
  uint64_t k1, k2;
  std::memcpy(&k1, p, 8);
  std::memcpy(&k2, p + 8, 8);
  k1 *= kC1; k1 = Rotl(k1, 31); k1 *= kC2; h1_ ^= k1;
  h1_ = Rotl(h1_, 27); h1_ += h2_; h1_ = h1_ * 5 + 0x52dce729;
  k2 *= kC2; k2 = Rotl(k2, 33); k2 *= kC1; h2_ ^= k2;
  h2_ = Rotl(h2_, 31); h2_ += h1_; h2_ = h2_ * 5 + 0x38495ab5;
}

void ContentHasher::Update(std::string_view data) {
  auto p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  total_ += n;
  if (tail_len_ > 0) {
    const size_t take = std::min(n, 16 - tail_len_);
    std::memcpy(tail_ + tail_len_, p, take);
    tail_len_ += take;
    p += take;
    n -= take;
    if (tail_len_ < 16) return;
    Block(tail_);
    tail_len_ = 0;
  }
  while (n >= 16) {
    Block(p);
    p += 16;
    n -= 16;
  }
  std::memcpy(tail_, p, n);
  tail_len_ = n;
}

Hash128 ContentHasher::Finish() {
  uint64_t k1 = 0, k2 = 0;
  const unsigned char* t = tail_;
  switch (tail_len_) {
    case 15: k2 ^= uint64_t(t[14]) << 48; [[fallthrough]];
    case 14: k2 ^= uint64_t(t[13]) << 40; [[fallthrough]];
    case 13: k2 ^= uint64_t(t[12]) << 32; [[fallthrough]];
    case 12: k2 ^= uint64_t(t[11]) << 24; [[fallthrough]];
    case 11: k2 ^= uint64_t(t[10]) << 16; [[fallthrough]];
    case 10: k2 ^= uint64_t(t[9]) << 8; [[fallthrough]];
    case 9: k2 ^= uint64_t(t[8]);
      k2 *= kC2; k2 = Rotl(k2, 33); k2 *= kC1; h2_ ^= k2;
      [[fallthrough]];
    case 8: k1 ^= uint64_t(t[7]) << 56; [[fallthrough]];
    case 7: k1 ^= uint64_t(t[6]) << 48; [[fallthrough]];
    case 6: k1 ^= uint64_t(t[5]) << 40; [[fallthrough]];
    case 5: k1 ^= uint64_t(t[4]) << 32; [[fallthrough]];
    case 4: k1 ^= uint64_t(t[3]) << 24; [[fallthrough]];
    case 3: k1 ^= uint64_t(t[2]) << 16; [[fallthrough]];
    case 2: k1 ^= uint64_t(t[1]) << 8; [[fallthrough]];
    case 1: k1 ^= uint64_t(t[0]);
      k1 *= kC1; k1 = Rotl(k1, 31); k1 *= kC2; h1_ ^= k1;
      break;
    default: break;
  }
  h1_ ^= total_; h2_ ^= total_;
  h1_ += h2_; h2_ += h1_;
  h1_ = Fmix(h1_); h2_ = Fmix(h2_);
  h1_ += h2_; h2_ += h1_;
  return Hash128{h1_, h2_};
}

Hash128 HashBytes(std::string_view data, uint64_t seed) {
  ContentHasher h(seed);
  h.Update(data);
  return h.Finish();
}

}  // namespace iotad
