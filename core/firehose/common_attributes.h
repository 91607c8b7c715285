// Firehose common attributes (X-Amz-Firehose-Common-Attributes) as resource attributes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/signal.h"

namespace otlpgate::firehose {

using Attributes = std::vector<std::pair<std::string, std::string>>;

// Parses the header value `{"commonAttributes": {"name": "value", …}}` into `out` (in order).
// Returns "" or what is wrong with it.
std::string parse_common_attributes(std::string_view header, Attributes& out);

// Adds each attribute, as a string, to every resource of `request` (an Export*ServiceRequest of
// `signal`) that has no attribute of that name yet. Returns `request` itself when nothing needed
// adding, else the rewritten bytes; the input must be a valid request.
Bytes add_missing_resource_attributes(Signal signal, Bytes request, const Attributes& attributes);

}  // namespace otlpgate::firehose
