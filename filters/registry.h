// The stage registry: builds a processing stage from its `processors.<id>` config block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "core/pipeline/stage.h"

namespace otlpgate::filters {

// Builds the stage for `p.type`:
//   filter               FilterStage   (filters/filter.h)
//   redact, redaction    RedactStage   (filters/redact.h); `redaction` is the Collector's name
//   dedup                DedupStage    (filters/dedup.h)
//   relabel              RelabelStage  (filters/relabel.h)
//   attributes, resource RelabelStage with `actions:` only; actions default to item level for
//                        `attributes` and to resource level for `resource`, as in the Collector
// Returns nullptr and sets *err ("processors.<id>.<key>: <what was expected>") on a bad block or
// an unknown type.
std::unique_ptr<Stage> make_stage(const config::Processor& p, std::string* err);

// The counters of a stage built here, (name with labels, value); empty for other stages.
std::vector<std::pair<std::string, uint64_t>> stage_counters(const Stage& s);

}  // namespace otlpgate::filters
