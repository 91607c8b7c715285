// run_stages: a pipeline's stages on one indexed request, one rewrite at the end.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "core/bytes.h"
#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "core/pipeline/stage.h"

namespace otlpgate {

struct StagesResult {
  Bytes bytes;         // the index's own buffer when no stage changed anything
  uint64_t items = 0;  // items left
  std::size_t ran = 0;  // stages whose process() ran (each is owed one finish())
};

// Runs `stages` in order on `index` with one Edits: each stage sees the request as the earlier
// ones left it (Edits' view), so the request is indexed once and written once, however many
// stages change it. Stops early when a stage leaves no item. The runtime, the benchmarks and the
// tests all run chains through here.
StagesResult run_stages(std::span<const std::unique_ptr<Stage>> stages, const otlp::Index& index,
                        otlp::Edits& edits, otlp::Rewriter& rewriter);

}  // namespace otlpgate
