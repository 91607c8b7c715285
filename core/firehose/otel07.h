// CloudWatch Metric Streams "OpenTelemetry 0.7.0" records → the v1 schema. The v0.7.0 messages
// (opentelemetry-proto tag v0.7.0; field numbers in core/otlp/fields.h, namespace v07) are read
// with the wire cursor and written as v1:
//   InstrumentationLibraryMetrics → ScopeMetrics, InstrumentationLibrary → InstrumentationScope
//   IntGauge / DoubleGauge → Gauge, IntSum / DoubleSum → Sum (temporality, monotonic kept),
//   IntHistogram / DoubleHistogram → Histogram (an integer sum becomes a double),
//   DoubleSummary → Summary
//   Int/DoubleDataPoint.value → NumberDataPoint.as_int / as_double
//   labels / filtered_labels (StringKeyValue) → attributes / filtered_attributes (KeyValue with a
//   string AnyValue); Int/DoubleExemplar.value → Exemplar.as_int / as_double
// Resources, scopes, names, units, times, counts, buckets and quantiles keep their bytes. Fields
// the v0.7.0 schema does not define are dropped (v1 would read them as something else).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/firehose/format.h"

namespace otlpgate::firehose {

// Converts one v0.7.0 ExportMetricsServiceRequest to v1, appended to `out`. On failure (malformed
// wire data, a known field with the wrong wire type) returns what and where (the byte offset in
// `request`); `out` is then unspecified.
bool convert_otel07_request(std::string_view request, std::string& out, std::string* error);

// Decodes a 0.7.0 record: every framed message is converted and the result checked like a 1.0.0
// message; they are appended to `request` and their data points added to *points. On failure
// nothing is appended.
RecordResult append_otel07_record(std::string_view record, std::string& request, uint64_t* points);

}  // namespace otlpgate::firehose
