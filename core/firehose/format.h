// Firehose record formats and the reasons a record is refused: the names config and counters use.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace otlpgate::firehose {

// What the data of one Firehose record holds (receivers.awsfirehose.encoding).
enum class Format : uint8_t {
  auto_detect,  // decided per record: gzip → cwlogs, JSON → cwmetrics or cwlogs, else protobuf
  cwmetrics,    // CloudWatch Metric Streams JSON: one metric data point per line
  otel1,        // CloudWatch Metric Streams OpenTelemetry 1.0.0: varint-framed v1 requests
  otel07,       // CloudWatch Metric Streams OpenTelemetry 0.7.0: the same framing, v0.7.0 schema
  cwlogs,       // CloudWatch Logs subscription messages (gzip-compressed JSON, or plain JSON)
};

inline constexpr std::array<std::string_view, 5> kFormatNames = {"auto", "cwmetrics", "otel1",
                                                                 "otel07", "cwlogs"};

constexpr std::string_view format_name(Format f) { return kFormatNames[static_cast<int>(f)]; }

// The config names above, plus the Collector's `otlp_v1` for otel1 so its configs carry over.
constexpr std::optional<Format> format_from_name(std::string_view name) {
  if (name == "otlp_v1") return Format::otel1;
  for (std::size_t i = 0; i < kFormatNames.size(); ++i) {
    if (kFormatNames[i] == name) return static_cast<Format>(i);
  }
  return std::nullopt;
}

// Why a record (or, for `cwmetrics_line`, one line of a record) was not forwarded. The names
// are the `reason` label of otlpgate_firehose_invalid_records_total.
enum class RecordError : uint8_t {
  none,
  base64,          // `data` is not valid base64
  unknown_format,  // auto: neither JSON, gzip nor framed protobuf
  cwmetrics,       // no line of the record is a CloudWatch metric
  cwmetrics_line,  // one line that is not a CloudWatch metric, in a record with valid ones
  otel_framing,    // a length prefix is malformed or runs past the end of the record
  otel_message,    // a framed message is not a valid ExportMetricsServiceRequest
  gzip,            // not a readable gzip stream
  too_large,       // decompressing would exceed the delivery's budget
  cwlogs,          // not a CloudWatch Logs subscription message
};

inline constexpr std::array<std::string_view, 10> kRecordErrorNames = {
    "none",         "base64",       "unknown_format", "cwmetrics", "cwmetrics_line",
    "otel_framing", "otel_message", "gzip",           "too_large", "cwlogs"};

constexpr std::string_view reason_name(RecordError e) {
  return kRecordErrorNames[static_cast<int>(e)];
}

// The outcome of decoding one record: `error` none, or why it was refused and a message that
// says where ("line 3: …", "message 2 at byte 1745: …").
struct RecordResult {
  RecordError error = RecordError::none;
  std::string message;
  explicit operator bool() const noexcept { return error == RecordError::none; }
};

inline RecordResult record_error(RecordError e, std::string message) {
  return {e, std::move(message)};
}

}  // namespace otlpgate::firehose
