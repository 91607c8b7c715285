// Rewriter: marks, prunes, sizes and writes; clean subtrees are single memcpy calls.
#include "core/otlp/rewriter.h"

#include <cassert>
#include <cstring>

#include <protozero/varint.hpp>

namespace otlpgate::otlp {

namespace {

uint64_t varint_len(uint64_t v) { return static_cast<uint64_t>(protozero::length_of_varint(v)); }

}  // namespace

uint64_t Rewriter::out_size(const Index& ix, uint32_t i) const {
  const Node& n = ix.nodes()[i];
  switch (state_[i]) {
    case kDropped: return 0;
    case kClean: return n.end - n.begin;
    default: {
      const uint64_t p = payload_size_[i];
      return (n.header - n.begin) + varint_len(p) + p;
    }
  }
}

void Rewriter::write(const Index& ix, const Edits& edits, uint32_t i, char*& out) const {
  const auto nodes = ix.nodes();
  const Node& n = nodes[i];
  const char* base = ix.data().data();
  if (state_[i] == kClean) {
    std::memcpy(out, base + n.begin, n.end - n.begin);
    out += n.end - n.begin;
    return;
  }
  if (i != 0) {  // the root has no tag or length
    std::memcpy(out, base + n.begin, n.header - n.begin);
    out += n.header - n.begin;
    out += protozero::add_varint_to_buffer(out, payload_size_[i]);
  }
  if (state_[i] == kReplaced) {
    const auto b = edits.bytes(edits.entries()[replacement_[i]]);
    std::memcpy(out, b.data(), b.size());
    out += b.size();
  } else {
    uint32_t pos = n.payload;
    for (uint32_t c = i + 1; c < n.subtree_end; c = nodes[c].subtree_end) {
      std::memcpy(out, base + pos, nodes[c].begin - pos);
      out += nodes[c].begin - pos;
      if (state_[c] != kDropped) write(ix, edits, c, out);
      pos = nodes[c].end;
    }
    std::memcpy(out, base + pos, n.end - pos);
    out += n.end - pos;
  }
  for (uint32_t e = first_append_[i]; e != kNone; e = next_append_[e]) {
    const auto b = edits.bytes(edits.entries()[e]);
    std::memcpy(out, b.data(), b.size());
    out += b.size();
  }
}

RewriteResult Rewriter::apply(const Index& ix, const Edits& edits) {
  if (edits.empty()) return {ix.bytes(), ix.item_count(), false};
  const auto nodes = ix.nodes();
  const auto n = static_cast<uint32_t>(nodes.size());
  assert(n > 0 && "Rewriter::apply on an index that failed to build");
  const auto& entries = edits.entries();

  state_.assign(n, kClean);
  replacement_.resize(n);
  payload_size_.resize(n);
  first_append_.assign(n, kNone);
  last_append_.assign(n, kNone);
  next_append_.assign(entries.size(), kNone);
  kept_children_.assign(2 * static_cast<size_t>(n), 0);  // [2i] = structural children, [2i+1] = kept

  // 1. Record the edits per node; a drop wins over everything else.
  for (uint32_t k = 0; k < entries.size(); ++k) {
    const Edits::Entry& e = entries[k];
    assert(e.node < n && "edit names a node outside the index");
    switch (e.op) {
      case Edits::Op::drop: state_[e.node] = kDropped; break;
      case Edits::Op::replace_payload:
        if (state_[e.node] != kDropped) {
          state_[e.node] = kReplaced;
          replacement_[e.node] = k;
        }
        break;
      case Edits::Op::append:
        if (last_append_[e.node] == kNone) {
          first_append_[e.node] = k;
        } else {
          next_append_[last_append_[e.node]] = k;
        }
        last_append_[e.node] = k;
        break;
    }
  }
  // 2. Descendants of dropped or replaced nodes are gone (pre-order: parents come first).
  for (uint32_t i = 1; i < n; ++i) {
    const uint8_t ps = state_[nodes[i].parent];
    if (ps == kDropped || ps == kReplaced) state_[i] = kDropped;
  }
  // 3. Children before parents: prune emptied containers, mark the path to each edit dirty and
  //    size the dirty nodes' new payloads.
  for (uint32_t i = n; i-- > 0;) {
    const Node& nd = nodes[i];
    uint8_t& st = state_[i];
    // The root is never pruned: a request whose every item went is an empty request.
    if ((st == kClean || st == kDirty) && i != 0 && kept_children_[2 * i] > 0 &&
        kept_children_[2 * i + 1] == 0)
      st = kDropped;
    if (st == kClean && first_append_[i] != kNone) st = kDirty;
    if (st == kDropped) {
      if (i != 0 && is_structural(nd.kind)) kept_children_[2 * nd.parent]++;
      if (i != 0 && state_[nd.parent] == kClean) state_[nd.parent] = kDirty;
      continue;
    }
    uint64_t size = 0;
    if (st == kReplaced) {
      size = edits.bytes(entries[replacement_[i]]).size();
    } else if (st == kDirty) {
      size = nd.end - nd.payload;
      for (uint32_t c = i + 1; c < nd.subtree_end; c = nodes[c].subtree_end) {
        size = size - (nodes[c].end - nodes[c].begin) + out_size(ix, c);
      }
    }
    if (st != kClean) {
      for (uint32_t e = first_append_[i]; e != kNone; e = next_append_[e]) size += entries[e].length;
      payload_size_[i] = size;
    }
    if (i != 0) {
      if (is_structural(nd.kind)) {
        kept_children_[2 * nd.parent]++;
        kept_children_[2 * nd.parent + 1]++;
      }
      if (st != kClean && state_[nd.parent] == kClean) state_[nd.parent] = kDirty;
    }
  }
  uint64_t items = 0;
  switch (ix.signal()) {
    case Signal::metrics:
      for (const auto& p : ix.data_points()) items += state_[p.node] != kDropped;
      break;
    case Signal::traces:
      for (const auto& s : ix.spans()) items += state_[s.node] != kDropped;
      break;
    case Signal::logs:
      for (const auto& l : ix.log_records()) items += state_[l.node] != kDropped;
      break;
  }

  std::string out;
  out.resize(payload_size_[0]);
  char* p = out.data();
  write(ix, edits, 0, p);
  assert(p == out.data() + out.size() && "rewriter size and write passes disagree");
  return {Bytes::adopt(std::move(out)), items, true};
}

}  // namespace otlpgate::otlp
