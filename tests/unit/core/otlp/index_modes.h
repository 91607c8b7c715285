// Checks that indexing without attributes (IndexOptions::attributes = false) gives the same
// verdict and the same index, less the attributes, as indexing with them.
#pragma once

#include <gtest/gtest.h>

#include <span>
#include <string_view>
#include <vector>

#include "core/otlp/index.h"

namespace otlpgate::otlp::test {

// Calls `same(x[i], y[i])` for each pair of entries; the lists must be as long.
template <typename T, typename F>
void each_pair(std::span<const T> x, std::span<const T> y, F same) {
  EXPECT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) same(x[i], y[i]);
}

// Indexes `bytes` both ways (over exact-size heap copies, for ASan) and compares. Returns whether
// the request was valid.
inline bool expect_same_without_attributes(Signal signal, std::string_view bytes) {
  Index full, lean;
  const IndexResult a = full.build(signal, Bytes::copy_of(bytes));
  const IndexResult b = lean.build(signal, Bytes::copy_of(bytes), {.attributes = false});
  EXPECT_EQ(a.error, b.error) << describe(a) << " / " << describe(b);
  EXPECT_EQ(a.offset, b.offset) << describe(a) << " / " << describe(b);
  EXPECT_TRUE(full.has_attributes());
  EXPECT_FALSE(lean.has_attributes());
  EXPECT_TRUE(lean.attributes().empty());
  EXPECT_EQ(full.item_count(), lean.item_count());
  if (!a) return false;

  // Where each node of `full` lands in `lean` once the attribute nodes are left out; one past
  // the end maps too, for subtree_end.
  const auto nodes = full.nodes();
  std::vector<uint32_t> at(nodes.size() + 1);
  uint32_t kept = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    at[i] = kept;
    kept += nodes[i].kind != NodeKind::attribute;
  }
  at[nodes.size()] = kept;
  const auto map = [&](uint32_t i) { return i == kNone ? kNone : at[i]; };
  EXPECT_EQ(lean.nodes().size(), kept);
  if (lean.nodes().size() != kept) return true;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (n.kind == NodeKind::attribute) continue;
    const Node& m = lean.nodes()[at[i]];
    EXPECT_EQ(m.kind, n.kind) << "node " << i;
    EXPECT_EQ(m.begin, n.begin) << "node " << i;
    EXPECT_EQ(m.header, n.header) << "node " << i;
    EXPECT_EQ(m.payload, n.payload) << "node " << i;
    EXPECT_EQ(m.end, n.end) << "node " << i;
    EXPECT_EQ(m.subtree_end, map(n.subtree_end)) << "node " << i;
    EXPECT_EQ(m.parent, map(n.parent)) << "node " << i;
  }

  // The entries, field by field, with node indexes mapped and every attribute range empty.
  const auto no_attrs = [](AttrRange r) { return r.first == 0 && r.count == 0; };
  each_pair(full.resources(), lean.resources(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.resource_node, map(x.resource_node));
    EXPECT_EQ(y.first_scope, x.first_scope);
    EXPECT_EQ(y.scope_count, x.scope_count);
    EXPECT_TRUE(no_attrs(y.attrs));
  });
  each_pair(full.scopes(), lean.scopes(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.scope_node, map(x.scope_node));
    EXPECT_EQ(y.resource, x.resource);
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.version, x.version);
    EXPECT_EQ(y.first_item, x.first_item);
    EXPECT_EQ(y.item_count, x.item_count);
    EXPECT_TRUE(no_attrs(y.attrs));
  });
  each_pair(full.metrics(), lean.metrics(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.name_node, map(x.name_node));
    EXPECT_EQ(y.data_node, map(x.data_node));
    EXPECT_EQ(y.scope, x.scope);
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.description, x.description);
    EXPECT_EQ(y.unit, x.unit);
    EXPECT_EQ(y.type, x.type);
    EXPECT_EQ(y.first_point, x.first_point);
    EXPECT_EQ(y.point_count, x.point_count);
  });
  each_pair(full.data_points(), lean.data_points(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.metric, x.metric);
    EXPECT_EQ(y.start_time_unix_nano, x.start_time_unix_nano);
    EXPECT_EQ(y.time_unix_nano, x.time_unix_nano);
    EXPECT_TRUE(no_attrs(y.attrs));
  });
  each_pair(full.spans(), lean.spans(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.scope, x.scope);
    EXPECT_EQ(y.trace_id, x.trace_id);
    EXPECT_EQ(y.span_id, x.span_id);
    EXPECT_EQ(y.parent_span_id, x.parent_span_id);
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.kind, x.kind);
    EXPECT_EQ(y.first_event, x.first_event);
    EXPECT_EQ(y.event_count, x.event_count);
    EXPECT_EQ(y.first_link, x.first_link);
    EXPECT_EQ(y.link_count, x.link_count);
    EXPECT_TRUE(no_attrs(y.attrs));
  });
  each_pair(full.span_events(), lean.span_events(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.span, x.span);
    EXPECT_EQ(y.name, x.name);
    EXPECT_TRUE(no_attrs(y.attrs));
  });
  each_pair(full.span_links(), lean.span_links(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.span, x.span);
    EXPECT_EQ(y.trace_id, x.trace_id);
    EXPECT_EQ(y.span_id, x.span_id);
    EXPECT_TRUE(no_attrs(y.attrs));
  });
  each_pair(full.log_records(), lean.log_records(), [&](const auto& x, const auto& y) {
    EXPECT_EQ(y.node, map(x.node));
    EXPECT_EQ(y.scope, x.scope);
    EXPECT_EQ(y.body_node, map(x.body_node));
    EXPECT_EQ(y.severity_number, x.severity_number);
    EXPECT_EQ(y.severity_text, x.severity_text);
    EXPECT_EQ(y.body, x.body);
    EXPECT_EQ(y.body_type, x.body_type);
    EXPECT_EQ(y.body_scalar, x.body_scalar);
    EXPECT_EQ(y.trace_id, x.trace_id);
    EXPECT_EQ(y.span_id, x.span_id);
    EXPECT_TRUE(no_attrs(y.attrs));
  });
  return true;
}

}  // namespace otlpgate::otlp::test
