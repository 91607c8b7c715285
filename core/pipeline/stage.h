// Stage: one step of the processing chain (filter, redact, dedup, relabel, ...).
#pragma once

#include <string_view>

#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/telemetry/metrics.h"

namespace otlpgate {

// Built once from its config block by a factory in filters/registry; immutable afterwards except
// for its own internal state (e.g. the dedup window). The runtime builds one instance per
// pipeline that lists the processor (as the Collector does), so state is never shared between
// pipelines.
class Stage {
 public:
  virtual ~Stage() = default;

  // Looks at the indexed request and records what to drop or change in `edits`; never writes
  // bytes itself. The stages of a pipeline share one index and one Edits (run_stages): a stage
  // reads the request as the earlier stages left it through the Edits' view (skip what
  // edits.dropped(), read attributes with edits.attributes(), the metric name with
  // edits.metric_name(), a log body with edits.log_body()), never through the index alone. Called concurrently from every I/O thread, each with its own request, Index and
  // Edits: shared state must be thread-safe without a global lock on the hot path (shard it).
  // Must not throw and must not allocate per item (intern names, cache per-name decisions).
  // `request` and the views into it are valid only during the call.
  virtual void process(const otlp::Index& request, otlp::Edits& edits) = 0;

  // Called on the same thread after process() (and after the later stages of the pipeline), once
  // the runtime knows the fate of the request: `accepted` when every exporter queue of the
  // pipeline took the result (or nothing was left to deliver), false when one refused it and the
  // sender was told to retry. A stage that remembers what it saw (dedup) must forget what this
  // request taught it when false, so that the retry is not taken for a duplicate. The runtime
  // calls it exactly once per process(), before this thread's next process() of the stage;
  // callers that never refuse (tests, benchmarks) may leave it out. Must not throw.
  virtual void finish(bool accepted) { (void)accepted; }

  // Registers the stage's own counters (items seen, dropped by reason, edited, ...) as series of
  // `registry`, each with `labels` (processor and pipeline) before its own, so that /metrics shows
  // them. Called once, after the stage is built and before the first process(); the registry
  // outlives the stage. Stages without counters keep the default.
  virtual void register_metrics(telemetry::Registry& registry, const telemetry::Labels& labels) {
    (void)registry;
    (void)labels;
  }

  // The config id, e.g. "filter/drop_debug".
  virtual std::string_view name() const = 0;
};

}  // namespace otlpgate
