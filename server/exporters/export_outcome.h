// Classifying one export attempt's answer (HTTP status or gRPC status, plus the protobuf the
// backend sent) into an ExportOutcome, as the OTLP specification says (FACTS.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/exporter.h"

namespace otlpgate::server {

// Export*ServiceResponse.partial_success. All three response types share the numbering.
struct PartialSuccess {
  uint64_t rejected = 0;
  std::string error_message;
};

// Parses an Export{Metrics,Trace,Logs}ServiceResponse. False when the bytes are not one; an empty
// body is a valid response without partial success.
bool parse_export_response(std::string_view body, PartialSuccess* out);

// google.rpc.Status, with the delay of a google.rpc.RetryInfo found among its details.
struct RpcStatus {
  int32_t code = 0;
  std::string message;
  std::optional<std::chrono::milliseconds> retry_delay;
};

// Parses a serialized google.rpc.Status (an OTLP/HTTP error body, or gRPC's
// grpc-status-details-bin). False when the bytes are not one.
bool parse_rpc_status(std::string_view body, RpcStatus* out);

// Retry-After: delay-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime form). A date in
// the past is a zero delay. nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// What an OTLP/HTTP response means. 2xx: ok, with partial success read from the body; 429, 502,
// 503, 504: retryable, honouring Retry-After; everything else: permanent. `message` carries the
// google.rpc.Status message of a protobuf error body, or the start of a text body.
ExportOutcome classify_http(int status, std::string_view content_type, std::string_view body,
                            std::string_view retry_after,
                            std::chrono::system_clock::time_point now);

// What a gRPC status means. OK: ok, with partial success read from `response`; CANCELLED,
// DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS: retryable; RESOURCE_EXHAUSTED:
// retryable only when `details` (serialized google.rpc.Status) carries RetryInfo; others:
// permanent. RetryInfo's delay becomes retry_after.
ExportOutcome classify_grpc(int code, std::string_view message, std::string_view details,
                            std::string_view response);

// Keeps a backend's text fit for one log line: at most `max` bytes, control bytes as '?'.
std::string printable(std::string_view text, std::size_t max = 512);

}  // namespace otlpgate::server
