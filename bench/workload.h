// Workload: realistic, deterministic OTLP requests for the benchmarks (what a collector batch looks
// like: one service, a few scopes, many items with a handful of attributes each).
#pragma once

#include <cstddef>
#include <string>

#include "core/signal.h"

namespace otlpgate::bench {

// A serialized Export*ServiceRequest of about `target_bytes` for `signal`, the same for a seed.
std::string make_request(Signal signal, std::size_t target_bytes, unsigned seed = 1);

}  // namespace otlpgate::bench
