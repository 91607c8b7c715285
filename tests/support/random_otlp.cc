// Seeded random OTLP requests for property tests (see random_otlp.h).
#include "tests/support/random_otlp.h"

#include <google/protobuf/unknown_field_set.h>

#include <random>

namespace otlpgate::testing {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace metrics = opentelemetry::proto::metrics::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace logs = opentelemetry::proto::logs::v1;

class Gen {
 public:
  Gen(uint64_t seed, const RandomOptions& o) : rng_(seed), o_(o) {}

  int upto(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint64_t>(n + 1)); }
  bool coin(int one_in = 2) { return rng_() % static_cast<uint64_t>(one_in) == 0; }
  uint64_t u64() { return rng_(); }
  double real() { return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_); }

  // Mostly short printable strings; sometimes empty, sometimes with multi-byte characters.
  // Always valid UTF-8: libprotobuf refuses to parse proto3 strings that are not, and the tests
  // parse what the rewriter writes. Arbitrary bytes go into bytes fields (id(), bytes_value).
  std::string str(int max_len = 12) {
    if (coin(10)) return {};
    std::string s(static_cast<size_t>(1 + upto(max_len - 1)), 'a');
    for (auto& c : s) c = static_cast<char>('a' + rng_() % 26);
    if (coin(12)) s += "\xc3\xa9\xe2\x82\xac";  // "é€"
    return s;
  }
  std::string id(int n) {
    std::string s(static_cast<size_t>(n), '\0');
    for (auto& c : s) c = static_cast<char>(rng_());
    return s;
  }

  void any_value(common::AnyValue* v, int depth) {
    const int kinds = depth >= o_.max_value_depth ? 5 : 7;
    switch (upto(kinds)) {
      case 0: v->set_string_value(str()); break;
      case 1: v->set_bool_value(coin()); break;
      case 2: v->set_int_value(static_cast<int64_t>(u64())); break;
      case 3: v->set_double_value(real()); break;
      case 4: v->set_bytes_value(id(upto(9))); break;
      case 5: break;  // empty AnyValue
      case 6: {
        auto* a = v->mutable_array_value();
        for (int i = upto(3); i > 0; --i) any_value(a->add_values(), depth + 1);
        break;
      }
      default: {
        auto* kv = v->mutable_kvlist_value();
        for (int i = upto(3); i > 0; --i) {
          auto* e = kv->add_values();
          e->set_key(str(6));
          any_value(e->mutable_value(), depth + 1);
        }
      }
    }
  }

  void attributes(google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
    for (int i = upto(o_.max_attributes); i > 0; --i) {
      auto* kv = out->Add();
      kv->set_key(coin(8) ? std::string() : "k" + str(5));
      if (!coin(15)) any_value(kv->mutable_value(), 1);
    }
  }

  void unknown(google::protobuf::Message* m) {
    if (!o_.unknown_fields || !coin(6)) return;
    auto* u = m->GetReflection()->MutableUnknownFields(m);
    if (coin()) u->AddVarint(900 + upto(50), u64());
    else u->AddLengthDelimited(950 + upto(50), str(8));
  }

  void resource(opentelemetry::proto::resource::v1::Resource* r) {
    attributes(r->mutable_attributes());
    if (coin(5)) r->set_dropped_attributes_count(static_cast<uint32_t>(upto(3)));
    unknown(r);
  }

  void scope(common::InstrumentationScope* s) {
    s->set_name(str());
    if (coin()) s->set_version(str(5));
    attributes(s->mutable_attributes());
  }

  template <typename Point>
  void point_common(Point* p) {
    attributes(p->mutable_attributes());
    p->set_start_time_unix_nano(u64());
    p->set_time_unix_nano(u64());
    if (coin(4)) p->set_flags(1);
    unknown(p);
  }

  void exemplars(google::protobuf::RepeatedPtrField<metrics::Exemplar>* out) {
    for (int i = coin(3) ? upto(2) : 0; i > 0; --i) {
      auto* e = out->Add();
      attributes(e->mutable_filtered_attributes());
      e->set_time_unix_nano(u64());
      if (coin()) e->set_as_double(real());
      else e->set_as_int(static_cast<int64_t>(u64()));
      e->set_trace_id(id(16));
      e->set_span_id(id(8));
    }
  }

  void metric(metrics::Metric* m) {
    if (!coin(20)) m->set_name("m." + str(8));
    if (coin()) m->set_description(str(20));
    if (coin()) m->set_unit(str(3));
    const int points = coin(10) ? 0 : 1 + upto(o_.max_points - 1);
    switch (upto(4)) {
      case 0: {
        auto* g = m->mutable_gauge();
        for (int i = 0; i < points; ++i) number_point(g->add_data_points());
        break;
      }
      case 1: {
        auto* s = m->mutable_sum();
        s->set_is_monotonic(coin());
        s->set_aggregation_temporality(coin() ? metrics::AGGREGATION_TEMPORALITY_DELTA
                                              : metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (int i = 0; i < points; ++i) number_point(s->add_data_points());
        break;
      }
      case 2: {
        auto* h = m->mutable_histogram();
        h->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (int i = 0; i < points; ++i) {
          auto* p = h->add_data_points();
          point_common(p);
          p->set_count(u64() % 1000);
          if (coin()) p->set_sum(real());
          const int b = upto(5);
          for (int j = 0; j < b; ++j) p->add_explicit_bounds(j * 1.5);
          for (int j = 0; j <= b; ++j) p->add_bucket_counts(u64() % 100);
          if (coin()) p->set_min(real());
          if (coin()) p->set_max(real());
          exemplars(p->mutable_exemplars());
        }
        break;
      }
      case 3: {
        auto* h = m->mutable_exponential_histogram();
        h->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_DELTA);
        for (int i = 0; i < points; ++i) {
          auto* p = h->add_data_points();
          point_common(p);
          p->set_count(u64() % 1000);
          p->set_scale(upto(20) - 10);
          p->set_zero_count(u64() % 10);
          p->mutable_positive()->set_offset(upto(10) - 5);
          for (int j = upto(4); j > 0; --j) p->mutable_positive()->add_bucket_counts(u64() % 50);
          if (coin()) p->mutable_negative()->add_bucket_counts(3);
          if (coin()) p->set_zero_threshold(0.001);
          exemplars(p->mutable_exemplars());
        }
        break;
      }
      default: {
        auto* s = m->mutable_summary();
        for (int i = 0; i < points; ++i) {
          auto* p = s->add_data_points();
          point_common(p);
          p->set_count(u64() % 1000);
          p->set_sum(real());
          for (double q : {0.0, 0.5, 0.99, 1.0}) {
            if (!coin(3)) continue;
            auto* v = p->add_quantile_values();
            v->set_quantile(q);
            v->set_value(real());
          }
        }
      }
    }
    unknown(m);
  }

  void number_point(metrics::NumberDataPoint* p) {
    point_common(p);
    if (coin()) p->set_as_double(real());
    else p->set_as_int(static_cast<int64_t>(u64()));
    exemplars(p->mutable_exemplars());
  }

  void span(trace::Span* s) {
    s->set_trace_id(id(16));
    s->set_span_id(id(8));
    if (coin()) s->set_parent_span_id(id(8));
    if (coin(3)) s->set_trace_state("k=" + str(4));
    s->set_name(str());
    s->set_kind(static_cast<trace::Span::SpanKind>(upto(5)));
    s->set_start_time_unix_nano(u64());
    s->set_end_time_unix_nano(u64());
    attributes(s->mutable_attributes());
    for (int i = coin() ? upto(3) : 0; i > 0; --i) {
      auto* e = s->add_events();
      e->set_time_unix_nano(u64());
      e->set_name(str());
      attributes(e->mutable_attributes());
    }
    for (int i = coin() ? upto(2) : 0; i > 0; --i) {
      auto* l = s->add_links();
      l->set_trace_id(id(16));
      l->set_span_id(id(8));
      attributes(l->mutable_attributes());
      if (coin()) l->set_flags(0x101);
    }
    if (coin()) {
      s->mutable_status()->set_code(static_cast<trace::Status::StatusCode>(upto(2)));
      s->mutable_status()->set_message(str());
    }
    if (coin(3)) s->set_flags(0x301);
    unknown(s);
  }

  void log(logs::LogRecord* l) {
    l->set_time_unix_nano(u64());
    l->set_observed_time_unix_nano(u64());
    l->set_severity_number(static_cast<logs::SeverityNumber>(upto(24)));
    if (coin()) l->set_severity_text(str(5));
    if (!coin(8)) any_value(l->mutable_body(), 1);
    attributes(l->mutable_attributes());
    if (coin()) {
      l->set_trace_id(id(16));
      l->set_span_id(id(8));
    }
    if (coin(4)) l->set_event_name(str());
    unknown(l);
  }

  const RandomOptions& options() const { return o_; }

 private:
  std::mt19937_64 rng_;
  RandomOptions o_;
};

}  // namespace

