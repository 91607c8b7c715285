// Property tests: the index of a random request agrees with what libprotobuf parses from it.
#include "core/otlp/index.h"

#include <gtest/gtest.h>
#include <protozero/pbf_writer.hpp>

#include <string>

#include "core/otlp/edits.h"
#include "core/otlp/fields.h"
#include "core/otlp/rewriter.h"
#include "tests/support/point_forms.h"
#include "tests/support/random_otlp.h"
#include "tests/unit/core/otlp/index_modes.h"

namespace otlpgate::otlp {
namespace {

namespace common = opentelemetry::proto::common::v1;
using testing::random_logs;
using testing::random_metrics;
using testing::random_traces;

constexpr uint64_t kSeeds = 300;

ValueType type_of(const common::AnyValue& v) {
  switch (v.value_case()) {
    case common::AnyValue::kStringValue: return ValueType::string;
    case common::AnyValue::kBoolValue: return ValueType::boolean;
    case common::AnyValue::kIntValue: return ValueType::integer;
    case common::AnyValue::kDoubleValue: return ValueType::floating;
    case common::AnyValue::kArrayValue: return ValueType::array;
    case common::AnyValue::kKvlistValue: return ValueType::kvlist;
    case common::AnyValue::kBytesValue: return ValueType::bytes;
    case common::AnyValue::VALUE_NOT_SET: return ValueType::empty;
  }
  return ValueType::empty;
}

// The attribute views of one level equal the parsed KeyValues, in order.
void expect_attrs(const Index& ix, AttrRange r,
                  const google::protobuf::RepeatedPtrField<common::KeyValue>& want) {
  ASSERT_EQ(r.count, static_cast<uint32_t>(want.size()));
  const auto got = ix.attributes(r);
  for (int i = 0; i < want.size(); ++i) {
    const Attribute& a = got[static_cast<size_t>(i)];
    const common::KeyValue& kv = want[i];
    EXPECT_EQ(a.key, kv.key());
    EXPECT_EQ(ix.nodes()[a.node].kind, NodeKind::attribute);
    EXPECT_EQ(a.value.data() != nullptr, kv.has_value());
    EXPECT_EQ(a.value, kv.value().SerializeAsString());
    EXPECT_EQ(a.type, type_of(kv.value()));
    switch (kv.value().value_case()) {
      case common::AnyValue::kStringValue: EXPECT_EQ(a.scalar(), kv.value().string_value()); break;
      case common::AnyValue::kBytesValue: EXPECT_EQ(a.scalar(), kv.value().bytes_value()); break;
      case common::AnyValue::kBoolValue: EXPECT_EQ(a.as_bool(), kv.value().bool_value()); break;
      case common::AnyValue::kIntValue: EXPECT_EQ(a.as_int(), kv.value().int_value()); break;
      case common::AnyValue::kDoubleValue: EXPECT_EQ(a.as_double(), kv.value().double_value()); break;
      case common::AnyValue::kArrayValue:
        EXPECT_EQ(a.scalar(), kv.value().array_value().SerializeAsString());
        break;
      case common::AnyValue::kKvlistValue:
        EXPECT_EQ(a.scalar(), kv.value().kvlist_value().SerializeAsString());
        break;
      case common::AnyValue::VALUE_NOT_SET: break;
    }
  }
}

// Nodes are in pre-order and nested: each lies inside its parent and its subtree.
void expect_tree_shape(const Index& ix) {
  const auto nodes = ix.nodes();
  ASSERT_FALSE(nodes.empty());
  EXPECT_EQ(nodes[0].kind, NodeKind::root);
  EXPECT_EQ(nodes[0].end, ix.data().size());
  EXPECT_EQ(nodes[0].subtree_end, nodes.size());
  for (uint32_t i = 1; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    const Node& p = nodes[n.parent];
    ASSERT_LT(n.parent, i);
    EXPECT_LE(p.payload, n.begin);
    EXPECT_LE(n.end, p.end);
    EXPECT_LT(n.begin, n.header);
    EXPECT_LT(n.header, n.payload);
    EXPECT_LE(n.payload, n.end);
    EXPECT_LE(n.subtree_end, p.subtree_end);
    EXPECT_GT(n.subtree_end, i);
  }
}

template <typename Req>
Bytes serialized(const Req& req) {
  return Bytes::adopt(req.SerializeAsString());
}

TEST(IndexProperty, MetricsAgreeWithLibprotobuf) {
  Index ix;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    const auto req = random_metrics(seed);
    ASSERT_TRUE(ix.build(Signal::metrics, serialized(req)));
    expect_tree_shape(ix);
    uint32_t r = 0, s = 0, m = 0, p = 0;
    uint64_t items = 0;
    ASSERT_EQ(ix.resources().size(), static_cast<size_t>(req.resource_metrics_size()));
    for (const auto& rm : req.resource_metrics()) {
      const ResourceEntry& re = ix.resources()[r++];
      EXPECT_EQ(re.resource_node != kNone, rm.has_resource());
      expect_attrs(ix, re.attrs, rm.resource().attributes());
      EXPECT_EQ(re.scope_count, static_cast<uint32_t>(rm.scope_metrics_size()));
      for (const auto& sm : rm.scope_metrics()) {
        ASSERT_LT(s, ix.scopes().size());
        const ScopeEntry& se = ix.scopes()[s++];
        EXPECT_EQ(se.resource, r - 1);
        EXPECT_EQ(se.scope_node != kNone, sm.has_scope());
        EXPECT_EQ(se.name, sm.scope().name());
        EXPECT_EQ(se.version, sm.scope().version());
        expect_attrs(ix, se.attrs, sm.scope().attributes());
        EXPECT_EQ(se.item_count, static_cast<uint32_t>(sm.metrics_size()));
        EXPECT_EQ(se.first_item, m);
        for (const auto& metric : sm.metrics()) {
          ASSERT_LT(m, ix.metrics().size());
          const MetricEntry& me = ix.metrics()[m++];
          EXPECT_EQ(me.name, metric.name());
          EXPECT_EQ(me.description, metric.description());
          EXPECT_EQ(me.unit, metric.unit());
          EXPECT_EQ(me.scope, s - 1);
          EXPECT_EQ(me.name_node == kNone, metric.name().empty());
          EXPECT_EQ(me.first_point, p);
          using M = opentelemetry::proto::metrics::v1::Metric;
          auto check_points = [&](const auto& points, MetricType type) {
            EXPECT_EQ(me.type, type);
            ASSERT_EQ(me.point_count, static_cast<uint32_t>(points.size()));
            for (const auto& dp : points) {
              const DataPointEntry& pe = ix.data_points()[p++];
              EXPECT_EQ(pe.metric, m - 1);
              EXPECT_EQ(pe.start_time_unix_nano, dp.start_time_unix_nano());
              EXPECT_EQ(pe.time_unix_nano, dp.time_unix_nano());
              expect_attrs(ix, pe.attrs, dp.attributes());
              ++items;
            }
          };
          switch (metric.data_case()) {
            case M::kGauge: check_points(metric.gauge().data_points(), MetricType::gauge); break;
            case M::kSum: check_points(metric.sum().data_points(), MetricType::sum); break;
            case M::kHistogram:
              check_points(metric.histogram().data_points(), MetricType::histogram);
              break;
            case M::kExponentialHistogram:
              check_points(metric.exponential_histogram().data_points(),
                           MetricType::exponential_histogram);
              break;
            case M::kSummary: check_points(metric.summary().data_points(), MetricType::summary); break;
            case M::DATA_NOT_SET:
              EXPECT_EQ(me.type, MetricType::none);
              EXPECT_EQ(me.data_node, kNone);
              break;
          }
        }
      }
    }
    EXPECT_EQ(s, ix.scopes().size());
    EXPECT_EQ(m, ix.metrics().size());
    EXPECT_EQ(p, ix.data_points().size());
    EXPECT_EQ(ix.item_count(), items);
  }
}

TEST(IndexProperty, TracesAgreeWithLibprotobuf) {
  Index ix;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    const auto req = random_traces(seed);
    ASSERT_TRUE(ix.build(Signal::traces, serialized(req)));
    expect_tree_shape(ix);
    uint32_t r = 0, s = 0, sp = 0, ev = 0, ln = 0;
    ASSERT_EQ(ix.resources().size(), static_cast<size_t>(req.resource_spans_size()));
    for (const auto& rs : req.resource_spans()) {
      const ResourceEntry& re = ix.resources()[r++];
      expect_attrs(ix, re.attrs, rs.resource().attributes());
      for (const auto& ss : rs.scope_spans()) {
        const ScopeEntry& se = ix.scopes()[s++];
        EXPECT_EQ(se.name, ss.scope().name());
        expect_attrs(ix, se.attrs, ss.scope().attributes());
        EXPECT_EQ(se.item_count, static_cast<uint32_t>(ss.spans_size()));
        for (const auto& span : ss.spans()) {
          ASSERT_LT(sp, ix.spans().size());
          const SpanEntry& e = ix.spans()[sp++];
          EXPECT_EQ(e.scope, s - 1);
          EXPECT_EQ(e.trace_id, span.trace_id());
          EXPECT_EQ(e.span_id, span.span_id());
          EXPECT_EQ(e.parent_span_id, span.parent_span_id());
          EXPECT_EQ(e.name, span.name());
          EXPECT_EQ(e.kind, static_cast<int32_t>(span.kind()));
          expect_attrs(ix, e.attrs, span.attributes());
          ASSERT_EQ(e.event_count, static_cast<uint32_t>(span.events_size()));
          ASSERT_EQ(e.link_count, static_cast<uint32_t>(span.links_size()));
          EXPECT_EQ(e.first_event, ev);
          EXPECT_EQ(e.first_link, ln);
          for (const auto& event : span.events()) {
            const SpanEventEntry& ee = ix.span_events()[ev++];
            EXPECT_EQ(ee.span, sp - 1);
            EXPECT_EQ(ee.name, event.name());
            expect_attrs(ix, ee.attrs, event.attributes());
          }
          for (const auto& link : span.links()) {
            const SpanLinkEntry& le = ix.span_links()[ln++];
            EXPECT_EQ(le.span, sp - 1);
            EXPECT_EQ(le.trace_id, link.trace_id());
            EXPECT_EQ(le.span_id, link.span_id());
            expect_attrs(ix, le.attrs, link.attributes());
          }
        }
      }
    }
    EXPECT_EQ(sp, ix.spans().size());
    EXPECT_EQ(ev, ix.span_events().size());
    EXPECT_EQ(ln, ix.span_links().size());
    EXPECT_EQ(ix.item_count(), sp);
  }
}

