// PerThread<T>: one T per (object, calling thread), reached without a lock: for the caches and the
// per-request state that a stage keeps across calls on one I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <unordered_map>

namespace otlpgate::filters {

template <typename T>
class PerThread {
 public:
  PerThread() : id_(next_id()) {}

  // This thread's T for this object, value-initialised on first use. One hash lookup; keep the
  // reference for the rest of the call rather than asking per item.
  T& local() const {
    // Keyed by a never-reused id rather than `this`, so an object rebuilt at the same address
    // never sees its predecessor's values. Entries of destroyed objects stay until the thread
    // ends: stages are built once at start-up.
    thread_local std::unordered_map<uint64_t, T> values;
    return values[id_];
  }

 private:
  static uint64_t next_id() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t id_;
};

}  // namespace otlpgate::filters
