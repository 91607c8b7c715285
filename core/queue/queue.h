// Queue: the per-exporter store of requests waiting for delivery (in memory or on disk).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/pipeline/batch.h"

namespace otlpgate::telemetry {
class Registry;
}

namespace otlpgate::queue {

// A request taken out of a queue. `id` identifies it to the queue that handed it out, so that a
// persistent queue can mark exactly that record done when ack() is called.
struct Entry {
  Batch batch;
  uint64_t id = 0;
};

// One per exporter; thread-safe. The lifecycle of a request is try_push() (the sender of the
// request may be acknowledged once it returns true), pop() (a sender starts delivering it), and
// ack() (delivered, or finally given up). A persistent implementation replays entries that were
// popped but never acked.
class Queue {
 public:
  virtual ~Queue() = default;

  // Takes a copy of `batch` (its bytes are shared, not copied) when it fits under every bound;
  // returns false and keeps nothing when the queue is full.
  virtual bool try_push(const Batch& batch) = 0;

  // The oldest waiting entry, or nullopt when none waits.
  virtual std::optional<Entry> pop() = 0;

  // Releases an entry handed out by pop(); called exactly once per popped entry.
  virtual void ack(const Entry& entry) = 0;

  // Gives back a popped entry undelivered at shutdown, instead of ack(): a persistent queue keeps
  // it for the next start; a memory queue has nowhere to keep it and forgets it like ack().
  virtual void release(const Entry& entry) { ack(entry); }
  // True when entries outlive the process (sending_queue.storage): shutdown then keeps what waits
  // instead of dropping it.
  virtual bool persistent() const { return false; }
  // Registers the queue's own series, labelled exporter=`exporter_id` (a persistent queue: its
  // disk counters). The queue must outlive every render() of `metrics`.
  virtual void register_metrics(telemetry::Registry& /*metrics*/,
                                const std::string& /*exporter_id*/) const {}

  // Entries waiting (pushed, not yet popped).
  virtual std::size_t size() const = 0;
  // Bytes held: waiting entries plus popped entries not yet acked.
  virtual uint64_t bytes() const = 0;
  // The bounds: entries waiting, and bytes held.
  virtual std::size_t capacity() const = 0;
  virtual uint64_t capacity_bytes() const = 0;
};

}  // namespace otlpgate::queue
