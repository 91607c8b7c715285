// Metrics: the gateway's own counters and gauges, bumped lock-free on the hot path and rendered
// in the Prometheus text exposition format for /metrics.
//
// The set the gateway registers (names follow the collector's otelcol_* metrics; where the
// collector has one metric per item kind — accepted_spans, accepted_metric_points,
// accepted_log_records — we have one metric with a `signal` label of metrics|traces|logs, and
// items are what OTLP counts: data points, spans, log records):
//
//   otlpgate_receiver_accepted_items_total{receiver,transport,signal}   counter
//       items a receiver handed to the pipeline and that every exporter queue took
//       (transport: grpc | http).                       collector: otelcol_receiver_accepted_*
//   otlpgate_receiver_refused_items_total{receiver,transport,signal}    counter
//       items answered with an error (undecodable, queue full, shutting down).
//                                                       collector: otelcol_receiver_refused_*
//   otlpgate_receiver_rejected_items_total{receiver,signal,reason}      counter
//       invalid items dropped before any pipeline and reported to the sender as a partial
//       success (core/otlp/validate.h names the reasons; declared in core/pipeline/runtime.cc).
//   otlpgate_processor_<name>_total{processor,pipeline,...}            counter (gauge: no _total)
//       each processing stage's own series, declared next to the code that bumps them
//       (filters/counted_stage.h): items_seen, items_dropped{reason}, items_edited, and per stage
//       attributes_redacted{rule}, values_masked{pattern}, dedup_window_keys (gauge),
//       dedup_window_evictions{reason}, metrics_renamed, metric_name_conflicts. `processor` is the
//       config id (filter/x), `pipeline` the pipeline id (metrics/elb): one instance per pipeline.
//   otlpgate_exporter_sent_items_total{exporter,signal}                 counter
//       items the backend acknowledged.                 collector: otelcol_exporter_sent_*
//   otlpgate_exporter_send_failed_items_total{exporter,signal}          counter
//       items given up on (permanent error, retries exhausted).
//                                                       collector: otelcol_exporter_send_failed_*
//   otlpgate_exporter_enqueue_failed_items_total{exporter,signal}       counter
//       items the exporter queue refused because it was full.
//                                                       collector:
//                                                       otelcol_exporter_enqueue_failed_*
//   otlpgate_exporter_retries_total{exporter,signal}                    counter
//       send attempts that failed retryably and were scheduled again.
//   otlpgate_exporter_queue_size{exporter}                              gauge
//       requests waiting in the exporter queue.          collector: otelcol_exporter_queue_size
//   otlpgate_exporter_queue_capacity{exporter}                          gauge
//       the queue's bound in requests.                   collector: otelcol_exporter_queue_capacity
//   otlpgate_exporter_queue_disk_*{exporter}                            persistent queues only
//       bytes and segments on disk, requests replayed at start, corrupt records skipped, torn
//       tails cut, fsyncs (declared in core/queue/disk_queue.cc).
//   otlpgate_memory_used_bytes / otlpgate_memory_limit_bytes            gauge
//       request bytes held in memory as accounted against service.memory_limit_mib, and the limit
//       (0: none); core/memory/memory_limit.h.
//   otlpgate_memory_refusals_total                                      counter
//       requests refused (HTTP 429, gRPC RESOURCE_EXHAUSTED, Firehose 503) at the memory limit.
//
// The kMetric* constants below carry these names and help texts, so call sites cannot misspell
// them. Series are registered once at start-up (under a lock); the returned references stay valid
// for the registry's lifetime and are bumped with relaxed atomics only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlpgate::telemetry {

// Label name/value pairs, fixed at registration and rendered in the given order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count. add() is wait-free; its own cache line keeps threads that
// bump neighbouring series from contending.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (queue depth, capacity).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<int64_t> value_{0};
};

// The name and help text of one metric family.
struct MetricDef {
  std::string_view name;
  std::string_view help;
};

inline constexpr MetricDef kMetricReceiverAcceptedItems{
    "otlpgate_receiver_accepted_items_total",
    "Items (data points, spans, log records) accepted by a receiver and queued for every "
    "exporter."};
inline constexpr MetricDef kMetricReceiverRefusedItems{
    "otlpgate_receiver_refused_items_total",
    "Items a receiver answered with an error (undecodable, queue full, shutting down)."};
inline constexpr MetricDef kMetricExporterSentItems{"otlpgate_exporter_sent_items_total",
                                                    "Items the backend acknowledged."};
inline constexpr MetricDef kMetricExporterSendFailedItems{
    "otlpgate_exporter_send_failed_items_total",
    "Items given up on after a permanent error or exhausted retries."};
inline constexpr MetricDef kMetricExporterEnqueueFailedItems{
    "otlpgate_exporter_enqueue_failed_items_total",
    "Items the exporter queue refused because it was full."};
inline constexpr MetricDef kMetricExporterRetries{
    "otlpgate_exporter_retries_total",
    "Send attempts that failed retryably and were scheduled again."};
inline constexpr MetricDef kMetricExporterQueueSize{"otlpgate_exporter_queue_size",
                                                    "Requests waiting in the exporter queue."};
inline constexpr MetricDef kMetricExporterQueueCapacity{
    "otlpgate_exporter_queue_capacity", "Capacity of the exporter queue in requests."};
inline constexpr MetricDef kMetricMemoryUsed{
    "otlpgate_memory_used_bytes",
    "Request bytes held in memory (bodies being received or processed, buffers in exporter "
    "queues, each counted once however many queues share it)."};
inline constexpr MetricDef kMetricMemoryLimit{
    "otlpgate_memory_limit_bytes", "service.memory_limit_mib in bytes (0: no limit)."};
inline constexpr MetricDef kMetricMemoryRefusals{
    "otlpgate_memory_refusals_total",
    "Requests refused with a retryable status because the memory limit was reached."};

// Owns every series. Registration and render() lock; Counter/Gauge updates never do.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Returns the series `name{labels}`, creating it at zero on first use; registering the same name
  // and labels again returns the same object. Throws std::invalid_argument for a name or label
  // name Prometheus does not allow, a label given twice, or a name already registered as the other
  // kind: these are mistakes in our code, caught at start-up.
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Counter& counter(const MetricDef& def, Labels labels = {}) {
    return counter(def.name, def.help, std::move(labels));
  }
  Gauge& gauge(const MetricDef& def, Labels labels = {}) {
    return gauge(def.name, def.help, std::move(labels));
  }
  // A series whose value render() reads from `read` (under the registry's lock; it must be cheap
  // and must not touch the registry), for state kept elsewhere: the memory limit's atomic, a
  // persistent queue's statistics. `read` must stay callable for the registry's lifetime.
  void counter_fn(const MetricDef& def, Labels labels, std::function<uint64_t()> read);
  void gauge_fn(const MetricDef& def, Labels labels, std::function<int64_t()> read);

  // Every family in name order (series in registration order) as Prometheus text format 0.0.4:
  // "# HELP", "# TYPE", then one "name{label=\"value\"} number" line per series.
  std::string render() const;

 private:
  enum class Kind { counter, gauge };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<int64_t()> read;  // a *_fn series: the value is read at render()
  };
  struct Family {
    std::string help;
    Kind kind;
    std::vector<Series> series;
  };

  // Takes the lock; `read` (when given) makes the series a *_fn one.
  Series& find_or_add(std::string_view name, std::string_view help, Labels labels, Kind kind,
                      std::function<int64_t()> read = {});

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace otlpgate::telemetry
