// Signal: the three OTLP signals and their names on the wire and in config.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace otlpgate {

enum class Signal : unsigned char { metrics = 0, traces = 1, logs = 2 };

inline constexpr std::array<Signal, 3> kAllSignals = {Signal::metrics, Signal::traces, Signal::logs};

// "metrics", "traces", "logs": the config pipeline key and the OTLP/HTTP path suffix.
constexpr std::string_view signal_name(Signal s) {
  switch (s) {
    case Signal::metrics: return "metrics";
    case Signal::traces: return "traces";
    case Signal::logs: return "logs";
  }
  return "?";
}

// OTLP/HTTP path: /v1/metrics, /v1/traces, /v1/logs.
constexpr std::string_view signal_http_path(Signal s) {
  switch (s) {
    case Signal::metrics: return "/v1/metrics";
    case Signal::traces: return "/v1/traces";
    case Signal::logs: return "/v1/logs";
  }
  return "?";
}

// Full gRPC method name of the collector service's Export rpc.
constexpr std::string_view signal_grpc_method(Signal s) {
  switch (s) {
    case Signal::metrics: return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    case Signal::traces: return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case Signal::logs: return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
  }
  return "?";
}

// What OTLP counts as one item of the signal (partial success uses these words).
constexpr std::string_view signal_item_name(Signal s) {
  switch (s) {
    case Signal::metrics: return "data points";
    case Signal::traces: return "spans";
    case Signal::logs: return "log records";
  }
  return "?";
}

constexpr std::optional<Signal> signal_from_name(std::string_view name) {
  for (Signal s : kAllSignals) {
    if (signal_name(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace otlpgate
