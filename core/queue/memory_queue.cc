// MemoryQueue: a deque of shared request buffers under one mutex, bounded twice.
#include "core/queue/memory_queue.h"

#include <algorithm>
#include <cassert>

namespace otlpgate::queue {

MemoryQueue::MemoryQueue(std::size_t max_requests, uint64_t max_bytes)
    : max_requests_(std::max<std::size_t>(max_requests, 1)), max_bytes_(max_bytes) {}

std::size_t MemoryQueue::configured_requests(const config::SendingQueue& q) {
  const int n = q.enabled ? q.queue_size : q.num_consumers;
  return static_cast<std::size_t>(std::max(n, 1));
}

uint64_t MemoryQueue::configured_bytes(const config::SendingQueue& q) {
  return q.queue_size_mib << 20;
}

bool MemoryQueue::try_push(const Batch& batch) {
  const uint64_t n = batch.bytes.size();
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_requests_) return false;
  if (bytes_ > 0 && bytes_ + n > max_bytes_) return false;
  entries_.push_back(Entry{batch, next_id_++});
  bytes_ += n;
  return true;
}

std::optional<Entry> MemoryQueue::pop() {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return std::nullopt;
  Entry e = std::move(entries_.front());
  entries_.pop_front();
  return e;
}

void MemoryQueue::ack(const Entry& entry) {
  const uint64_t n = entry.batch.bytes.size();
  std::lock_guard lock(mu_);
  assert(bytes_ >= n && "ack of an entry this queue does not hold");
  bytes_ -= std::min(bytes_, n);
}

std::size_t MemoryQueue::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t MemoryQueue::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace otlpgate::queue
