// Workload: builds the benchmark requests with libprotobuf (off the measured path).
#include "bench/workload.h"

#include <random>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace otlpgate::bench {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace res = opentelemetry::proto::resource::v1;
namespace metrics = opentelemetry::proto::metrics::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace logs = opentelemetry::proto::logs::v1;

void add_string(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, const std::string& k,
                const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

void add_int(google::protobuf::RepeatedPtrField<common::KeyValue>* attrs, const std::string& k, int64_t v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}

void fill_resource(res::Resource* r) {
  add_string(r->mutable_attributes(), "service.name", "checkout");
  add_string(r->mutable_attributes(), "service.namespace", "shop");
  add_string(r->mutable_attributes(), "service.instance.id", "3f1c2a9e-6a4b-4f0e-9d55-1b0e2a7c9d11");
  add_string(r->mutable_attributes(), "host.name", "ip-10-0-12-34.eu-west-1.compute.internal");
  add_string(r->mutable_attributes(), "cloud.region", "eu-west-1");
  add_string(r->mutable_attributes(), "k8s.pod.name", "checkout-7d9c8b6f5-x2x9q");
}

std::string hex_id(std::mt19937_64& rng, int bytes) {
  std::string s(bytes, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

const char* kRoutes[] = {"/api/cart", "/api/checkout", "/api/items/{id}", "/healthz", "/api/user"};
const char* kMethods[] = {"GET", "POST", "PUT"};

std::string metrics_request(std::size_t target, std::mt19937_64& rng) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  fill_resource(rm->mutable_resource());
  const uint64_t now = 1763800000000000000ull;
  int scope_no = 0;
  while (req.ByteSizeLong() < target) {
    auto* sm = rm->add_scope_metrics();
    sm->mutable_scope()->set_name("io.opentelemetry.http-" + std::to_string(scope_no++));
    sm->mutable_scope()->set_version("2.9.0");
    for (int m = 0; m < 20; ++m) {
      auto* metric = sm->add_metrics();
      metric->set_name("http.server.request." + std::to_string(m) + (m % 3 == 0 ? ".duration" : ".count"));
      metric->set_unit(m % 3 == 0 ? "s" : "{request}");
      metric->set_description("HTTP server requests");
      if (m % 3 == 0) {
        auto* h = metric->mutable_histogram();
        h->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (int p = 0; p < 10; ++p) {
          auto* dp = h->add_data_points();
          dp->set_start_time_unix_nano(now - 60'000'000'000ull);
          dp->set_time_unix_nano(now);
          add_string(dp->mutable_attributes(), "http.route", kRoutes[p % 5]);
          add_string(dp->mutable_attributes(), "http.request.method", kMethods[p % 3]);
          add_int(dp->mutable_attributes(), "http.response.status_code", 200 + (p % 4) * 100);
          dp->set_count(rng() % 10000);
          dp->set_sum(static_cast<double>(rng() % 100000) / 7.0);
          for (double b : {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0}) dp->add_explicit_bounds(b);
          for (int b = 0; b < 11; ++b) dp->add_bucket_counts(rng() % 1000);
        }
      } else {
        auto* s = metric->mutable_sum();
        s->set_is_monotonic(true);
        s->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (int p = 0; p < 10; ++p) {
          auto* dp = s->add_data_points();
          dp->set_start_time_unix_nano(now - 60'000'000'000ull);
          dp->set_time_unix_nano(now);
          add_string(dp->mutable_attributes(), "http.route", kRoutes[p % 5]);
          add_string(dp->mutable_attributes(), "http.request.method", kMethods[p % 3]);
          add_int(dp->mutable_attributes(), "http.response.status_code", 200 + (p % 4) * 100);
          dp->set_as_int(static_cast<int64_t>(rng() % 1000000));
        }
      }
    }
  }
  return req.SerializeAsString();
}

std::string trace_request(std::size_t target, std::mt19937_64& rng) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  fill_resource(rs->mutable_resource());
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("io.opentelemetry.tomcat-10.0");
  ss->mutable_scope()->set_version("2.9.0");
  const uint64_t now = 1763800000000000000ull;
  while (req.ByteSizeLong() < target) {
    for (int i = 0; i < 50; ++i) {
      auto* span = ss->add_spans();
      span->set_trace_id(hex_id(rng, 16));
      span->set_span_id(hex_id(rng, 8));
      span->set_parent_span_id(hex_id(rng, 8));
      span->set_name(std::string(kMethods[i % 3]) + " " + kRoutes[i % 5]);
      span->set_kind(trace::Span::SPAN_KIND_SERVER);
      span->set_start_time_unix_nano(now + i * 1000);
      span->set_end_time_unix_nano(now + i * 1000 + 2'500'000);
      add_string(span->mutable_attributes(), "http.request.method", kMethods[i % 3]);
      add_string(span->mutable_attributes(), "http.route", kRoutes[i % 5]);
      add_string(span->mutable_attributes(), "url.full", std::string("https://shop.example.com") + kRoutes[i % 5] + "?session=abc123");
      add_string(span->mutable_attributes(), "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0");
      add_string(span->mutable_attributes(), "client.address", "10.0.3.17");
      add_int(span->mutable_attributes(), "http.response.status_code", 200);
      if (i % 10 == 0) {
        auto* ev = span->add_events();
        ev->set_name("exception");
        ev->set_time_unix_nano(now + i * 1000 + 100);
        add_string(ev->mutable_attributes(), "exception.type", "java.io.IOException");
        add_string(ev->mutable_attributes(), "exception.message", "Connection reset by peer");
      }
      span->mutable_status()->set_code(trace::Status::STATUS_CODE_OK);
    }
  }
  return req.SerializeAsString();
}

std::string logs_request(std::size_t target, std::mt19937_64& rng) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  fill_resource(rl->mutable_resource());
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("org.slf4j");
  const uint64_t now = 1763800000000000000ull;
  while (req.ByteSizeLong() < target) {
    for (int i = 0; i < 50; ++i) {
      auto* lr = sl->add_log_records();
      lr->set_time_unix_nano(now + i);
      lr->set_observed_time_unix_nano(now + i + 10);
      lr->set_severity_number(i % 7 == 0 ? logs::SEVERITY_NUMBER_ERROR : logs::SEVERITY_NUMBER_INFO);
      lr->set_severity_text(i % 7 == 0 ? "ERROR" : "INFO");
      lr->mutable_body()->set_string_value("order " + std::to_string(rng() % 100000) +
                                           " placed by customer jane.doe@example.com in 23 ms");
      add_string(lr->mutable_attributes(), "logger.name", "com.shop.checkout.OrderService");
      add_string(lr->mutable_attributes(), "thread.name", "http-nio-8080-exec-" + std::to_string(i % 8));
      add_int(lr->mutable_attributes(), "order.items", i % 9);
      lr->set_trace_id(hex_id(rng, 16));
      lr->set_span_id(hex_id(rng, 8));
    }
  }
  return req.SerializeAsString();
}

}  // namespace

std::string make_request(Signal signal, std::size_t target_bytes, unsigned seed) {
  std::mt19937_64 rng(seed);
  switch (signal) {
    case Signal::metrics: return metrics_request(target_bytes, rng);
    case Signal::traces: return trace_request(target_bytes, rng);
    case Signal::logs: return logs_request(target_bytes, rng);
  }
  return {};
}

}  // namespace otlpgate::bench