TEST(IndexProperty, LogsAgreeWithLibprotobuf) {
  Index ix;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    const auto req = random_logs(seed);
    ASSERT_TRUE(ix.build(Signal::logs, serialized(req)));
    expect_tree_shape(ix);
    uint32_t s = 0, l = 0;
    for (const auto& rl : req.resource_logs()) {
      for (const auto& sl : rl.scope_logs()) {
        const ScopeEntry& se = ix.scopes()[s++];
        expect_attrs(ix, se.attrs, sl.scope().attributes());
        for (const auto& log : sl.log_records()) {
          ASSERT_LT(l, ix.log_records().size());
          const LogRecordEntry& e = ix.log_records()[l++];
          EXPECT_EQ(e.scope, s - 1);
          EXPECT_EQ(e.severity_number, static_cast<int32_t>(log.severity_number()));
          EXPECT_EQ(e.severity_text, log.severity_text());
          EXPECT_EQ(e.body_node != kNone, log.has_body());
          EXPECT_EQ(e.body, log.body().SerializeAsString());
          EXPECT_EQ(e.body_type, type_of(log.body()));
          if (log.body().has_string_value()) {
            EXPECT_EQ(e.body_scalar, log.body().string_value());
          }
          EXPECT_EQ(e.trace_id, log.trace_id());
          EXPECT_EQ(e.span_id, log.span_id());
          expect_attrs(ix, e.attrs, log.attributes());
        }
      }
    }
    EXPECT_EQ(s, ix.scopes().size());
    EXPECT_EQ(l, ix.log_records().size());
    EXPECT_EQ(ix.item_count(), l);
  }
}

