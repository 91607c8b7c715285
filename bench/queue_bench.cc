// The cost of persistence: items per CPU-second and push latency of the exporter queue in memory
// vs on disk with fsync always / interval. A plain program rather than Google Benchmark because
// the figures wanted are process CPU time and latency percentiles under concurrent pushers.
//
//   queue_bench [dir] [requests per pusher] [pushers] [request bytes]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/queue/disk_queue.h"
#include "core/queue/memory_queue.h"

namespace {

using namespace otlpgate;
using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

constexpr uint64_t kItemsPerRequest = 50;

void run(const char* name, queue::Queue& q, int requests, int pushers, std::size_t bytes) {
  const Batch batch{Signal::logs, Bytes::adopt(std::string(bytes, 'x')), kItemsPerRequest, ""};
  std::atomic<int> pushed{0};
  std::atomic<bool> done{false};
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(pushers));
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  std::thread consumer([&] {
    while (true) {
      if (auto e = q.pop()) {
        q.ack(*e);
      } else if (done.load()) {
        break;
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::vector<std::thread> threads;
  for (int p = 0; p < pushers; ++p) {
    threads.emplace_back([&, p] {
      auto& l = lat[static_cast<std::size_t>(p)];
      l.reserve(static_cast<std::size_t>(requests));
      for (int i = 0; i < requests; ++i) {
        const auto s = Clock::now();
        while (!q.try_push(batch)) std::this_thread::yield();
        l.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
        pushed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  consumer.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[static_cast<std::size_t>(p * (all.size() - 1))]; };
  const double items = static_cast<double>(pushed.load()) * kItemsPerRequest;
  std::printf("| %-16s | %10.0f | %10.0f | %8.1f | %8.1f | %8.1f |\n", name, items / cpu,
              items / wall, pct(0.5), pct(0.99), pct(0.999));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp/otlpgate-queue-bench";
  const int requests = argc > 2 ? std::atoi(argv[2]) : 5000;
  const int pushers = argc > 3 ? std::atoi(argv[3]) : 4;
  const std::size_t bytes = argc > 4 ? static_cast<std::size_t>(std::atoll(argv[4])) : 16384;
  std::printf("%d pushers x %d requests of %zu bytes (%llu items each), 1 consumer, dir %s\n\n",
              pushers, requests, bytes, static_cast<unsigned long long>(kItemsPerRequest),
              dir.c_str());
  std::printf("| queue            | items/CPU-s | items/s    | push p50 us | p99 us | p99.9 us |\n");
  std::printf("|------------------|------------|------------|----------|----------|----------|\n");
  {
    queue::MemoryQueue q(1000, 1ull << 30);
    run("memory", q, requests, pushers, bytes);
  }
  for (auto [name, policy] : {std::pair{"disk, fsync interval", queue::FsyncPolicy::interval},
                              std::pair{"disk, fsync always", queue::FsyncPolicy::always}}) {
    std::filesystem::remove_all(dir);
    queue::DiskQueueOptions o;
    o.dir = dir;
    o.max_requests = 1000;
    o.max_bytes = 4ull << 30;
    o.segment_bytes = 32ull << 20;
    o.fsync = policy;
    std::string err;
    auto q = queue::DiskQueue::open(o, &err);
    if (!q) {
      std::fprintf(stderr, "queue_bench: %s\n", err.c_str());
      return 1;
    }
    run(name, *q, requests, pushers, bytes);
    std::printf("|   (%llu fdatasync calls) |\n", static_cast<unsigned long long>(q->stats().fsyncs));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
