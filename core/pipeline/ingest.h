// Ingest: the one entry point every receiver hands requests to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/memory/memory_limit.h"
#include "core/signal.h"

namespace otlpgate {

struct IngestResult {
  enum class Status {
    ok,           // accepted by every exporter queue of every pipeline it feeds
    invalid,      // the bytes are not a valid request (HTTP 400 / INVALID_ARGUMENT)
    overloaded,   // a queue or the memory limit refused it: retry later (429 / RESOURCE_EXHAUSTED)
    unavailable,  // shutting down or no pipeline can take it now (503 / UNAVAILABLE)
    forbidden,    // its tenant feeds no pipeline of this receiver (403 / PERMISSION_DENIED)
  };
  Status status = Status::ok;
  // What was wrong, for the error body; on ok, empty or the partial success error_message
  // (which invalid items were dropped, core/otlp/validate.h).
  std::string message;
  uint64_t rejected_items = 0;          // partial success: items dropped as invalid
  std::chrono::seconds retry_after{0};  // hint for overloaded / unavailable
};

// Implemented by the runtime (core/pipeline/runtime.h). Thread-safe: receivers call it from
// every I/O thread at once.
class Ingest {
 public:
  virtual ~Ingest() = default;

  // Validates `body` as an Export*ServiceRequest of `signal` (one index pass), drops its invalid
  // items (reported back as rejected_items, a partial success), runs the rest through
  // the chain of every pipeline that `receiver_id` feeds for that signal and that takes `tenant`
  // (config::Pipeline::tenants; none: forbidden), and enqueues the result
  // at each of their exporters. `done` is called exactly once, when the request is accepted (in
  // memory, or durably where a queue is persistent) or refused; it may run inline on the calling
  // thread or later on another thread, and must not block. The caller keeps nothing alive:
  // `body` is shared, `receiver_id` and `tenant` are copied if needed.
  virtual void submit(std::string_view receiver_id, Signal signal, Bytes body,
                      std::string_view tenant, std::function<void(IngestResult)> done) = 0;

  // The gateway-wide memory budget (service.memory_limit_mib): a receiver reserves a request's
  // bytes against it before holding them, answers a refusal as `overloaded`, and hands `body` over
  // charged (Bytes::adopt with the reservation). Null when no budget is kept.
  virtual memory::MemoryLimit* memory_limit() { return nullptr; }
};

}  // namespace otlpgate