// The size knob scales requests up; the index still agrees on the item count.
TEST(IndexProperty, LargeRequestsCountItems) {
  Index ix;
  const auto opts = testing::RandomOptions{}.scaled(4);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const auto req = random_traces(seed, opts);
    ASSERT_TRUE(ix.build(Signal::traces, serialized(req)));
    uint64_t spans = 0;
    for (const auto& rs : req.resource_spans())
      for (const auto& ss : rs.scope_spans()) spans += static_cast<uint64_t>(ss.spans_size());
    EXPECT_EQ(ix.item_count(), spans);
  }
}

// Views point into the buffer the index was given, not into a copy.
TEST(IndexProperty, ViewsPointIntoTheInputBuffer) {
  Index ix;
  const Bytes in = Bytes::adopt(testing::random_request_bytes(Signal::logs, 7));
  ASSERT_TRUE(ix.build(Signal::logs, in));
  EXPECT_TRUE(ix.bytes().same_storage(in));
  for (const Attribute& a : ix.attributes()) {
    if (a.key.empty()) continue;  // an absent key is an empty view with no storage
    EXPECT_GE(a.key.data(), in.data());
    EXPECT_LE(a.key.data() + a.key.size(), in.data() + in.size());
  }
}

// Without attributes the index is the same, less attribute nodes and entries.
TEST(IndexWithoutAttributes, SameIndexLessTheAttributes) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    for (Signal signal : kAllSignals) {
      EXPECT_TRUE(test::expect_same_without_attributes(
          signal, testing::random_request_bytes(signal, seed)));
    }
  }
}

