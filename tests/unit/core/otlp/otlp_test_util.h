// Shared helpers for the OTLP core tests: maps an Index's entries onto the libprotobuf objects
// parsed from the same bytes, so tests can compare views and apply the same edits to both.
#pragma once

#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/otlp/index.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace otlpgate::otlp::test {

using google::protobuf::Message;
using KeyValuePb = opentelemetry::proto::common::v1::KeyValue;

inline const google::protobuf::FieldDescriptor* field(const Message& m, int number) {
  return m.GetDescriptor()->FindFieldByNumber(number);
}
inline const google::protobuf::FieldDescriptor* field(const Message& m, const char* name) {
  return m.GetDescriptor()->FindFieldByName(name);
}
// The typed RepeatedPtrField accessors are deprecated but are the plainest way to erase elements.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
inline google::protobuf::RepeatedPtrField<Message>* repeated(Message* m, const google::protobuf::FieldDescriptor* f) {
  return m->GetReflection()->MutableRepeatedPtrField<Message>(m, f);
}
inline google::protobuf::RepeatedPtrField<KeyValuePb>* attributes_of(Message* m) {
  return m->GetReflection()->MutableRepeatedPtrField<KeyValuePb>(m, field(*m, "attributes"));
}
#pragma GCC diagnostic pop

// One node that can carry attributes, with its libprotobuf counterpart.
struct Owner {
  NodeKind kind;
  uint32_t node;
  MetricType type;
  Message* msg;
  AttrRange attrs;
};

// The libprotobuf objects in the order of the index's entries.
struct Mirror {
  std::vector<Message*> resources, scopes, items, points, events, links;
  std::vector<Owner> owners;
  std::vector<KeyValuePb*> attrs;                      // parallel to Index::attributes()
  std::unordered_map<const Message*, uint32_t> orig;  // structural children before any edit
};

