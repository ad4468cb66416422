#include "iotad/core/queue.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace iotad {

TEST(BoundedQueueTest, ItemsComeOutInOrderAndTheBoundHoldsAcrossThreads) {
  BoundedQueue<int> queue(2);
  constexpr int kItems = 5000;
  std::jthread producer([&] {
    for (int i = 0; i < kItems; ++i) ASSERT_TRUE(queue.Push(i));
    queue.Close();
  });
  std::vector<int> seen;
  while (auto item = queue.Pop()) {
    EXPECT_LE(queue.size(), queue.capacity());
    seen.push_back(*item);
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(seen[i], i);
}

TEST(BoundedQueueTest, PopDrainsWhatIsLeftAfterClose) {
  BoundedQueue<std::string> queue(3);
  ASSERT_TRUE(queue.Push("a"));
  ASSERT_TRUE(queue.Push("b"));
  queue.Close();
  EXPECT_FALSE(queue.Push("c"));  // refused once closed
  EXPECT_EQ(queue.Pop(), "a");
  EXPECT_EQ(queue.Pop(), "b");
  EXPECT_EQ(queue.Pop(), std::nullopt);
  EXPECT_EQ(queue.Pop(), std::nullopt);
}

TEST(BoundedQueueTest, CloseWakesAConsumerWaitingOnAnEmptyQueue) {
  BoundedQueue<int> queue(1);
  std::optional<int> got = 7;
  std::jthread consumer([&] { got = queue.Pop(); });  // waits, or sees the queue closed
  queue.Close();
  consumer.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(BoundedQueueTest, CloseWakesAProducerWaitingOnAFullQueue) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1));
  bool pushed = true;
  std::jthread producer([&] { pushed = queue.Push(2); });  // waits for room, or sees it closed
  queue.Close();
  producer.join();
  EXPECT_FALSE(pushed);
  EXPECT_EQ(queue.Pop(), 1);
  EXPECT_EQ(queue.Pop(), std::nullopt);
}

TEST(BoundedQueueTest, MoveOnlyItemsAndAZeroCapacityMeansOne) {
  BoundedQueue<std::unique_ptr<int>> queue(0);
  EXPECT_EQ(queue.capacity(), 1u);
  ASSERT_TRUE(queue.Push(std::make_unique<int>(5)));
  auto item = queue.Pop();
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(**item, 5);
}

}  // namespace iotad