// The key-signature table holds exactly the signatures of the request's attributes, at every
// level; it is rebuilt by each build, and without attributes it says "maybe" for every key.
TEST(IndexAttributes, KeySignatureTableHoldsTheRequestsKeys) {
  otlp::Index ix;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    for (Signal signal : kAllSignals) {
      ASSERT_TRUE(ix.build(signal, Bytes::adopt(testing::random_request_bytes(signal, seed))));
      bool want[256] = {};
      for (const otlp::Attribute& a : ix.attributes()) {
        EXPECT_EQ(a.key_sig, otlp::Attribute::key_signature(a.key));
        want[a.key_sig] = true;
      }
      for (unsigned sig = 0; sig < 256; ++sig)
        EXPECT_EQ(ix.may_have_key_signature(static_cast<uint8_t>(sig)), want[sig]) << sig;
    }
  }
  ASSERT_TRUE(ix.build(Signal::metrics, Bytes::adopt(testing::random_request_bytes(Signal::metrics, 1)),
                       otlp::IndexOptions{.attributes = false}));
  for (unsigned sig = 0; sig < 256; ++sig)
    EXPECT_TRUE(ix.may_have_key_signature(static_cast<uint8_t>(sig)));
}

// A length-delimited field, for writing requests libprotobuf would not: a span's attributes after
// its events.
std::string field(uint32_t number, std::string_view payload) {
  std::string out(1, static_cast<char>(number << 3 | 2));
  for (uint64_t n = payload.size(); ; n >>= 7) {
    out += static_cast<char>(n < 0x80 ? n : (n & 0x7f) | 0x80);
    if (n < 0x80) break;
  }
  return out.append(payload);
}

