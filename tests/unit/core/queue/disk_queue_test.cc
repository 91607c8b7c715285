// DiskQueue: what survives a restart, what a damaged directory still delivers, what it refuses.
#include "core/queue/disk_queue.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "core/telemetry/metrics.h"

namespace otlpgate::queue {
namespace {

namespace fs = std::filesystem;

Batch batch_of(const std::string& body, uint64_t items = 1) {
  return Batch{Signal::logs, Bytes::copy_of(body), items, "tenant-a"};
}

class DiskQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/otlpgate-dq-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  DiskQueueOptions options(FsyncPolicy fsync = FsyncPolicy::always) const {
    DiskQueueOptions o;
    o.dir = dir_ + "/q";
    o.max_requests = 1000;
    o.max_bytes = 1 << 20;
    o.segment_bytes = 4096;
    o.fsync = fsync;
    return o;
  }
  std::unique_ptr<DiskQueue> open(const DiskQueueOptions& o) {
    std::string err;
    auto q = DiskQueue::open(o, &err);
    EXPECT_TRUE(q) << err;
    return q;
  }
  std::vector<std::string> segments() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ + "/q")) {
      if (e.path().filename().string().rfind("seg-", 0) == 0) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<std::string> drain(DiskQueue& q) {
    std::vector<std::string> out;
    while (auto e = q.pop()) {
      out.emplace_back(e->batch.bytes.view());
      q.ack(*e);
    }
    return out;
  }

  std::string dir_;
};

TEST_F(DiskQueueTest, DeliversInOrderWithItsMetadata) {
  auto q = open(options());
  ASSERT_TRUE(q->try_push(batch_of("one", 3)));
  ASSERT_TRUE(q->try_push(batch_of("two", 4)));
  auto e = q->pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->batch.bytes.view(), "one");
  EXPECT_EQ(e->batch.items, 3u);
  EXPECT_EQ(e->batch.tenant, "tenant-a");
  EXPECT_EQ(e->batch.signal, Signal::logs);
}

TEST_F(DiskQueueTest, ReplaysUnackedAndInFlightEntriesAfterRestart) {
  {
    auto q = open(options());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->try_push(batch_of("r" + std::to_string(i))));
    auto delivered = q->pop();
    q->ack(*delivered);          // r0 delivered
    auto in_flight = q->pop();   // r1 popped, never acked: in flight at the "crash"
    ASSERT_TRUE(in_flight);
  }
  auto q = open(options());
  EXPECT_EQ(q->stats().replayed, 4u);
  EXPECT_EQ(drain(*q), (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
}

TEST_F(DiskQueueTest, ReadsEntriesBackFromDiskBeyondTheMemoryCache) {
  DiskQueueOptions o = options();
  o.memory_cache_bytes = 0;
  auto q = open(o);
  ASSERT_TRUE(q->try_push(batch_of("from-disk")));
  auto e = q->pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->batch.bytes.view(), "from-disk");
}

TEST_F(DiskQueueTest, TornTailIsCutAndTheRestIsDelivered) {
  {
    auto q = open(options());
    ASSERT_TRUE(q->try_push(batch_of("whole-1")));
    ASSERT_TRUE(q->try_push(batch_of("whole-2")));
  }
  const std::string seg = segments().back();
  const auto full = fs::file_size(seg);
  {
    // Half a record appended, as when the process dies in the middle of a write.
    std::ofstream f(seg, std::ios::binary | std::ios::app);
    f << std::string("OTGQ\x10\x00\x00\x00partial", 15);
  }
  auto q = open(options());
  EXPECT_EQ(q->stats().torn_tails, 1u);
  EXPECT_EQ(fs::file_size(seg), full) << "the torn tail is truncated away";
  EXPECT_EQ(drain(*q), (std::vector<std::string>{"whole-1", "whole-2"}));
}

TEST_F(DiskQueueTest, CorruptRecordIsSkippedAndCounted) {
  {
    auto q = open(options());
    ASSERT_TRUE(q->try_push(batch_of("first-record")));
    ASSERT_TRUE(q->try_push(batch_of("second-record")));
    ASSERT_TRUE(q->try_push(batch_of("third-record")));
  }
  const std::string seg = segments().front();
  std::string data;
  {
    std::ifstream f(seg, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(f), {});
  }
  const auto at = data.find("second-record");
  ASSERT_NE(at, std::string::npos);
  data[at] ^= 0x55;  // one flipped byte in the payload
  {
    std::ofstream f(seg, std::ios::binary | std::ios::trunc);
    f << data;
  }
  auto q = open(options());
  EXPECT_EQ(q->stats().corrupt_records, 1u);
  EXPECT_EQ(drain(*q), (std::vector<std::string>{"first-record", "third-record"}));
}

