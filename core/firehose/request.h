// The Amazon Data Firehose HTTP endpoint delivery protocol (AWS "HTTP Endpoint Delivery Request and
// Response Specifications"): header names, the request body and the response body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/base64.h"

namespace otlpgate::firehose {

inline constexpr std::string_view kRequestIdHeader = "X-Amz-Firehose-Request-Id";
inline constexpr std::string_view kAccessKeyHeader = "X-Amz-Firehose-Access-Key";
inline constexpr std::string_view kCommonAttributesHeader = "X-Amz-Firehose-Common-Attributes";
inline constexpr std::string_view kSourceArnHeader = "X-Amz-Firehose-Source-Arn";

// The longest errorMessage Firehose accepts in a response.
inline constexpr std::size_t kMaxErrorMessage = 8192;

// What a delivery body says besides its records.
struct DeliveryBody {
  std::string request_id;  // empty when absent
  int64_t timestamp_ms = 0;
  std::size_t records = 0;
};

// Called for each record in order: `data` is the decoded record (possibly empty), or, when
// `error` is not empty, the record could not be decoded (not base64, or no `data` string).
using OnRecord =
    std::function<void(std::size_t index, std::string_view data, std::string_view error)>;

// Parses `{"requestId": "…", "timestamp": <ms>, "records": [{"data": "<base64>"}, …]}` (keys in
// any order, unknown keys ignored) and hands each record to `on_record` as it is read, so that a
// 64 MiB body is never held decoded twice. Returns "" or what makes the body as a whole unusable
// (not JSON, wrong types). `body` gains SIMDJSON padding in its capacity; its contents are not
// changed. The views passed to `on_record` are valid during the call only.
std::string parse_delivery(std::string& body, DeliveryBody& out, const OnRecord& on_record);

// Record data is standard base64 with padding (RFC 4648 section 4), as Firehose writes it; line
// breaks are ignored as Go's decoder (the Collector's) ignores them.
inline constexpr Base64Rules kRecordBase64{.skip_line_breaks = true};

// The response body: {"requestId": …, "timestamp": …} plus "errorMessage" when `error_message` is
// not empty (cut to kMaxErrorMessage bytes on a UTF-8 boundary).
std::string encode_response(std::string_view request_id, int64_t timestamp_ms,
                            std::string_view error_message);

}  // namespace otlpgate::firehose