// may_have_name_between answers by the first bytes of exactly the request's metric and span names.
TEST(IndexNames, NameTableAnswersByTheNamesFirstBytes) {
  otlp::Index ix;
  int some_absent = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(seed);
    for (Signal signal : kAllSignals) {
      for (otlp::IndexOptions options :
           {otlp::IndexOptions{}, otlp::IndexOptions{.attributes = false}}) {
        ASSERT_TRUE(
            ix.build(signal, Bytes::adopt(testing::random_request_bytes(signal, seed)), options));
        bool first[256] = {}, empty = false;
        auto note = [&](std::string_view n) {
          if (n.empty())
            empty = true;
          else
            first[static_cast<unsigned char>(n[0])] = true;
        };
        for (const auto& m : ix.metrics()) note(m.name);
        for (const auto& sp : ix.spans()) note(sp.name);
        for (unsigned c = 0; c < 256; ++c) {
          const std::string one(1, static_cast<char>(c));
          EXPECT_EQ(ix.may_have_name_between(one, one + "\xff\xff"), first[c]) << c;
          some_absent += !first[c];
        }
        EXPECT_EQ(ix.may_have_name_between("", ""), empty);
        // Every name lies within bounds of itself and of the whole byte range.
        for (const auto& m : ix.metrics()) EXPECT_TRUE(ix.may_have_name_between(m.name, m.name));
        for (const auto& sp : ix.spans()) EXPECT_TRUE(ix.may_have_name_between(sp.name, sp.name));
        EXPECT_EQ(ix.may_have_name_between("", "\xff"),
                  !ix.metrics().empty() || !ix.spans().empty());
      }
    }
  }
  EXPECT_GT(some_absent, 0);
  // A metric without a name field has the empty name; a request without metrics has none.
  opentelemetry::proto::metrics::v1::Metric unnamed;
  unnamed.mutable_gauge()->add_data_points()->set_as_int(1);
  ASSERT_TRUE(ix.build(Signal::metrics,
                       Bytes::adopt(field(1, field(2, field(2, unnamed.SerializeAsString()))))));
  EXPECT_TRUE(ix.may_have_name_between("", ""));
  EXPECT_FALSE(ix.may_have_name_between("a", "z"));
  ASSERT_TRUE(ix.build(Signal::metrics, Bytes::adopt(field(1, ""))));
  EXPECT_FALSE(ix.may_have_name_between("", "\xff"));
}

TEST(IndexWithoutAttributes, SpanAttributesAfterItsEvents) {
  opentelemetry::proto::trace::v1::Span head, tail;
  head.set_name("s");
  head.add_attributes()->set_key("a");
  head.add_events()->add_attributes()->set_key("e");
  tail.add_attributes()->set_key("b");
  tail.add_links()->add_attributes()->set_key("l");
  const std::string span = head.SerializeAsString() + tail.SerializeAsString();
  const std::string req = field(1, field(2, field(2, span)));
  EXPECT_TRUE(test::expect_same_without_attributes(Signal::traces, req));
}

// What validation does to a request (drop items) writes the same bytes from either index.
TEST(IndexWithoutAttributes, DroppingItemsRewritesTheSame) {
  Index full, lean;
  Edits a, b;
  Rewriter rw;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SCOPED_TRACE(seed);
    for (Signal signal : kAllSignals) {
      const Bytes in = Bytes::adopt(testing::random_request_bytes(signal, seed));
      ASSERT_TRUE(full.build(signal, in));
      ASSERT_TRUE(lean.build(signal, in, {.attributes = false}));
      a.clear();
      b.clear();
      // Every third item, found by its byte offset in both indexes.
      uint32_t n = 0;
      for (uint32_t i = 0, j = 0; i < full.nodes().size(); ++i) {
        const Node& node = full.nodes()[i];
        if (node.kind == NodeKind::attribute) continue;
        const bool item = node.kind == NodeKind::data_point || node.kind == NodeKind::span ||
                          node.kind == NodeKind::log_record;
        if (item && n++ % 3 == 0) {
          ASSERT_EQ(lean.nodes()[j].begin, node.begin);
          a.drop(i);
          b.drop(j);
        }
        ++j;
      }
      const RewriteResult x = rw.apply(full, a);
      const std::string want(x.bytes.view());
      const RewriteResult y = rw.apply(lean, b);
      EXPECT_EQ(y.bytes.view(), want);
      EXPECT_EQ(y.items, x.items);
    }
  }
}