// Builds the mirror; fails the current test (and returns a partial mirror) on any count mismatch.
inline Mirror mirror(const Index& ix, Message* req) {
  Mirror mr;
  mr.attrs.resize(ix.attributes().size(), nullptr);
  auto* groups = repeated(req, field(*req, 1));
  EXPECT_EQ(static_cast<size_t>(groups->size()), ix.resources().size());
  if (static_cast<size_t>(groups->size()) != ix.resources().size()) return mr;
  for (int g = 0; g < groups->size(); ++g) {
    Message* rg = groups->Mutable(g);
    const ResourceEntry& re = ix.resources()[static_cast<size_t>(g)];
    mr.resources.push_back(rg);
    mr.orig[rg] = re.scope_count;
    const bool has_res = rg->GetReflection()->HasField(*rg, field(*rg, 1));
    EXPECT_EQ(has_res, re.resource_node != kNone);
    if (has_res && re.resource_node != kNone)
      mr.owners.push_back({NodeKind::resource, re.resource_node, MetricType::none,
                           rg->GetReflection()->MutableMessage(rg, field(*rg, 1)), re.attrs});
    auto* sgs = repeated(rg, field(*rg, 2));
    EXPECT_EQ(static_cast<uint32_t>(sgs->size()), re.scope_count);
    for (int s = 0; s < sgs->size(); ++s) {
      Message* sg = sgs->Mutable(s);
      const auto si = mr.scopes.size();
      if (si >= ix.scopes().size()) return mr;
      const ScopeEntry& se = ix.scopes()[si];
      mr.scopes.push_back(sg);
      mr.orig[sg] = se.item_count;
      const bool has_scope = sg->GetReflection()->HasField(*sg, field(*sg, 1));
      EXPECT_EQ(has_scope, se.scope_node != kNone);
      if (has_scope && se.scope_node != kNone)
        mr.owners.push_back({NodeKind::scope, se.scope_node, MetricType::none,
                             sg->GetReflection()->MutableMessage(sg, field(*sg, 1)), se.attrs});
      auto* items = repeated(sg, field(*sg, 2));
      EXPECT_EQ(static_cast<uint32_t>(items->size()), se.item_count);
      for (int i = 0; i < items->size(); ++i) mr.items.push_back(items->Mutable(i));
    }
  }
  switch (ix.signal()) {
    case Signal::metrics: {
      EXPECT_EQ(mr.items.size(), ix.metrics().size());
      if (mr.items.size() != ix.metrics().size()) return mr;
      for (size_t m = 0; m < mr.items.size(); ++m) {
        Message* metric = mr.items[m];
        const MetricEntry& me = ix.metrics()[m];
        mr.orig[metric] = me.point_count;
        const auto* oneof = metric->GetDescriptor()->FindOneofByName("data");
        const auto* f = metric->GetReflection()->GetOneofFieldDescriptor(*metric, oneof);
        if (f == nullptr) continue;
        Message* data = metric->GetReflection()->MutableMessage(metric, f);
        auto* pts = repeated(data, field(*data, 1));
        for (int p = 0; p < pts->size(); ++p) {
          const auto pi = mr.points.size();
          if (pi >= ix.data_points().size()) return mr;
          mr.points.push_back(pts->Mutable(p));
          mr.owners.push_back({NodeKind::data_point, ix.data_points()[pi].node, me.type,
                               pts->Mutable(p), ix.data_points()[pi].attrs});
        }
      }
      EXPECT_EQ(mr.points.size(), ix.data_points().size());
      break;
    }
    case Signal::traces: {
      EXPECT_EQ(mr.items.size(), ix.spans().size());
      if (mr.items.size() != ix.spans().size()) return mr;
      for (size_t i = 0; i < mr.items.size(); ++i) {
        Message* span = mr.items[i];
        mr.owners.push_back({NodeKind::span, ix.spans()[i].node, MetricType::none, span, ix.spans()[i].attrs});
        auto* ev = repeated(span, field(*span, "events"));
        for (int e = 0; e < ev->size(); ++e) {
          const auto ei = mr.events.size();
          if (ei >= ix.span_events().size()) return mr;
          mr.events.push_back(ev->Mutable(e));
          mr.owners.push_back({NodeKind::span_event, ix.span_events()[ei].node, MetricType::none,
                               ev->Mutable(e), ix.span_events()[ei].attrs});
        }
        auto* ln = repeated(span, field(*span, "links"));
        for (int l = 0; l < ln->size(); ++l) {
          const auto li = mr.links.size();
          if (li >= ix.span_links().size()) return mr;
          mr.links.push_back(ln->Mutable(l));
          mr.owners.push_back({NodeKind::span_link, ix.span_links()[li].node, MetricType::none,
                               ln->Mutable(l), ix.span_links()[li].attrs});
        }
      }
      EXPECT_EQ(mr.events.size(), ix.span_events().size());
      EXPECT_EQ(mr.links.size(), ix.span_links().size());
      break;
    }
    case Signal::logs: {
      EXPECT_EQ(mr.items.size(), ix.log_records().size());
      if (mr.items.size() != ix.log_records().size()) return mr;
      for (size_t i = 0; i < mr.items.size(); ++i)
        mr.owners.push_back({NodeKind::log_record, ix.log_records()[i].node, MetricType::none,
                             mr.items[i], ix.log_records()[i].attrs});
      break;
    }
  }
  for (const Owner& o : mr.owners) {
    auto* list = attributes_of(o.msg);
    EXPECT_EQ(static_cast<uint32_t>(list->size()), o.attrs.count);
    if (static_cast<uint32_t>(list->size()) != o.attrs.count) continue;
    for (uint32_t a = 0; a < o.attrs.count; ++a) mr.attrs[o.attrs.first + a] = list->Mutable(static_cast<int>(a));
  }
  return mr;
}

}  // namespace otlpgate::otlp::test
