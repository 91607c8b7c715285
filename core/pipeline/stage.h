// Stage: one step of the processing chain (filter, redact, dedup, relabel, ...).
#pragma once

#include <string_view>

#include "core/otlp/edits.h"
#include "core/otlp/index.h"

namespace otlpgate {

// Built once from its config block by a factory in filters/registry; immutable afterwards except
// for its own internal state (e.g. the dedup window).
class Stage {
 public:
  virtual ~Stage() = default;

  // Looks at the indexed request and records what to drop or change in `edits`; never writes
  // bytes itself. Called concurrently from every I/O thread, each with its own request, Index and
  // Edits: shared state must be thread-safe without a global lock on the hot path (shard it).
  // Must not throw and must not allocate per item (intern names, cache per-name decisions).
  // `request` and the views into it are valid only during the call.
  virtual void process(const otlp::Index& request, otlp::Edits& edits) = 0;

  // The config id, e.g. "filter/drop_debug".
  virtual std::string_view name() const = 0;
};

}  // namespace otlpgate
