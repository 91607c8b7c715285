// Adding string attributes to every resource of a request that lacks them, with the index, edits
// and rewriter, so the rest of the request is copied as it is. Used for Firehose common attributes
// and for the authenticated tenant's attribute.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/signal.h"

namespace otlpgate::otlp {

using StringAttributes = std::vector<std::pair<std::string, std::string>>;

// Adds each attribute, as a string, to every resource of `request` (an Export*ServiceRequest of
// `signal`) that has no attribute of that name yet. Returns `request` itself when nothing needed
// adding, else the rewritten bytes; the input must be a valid request.
Bytes add_missing_resource_attributes(Signal signal, Bytes request,
                                      const StringAttributes& attributes);

}  // namespace otlpgate::otlp
