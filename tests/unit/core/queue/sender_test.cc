// Sender: delivery, retry, backoff and drops of one exporter's queue against a scripted backend.
#include "core/queue/sender.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "core/queue/memory_queue.h"
#include "core/telemetry/metrics.h"
#include "tests/unit/core/queue/fake_exporter.h"

namespace otlpgate::queue {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::ExporterLog;
using testing::FakeExporter;

config::Exporter fast_config(int consumers = 2) {
  config::Exporter c;
  c.id = "otlphttp/test";
  c.sending_queue.num_consumers = consumers;
  c.sending_queue.queue_size = 100;
  c.retry_on_failure.initial_interval = 5ms;
  c.retry_on_failure.max_interval = 20ms;
  c.retry_on_failure.randomization_factor = 0;
  c.retry_on_failure.max_elapsed_time = 10s;
  return c;
}

Batch batch(uint64_t items = 3) {
  return Batch{Signal::traces, Bytes::copy_of("request"), items, ""};
}

// A sender with its own timer thread, as the runtime wires it.
struct Harness {
  explicit Harness(config::Exporter cfg, testing::ExportScript script = {})
      : log(std::make_shared<ExporterLog>()), exporter(cfg.id, log, std::move(script)) {
    sender = Sender::create(
        exporter,
        std::make_unique<MemoryQueue>(MemoryQueue::configured_requests(cfg.sending_queue),
                                      MemoryQueue::configured_bytes(cfg.sending_queue)),
        cfg, io, &registry, {}, 7);
    thread = std::thread([this] { io.run(); });
  }
  ~Harness() {
    sender->stop();
    exporter.shutdown();
    work.reset();
    thread.join();
  }
  std::shared_ptr<ExporterLog> log;
  FakeExporter exporter;
  telemetry::Registry registry;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  std::shared_ptr<Sender> sender;
  std::thread thread;
};

TEST(SenderTest, RetryableThenSuccessIsDeliveredOnce) {
  Harness h(fast_config(), [](const Batch&, int n) -> std::optional<ExportOutcome> {
    return n < 3 ? testing::retryable_outcome() : testing::ok_outcome();
  });
  ASSERT_TRUE(h.sender->try_enqueue(batch(3)));
  ASSERT_TRUE(eventually([&] { return h.sender->idle() && h.log->try_count() >= 3; }));
  EXPECT_EQ(h.log->try_count(), 3u);
  EXPECT_EQ(h.log->delivered_count(), 1u);
  const SenderStats s = h.sender->stats();
  EXPECT_EQ(s.sent_items, 3u);
  EXPECT_EQ(s.retries, 2u);
  EXPECT_EQ(s.send_failed_items, 0u);
  EXPECT_EQ(s.dropped(DropReason::retry_exhausted), 0u);
}

TEST(SenderTest, PermanentFailureIsNotRetriedAndIsCounted) {
  Harness h(fast_config(), [](const Batch&, int) -> std::optional<ExportOutcome> {
    return testing::permanent_outcome(400, "field x is invalid");
  });
  ASSERT_TRUE(h.sender->try_enqueue(batch(4)));
  ASSERT_TRUE(h.sender->try_enqueue(batch(5)));
  ASSERT_TRUE(eventually([&] { return h.sender->idle() && h.log->try_count() == 2; }));
  std::this_thread::sleep_for(30ms);  // longer than any backoff: a retry would show now
  EXPECT_EQ(h.log->try_count(), 2u);
  EXPECT_EQ(h.sender->stats().dropped(DropReason::permanent), 9u);
  EXPECT_EQ(h.sender->stats().send_failed_items, 9u);
  EXPECT_NE(h.registry.render().find("otlpgate_exporter_dropped_items_total{exporter=\"otlphttp/"
                                     "test\",reason=\"permanent\"} 9"),
            std::string::npos)
      << h.registry.render();
}

TEST(SenderTest, RetryAfterFromTheBackendIsHonoured) {
  Harness h(fast_config(), [](const Batch&, int n) -> std::optional<ExportOutcome> {
    return n == 1 ? testing::retryable_outcome(300ms) : testing::ok_outcome();
  });
  ASSERT_TRUE(h.sender->try_enqueue(batch()));
  ASSERT_TRUE(eventually([&] { return h.log->delivered_count() == 1; }));
  const auto tries = h.log->tries_copy();
  ASSERT_EQ(tries.size(), 2u);
  const auto gap = tries[1].at - tries[0].at;
  EXPECT_GE(gap, 300ms);
  EXPECT_LT(gap, 3s);
}

TEST(SenderTest, RetryDisabledDropsOnTheFirstRetryableFailure) {
  config::Exporter cfg = fast_config();
  cfg.retry_on_failure.enabled = false;
  Harness h(cfg, [](const Batch&, int) -> std::optional<ExportOutcome> {
    return testing::retryable_outcome();
  });
  ASSERT_TRUE(h.sender->try_enqueue(batch(2)));
  ASSERT_TRUE(eventually([&] { return h.sender->idle() && h.log->try_count() == 1; }));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(h.log->try_count(), 1u);
  EXPECT_EQ(h.sender->stats().dropped(DropReason::retry_disabled), 2u);
}

TEST(SenderTest, GivesUpAfterMaxElapsedTime) {
  config::Exporter cfg = fast_config();
  cfg.retry_on_failure.max_elapsed_time = 60ms;
  Harness h(cfg, [](const Batch&, int) -> std::optional<ExportOutcome> {
    return testing::retryable_outcome();
  });
  ASSERT_TRUE(h.sender->try_enqueue(batch(2)));
  ASSERT_TRUE(eventually([&] { return h.sender->idle() && h.log->try_count() > 0; }));
  EXPECT_EQ(h.sender->stats().dropped(DropReason::retry_exhausted), 2u);
  EXPECT_EQ(h.sender->stats().send_failed_items, 2u);
  EXPECT_GE(h.log->try_count(), 3u);  // 0, 5, 15, 35 ms ... then 55 + 20 > 60
  EXPECT_EQ(h.log->delivered_count(), 0u);
}

TEST(SenderTest, AtMostNumConsumersAttemptsAtOnce) {
  Harness h(fast_config(2), [](const Batch&, int) -> std::optional<ExportOutcome> {
    return std::nullopt;  // black hole
  });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h.sender->try_enqueue(batch()));
  ASSERT_TRUE(eventually([&] { return h.log->try_count() == 2; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(h.log->try_count(), 2u);
  EXPECT_EQ(h.sender->queue().size(), 3u);
  h.log->release_held(testing::ok_outcome());
  ASSERT_TRUE(eventually([&] { return h.log->try_count() == 4; }));
}

TEST(SenderTest, StopDropsWhatIsLeftAndCountsIt) {
  Harness h(fast_config(1),
            [](const Batch&, int) -> std::optional<ExportOutcome> { return std::nullopt; });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.sender->try_enqueue(batch(10)));
  ASSERT_TRUE(eventually([&] { return h.log->try_count() == 1; }));
  h.sender->stop();
  EXPECT_FALSE(h.sender->try_enqueue(batch()));
  h.exporter.shutdown();  // answers the held attempt (retryable): dropped, not retried
  ASSERT_TRUE(eventually([&] { return h.sender->idle(); }));
  EXPECT_EQ(h.sender->stats().dropped(DropReason::shutdown), 30u);
  EXPECT_EQ(h.log->try_count(), 1u);
}

TEST(SenderTest, StopCancelsABackoffWait) {
  config::Exporter cfg = fast_config(1);
  cfg.retry_on_failure.initial_interval = 1h;
  cfg.retry_on_failure.max_interval = 1h;
  cfg.retry_on_failure.max_elapsed_time = 0ms;
  Harness h(cfg, [](const Batch&, int) -> std::optional<ExportOutcome> {
    return testing::retryable_outcome();
  });
  ASSERT_TRUE(h.sender->try_enqueue(batch(4)));
  // The failure is counted just before its backoff timer starts.
  ASSERT_TRUE(eventually([&] { return h.sender->stats().retries == 1; }));
  h.sender->stop();
  ASSERT_TRUE(eventually([&] { return h.sender->idle(); }, 2s));
  EXPECT_EQ(h.sender->stats().dropped(DropReason::shutdown), 4u);
}

TEST(SenderTest, PartialSuccessCountsRejectedItems) {
  Harness h(fast_config(), [](const Batch&, int) -> std::optional<ExportOutcome> {
    ExportOutcome o;
    o.rejected_items = 2;
    return o;
  });
  ASSERT_TRUE(h.sender->try_enqueue(batch(5)));
  ASSERT_TRUE(eventually([&] { return h.sender->idle() && h.log->try_count() == 1; }));
  EXPECT_EQ(h.sender->stats().sent_items, 3u);
  EXPECT_EQ(h.sender->stats().dropped(DropReason::rejected), 2u);
}

// A black-holed backend with one consumer and room for two waiting requests: the third request
// finds the queue full.
config::Exporter full_queue_config(const char* on_full) {
  config::Exporter cfg = fast_config(1);
  cfg.sending_queue.queue_size = 2;
  cfg.sending_queue.on_full = on_full;
  return cfg;
}

std::optional<ExportOutcome> black_hole(const Batch&, int) { return std::nullopt; }

TEST(SenderTest, BackpressureRefusesWhenFull) {
  Harness h(full_queue_config("backpressure"), black_hole);
  ASSERT_TRUE(h.sender->try_enqueue(batch(1)));
  ASSERT_TRUE(eventually([&] { return h.log->try_count() == 1; }));
  ASSERT_TRUE(h.sender->try_enqueue(batch(1)));
  ASSERT_TRUE(h.sender->try_enqueue(batch(1)));
  EXPECT_FALSE(h.sender->has_room(batch(1)));
  EXPECT_FALSE(h.sender->try_enqueue(batch(1)));
}

TEST(SenderTest, DropNewestTakesAndCountsTheNewRequest) {
  Harness h(full_queue_config("drop_newest"), black_hole);
  ASSERT_TRUE(h.sender->try_enqueue(batch(1)));
  ASSERT_TRUE(eventually([&] { return h.log->try_count() == 1; }));
  ASSERT_TRUE(h.sender->try_enqueue(batch(1)));
  ASSERT_TRUE(h.sender->try_enqueue(batch(1)));
  EXPECT_TRUE(h.sender->has_room(batch(7)));
  EXPECT_TRUE(h.sender->try_enqueue(batch(7)));
  EXPECT_EQ(h.sender->stats().dropped(DropReason::queue_full), 7u);
  EXPECT_EQ(h.sender->queue().size(), 2u);
}

TEST(SenderTest, DropOldestShedsTheOldestWaitingRequest) {
  Harness h(full_queue_config("drop_oldest"), black_hole);
  ASSERT_TRUE(h.sender->try_enqueue(batch(1)));
  ASSERT_TRUE(eventually([&] { return h.log->try_count() == 1; }));
  ASSERT_TRUE(h.sender->try_enqueue(batch(2)));
  ASSERT_TRUE(h.sender->try_enqueue(batch(3)));
  EXPECT_TRUE(h.sender->try_enqueue(batch(4)));
  EXPECT_EQ(h.sender->stats().dropped(DropReason::queue_full), 2u) << "the oldest waiting one";
  EXPECT_EQ(h.sender->queue().size(), 2u);
}

}  // namespace
}  // namespace otlpgate::queue
