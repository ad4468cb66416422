#include "iotad/core/buffer_pool.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace iotad {
namespace {

/// A buffer with a Clear() that keeps its capacity, like clean::HourBuffer.
struct Rows {
  std::vector<int> values;
  int clears = 0;
  void Clear() {
    values.clear();
    ++clears;
  }
};

}  // namespace

TEST(BufferPoolTest, TakeIsFalseWhenNothingIsFree) {
  BufferPool<Rows> pool;
  Rows out;
  out.values = {1};
  EXPECT_FALSE(pool.Take(out));
  EXPECT_EQ(out.values, std::vector<int>{1});  // untouched
}

TEST(BufferPoolTest, ABufferComesBackClearedWithItsCapacity) {
  BufferPool<Rows> pool;
  Rows used;
  used.values.assign(1000, 3);
  const size_t capacity = used.values.capacity();
  pool.Put(std::move(used));
  Rows out;
  ASSERT_TRUE(pool.Take(out));
  EXPECT_TRUE(out.values.empty());
  EXPECT_EQ(out.clears, 1);
  EXPECT_GE(out.values.capacity(), capacity);
  EXPECT_FALSE(pool.Take(out));
}

TEST(BufferPoolTest, KeepsAtMostMaxFreeAndWorksWithLowerCaseClear) {
  BufferPool<std::vector<int>> pool(2);
  for (int i = 0; i < 5; ++i) pool.Put(std::vector<int>(10, i));
  EXPECT_EQ(pool.free_count(), 2u);
  std::vector<int> out;
  ASSERT_TRUE(pool.Take(out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(BufferPoolTest, OneThreadPutsWhileAnotherTakes) {
  BufferPool<std::vector<int>> pool(4);
  constexpr int kRounds = 2000;
  std::jthread giver([&] {
    for (int i = 0; i < kRounds; ++i) pool.Put(std::vector<int>(8, i));
  });
  int taken = 0;
  std::vector<int> out;
  for (int i = 0; i < kRounds; ++i) {
    if (pool.Take(out)) {
      EXPECT_TRUE(out.empty());
      ++taken;
    }
  }
  giver.join();
  EXPECT_LE(pool.free_count(), 4u);
  EXPECT_LE(taken, kRounds);
}

}  // namespace iotad
