// run_stages: one Edits for the whole chain, one rewrite.
#include "core/pipeline/run_stages.h"

namespace otlpgate {

StagesResult run_stages(std::span<const std::unique_ptr<Stage>> stages, const otlp::Index& index,
                        otlp::Edits& edits, otlp::Rewriter& rewriter) {
  StagesResult r;
  if (stages.empty()) return {index.bytes(), index.item_count(), 0};
  edits.reset(index);
  for (const auto& stage : stages) {
    stage->process(index, edits);
    ++r.ran;
    if (!edits.empty() && edits.items_left() == 0) break;  // nothing left for later stages
  }
  otlp::RewriteResult rw = rewriter.apply(index, edits);
  r.bytes = std::move(rw.bytes);
  r.items = rw.items;
  return r;
}

}  // namespace otlpgate
