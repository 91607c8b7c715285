// The OTLP v1 protobuf field numbers, named once: one enum class per message.
// Checked against proto/opentelemetry/proto/**.proto by tests/unit/core/otlp/fields_test.cc.
#pragma once

#include <cstdint>

namespace otlpgate::otlp {

// opentelemetry.proto.collector.*.v1
enum class ExportRequest : uint32_t { resource_items = 1 };  // resource_{metrics,spans,logs}
enum class ExportResponse : uint32_t { partial_success = 1 };
enum class PartialSuccess : uint32_t { rejected = 1, error_message = 2 };

// opentelemetry.proto.common.v1
enum class AnyValue : uint32_t {
  string_value = 1,
  bool_value = 2,
  int_value = 3,
  double_value = 4,
  array_value = 5,
  kvlist_value = 6,
  bytes_value = 7,
};
enum class ArrayValue : uint32_t { values = 1 };
enum class KeyValueList : uint32_t { values = 1 };
enum class KeyValue : uint32_t { key = 1, value = 2 };
enum class InstrumentationScope : uint32_t {
  name = 1,
  version = 2,
  attributes = 3,
  dropped_attributes_count = 4,
};

// opentelemetry.proto.resource.v1
enum class Resource : uint32_t { attributes = 1, dropped_attributes_count = 2, entity_refs = 3 };
// opentelemetry.proto.common.v1.EntityRef (Resource.entity_refs).
enum class EntityRef : uint32_t { schema_url = 1, type = 2, id_keys = 3, description_keys = 4 };

// Resource{Metrics,Spans,Logs} and Scope{Metrics,Spans,Logs} share their numbering.
enum class ResourceGroup : uint32_t { resource = 1, scope_items = 2, schema_url = 3 };
enum class ScopeGroup : uint32_t { scope = 1, items = 2, schema_url = 3 };

// opentelemetry.proto.metrics.v1
enum class Metric : uint32_t {
  name = 1,
  description = 2,
  unit = 3,
  gauge = 5,
  sum = 7,
  histogram = 9,
  exponential_histogram = 10,
  summary = 11,
  metadata = 12,
};
// Gauge, Sum, Histogram, ExponentialHistogram and Summary.
enum class MetricData : uint32_t { data_points = 1, aggregation_temporality = 2, is_monotonic = 3 };
enum class NumberDataPoint : uint32_t {
  start_time_unix_nano = 2,
  time_unix_nano = 3,
  as_double = 4,
  exemplars = 5,
  as_int = 6,
  attributes = 7,
  flags = 8,
};
enum class HistogramDataPoint : uint32_t {
  start_time_unix_nano = 2,
  time_unix_nano = 3,
  count = 4,
  sum = 5,
  bucket_counts = 6,
  explicit_bounds = 7,
  exemplars = 8,
  attributes = 9,
  flags = 10,
  min = 11,
  max = 12,
};
enum class ExponentialHistogramDataPoint : uint32_t {
  attributes = 1,
  start_time_unix_nano = 2,
  time_unix_nano = 3,
  count = 4,
  sum = 5,
  scale = 6,
  zero_count = 7,
  positive = 8,
  negative = 9,
  flags = 10,
  exemplars = 11,
  min = 12,
  max = 13,
  zero_threshold = 14,
};
enum class ExponentialHistogramBuckets : uint32_t { offset = 1, bucket_counts = 2 };
enum class SummaryDataPoint : uint32_t {
  start_time_unix_nano = 2,
  time_unix_nano = 3,
  count = 4,
  sum = 5,
  quantile_values = 6,
  attributes = 7,
  flags = 8,
};
enum class ValueAtQuantile : uint32_t { quantile = 1, value = 2 };
enum class Exemplar : uint32_t {
  time_unix_nano = 2,
  as_double = 3,
  span_id = 4,
  trace_id = 5,
  as_int = 6,
  filtered_attributes = 7,
};

// opentelemetry.proto.trace.v1
enum class Span : uint32_t {
  trace_id = 1,
  span_id = 2,
  trace_state = 3,
  parent_span_id = 4,
  name = 5,
  kind = 6,
  start_time_unix_nano = 7,
  end_time_unix_nano = 8,
  attributes = 9,
  dropped_attributes_count = 10,
  events = 11,
  dropped_events_count = 12,
  links = 13,
  dropped_links_count = 14,
  status = 15,
  flags = 16,
};
enum class SpanEvent : uint32_t {
  time_unix_nano = 1,
  name = 2,
  attributes = 3,
  dropped_attributes_count = 4,
};
enum class SpanLink : uint32_t {
  trace_id = 1,
  span_id = 2,
  trace_state = 3,
  attributes = 4,
  dropped_attributes_count = 5,
  flags = 6,
};
enum class SpanStatus : uint32_t { message = 2, code = 3 };

// opentelemetry.proto.logs.v1
enum class LogRecord : uint32_t {
  time_unix_nano = 1,
  severity_number = 2,
  severity_text = 3,
  body = 5,
  attributes = 6,
  dropped_attributes_count = 7,
  flags = 8,
  trace_id = 9,
  span_id = 10,
  observed_time_unix_nano = 11,
  event_name = 12,
};

// opentelemetry-proto v0.7.0 metrics (tag v0.7.0, commit 286810dc20d40f6483abf719f2b8de28f543fc78),
// the schema of CloudWatch Metric Streams' "OpenTelemetry 0.7.0" output; read only by
// core/firehose/otel07.cc, which converts it to v1. Messages numbered as in v1 are not repeated:
// ExportMetricsServiceRequest, ResourceMetrics (ResourceGroup), InstrumentationLibraryMetrics
// (ScopeGroup), InstrumentationLibrary (InstrumentationScope name/version), Resource, KeyValue,
// AnyValue, DoubleSummaryDataPoint.ValueAtQuantile (ValueAtQuantile), MetricData.
namespace v07 {
enum class Metric : uint32_t {
  name = 1,
  description = 2,
  unit = 3,
  int_gauge = 4,
  double_gauge = 5,
  int_sum = 6,
  double_sum = 7,
  int_histogram = 8,
  double_histogram = 9,
  double_summary = 11,
};
// IntDataPoint and DoubleDataPoint (value: sfixed64 or double).
enum class NumberDataPoint : uint32_t {
  labels = 1,
  start_time_unix_nano = 2,
  time_unix_nano = 3,
  value = 4,
  exemplars = 5,
};
// IntHistogramDataPoint and DoubleHistogramDataPoint (sum: sfixed64 or double).
enum class HistogramDataPoint : uint32_t {
  labels = 1,
  start_time_unix_nano = 2,
  time_unix_nano = 3,
  count = 4,
  sum = 5,
  bucket_counts = 6,
  explicit_bounds = 7,
  exemplars = 8,
};
enum class SummaryDataPoint : uint32_t {
  labels = 1,
  start_time_unix_nano = 2,
  time_unix_nano = 3,
  count = 4,
  sum = 5,
  quantile_values = 6,
};
// IntExemplar and DoubleExemplar (value: sfixed64 or double).
enum class Exemplar : uint32_t {
  filtered_labels = 1,
  time_unix_nano = 2,
  value = 3,
  span_id = 4,
  trace_id = 5,
};
enum class StringKeyValue : uint32_t { key = 1, value = 2 };
}  // namespace v07

// google.rpc.Status and google.rpc.RetryInfo (error bodies and gRPC status details).
enum class RpcStatus : uint32_t { code = 1, message = 2, details = 3 };
enum class RetryInfo : uint32_t { retry_delay = 1 };
enum class Duration : uint32_t { seconds = 1, nanos = 2 };
enum class Any : uint32_t { type_url = 1, value = 2 };

// The number of an enum-named field, for protozero calls.
template <typename E>
constexpr uint32_t num(E e) {
  return static_cast<uint32_t>(e);
}

}  // namespace otlpgate::otlp
