// Rewriter: applies Edits to an indexed request by copying kept byte ranges.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/otlp/edits.h"
#include "core/otlp/index.h"

namespace otlpgate::otlp {

struct RewriteResult {
  Bytes bytes;      // the new request; the index's own buffer when nothing changed
  uint64_t items;   // items (points / spans / log records) left in it
  bool changed;     // false when `bytes` is the input buffer itself
};

// Writes the edited request. Untouched subtrees are copied as byte ranges; only the length
// prefixes of nodes on the path to an edit are re-encoded. Reuse one Rewriter per thread: its
// working arrays keep their capacity.
class Rewriter {
 public:
  RewriteResult apply(const Index& index, const Edits& edits);

 private:
  enum State : uint8_t { kClean = 0, kDirty = 1, kDropped = 2, kReplaced = 3 };
  uint64_t out_size(const Index& ix, uint32_t i) const;
  void write(const Index& ix, const Edits& edits, uint32_t i, char*& out) const;

  std::vector<uint8_t> state_;
  std::vector<uint64_t> payload_size_;   // new payload size of dirty nodes
  std::vector<uint32_t> replacement_;    // edit entry index for replaced nodes
  std::vector<uint32_t> first_append_;   // first append entry per node, or kNone
  std::vector<uint32_t> next_append_;    // next append entry of the same node, per entry
  std::vector<uint32_t> kept_children_;  // structural children left, per node
  std::vector<uint32_t> last_append_;
};

}  // namespace otlpgate::otlp
