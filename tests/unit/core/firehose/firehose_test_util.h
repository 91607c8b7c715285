// Shared helpers for the Firehose decoder tests: fixture files (tests/fixtures/firehose), varint
// framing, and reading attributes of decoded requests through libprotobuf.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/wire/writer.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace otlpgate::firehose::test {

using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using KeyValues = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

// The bytes of tests/fixtures/firehose/<relative>.
inline std::string fixture(const std::string& relative) {
  std::ifstream in(std::string(OTLPGATE_SOURCE_DIR) + "/tests/fixtures/firehose/" + relative,
                   std::ios::binary);
  EXPECT_TRUE(in) << "missing fixture " << relative;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `message` preceded by its length as a varint, as CloudWatch frames OpenTelemetry records.
inline std::string framed(std::string_view message) {
  std::string out;
  wire::append_varint(out, message.size());
  out.append(message);
  return out;
}

// The string value of attribute `key` ("<absent>" when there is none, "<not a string>" when it
// has another type; a one-string array reads as "[value]").
inline std::string attr(const KeyValues& attrs, std::string_view key) {
  for (const auto& kv : attrs) {
    if (kv.key() != key) continue;
    if (kv.value().has_string_value()) return kv.value().string_value();
    if (kv.value().has_array_value() && kv.value().array_value().values_size() == 1)
      return "[" + kv.value().array_value().values(0).string_value() + "]";
    return "<not a string>";
  }
  return "<absent>";
}

template <typename Request>
Request parse(const std::string& bytes) {
  Request r;
  EXPECT_TRUE(r.ParseFromString(bytes)) << "not a valid " << r.GetTypeName();
  return r;
}

inline int metric_count(const MetricsRequest& r) {
  int n = 0;
  for (const auto& rm : r.resource_metrics())
    for (const auto& sm : rm.scope_metrics()) n += sm.metrics_size();
  return n;
}

}  // namespace otlpgate::firehose::test