MetricsRequest random_metrics(uint64_t seed, const RandomOptions& o) {
  Gen g(seed, o);
  MetricsRequest req;
  for (int r = g.upto(o.max_resources); r > 0; --r) {
    auto* rm = req.add_resource_metrics();
    if (!g.coin(6)) g.resource(rm->mutable_resource());
    if (g.coin(3)) rm->set_schema_url("https://opentelemetry.io/schemas/1.26.0");
    for (int s = g.upto(o.max_scopes); s > 0; --s) {
      auto* sm = rm->add_scope_metrics();
      if (!g.coin(6)) g.scope(sm->mutable_scope());
      for (int m = g.upto(o.max_items); m > 0; --m) g.metric(sm->add_metrics());
    }
  }
  return req;
}

TraceRequest random_traces(uint64_t seed, const RandomOptions& o) {
  Gen g(seed, o);
  TraceRequest req;
  for (int r = g.upto(o.max_resources); r > 0; --r) {
    auto* rs = req.add_resource_spans();
    if (!g.coin(6)) g.resource(rs->mutable_resource());
    for (int s = g.upto(o.max_scopes); s > 0; --s) {
      auto* ss = rs->add_scope_spans();
      if (!g.coin(6)) g.scope(ss->mutable_scope());
      for (int i = g.upto(o.max_items); i > 0; --i) g.span(ss->add_spans());
    }
  }
  return req;
}

