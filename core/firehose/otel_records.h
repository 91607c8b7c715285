// CloudWatch Metric Streams OpenTelemetry records: each is one or more
// ExportMetricsServiceRequest messages, every one preceded by its length as a varint
// ("UnsignedVarInt32" in the AWS docs). Splitting (with every length checked against the record's
// end), the 1.0.0 format, and telling 1.0.0 from 0.7.0 apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/firehose/format.h"

namespace otlpgate::firehose {

// One framed message of a record.
struct Frame {
  std::string_view message;
  std::size_t index;   // 0 for the record's first message
  std::size_t offset;  // of its length prefix in the record
};

// Calls on_frame for each message of `record` in order and stops at the first failure, which it
// returns. A length prefix that is malformed or runs past the end of the record fails with
// RecordError::otel_framing before on_frame sees that message. An empty record has no message.
RecordResult for_each_frame(std::string_view record,
                            const std::function<RecordResult(const Frame&)>& on_frame);

// Checks that `request` is a valid ExportMetricsServiceRequest (the index's one pass) and adds its
// data point count to *points. A failure is RecordError::otel_message and names the frame.
RecordResult check_metrics_request(std::string_view request, const Frame& frame, uint64_t* points);

// Decodes an OpenTelemetry 1.0.0 record: every message must be valid; they are appended to
// `request` (the bytes of an ExportMetricsServiceRequest: concatenated requests are their merge)
// and their data points added to *points. On failure nothing is appended.
RecordResult append_otel1_record(std::string_view record, std::string& request, uint64_t* points);

// True when the record's first message uses what only the v0.7.0 schema has: Int* metric types,
// or StringKeyValue labels (field 1) on data points and exemplars. Records without either are
// read alike by both decoders, so auto-detection may then choose 1.0.0.
bool looks_like_otel07(std::string_view record);

}  // namespace otlpgate::firehose
