// MemoryLimit: reserve and release, refusal at the limit, and a buffer shared by several queues
// counted once for as long as any of them holds it.
#include "core/memory/memory_limit.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/bytes.h"
#include "core/pipeline/batch.h"
#include "core/queue/memory_queue.h"
#include "core/telemetry/metrics.h"

namespace otlpgate::memory {
namespace {

TEST(MemoryLimitTest, ReservationIsGivenBackWhenDestroyed) {
  auto m = MemoryLimit::create(1000);
  {
    std::optional<Reservation> r = m->try_reserve(400);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes(), 400u);
    EXPECT_EQ(m->used(), 400u);
    Reservation moved = std::move(*r);
    EXPECT_EQ(m->used(), 400u) << "a move hands the bytes over, it does not release them";
  }
  EXPECT_EQ(m->used(), 0u);
}

TEST(MemoryLimitTest, RefusesWhatWouldGoOverTheLimitAndCountsIt) {
  auto m = MemoryLimit::create(1000);
  std::optional<Reservation> a = m->try_reserve(600);
  ASSERT_TRUE(a);
  EXPECT_FALSE(m->try_reserve(401));
  EXPECT_EQ(m->used(), 600u) << "a refusal leaves nothing reserved";
  EXPECT_EQ(m->refusals(), 1u);
  std::optional<Reservation> b = m->try_reserve(400);
  ASSERT_TRUE(b) << "exactly up to the limit is allowed";
  EXPECT_EQ(m->used(), 1000u);
  a->reset();
  EXPECT_TRUE(m->try_reserve(600)) << "released bytes can be reserved again";
}

TEST(MemoryLimitTest, AnOversizedRequestPassesWhenNothingElseIsHeld) {
  auto m = MemoryLimit::create(100);
  std::optional<Reservation> big = m->try_reserve(500);
  ASSERT_TRUE(big) << "refusing it would refuse it forever";
  EXPECT_FALSE(m->try_reserve(1));
  big->reset();
  EXPECT_TRUE(m->try_reserve(1));
}

TEST(MemoryLimitTest, ZeroMeansNoLimitButStillCounts) {
  auto m = MemoryLimit::create(0);
  std::optional<Reservation> a = m->try_reserve(1ull << 40);
  std::optional<Reservation> b = m->try_reserve(1ull << 40);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(m->used(), 2ull << 40);
  EXPECT_EQ(m->refusals(), 0u);
}

TEST(MemoryLimitTest, ResizeGrowsWithinTheLimitAndShrinksAlways) {
  auto m = MemoryLimit::create(1000);
  Reservation r = *m->try_reserve(100);
  EXPECT_TRUE(r.try_resize(900));
  EXPECT_EQ(m->used(), 900u);
  EXPECT_FALSE(r.try_resize(1001));
  EXPECT_EQ(r.bytes(), 900u) << "a refused resize changes nothing";
  EXPECT_EQ(m->refusals(), 1u);
  EXPECT_TRUE(r.try_resize(50));
  EXPECT_EQ(m->used(), 50u);
  r.resize(5000);  // an admitted request's decoded form: over the limit if need be
  EXPECT_EQ(m->used(), 5000u);
  EXPECT_FALSE(m->try_reserve(1));
  Reservation none;
  EXPECT_TRUE(none.try_resize(1ull << 50)) << "an empty reservation belongs to no limit";
}

TEST(MemoryLimitTest, ConcurrentReservationsNeverLoseCount) {
  auto m = MemoryLimit::create(1ull << 30);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::optional<Reservation> r = m->try_reserve(1000);
        ASSERT_TRUE(r);
        r->resize(10);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m->used(), 0u);
}

TEST(MemoryLimitTest, ABufferSharedByQueuesCountsOnceUntilTheLastLetsGo) {
  auto m = MemoryLimit::create(1 << 20);
  queue::MemoryQueue a(10, 1 << 20);
  queue::MemoryQueue b(10, 1 << 20);
  {
    Batch batch;
    batch.bytes = Bytes::adopt(std::string(1000, 'x'), *m->try_reserve(1000));
    batch.items = 1;
    ASSERT_TRUE(a.try_push(batch));
    ASSERT_TRUE(b.try_push(batch));
  }
  EXPECT_EQ(m->used(), 1000u) << "two queues hold one buffer";
  std::optional<queue::Entry> ea = a.pop();
  ASSERT_TRUE(ea);
  a.ack(*ea);
  ea.reset();
  EXPECT_EQ(m->used(), 1000u) << "the other queue still holds it";
  std::optional<queue::Entry> eb = b.pop();
  ASSERT_TRUE(eb);
  b.ack(*eb);
  eb.reset();
  EXPECT_EQ(m->used(), 0u);
}

TEST(MemoryLimitTest, ChargedCopyKeepsTheStorageAndItsOwnCharge) {
  auto m = MemoryLimit::create(0);
  Bytes plain = Bytes::copy_of("rewritten request");
  Bytes charged = plain.charged_to(m.get());
  EXPECT_TRUE(charged.same_storage(plain));
  EXPECT_EQ(m->used(), plain.size());
  plain = Bytes();
  EXPECT_EQ(charged.view(), "rewritten request") << "the charged copy keeps the storage alive";
  charged = Bytes();
  EXPECT_EQ(m->used(), 0u);
  EXPECT_TRUE(Bytes::copy_of("x").charged_to(nullptr).size() == 1) << "no limit: unchanged";
}

TEST(MemoryLimitTest, ReservationsMayOutliveTheOwnerOfTheLimit) {
  Bytes survivor;
  {
    auto m = MemoryLimit::create(100);
    survivor = Bytes::adopt(std::string(10, 'y'), *m->try_reserve(10));
  }
  survivor = Bytes();  // releases into the limit it keeps alive (ASan checks)
}

TEST(MemoryLimitTest, RegistryReadsFunctionSeriesAtRender) {
  auto m = MemoryLimit::create(2048);
  telemetry::Registry r;
  r.gauge_fn(telemetry::kMetricMemoryUsed, {}, [m] { return static_cast<int64_t>(m->used()); });
  r.counter_fn(telemetry::kMetricMemoryRefusals, {}, [m] { return m->refusals(); });
  Reservation held = *m->try_reserve(2000);
  EXPECT_FALSE(m->try_reserve(100));
  const std::string text = r.render();
  EXPECT_NE(text.find("\notlpgate_memory_used_bytes 2000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\notlpgate_memory_refusals_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE otlpgate_memory_refusals_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace otlpgate::memory
