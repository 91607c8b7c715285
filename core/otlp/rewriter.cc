// Rewriter: marks, prunes, sizes and writes; clean subtrees are single memcpy calls.
#include "core/otlp/rewriter.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include <protozero/varint.hpp>

#include "core/wire/copy.h"

namespace otlpgate::otlp {

namespace {

uint64_t varint_len(uint64_t v) { return static_cast<uint64_t>(protozero::length_of_varint(v)); }

}  // namespace

Rewriter::NodeState& Rewriter::touch(uint32_t i) {
  NodeState& s = ns_[i];
  if (s.stamp != stamp_) {
    s.stamp = stamp_;
    s.state = kClean;
    s.touched_children = false;
    s.first_append = s.last_append = kNone;
    dirty_.push_back(i);
  }
  return s;
}

uint64_t Rewriter::out_size(const Index& ix, uint32_t i) const {
  const Node& n = ix.nodes()[i];
  switch (state(i)) {
    case kDropped: return 0;
    case kClean: return n.end - n.begin;
    default: {
      const uint64_t p = ns_[i].payload_size;
      return (n.header - n.begin) + varint_len(p) + p;
    }
  }
}

void Rewriter::write(const Index& ix, const Edits& edits, uint32_t i, char*& out) const {
  const auto nodes = ix.nodes();
  const Node& n = nodes[i];
  const char* base = ix.data().data();
  const State st = state(i);
  if (st == kClean) {
    out = wire::copy_run(out, base + n.begin, n.end - n.begin);
    return;
  }
  const NodeState& ns = ns_[i];
  if (i != 0) {  // the root has no tag or length
    out = wire::copy_run(out, base + n.begin, n.header - n.begin);
    out += protozero::add_varint_to_buffer(out, ns.payload_size);
  }
  if (st == kReplaced) {
    const auto b = edits.bytes(edits.entries()[ns.replacement]);
    out = wire::copy_run(out, b.data(), b.size());
  } else if (!ns.touched_children) {  // appends only: the payload as it is
    out = wire::copy_run(out, base + n.payload, n.end - n.payload);
  } else {
    uint32_t pos = n.payload;
    for (uint32_t c = i + 1; c < n.subtree_end; c = nodes[c].subtree_end) {
      const State cs = state(c);
      if (cs == kClean) continue;  // copied with the bytes around it
      out = wire::copy_run(out, base + pos, nodes[c].begin - pos);
      if (cs != kDropped) write(ix, edits, c, out);
      pos = nodes[c].end;
    }
    out = wire::copy_run(out, base + pos, n.end - pos);
  }
  for (uint32_t e = ns.first_append; e != kNone; e = next_append_[e]) {
    const auto b = edits.bytes(edits.entries()[e]);
    out = wire::copy_run(out, b.data(), b.size());
  }
}

// Items (points, spans, log records) among the nodes [begin, end).
uint64_t Rewriter::items_below(const Index& ix, uint32_t begin, uint32_t end) const {
  auto count = [&](const auto& entries) -> uint64_t {
    auto by_node = [](const auto& e, uint32_t v) { return e.node < v; };
    const auto lo = std::lower_bound(entries.begin(), entries.end(), begin, by_node);
    const auto hi = std::lower_bound(lo, entries.end(), end, by_node);
    return static_cast<uint64_t>(hi - lo);
  };
  switch (ix.signal()) {
    case Signal::metrics: return count(ix.data_points());
    case Signal::traces: return count(ix.spans());
    case Signal::logs: return count(ix.log_records());
  }
  return 0;
}

// Sizes the new payload of a touched node whose children are sized already, or prunes it when
// it was left without any of its structural children.
void Rewriter::size_node(const Index& ix, const Edits& edits, uint32_t i) {
  const auto nodes = ix.nodes();
  NodeState& s = ns_[i];
  const Node& nd = nodes[i];
  if (s.state == kDropped) return;
  uint64_t size = nd.end - nd.payload;
  if (s.state == kReplaced) {
    size = edits.bytes(edits.entries()[s.replacement]).size();
  } else if (s.touched_children) {  // otherwise appends only: no child changed, none is pruned
    uint32_t structural = 0, kept = 0;
    for (uint32_t c = i + 1; c < nd.subtree_end; c = nodes[c].subtree_end) {
      const State cs = state(c);
      if (is_structural(nodes[c].kind)) {
        ++structural;
        kept += cs != kDropped;
      }
      if (cs != kClean) size = size - (nodes[c].end - nodes[c].begin) + out_size(ix, c);
    }
    // The root is never pruned: a request whose every item went is an empty request.
    if (i != 0 && structural > 0 && kept == 0) {
      s.state = kDropped;
      return;
    }
  }
  for (uint32_t e = s.first_append; e != kNone; e = next_append_[e])
    size += edits.entries()[e].length;
  s.payload_size = size;
}

RewriteResult Rewriter::apply(const Index& ix, const Edits& edits) {
  if (edits.empty()) return {ix.bytes(), ix.item_count(), false};
  const auto nodes = ix.nodes();
  const auto n = static_cast<uint32_t>(nodes.size());
  assert(n > 0 && "Rewriter::apply on an index that failed to build");
  const auto& entries = edits.entries();

  if (ns_.size() < n) ns_.resize(n);
  if (++stamp_ == 0) {  // wrapped: no state may look current
    for (NodeState& s : ns_) s.stamp = 0;
    stamp_ = 1;
  }
  dirty_.clear();
  next_append_.assign(entries.size(), kNone);

  // 1. Record the edits per node; a drop wins over everything else.
  for (uint32_t k = 0; k < entries.size(); ++k) {
    const Edits::Entry& e = entries[k];
    if (e.op == Edits::Op::none) continue;
    assert(e.node < n && "edit names a node outside the index");
    NodeState& s = touch(e.node);
    switch (e.op) {
      case Edits::Op::drop: s.state = kDropped; break;
      case Edits::Op::replace_payload:
        if (s.state != kDropped) {
          s.state = kReplaced;
          s.replacement = k;
        }
        break;
      case Edits::Op::append:
        if (s.last_append == kNone) {
          s.first_append = k;
        } else {
          next_append_[s.last_append] = k;
        }
        s.last_append = k;
        break;
      case Edits::Op::none: break;
    }
  }
  // 2. Items gone: those under the outermost dropped or replaced nodes (a replaced item itself
  //    stays). Counted before pruning, which removes containers that hold no item any more.
  uint64_t items = ix.item_count();
  for (const uint32_t i : dirty_) {
    const State st = state(i);
    if ((st != kDropped && st != kReplaced) || !is_structural(nodes[i].kind)) continue;  // no items
    bool outermost = true;
    for (uint32_t p = nodes[i].parent; p != kNone && outermost; p = nodes[p].parent) {
      const State ps = state(p);
      outermost = ps != kDropped && ps != kReplaced;
    }
    if (outermost) items -= items_below(ix, st == kDropped ? i : i + 1, nodes[i].subtree_end);
  }
  // 3. The path from each edited node to the root is dirty.
  const std::size_t edited = dirty_.size();
  for (std::size_t d = 0; d < edited; ++d) {
    const uint32_t i = dirty_[d];
    if (ns_[i].state == kClean) ns_[i].state = kDirty;  // appends only
    for (uint32_t p = nodes[i].parent; p != kNone; p = nodes[p].parent) {
      const bool seen = ns_[p].stamp == stamp_;
      NodeState& ps = touch(p);
      if (ps.state == kClean) ps.state = kDirty;
      ps.touched_children = true;
      if (seen) break;  // its own path is (or will be) walked
    }
  }
  // 4. Children before parents (pre-order: descending index, read off a bit set rather than
  //    sorted): prune emptied containers and size the dirty nodes' new payloads.
  bits_.assign((n + 63) / 64, 0);
  for (const uint32_t i : dirty_) bits_[i / 64] |= uint64_t{1} << (i % 64);
  for (std::size_t w = bits_.size(); w-- > 0;) {
    for (uint64_t word = bits_[w]; word != 0;) {
      const int b = 63 - std::countl_zero(word);
      word &= ~(uint64_t{1} << b);
      size_node(ix, edits, static_cast<uint32_t>(w * 64 + static_cast<std::size_t>(b)));
    }
  }

  const std::size_t size = ns_[0].payload_size;
  Bytes out = Bytes::write(size, [&](char* p) {
    char* const begin = p;
    write(ix, edits, 0, p);
    assert(p == begin + size && "rewriter size and write passes disagree");
    (void)begin;
  });
  return {std::move(out), items, true};
}

}  // namespace otlpgate::otlp
