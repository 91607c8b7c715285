// Firehose common attributes (X-Amz-Firehose-Common-Attributes), added as resource attributes by
// otlp::add_missing_resource_attributes.
#pragma once

#include <string>
#include <string_view>

#include "core/otlp/resource_attributes.h"

namespace otlpgate::firehose {

using Attributes = otlp::StringAttributes;

// Parses the header value `{"commonAttributes": {"name": "value", …}}` into `out` (in order).
// Returns "" or what is wrong with it.
std::string parse_common_attributes(std::string_view header, Attributes& out);

}  // namespace otlpgate::firehose
