// FilterStage: drops metrics, data points, spans, log records and whole resources by match rules.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "filters/counted_stage.h"
#include "filters/string_matcher.h"

namespace otlpgate::filters {

// Config, in the shape of the Collector's filterprocessor (legacy include/exclude form):
//
//   filter/x:
//     metrics:                       # per signal: include and/or exclude
//       include: {match_type: strict|regexp|glob, metric_names: [...], resource_attributes: [...],
//                 attributes: [{key: k, value: v}]}       # attributes = data point attributes
//       exclude: {...}
//     spans:  {include|exclude: {match_type, services, span_names, span_kinds, attributes,
//                               resource_attributes (or: resources)}}
//     logs:   {include|exclude: {match_type, resource_attributes, record_attributes (or:
//                               attributes), severity_texts, severity_number: {min,
//                               match_undefined}, bodies (or: log_bodies)}}
//
// An item is kept when it matches `include` (if given) and does not match `exclude` (if given).
// A match needs every listed kind of condition to hold; within a name list any entry may match;
// within an attribute list every entry must match (an entry without `value` only needs the key).
// `regexp` is unanchored like the Collector's filterset (write ^...$ to anchor); `glob` is
// anchored. Values of non-string attributes are compared in their text form ("42", "true").
// A metric left without points, a scope without items and a resource without scopes disappear.
class FilterStage final : public CountedStage {
 public:
  static std::unique_ptr<FilterStage> create(const config::Processor& p, std::string* err);

  void process(const otlp::Index& request, otlp::Edits& edits) override;
  std::string_view name() const override { return id_; }

  struct AttrCond {
    std::string key;
    bool any_value = true;
    StringMatcher value;
  };
  struct Props {
    bool present = false;
    std::vector<AttrCond> resource_attrs;
    StringMatcher services;  // spans: resource attribute service.name
    StringMatcher names;     // metric or span names
    std::vector<int32_t> kinds;
    std::vector<AttrCond> attrs;  // data point, span or log record attributes
    StringMatcher severity_texts;
    StringMatcher bodies;
    bool has_severity = false;
    int32_t severity_min = 0;
    bool match_undefined = false;
    DecisionCache name_cache;
  };

 private:
  struct SignalRules {
    Props include, exclude;
  };

  void process_metrics(const otlp::Index& ix, otlp::Edits& edits);
  void process_spans(const otlp::Index& ix, otlp::Edits& edits);
  void process_logs(const otlp::Index& ix, otlp::Edits& edits);

  std::string id_;
  SignalRules metrics_, spans_, logs_;
  std::size_t c_seen_ = 0, c_drop_include_ = 0, c_drop_exclude_ = 0;
};

}  // namespace otlpgate::filters
