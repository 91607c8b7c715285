// Firehose common attributes: the header's JSON.
#include "core/firehose/common_attributes.h"

#include <utility>

#include "core/firehose/json_doc.h"

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
}  // namespace otlpgate::firehose
