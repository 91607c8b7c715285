// Batch: one request on its way through the gateway, as every stage and exporter sees it.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/signal.h"

namespace otlpgate {

// The serialized Export*ServiceRequest plus what the receiver learned about it. Immutable once
// enqueued: exporters share `bytes` by reference.
struct Batch {
  Signal signal = Signal::metrics;
  Bytes bytes;         // serialized Export{Metrics,Trace,Logs}ServiceRequest
  uint64_t items = 0;  // data points / spans / log records in `bytes`
  std::string tenant;  // set by authentication (empty when none)
};

}  // namespace otlpgate
