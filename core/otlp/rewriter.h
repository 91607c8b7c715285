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
// prefixes of nodes on the path to an edit are re-encoded. The work is proportional to the edits
// and the nodes on their paths (and those nodes' children), not to the size of the index: per-node
// state is stamped with the call it belongs to, so nothing is cleared per request. Reuse one
// Rewriter per thread: its working arrays keep their capacity.
class Rewriter {
 public:
  RewriteResult apply(const Index& index, const Edits& edits);

 private:
  enum State : uint8_t { kClean = 0, kDirty = 1, kDropped = 2, kReplaced = 3 };
  struct NodeState {
    uint32_t stamp = 0;  // the apply() call this state belongs to; otherwise the node is clean
    State state = kClean;
    bool touched_children = false;  // some child's state is not clean: the children need a look
    uint32_t replacement;   // edit entry of a replaced node
    uint32_t first_append;  // first append entry, or kNone
    uint32_t last_append;
    uint64_t payload_size;  // new payload size of a dirty node
  };

  State state(uint32_t i) const { return ns_[i].stamp == stamp_ ? ns_[i].state : kClean; }
  NodeState& touch(uint32_t i);
  uint64_t out_size(const Index& ix, uint32_t i) const;
  void write(const Index& ix, const Edits& edits, uint32_t i, char*& out) const;
  uint64_t items_below(const Index& ix, uint32_t begin, uint32_t end) const;
  void size_node(const Index& ix, const Edits& edits, uint32_t i);

  uint32_t stamp_ = 0;
  std::vector<NodeState> ns_;
  std::vector<uint32_t> next_append_;  // next append entry of the same node, per entry
  std::vector<uint32_t> dirty_;        // nodes touched by this call
  std::vector<uint64_t> bits_;         // the same, as a bit set by node
};

}  // namespace otlpgate::otlp
