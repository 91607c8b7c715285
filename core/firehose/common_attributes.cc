// Firehose common attributes: the header's JSON, and resource attributes added with the
// index / edits / rewriter, so the rest of the request is copied as it is.
#include "core/firehose/common_attributes.h"

#include <algorithm>
#include <utility>

#include "core/firehose/json_doc.h"
#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"

namespace otlpgate::firehose {

namespace ondemand = simdjson::ondemand;

std::string parse_common_attributes(std::string_view header, Attributes& out) {
  JsonDoc json;
  return each_field(json, header, [&](std::string_view key, ondemand::value& v) -> std::string {
    if (key != "commonAttributes") return {};
    ondemand::object attrs;
    if (v.get_object().get(attrs)) return "commonAttributes: expected an object";
    for (auto attr_result : attrs) {
      ondemand::field attr;
      std::string_view name, value;
      if (auto e = read_field(std::move(attr_result), attr, name);
          e || (e = attr.value().get_string().get(value)))
        return "commonAttributes: expected string values: " + std::string(json_error(e));
      out.emplace_back(name, value);
    }
    return {};
  });
}

Bytes add_missing_resource_attributes(Signal signal, Bytes request, const Attributes& attributes) {
  if (attributes.empty() || request.empty()) return request;
  otlp::Index index;
  if (!index.build(signal, request)) return request;  // callers pass valid requests
  otlp::Edits edits;
  for (const otlp::ResourceEntry& r : index.resources()) {
    const auto existing = index.attributes(r.attrs);
    for (const auto& attribute : attributes) {
      const bool has = std::any_of(existing.begin(), existing.end(), [&](const otlp::Attribute& a) {
        return a.key == attribute.first;
      });
      if (!has)
        edits.add_resource_attribute(r, attribute.first, otlp::any_value_string(attribute.second));
    }
  }
  if (edits.empty()) return request;
  otlp::Rewriter rewriter;
  return rewriter.apply(index, edits).bytes;
}

}  // namespace otlpgate::firehose
