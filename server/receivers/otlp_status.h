// Encoders for the small protobuf messages the receivers answer with: Export*ServiceResponse,
// google.rpc.Status and google.rpc.RetryInfo, written with protozero (no libprotobuf).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace otlpgate::server {

// Export{Metrics,Trace,Logs}ServiceResponse: empty when rejected == 0 and message is empty,
// otherwise with partial_success {rejected_*, error_message}.
std::string encode_export_response(uint64_t rejected, std::string_view error_message);

// google.rpc.Status {code, message, details: [RetryInfo] when retry_after > 0}.
std::string encode_rpc_status(int32_t code, std::string_view message, std::chrono::seconds retry_after);

}  // namespace otlpgate::server
