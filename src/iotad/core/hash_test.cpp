#include "iotad/core/hash.h"

#include <cstdint>
#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace iotad {
namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

TEST(ContentHasherTest, MatchesTheMurmur3ReferenceVector) {
  // MurmurHash3_x64_128 published outputs (seed 0): h1 is lo, h2 is hi.
  const Hash128 fox = HashBytes("The quick brown fox jumps over the lazy dog", 0);
  EXPECT_EQ(fox.lo, 0xe34bbc7bbc071b6cULL);
  EXPECT_EQ(fox.hi, 0x7a433ca9c49a9347ULL);
  EXPECT_EQ(HashBytes("", 0), (Hash128{0, 0}));
}

TEST(ContentHasherTest, TwoChunksAtEverySplitEqualOneShot) {
  for (size_t size : {0u, 1u, 15u, 16u, 17u, 31u, 32u, 33u, 100u}) {
    const std::string data = RandomBytes(size, size + 1);
    const Hash128 expected = HashBytes(data);
    for (size_t split = 0; split <= size; ++split) {
      ContentHasher h;
      h.Update(std::string_view(data).substr(0, split));
      h.Update(std::string_view(data).substr(split));
      ASSERT_EQ(h.Finish(), expected) << "size " << size << " split " << split;
    }
  }
}

TEST(ContentHasherTest, ChunksOfEveryFixedSizeEqualOneShot) {
  const std::string data = RandomBytes(1000, 7);
  const Hash128 expected = HashBytes(data);
  for (size_t chunk : {1u, 2u, 3u, 7u, 8u, 15u, 16u, 17u, 63u, 64u, 999u, 1000u, 4096u}) {
    ContentHasher h;
    for (size_t pos = 0; pos < data.size(); pos += chunk) {
      h.Update(std::string_view(data).substr(pos, chunk));
    }
    ASSERT_EQ(h.Finish(), expected) << "chunk " << chunk;
  }
}

TEST(ContentHasherTest, RandomSplitsEqualOneShot) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    const size_t size = rng() % 300;
    const std::string data = RandomBytes(size, rng());
    ContentHasher h;
    size_t pos = 0;
    while (pos < size) {
      const size_t take = std::min<size_t>(rng() % 40, size - pos);
      h.Update(std::string_view(data).substr(pos, take));  // empty updates included
      pos += take;
    }
    ASSERT_EQ(h.Finish(), HashBytes(data)) << "round " << round;
  }
}

TEST(ContentHasherTest, EmptyUpdatesChangeNothing) {
  ContentHasher h;
  h.Update("");
  h.Update("abc");
  h.Update("");
  EXPECT_EQ(h.Finish(), HashBytes("abc"));
}

TEST(ContentHasherTest, DifferentDataGivesDifferentHashes) {
  std::set<std::string> seen;
  // Every prefix of one buffer, plus single-byte changes: no collisions expected.
  const std::string data = RandomBytes(200, 3);
  for (size_t n = 0; n <= data.size(); ++n) {
    EXPECT_TRUE(seen.insert(HashBytes(std::string_view(data).substr(0, n)).Hex()).second) << n;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    std::string changed = data;
    changed[i] = static_cast<char>(changed[i] ^ 1);
    EXPECT_TRUE(seen.insert(HashBytes(changed).Hex()).second) << i;
  }
  EXPECT_NE(HashBytes("a"), HashBytes("b"));
  EXPECT_NE(HashBytes(std::string(16, '\0')), HashBytes(std::string(17, '\0')));
}

TEST(ContentHasherTest, HexIsThirtyTwoLowercaseHexDigits) {
  for (const std::string& data : {std::string(), std::string("x"), RandomBytes(50, 9)}) {
    const std::string hex = HashBytes(data).Hex();
    ASSERT_EQ(hex.size(), 32u);
    for (char c : hex) {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << hex;
    }
  }
  EXPECT_EQ((Hash128{0x0123456789abcdefULL, 0xfedcba9876543210ULL}).Hex(),
            "fedcba98765432100123456789abcdef");
}

TEST(ContentHasherTest, SeedChangesTheHash) {
  EXPECT_NE(HashBytes("payload", 1), HashBytes("payload", 2));
  EXPECT_NE(HashBytes("payload"), HashBytes("payload", 0));
  ContentHasher seeded(1);
  seeded.Update("payload");
  EXPECT_EQ(seeded.Finish(), HashBytes("payload", 1));
}

TEST(HashShortTest, IsDeterministicAndSpreadsKeys) {
  EXPECT_EQ(HashShort("device-1"), HashShort("device-1"));
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(HashShort("device-" + std::to_string(i)));
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace iotad
