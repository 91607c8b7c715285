// Seeded random OTLP requests for property tests: every metric type, nested attribute values,
// span events and links, log bodies of every kind, and unknown fields.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/signal.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace otlpgate::testing {

using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using TraceRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;

struct RandomOptions {
  int max_resources = 3;
  int max_scopes = 3;
  int max_items = 6;        // metrics per scope / spans per scope / log records per scope
  int max_points = 4;       // data points per metric
  int max_attributes = 5;   // per attribute list
  int max_value_depth = 4;  // nesting of arrays / kvlists in AnyValue
  bool unknown_fields = true;

  // The size knob: every count above multiplied by `factor` (nesting depth excepted).
  RandomOptions scaled(int factor) const {
    RandomOptions o = *this;
    o.max_resources *= factor;
    o.max_scopes *= factor;
    o.max_items *= factor;
    o.max_points *= factor;
    o.max_attributes *= factor;
    return o;
  }
};

MetricsRequest random_metrics(uint64_t seed, const RandomOptions& o = {});
TraceRequest random_traces(uint64_t seed, const RandomOptions& o = {});
LogsRequest random_logs(uint64_t seed, const RandomOptions& o = {});

// The serialized Export*ServiceRequest of `signal` for `seed`, as a client would send it.
std::string random_request_bytes(Signal signal, uint64_t seed, const RandomOptions& o = {});

// An empty Export*ServiceRequest of `signal`, to parse bytes into.
std::unique_ptr<google::protobuf::Message> new_request(Signal signal);

}  // namespace otlpgate::testing