// A member that lies further into its AnyValue than Attribute's compact offsets say (unknown
// fields before or after it) is read from the value again, with the same answer.
TEST(IndexAttributes, MembersFarIntoTheValueReadTheSame) {
  const std::string filler(300, 'x');
  const std::string big(70000, 'y');
  struct Case {
    std::string any;  // the AnyValue payload
    ValueType type;
  };
  auto any = [](auto write) {
    std::string b;
    protozero::pbf_writer w(b);
    write(w);
    return b;
  };
  const std::vector<Case> cases = {
      {any([&](auto& w) { w.add_string(99, filler); w.add_string(num(AnyValue::string_value), "s"); }), ValueType::string},
      {any([&](auto& w) { w.add_string(num(AnyValue::string_value), "s"); w.add_string(99, big); }), ValueType::string},
      {any([&](auto& w) { w.add_string(99, filler); w.add_int64(num(AnyValue::int_value), -7); }), ValueType::integer},
      {any([&](auto& w) { w.add_string(99, filler); w.add_double(num(AnyValue::double_value), 2.5); }), ValueType::floating},
      {any([&](auto& w) { w.add_string(99, filler); w.add_bool(num(AnyValue::bool_value), true); }), ValueType::boolean},
  };
  for (const Case& c : cases) {
    std::string kv;
    {
      protozero::pbf_writer w(kv);
      w.add_string(num(KeyValue::key), "k");
      w.add_string(num(KeyValue::value), c.any);
    }
    Attribute a;
    ASSERT_TRUE(decode_key_value(kv, a));
    EXPECT_EQ(a.type, c.type);
    switch (c.type) {
      case ValueType::string: EXPECT_EQ(a.scalar(), "s"); break;
      case ValueType::integer: EXPECT_EQ(a.as_int(), -7); break;
      case ValueType::floating: EXPECT_EQ(a.as_double(), 2.5); break;
      case ValueType::boolean: EXPECT_TRUE(a.as_bool()); break;
      default: break;
    }
    EXPECT_EQ(a.member_begin, Attribute::kFar);
  }
}

// DataPointEntry::plain: the point is written as libprotobuf writes it, with one-byte KeyValues.
TEST(IndexPoints, PlainOnlyWhenWrittenAsLibprotobufWritesIt) {
  using testing::PointForm;
  auto plain = [](const PointForm& f) {
    Index ix;
    EXPECT_TRUE(ix.build(Signal::metrics, Bytes::adopt(testing::metrics_request_with_point(f))));
    EXPECT_EQ(ix.data_points().size(), 1u);
    return !ix.data_points().empty() && ix.data_points()[0].plain;
  };
  const std::vector<std::pair<std::string, std::string>> attrs = {{"b", "2"}, {"a", ""}};
  EXPECT_TRUE(plain({}));
  EXPECT_TRUE(plain({attrs}));  // attribute order is not part of it
  PointForm f{attrs};
  f.value_first = true;
  EXPECT_FALSE(plain(f));
  f = {attrs};
  f.absent_empty_values = true;
  EXPECT_FALSE(plain(f));
  f = {attrs};
  f.exemplar = true;
  EXPECT_FALSE(plain(f));
  f = {attrs};
  f.time_first = true;
  EXPECT_FALSE(plain(f));
  EXPECT_FALSE(plain({{{std::string(200, 'k'), "x"}}}));
  EXPECT_FALSE(plain({{{"k", std::string(130, 'v')}}}));
  EXPECT_TRUE(plain({{{std::string(60, 'k'), std::string(60, 'v')}}}));
  EXPECT_FALSE(plain({{{std::string(62, 'k'), std::string(62, 'v')}}})) << "a KeyValue of 130 bytes";
}

TEST(IndexProperty, EmptyBufferIsAnEmptyRequest) {
  Index ix;
  ASSERT_TRUE(ix.build(Signal::metrics, Bytes()));
  EXPECT_EQ(ix.item_count(), 0u);
  EXPECT_EQ(ix.nodes().size(), 1u);
}

}  // namespace
}  // namespace otlpgate::otlp
