// MemoryLimit: the gateway-wide budget for request bytes held in memory (bodies being received and
// processed, buffers waiting in queues), kept by accounting bytes, not by watching the heap.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace otlpgate::memory {

class Reservation;

// One per gateway (service.memory_limit_mib), shared by every receiver and the runtime. A holder
// reserves bytes before (or, for bytes it could not size beforehand, as soon as) it holds them and
// releases them when they are freed; a refusal is the receiver's cue to answer "retry later"
// (HTTP 429 / gRPC RESOURCE_EXHAUSTED / Firehose 503). Reserving and releasing is one atomic
// read-modify-write, no lock. Reservations keep the MemoryLimit alive, so a buffer may outlive the
// runtime that charged it.
class MemoryLimit : public std::enable_shared_from_this<MemoryLimit> {
 public:
  // `limit_bytes` 0: no limit (bytes are still counted, for /metrics).
  static std::shared_ptr<MemoryLimit> create(uint64_t limit_bytes);

  // Reserves `n` bytes, or returns nullopt (and counts a refusal) when that would take the total
  // over the limit. When nothing at all is reserved any size is granted, so that one request larger
  // than the limit is not refused forever.
  std::optional<Reservation> try_reserve(uint64_t n);
  // Reserves `n` bytes even over the limit: for bytes of a request already admitted (its decoded
  // or rewritten form), which the limit must see but cannot refuse any more.
  Reservation reserve(uint64_t n);

  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }
  uint64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }

  struct Private {};
  MemoryLimit(Private, uint64_t limit_bytes) : limit_(limit_bytes) {}

 private:
  friend class Reservation;
  bool try_add(uint64_t n);
  void add(uint64_t n) { used_.fetch_add(n, std::memory_order_relaxed); }
  void sub(uint64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

  const uint64_t limit_;
  alignas(64) std::atomic<uint64_t> used_{0};
  std::atomic<uint64_t> refusals_{0};
};

// Bytes reserved from a MemoryLimit, given back when it is destroyed or reset. Move-only. An empty
// Reservation (default-constructed) holds nothing and belongs to no limit.
class Reservation {
 public:
  Reservation() = default;
  Reservation(Reservation&& o) noexcept : limit_(std::move(o.limit_)), bytes_(o.bytes_) {
    o.bytes_ = 0;
  }
  Reservation& operator=(Reservation&& o) noexcept;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation() { reset(); }

  uint64_t bytes() const { return bytes_; }
  // Changes the reservation to `n` bytes; growing may not exceed the limit (false: unchanged, a
  // refusal counted). Shrinking always succeeds. Always true for an empty Reservation.
  bool try_resize(uint64_t n);
  // Changes the reservation to `n` bytes even over the limit (see MemoryLimit::reserve).
  void resize(uint64_t n);
  // Gives everything back.
  void reset();

 private:
  friend class MemoryLimit;
  Reservation(std::shared_ptr<MemoryLimit> limit, uint64_t n)
      : limit_(std::move(limit)), bytes_(n) {}

  std::shared_ptr<MemoryLimit> limit_;
  uint64_t bytes_ = 0;
};

}  // namespace otlpgate::memory
