// Memory admission for receivers: one try_reserve, and a refusal that names the limit.
#include "core/pipeline/memory_admission.h"

#include <string>

namespace otlpgate {

bool reserve_memory(Ingest& ingest, uint64_t n, memory::Reservation& held) {
  memory::MemoryLimit* limit = ingest.memory_limit();
  if (!limit) return true;
  std::optional<memory::Reservation> r = limit->try_reserve(n);
  if (!r) return false;
  held = std::move(*r);
  return true;
}

IngestResult memory_refused(const memory::MemoryLimit* limit) {
  IngestResult r;
  r.status = IngestResult::Status::overloaded;
  r.message = "memory limit reached";
  if (limit) {
    r.message += " (" + std::to_string(limit->used() >> 20) + " of " +
                 std::to_string(limit->limit() >> 20) + " MiB held)";
  }
  r.message += "; retry later";
  // Memory frees as the exporters deliver: soon, unless a backend is down (then the sender's own
  // backoff spaces its retries out).
  r.retry_after = std::chrono::seconds(1);
  return r;
}

}  // namespace otlpgate
