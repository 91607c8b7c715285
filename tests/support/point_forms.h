// Hand-written wire forms of one gauge data point: the same point written the ways senders may
// write it, for the tests of what may and may not depend on how a point is written.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <protozero/pbf_writer.hpp>

#include "core/otlp/fields.h"

namespace otlpgate::testing {

struct PointForm {
  // Attributes with string values, in the order written; an empty value is written as an empty
  // AnyValue (or without it, with `absent_empty_values`).
  std::vector<std::pair<std::string, std::string>> attrs;
  bool value_first = false;          // each KeyValue writes its value field before its key
  bool absent_empty_values = false;  // an empty value leaves the KeyValue without a value field
  bool exemplar = false;             // an exemplar before the attributes
  bool time_first = false;           // time_unix_nano before start_time_unix_nano
  double value = 1.5;
};

// An ExportMetricsServiceRequest: one resource (service.name=s), one scope, gauge "m" with one
// point (start 5, time 10) written as `f` says.
inline std::string metrics_request_with_point(const PointForm& f) {
  using namespace otlp;
  std::string point;
  {
    protozero::pbf_writer p(point);
    if (f.time_first) p.add_fixed64(num(NumberDataPoint::time_unix_nano), 10);
    p.add_fixed64(num(NumberDataPoint::start_time_unix_nano), 5);
    if (!f.time_first) p.add_fixed64(num(NumberDataPoint::time_unix_nano), 10);
    p.add_double(num(NumberDataPoint::as_double), f.value);
    if (f.exemplar) {
      protozero::pbf_writer e(p, num(NumberDataPoint::exemplars));
      e.add_fixed64(num(Exemplar::time_unix_nano), 9);
      e.add_double(num(Exemplar::as_double), 7);
    }
    for (const auto& [k, v] : f.attrs) {
      std::string any;
      protozero::pbf_writer(any).add_string(num(AnyValue::string_value), v);
      if (v.empty()) any.clear();  // an empty AnyValue
      std::string kv;
      protozero::pbf_writer w(kv);
      const bool value = !(v.empty() && f.absent_empty_values);
      if (f.value_first && value) w.add_bytes(num(KeyValue::value), any);
      w.add_string(num(KeyValue::key), k);
      if (!f.value_first && value) w.add_bytes(num(KeyValue::value), any);
      p.add_bytes(num(NumberDataPoint::attributes), kv);
    }
  }
  std::string out;
  {
    protozero::pbf_writer req(out);
    protozero::pbf_writer rg(req, num(ExportRequest::resource_items));
    {
      protozero::pbf_writer res(rg, num(ResourceGroup::resource));
      protozero::pbf_writer kv(res, num(Resource::attributes));
      kv.add_string(num(KeyValue::key), "service.name");
      protozero::pbf_writer any(kv, num(KeyValue::value));
      any.add_string(num(AnyValue::string_value), "s");
    }
    protozero::pbf_writer sg(rg, num(ResourceGroup::scope_items));
    protozero::pbf_writer m(sg, num(ScopeGroup::items));
    m.add_string(num(Metric::name), "m");
    protozero::pbf_writer g(m, num(Metric::gauge));
    g.add_bytes(num(MetricData::data_points), point);
  }  // the nested writers finish their lengths here
  return out;
}

}  // namespace otlpgate::testing
