// MemoryQueue: a bounded in-memory Queue (by requests and by bytes) for one exporter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "core/config/config.h"
#include "core/queue/queue.h"

namespace otlpgate::queue {

// Bounded by `max_requests` waiting entries and by `max_bytes` held, where held bytes include
// entries handed to a sender but not yet acked (they are still in memory). A single request
// larger than `max_bytes` is accepted only when the queue holds nothing, so that an oversized
// request is not refused forever. Bytes shared with other queues (fan-out) count in each queue.
class MemoryQueue final : public Queue {
 public:
  MemoryQueue(std::size_t max_requests, uint64_t max_bytes);

  // The bounds a configured exporter gets: sending_queue.queue_size requests and queue_size_mib.
  // With sending_queue.enabled = false (the collector then sends synchronously) the queue keeps
  // only a minimal waiting room of num_consumers requests next to the num_consumers in delivery:
  // the sender of a request is still answered once it is queued, and refused (overloaded) as
  // soon as the backend falls behind, instead of the gateway holding a large backlog.
  static std::size_t configured_requests(const config::SendingQueue& q);
  static uint64_t configured_bytes(const config::SendingQueue& q);

  bool try_push(const Batch& batch) override;
  std::optional<Entry> pop() override;
  void ack(const Entry& entry) override;

  std::size_t size() const override;
  uint64_t bytes() const override;
  std::size_t capacity() const override { return max_requests_; }
  uint64_t capacity_bytes() const override { return max_bytes_; }

 private:
  const std::size_t max_requests_;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;
  uint64_t bytes_ = 0;
  uint64_t next_id_ = 1;
};

}  // namespace otlpgate::queue
