// Text form of attribute values, as the Prometheus exporters of OpenTelemetry print them.
#pragma once

#include <string>

#include "core/otlp/index.h"

namespace otlpgate::filters {

// Appends the text of `a`'s value to `out`: strings as they are, ints in decimal, bools as
// true/false, doubles in their shortest round-trip form, bytes in base64; arrays, kvlists and
// empty values give "" (they have no label form). Does not allocate once `out` has capacity.
void append_attribute_text(const otlp::Attribute& a, std::string& out);

// Appends the AnyValue payload holding string `s` (field 1) to `out`.
void append_any_value_string(std::string& out, std::string_view s);

}  // namespace otlpgate::filters
