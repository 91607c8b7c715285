// Exporter: the transport that delivers one request to one backend (one attempt at a time).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/pipeline/batch.h"

namespace otlpgate {

// The result of one delivery attempt, classified as the OTLP specification says.
struct ExportOutcome {
  enum class Kind {
    ok,         // delivered (possibly with partial success: see rejected_items)
    retryable,  // HTTP 429/502/503/504, gRPC UNAVAILABLE & co., timeouts, connection errors
    permanent,  // every other failure: count it, log it once per kind, drop the batch
  };
  Kind kind = Kind::ok;
  std::optional<std::chrono::milliseconds> retry_after;  // Retry-After or gRPC RetryInfo
  std::string message;          // what the backend said (or the local error), for logs
  uint64_t rejected_items = 0;  // partial success reported by the backend
  int code = 0;                 // HTTP status or gRPC status code, 0 for local errors
};

// One per configured exporter. Retries, queueing and backoff are NOT the exporter's job: the
// sender in core/queue/ calls send() once per attempt and decides what to do with the outcome.
class Exporter {
 public:
  virtual ~Exporter() = default;

  // The config id, e.g. "otlphttp/logfire".
  virtual std::string_view id() const = 0;

  // Starts one delivery attempt of `batch`. Never blocks. Calls `done` exactly once, on any
  // thread, when the attempt ends (success, failure or its per-attempt timeout). May be called
  // concurrently (up to the queue's num_consumers). The batch's bytes stay alive until `done`.
  virtual void send(const Batch& batch, std::function<void(ExportOutcome)> done) = 0;

  // Cancels in-flight attempts (their `done` runs with a retryable outcome) and closes
  // connections. send() is not called after shutdown().
  virtual void shutdown() = 0;
};

}  // namespace otlpgate