TEST_F(DiskQueueTest, MetricsShowDiskUseReplayAndFsyncsPerExporter) {
  {
    auto q = open(options());
    ASSERT_TRUE(q->try_push(batch_of("left-for-the-next-start")));
  }
  auto q = open(options());
  ASSERT_TRUE(q->try_push(batch_of("new")));
  telemetry::Registry metrics;
  q->register_metrics(metrics, "otlp/a");
  const std::string text = metrics.render();
  auto value = [&](const std::string& name) {
    const std::string series = name + "{exporter=\"otlp/a\"} ";
    const auto at = text.find("\n" + series);
    EXPECT_NE(at, std::string::npos) << series << " in\n" << text;
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + 1 + series.size()));
  };
  EXPECT_EQ(value("otlpgate_exporter_queue_disk_replayed_requests_total"), 1);
  EXPECT_EQ(value("otlpgate_exporter_queue_disk_corrupt_records_total"), 0);
  EXPECT_EQ(value("otlpgate_exporter_queue_disk_torn_tails_total"), 0);
  EXPECT_EQ(value("otlpgate_exporter_queue_disk_segments"), 2) << "one per start";
  EXPECT_EQ(value("otlpgate_exporter_queue_disk_bytes"), static_cast<int64_t>(q->bytes()));
  EXPECT_GE(value("otlpgate_exporter_queue_disk_fsyncs_total"), 1);
}

TEST_F(DiskQueueTest, CorruptHeaderIsSkippedByFindingTheNextRecord) {
  {
    auto q = open(options());
    ASSERT_TRUE(q->try_push(batch_of("aaaa")));
    ASSERT_TRUE(q->try_push(batch_of("bbbb")));
  }
  const std::string seg = segments().front();
  {
    std::fstream f(seg, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(4);  // the first record's length field
    f.put('\x7f');
  }
  auto q = open(options());
  EXPECT_EQ(q->stats().corrupt_records, 1u);
  EXPECT_EQ(drain(*q), (std::vector<std::string>{"bbbb"}));
}

TEST_F(DiskQueueTest, SegmentsAreDeletedOnceFullyDelivered) {
  auto q = open(options());
  const std::string body(1000, 'x');
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(q->try_push(batch_of(body)));
  EXPECT_GT(segments().size(), 3u);
  drain(*q);
  EXPECT_LE(segments().size(), 1u) << "at most the active segment stays";
  EXPECT_GT(q->stats().segments_deleted, 2u);
  q.reset();
  EXPECT_EQ(open(options())->size(), 0u) << "nothing delivered comes back";
}

TEST_F(DiskQueueTest, RefusesAtTheDiskCapAndTheRequestBound) {
  DiskQueueOptions o = options();
  o.max_bytes = 3000;
  auto q = open(o);
  const std::string body(1000, 'x');
  EXPECT_TRUE(q->try_push(batch_of(body)));
  EXPECT_TRUE(q->try_push(batch_of(body)));
  EXPECT_FALSE(q->try_push(batch_of(body)));
  EXPECT_LE(q->bytes(), 3000u);

  o = options();
  o.dir = dir_ + "/q2";
  o.max_requests = 1;
  auto q2 = open(o);
  EXPECT_TRUE(q2->try_push(batch_of("a")));
  EXPECT_FALSE(q2->try_push(batch_of("b")));
}

TEST_F(DiskQueueTest, ReleasedEntryComesBackAtTheNextStart) {
  {
    auto q = open(options());
    ASSERT_TRUE(q->try_push(batch_of("kept")));
    auto e = q->pop();
    q->release(*e);
  }
  EXPECT_EQ(drain(*open(options())), (std::vector<std::string>{"kept"}));
}

TEST_F(DiskQueueTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto q = open(options());
  std::string err;
  EXPECT_FALSE(DiskQueue::open(options(), &err));
  EXPECT_NE(err.find("in use"), std::string::npos) << err;
}

TEST_F(DiskQueueTest, IntervalPolicyAlsoSurvivesRestart) {
  {
    auto q = open(options(FsyncPolicy::interval));
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(q->try_push(batch_of(std::to_string(i))));
  }
  EXPECT_EQ(open(options(FsyncPolicy::interval))->size(), 50u);
}

TEST_F(DiskQueueTest, ConcurrentPushesShareFsyncs) {
  auto q = open(options());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(q->try_push(batch_of("x")));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(q->size(), 400u);
  EXPECT_LE(q->stats().fsyncs, 400u);
}

}  // namespace
}  // namespace otlpgate::queue
