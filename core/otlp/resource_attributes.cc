// add_missing_resource_attributes: one index pass, one add-attribute edit per resource lacking it.
#include "core/otlp/resource_attributes.h"

#include <algorithm>

#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"

namespace otlpgate::otlp {

Bytes add_missing_resource_attributes(Signal signal, Bytes request,
                                      const StringAttributes& attributes) {
  if (attributes.empty() || request.empty()) return request;
  Index index;
  if (!index.build(signal, request)) return request;  // callers pass valid requests
  Edits edits;
  for (const ResourceEntry& r : index.resources()) {
    const auto existing = index.attributes(r.attrs);
    for (const auto& attribute : attributes) {
      const bool has = std::any_of(existing.begin(), existing.end(), [&](const Attribute& a) {
        return a.key == attribute.first;
      });
      if (!has)
        edits.add_resource_attribute(r, attribute.first, any_value_string(attribute.second));
    }
  }
  if (edits.empty()) return request;
  Rewriter rewriter;
  return rewriter.apply(index, edits).bytes;
}

}  // namespace otlpgate::otlp
