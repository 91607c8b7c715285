// Validate: finds the items of an indexed request that OTLP backends refuse (a metric without a
// name, a span or log record with malformed ids) and marks them for dropping, so that the rest is
// forwarded and the sender hears of a partial success. The one check both receivers go through.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/otlp/edits.h"
#include "core/otlp/index.h"

namespace otlpgate::otlp {

// Why an item was rejected. An item with several faults counts under the first that applies.
enum class Invalid : uint8_t {
  metric_name_missing,  // Metric.name absent or empty (its data points are rejected)
  span_trace_id,        // a span's trace_id is not 16 bytes, or all zero
  span_span_id,         // a span's span_id is not 8 bytes, or all zero
  span_parent_span_id,  // a span's parent_span_id is present but not 8 bytes
  span_link_id,         // one of a span's links has a trace_id not 16 / span_id not 8 bytes
  log_trace_id,         // a log record's trace_id is present but not 16 bytes
  log_span_id,          // a log record's span_id is present but not 8 bytes
};
inline constexpr std::size_t kInvalidReasons = 7;

// "metric_name_missing", "span_trace_id", ...: the `reason` label of the rejected-items counter.
std::string_view reason_name(Invalid r);

struct Validation {
  uint64_t rejected = 0;  // items (data points, spans, log records) marked for dropping
  std::array<uint64_t, kInvalidReasons> by_reason{};  // the same, per reason
  // Empty when nothing was marked; otherwise says what and where, for the partial success
  // error_message, e.g. "rejected 2 of 10 spans: 2 with a trace_id that is not 16 bytes (first:
  // resourceSpans[0].scopeSpans[1].spans[3], 15 bytes)". Safe to echo to the sender.
  std::string message;
};

// Adds a drop of every invalid metric, span or log record of `index` to `edits` (which may hold
// other edits already) and says what it rejected. Allocates only when something is invalid.
Validation validate(const Index& index, Edits& edits);

}  // namespace otlpgate::otlp
