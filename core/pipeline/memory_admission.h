// The receivers' side of the memory limit: reserving a request's bytes, and the answer when the
// limit refuses them.
#pragma once

#include <cstdint>

#include "core/memory/memory_limit.h"
#include "core/pipeline/ingest.h"

namespace otlpgate {

// Reserves `n` bytes against ingest.memory_limit() into `held` (which stays empty when the ingest
// keeps no limit). False when the limit refuses: answer memory_refused() then.
bool reserve_memory(Ingest& ingest, uint64_t n, memory::Reservation& held);

// The result to answer a request the memory limit refused with: overloaded (HTTP 429 with
// Retry-After, gRPC RESOURCE_EXHAUSTED with RetryInfo, Firehose 503).
IngestResult memory_refused(const memory::MemoryLimit* limit);

}  // namespace otlpgate
