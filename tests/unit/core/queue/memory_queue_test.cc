// MemoryQueue: what one exporter's in-memory queue accepts, holds and hands out.
#include "core/queue/memory_queue.h"

#include <gtest/gtest.h>

namespace otlpgate::queue {
namespace {

Batch batch_of(std::size_t size, uint64_t items = 1) {
  return Batch{Signal::logs, Bytes::adopt(std::string(size, 'x')), items, ""};
}

TEST(MemoryQueueTest, RefusesWhenTheRequestBoundIsReached) {
  MemoryQueue q(2, 1 << 20);
  EXPECT_TRUE(q.try_push(batch_of(10)));
  EXPECT_TRUE(q.try_push(batch_of(10)));
  EXPECT_FALSE(q.try_push(batch_of(10)));
  EXPECT_EQ(q.size(), 2u);
  auto e = q.pop();
  ASSERT_TRUE(e);
  EXPECT_TRUE(q.try_push(batch_of(10)));  // waiting room freed by pop
}

TEST(MemoryQueueTest, BytesCountUntilAckedNotJustUntilPopped) {
  MemoryQueue q(100, 1000);
  EXPECT_TRUE(q.try_push(batch_of(600)));
  EXPECT_FALSE(q.try_push(batch_of(600)));
  auto e = q.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(q.bytes(), 600u);
  EXPECT_FALSE(q.try_push(batch_of(600))) << "the popped request is still in memory";
  q.ack(*e);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.try_push(batch_of(600)));
}

TEST(MemoryQueueTest, OversizedRequestFitsOnlyIntoAnEmptyQueue) {
  MemoryQueue q(100, 1000);
  EXPECT_TRUE(q.try_push(batch_of(10)));
  EXPECT_FALSE(q.try_push(batch_of(5000)));
  q.ack(*q.pop());
  EXPECT_TRUE(q.try_push(batch_of(5000)));
}

TEST(MemoryQueueTest, HandsOutTheSameStorageInOrder) {
  MemoryQueue q(10, 1 << 20);
  Batch a = batch_of(3, 1), b = batch_of(4, 2);
  ASSERT_TRUE(q.try_push(a));
  ASSERT_TRUE(q.try_push(b));
  auto first = q.pop();
  auto second = q.pop();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->batch.bytes.same_storage(a.bytes));
  EXPECT_TRUE(second->batch.bytes.same_storage(b.bytes));
  EXPECT_NE(first->id, second->id);
  EXPECT_FALSE(q.pop());
}

TEST(MemoryQueueTest, ConfiguredBounds) {
  config::SendingQueue sq;
  sq.queue_size = 7;
  sq.num_consumers = 3;
  sq.queue_size_mib = 2;
  EXPECT_EQ(MemoryQueue::configured_requests(sq), 7u);
  EXPECT_EQ(MemoryQueue::configured_bytes(sq), 2u << 20);
  sq.enabled = false;
  EXPECT_EQ(MemoryQueue::configured_requests(sq), 3u);
}

}  // namespace
}  // namespace otlpgate::queue