LogsRequest random_logs(uint64_t seed, const RandomOptions& o) {
  Gen g(seed, o);
  LogsRequest req;
  for (int r = g.upto(o.max_resources); r > 0; --r) {
    auto* rl = req.add_resource_logs();
    if (!g.coin(6)) g.resource(rl->mutable_resource());
    for (int s = g.upto(o.max_scopes); s > 0; --s) {
      auto* sl = rl->add_scope_logs();
      if (!g.coin(6)) g.scope(sl->mutable_scope());
      for (int i = g.upto(o.max_items); i > 0; --i) g.log(sl->add_log_records());
    }
  }
  return req;
}

std::unique_ptr<google::protobuf::Message> new_request(Signal signal) {
  switch (signal) {
    case Signal::metrics: return std::make_unique<MetricsRequest>();
    case Signal::traces: return std::make_unique<TraceRequest>();
    case Signal::logs: break;
  }
  return std::make_unique<LogsRequest>();
}

std::string random_request_bytes(Signal signal, uint64_t seed, const RandomOptions& o) {
  switch (signal) {
    case Signal::metrics: return random_metrics(seed, o).SerializeAsString();
    case Signal::traces: return random_traces(seed, o).SerializeAsString();
    case Signal::logs: return random_logs(seed, o).SerializeAsString();
  }
  return {};
}

}  // namespace otlpgate::testing
