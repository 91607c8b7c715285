// Helpers for the stage tests: build requests with libprotobuf, run one stage, parse the result.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "filters/registry.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/support/chain_reference.h"

namespace otlpgate::filters::testing {

using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using TraceRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using KeyValue = opentelemetry::proto::common::v1::KeyValue;
using KVs = google::protobuf::RepeatedPtrField<KeyValue>;
using Attrs = std::vector<std::pair<std::string, std::string>>;

inline config::Processor processor(const std::string& id, const std::string& yaml) {
  return otlpgate::testing::processor_config(id, yaml);
}

// Builds a stage from "type/name" and its YAML block; fails the test when it does not build.
inline std::unique_ptr<Stage> stage(const std::string& id, const std::string& yaml) {
  std::string err;
  auto s = make_stage(processor(id, yaml), &err);
  EXPECT_TRUE(s) << err;
  return s;
}

// The error a bad block gives ("" when it builds).
inline std::string stage_error(const std::string& id, const std::string& yaml) {
  std::string err;
  auto s = make_stage(processor(id, yaml), &err);
  return s ? std::string() : err;
}

inline uint64_t counter(const Stage& s, const std::string& name) {
  for (auto& [n, v] : stage_counters(s))
    if (n == name) return v;
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

template <typename Req>
constexpr Signal signal_of() {
  if constexpr (std::is_same_v<Req, MetricsRequest>)
    return Signal::metrics;
  else if constexpr (std::is_same_v<Req, TraceRequest>)
    return Signal::traces;
  else
    return Signal::logs;
}

struct RunResult {
  bool same_storage = false;  // the output is the input buffer itself
  uint64_t items = 0;
};

// Serializes `in`, indexes it, runs `st`, applies the edits and parses the output into `out`.
template <typename Req>
RunResult run(Stage& st, const Req& in, Req* out) {
  std::string b;
  in.SerializeToString(&b);
  Bytes bytes = Bytes::adopt(std::move(b));
  otlp::Index ix;
  auto r = ix.build(signal_of<Req>(), bytes);
  EXPECT_TRUE(r) << otlp::describe(r);
  otlp::Edits edits;
  edits.reset(ix);
  st.process(ix, edits);
  otlp::Rewriter rw;
  auto res = rw.apply(ix, edits);
  out->Clear();
  EXPECT_TRUE(out->ParseFromString(std::string(res.bytes.view())));
  return {res.bytes.same_storage(bytes), res.items};
}

template <typename Req>
Req run(Stage& st, const Req& in) {
  Req out;
  run(st, in, &out);
  return out;
}

inline void set_attrs(KVs* kvs, const Attrs& attrs) {
  for (auto& [k, v] : attrs) {
    auto* kv = kvs->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
}

// Attribute values as text (strings as they are, ints in decimal, bools true/false).
inline std::map<std::string, std::string> attr_map(const KVs& kvs) {
  std::map<std::string, std::string> m;
  for (const auto& kv : kvs) {
    const auto& v = kv.value();
    switch (v.value_case()) {
      case opentelemetry::proto::common::v1::AnyValue::kStringValue:
        m[kv.key()] = v.string_value();
        break;
      case opentelemetry::proto::common::v1::AnyValue::kIntValue:
        m[kv.key()] = std::to_string(v.int_value());
        break;
      case opentelemetry::proto::common::v1::AnyValue::kBoolValue:
        m[kv.key()] = v.bool_value() ? "true" : "false";
        break;
      default:
        m[kv.key()] = "?";
        break;
    }
  }
  return m;
}

// A gauge data point.
struct Point {
  Attrs attrs;
  double value = 1;
  uint64_t time = 1000;
  uint64_t start = 0;
};
struct MetricSpec {
  std::string name;
  std::vector<Point> points;
};

// One resource (with `resource_attrs`) and one scope holding gauges.
inline void add_resource(MetricsRequest& req, const Attrs& resource_attrs,
                         const std::vector<MetricSpec>& metrics, const std::string& scope = "scope",
                         const std::string& version = "1.0") {
  auto* rm = req.add_resource_metrics();
  set_attrs(rm->mutable_resource()->mutable_attributes(), resource_attrs);
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name(scope);
  sm->mutable_scope()->set_version(version);
  for (const auto& ms : metrics) {
    auto* m = sm->add_metrics();
    m->set_name(ms.name);
    for (const auto& p : ms.points) {
      auto* dp = m->mutable_gauge()->add_data_points();
      set_attrs(dp->mutable_attributes(), p.attrs);
      dp->set_as_double(p.value);
      dp->set_time_unix_nano(p.time);
      dp->set_start_time_unix_nano(p.start);
    }
  }
}

inline MetricsRequest metrics_request(const std::vector<MetricSpec>& metrics,
                                      const Attrs& resource_attrs = {}) {
  MetricsRequest req;
  add_resource(req, resource_attrs, metrics);
  return req;
}

inline std::vector<std::string> metric_names(const MetricsRequest& req) {
  std::vector<std::string> out;
  for (const auto& rm : req.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics()) out.push_back(m.name());
  return out;
}

inline std::size_t point_count(const MetricsRequest& req) {
  std::size_t n = 0;
  for (const auto& rm : req.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics())
        n += static_cast<std::size_t>(m.gauge().data_points_size());
  return n;
}

}  // namespace otlpgate::filters::testing
