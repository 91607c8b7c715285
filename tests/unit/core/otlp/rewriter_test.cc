// Property tests: random edit sets applied by the rewriter give the bytes libprotobuf would give
// after applying the same edits to the parsed objects.
#include "core/otlp/rewriter.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>
#include <unordered_set>

#include "core/otlp/edits.h"
#include "tests/support/random_otlp.h"
#include "tests/unit/core/otlp/otlp_test_util.h"

namespace otlpgate::otlp {
namespace {

namespace common = opentelemetry::proto::common::v1;
using google::protobuf::Message;
using test::Mirror;

constexpr uint64_t kSeeds = 500;

std::string random_value(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return any_value_string(rng() % 5 == 0 ? "" : "v" + std::to_string(rng() % 1000));
    case 1: return any_value_int(static_cast<int64_t>(rng()));
    case 2: return any_value_double(static_cast<double>(rng() % 10000) / 7.0);
    default: return any_value_bool(rng() % 2 == 0);
  }
}

std::string random_key(std::mt19937_64& rng) {
  return rng() % 7 == 0 ? std::string() : "new." + std::to_string(rng() % 100);
}

// Removes, anywhere under `m`, the repeated message elements listed in `dead`.
void erase_dead(Message* m, const std::unordered_set<const Message*>& dead) {
  const auto* d = m->GetDescriptor();
  const auto* r = m->GetReflection();
  for (int f = 0; f < d->field_count(); ++f) {
    const auto* fd = d->field(f);
    if (fd->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (fd->is_repeated()) {
      auto* list = test::repeated(m, fd);
      for (int i = list->size(); i-- > 0;) {
        if (dead.count(&list->Get(i)) != 0) {
          list->DeleteSubrange(i, 1);
        } else {
          erase_dead(list->Mutable(i), dead);
        }
      }
    } else if (r->HasField(*m, fd)) {
      erase_dead(r->MutableMessage(m, fd), dead);
    }
  }
}

int point_count(const Message& metric) {
  const auto* r = metric.GetReflection();
  const auto* f = r->GetOneofFieldDescriptor(metric, metric.GetDescriptor()->FindOneofByName("data"));
  if (f == nullptr) return 0;
  const Message& data = r->GetMessage(metric, f);
  return data.GetReflection()->FieldSize(data, test::field(data, 1));
}

// Removes what the rewriter prunes: containers that had structural children and have none left.
void prune(Message* req, Signal signal, const Mirror& mr) {
  auto* groups = test::repeated(req, test::field(*req, 1));
  for (int g = groups->size(); g-- > 0;) {
    Message* rg = groups->Mutable(g);
    auto* sgs = test::repeated(rg, test::field(*rg, 2));
    for (int s = sgs->size(); s-- > 0;) {
      Message* sg = sgs->Mutable(s);
      auto* items = test::repeated(sg, test::field(*sg, 2));
      if (signal == Signal::metrics) {
        for (int i = items->size(); i-- > 0;) {
          if (mr.orig.at(&items->Get(i)) > 0 && point_count(items->Get(i)) == 0) items->DeleteSubrange(i, 1);
        }
      }
      if (mr.orig.at(sg) > 0 && items->empty()) sgs->DeleteSubrange(s, 1);
    }
    if (mr.orig.at(rg) > 0 && sgs->empty()) groups->DeleteSubrange(g, 1);
  }
}

// Picks random edits, records them in `ed` and applies them to the mirrored objects.
void random_edits(const Index& ix, Mirror& mr, Edits& ed, std::mt19937_64& rng,
                  std::unordered_set<const Message*>& dead) {
  std::vector<bool> touched(ix.attributes().size(), false);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const int count = static_cast<int>(rng() % 9);
  for (int k = 0; k < count; ++k) {
    switch (rng() % 12) {
      case 0: {  // drop one item (data point / span / log record)
        if (ix.signal() == Signal::metrics) {
          if (ix.data_points().empty()) break;
          const size_t p = pick(ix.data_points().size());
          ed.drop(ix.data_points()[p].node);
          dead.insert(mr.points[p]);
        } else {
          if (mr.items.empty()) break;
          const size_t i = pick(mr.items.size());
          ed.drop(ix.signal() == Signal::traces ? ix.spans()[i].node : ix.log_records()[i].node);
          dead.insert(mr.items[i]);
        }
        break;
      }
      case 1: {  // drop a metric (or, for the other signals, another item)
        if (mr.items.empty()) break;
        const size_t i = pick(mr.items.size());
        const uint32_t node = ix.signal() == Signal::metrics  ? ix.metrics()[i].node
                              : ix.signal() == Signal::traces ? ix.spans()[i].node
                                                              : ix.log_records()[i].node;
        ed.drop(node);
        dead.insert(mr.items[i]);
        break;
      }
      case 2: {
        if (rng() % 3 != 0 || mr.scopes.empty()) break;  // rarer: it removes a lot
        const size_t i = pick(mr.scopes.size());
        ed.drop(ix.scopes()[i].node);
        dead.insert(mr.scopes[i]);
        break;
      }
      case 3: {
        if (rng() % 4 != 0 || mr.resources.empty()) break;
        const size_t i = pick(mr.resources.size());
        ed.drop(ix.resources()[i].node);
        dead.insert(mr.resources[i]);
        break;
      }
      case 4:
      case 11: {
        if (ix.attributes().empty()) break;
        const size_t a = pick(ix.attributes().size());
        if (touched[a]) break;
        touched[a] = true;
        ed.drop_attribute(ix.attributes()[a]);
        dead.insert(mr.attrs[a]);
        break;
      }
      case 5: {
        if (ix.attributes().empty()) break;
        const size_t a = pick(ix.attributes().size());
        if (touched[a]) break;
        touched[a] = true;
        const std::string v = random_value(rng);
        ed.set_attribute_value(ix.attributes()[a], v);
        ASSERT_TRUE(mr.attrs[a]->mutable_value()->ParseFromString(v));
        break;
      }
      case 6: {
        if (ix.attributes().empty()) break;
        const size_t a = pick(ix.attributes().size());
        if (touched[a]) break;
        touched[a] = true;
        const std::string key = random_key(rng);
        ed.rename_attribute(ix.attributes()[a], key);
        mr.attrs[a]->set_key(key);
        break;
      }
      case 7: {
        if (mr.owners.empty()) break;
        const test::Owner& o = mr.owners[pick(mr.owners.size())];
        const std::string key = random_key(rng), v = random_value(rng);
        ed.add_attribute(o.kind, o.node, key, v, o.type);
        auto* kv = test::attributes_of(o.msg)->Add();
        kv->set_key(key);
        ASSERT_TRUE(kv->mutable_value()->ParseFromString(v));
        break;
      }
      case 8: {
        if (mr.resources.empty()) break;
        const size_t i = pick(mr.resources.size());
        const std::string key = random_key(rng), v = random_value(rng);
        ed.add_resource_attribute(ix.resources()[i], key, v);
        Message* rg = mr.resources[i];
        auto* kv = test::attributes_of(rg->GetReflection()->MutableMessage(rg, test::field(*rg, 1)))->Add();
        kv->set_key(key);
        ASSERT_TRUE(kv->mutable_value()->ParseFromString(v));
        break;
      }
      case 9: {
        if (mr.scopes.empty()) break;
        const size_t i = pick(mr.scopes.size());
        const std::string key = random_key(rng), v = random_value(rng);
        ed.add_scope_attribute(ix.scopes()[i], key, v);
        Message* sg = mr.scopes[i];
        auto* kv = test::attributes_of(sg->GetReflection()->MutableMessage(sg, test::field(*sg, 1)))->Add();
        kv->set_key(key);
        ASSERT_TRUE(kv->mutable_value()->ParseFromString(v));
        break;
      }
      default: {  // signal-specific: rename a metric, drop an event or link, set a log body
        if (mr.items.empty()) break;
        const size_t i = pick(mr.items.size());
        if (ix.signal() == Signal::metrics) {
          const std::string name = "renamed." + std::to_string(rng() % 50);
          ed.rename_metric(ix.metrics()[i], name);
          mr.items[i]->GetReflection()->SetString(mr.items[i], test::field(*mr.items[i], "name"), name);
        } else if (ix.signal() == Signal::traces) {
          if (!mr.events.empty() && rng() % 2 == 0) {
            const size_t e = pick(mr.events.size());
            ed.drop(ix.span_events()[e].node);
            dead.insert(mr.events[e]);
          } else if (!mr.links.empty()) {
            const size_t l = pick(mr.links.size());
            ed.drop(ix.span_links()[l].node);
            dead.insert(mr.links[l]);
          }
        } else {
          const std::string v = random_value(rng);
          ed.set_log_body(ix.log_records()[i], v);
          Message* log = mr.items[i];
          ASSERT_TRUE(log->GetReflection()->MutableMessage(log, test::field(*log, "body"))->ParseFromString(v));
        }
      }
    }
  }
}

template <typename Req>
void check_random_rewrites(Signal signal, Req (*generate)(uint64_t, const testing::RandomOptions&)) {
  Index ix, check;
  Edits ed;
  Rewriter rw;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Req original = generate(seed, {});
    const Bytes in = Bytes::copy_of(original.SerializeAsString());
    ASSERT_TRUE(ix.build(signal, in));
    Req expected = original;
    Mirror mr = test::mirror(ix, &expected);
    ASSERT_FALSE(::testing::Test::HasFailure());
    std::mt19937_64 rng(seed * 7919 + 17);
    std::unordered_set<const Message*> dead;
    ed.clear();
    random_edits(ix, mr, ed, rng, dead);
    ASSERT_FALSE(::testing::Test::HasFailure());
    erase_dead(&expected, dead);
    prune(&expected, signal, mr);

    const RewriteResult out = rw.apply(ix, ed);
    EXPECT_EQ(out.changed, !ed.empty());
    if (ed.empty()) {
      EXPECT_TRUE(out.bytes.same_storage(in));
    }
    Req got;
    ASSERT_TRUE(got.ParseFromString(std::string(out.bytes.view())));
    std::string diff;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differ.Compare(expected, got)) << diff;
    EXPECT_EQ(got.SerializeAsString(), expected.SerializeAsString());
    // The output is itself a valid request whose item count the rewriter reported.
    ASSERT_TRUE(check.build(signal, out.bytes));
    EXPECT_EQ(out.items, check.item_count());
  }
}

TEST(RewriterProperty, MetricsEditsMatchLibprotobuf) {
  check_random_rewrites(Signal::metrics, &testing::random_metrics);
}
TEST(RewriterProperty, TraceEditsMatchLibprotobuf) {
  check_random_rewrites(Signal::traces, &testing::random_traces);
}
TEST(RewriterProperty, LogEditsMatchLibprotobuf) {
  check_random_rewrites(Signal::logs, &testing::random_logs);
}

TEST(Rewriter, NoEditsReturnsTheSameStorage) {
  const Bytes in = Bytes::copy_of(testing::random_metrics(11).SerializeAsString());
  Index ix;
  ASSERT_TRUE(ix.build(Signal::metrics, in));
  Rewriter rw;
  const RewriteResult out = rw.apply(ix, Edits());
  EXPECT_FALSE(out.changed);
  EXPECT_TRUE(out.bytes.same_storage(in));
  EXPECT_EQ(out.items, ix.item_count());
}

TEST(Rewriter, DroppingTheOnlyPointPrunesMetricScopeAndResource) {
  testing::MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  rm->mutable_resource()->add_attributes()->set_key("service.name");
  auto* metric = rm->add_scope_metrics()->add_metrics();
  metric->set_name("m");
  metric->mutable_gauge()->add_data_points()->set_as_int(1);
  auto* keep = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  keep->set_name("kept");
  keep->mutable_sum()->add_data_points()->set_as_double(2);
  Index ix;
  ASSERT_TRUE(ix.build(Signal::metrics, Bytes::copy_of(req.SerializeAsString())));
  Edits ed;
  ed.drop(ix.data_points()[0].node);
  const RewriteResult out = Rewriter().apply(ix, ed);
  testing::MetricsRequest got;
  ASSERT_TRUE(got.ParseFromString(std::string(out.bytes.view())));
  ASSERT_EQ(got.resource_metrics_size(), 1);
  EXPECT_EQ(got.resource_metrics(0).scope_metrics(0).metrics(0).name(), "kept");
  EXPECT_EQ(out.items, 1u);
}

TEST(Rewriter, DroppingEverythingLeavesAnEmptyRequest) {
  testing::TraceRequest req;
  req.add_resource_spans()->add_scope_spans()->add_spans()->set_name("s");
  Index ix;
  ASSERT_TRUE(ix.build(Signal::traces, Bytes::copy_of(req.SerializeAsString())));
  Edits ed;
  ed.drop(ix.spans()[0].node);
  const RewriteResult out = Rewriter().apply(ix, ed);
  EXPECT_TRUE(out.changed);
  EXPECT_TRUE(out.bytes.empty());
  EXPECT_EQ(out.items, 0u);
}

TEST(Rewriter, UnknownFieldsSurviveEditsNextToThem) {
  testing::LogsRequest req;
  auto* log = req.add_resource_logs()->add_scope_logs()->add_log_records();
  log->add_attributes()->set_key("drop.me");
  log->add_attributes()->set_key("keep");
  log->GetReflection()->MutableUnknownFields(log)->AddLengthDelimited(1234, "opaque");
  req.mutable_resource_logs(0)->GetReflection()->MutableUnknownFields(req.mutable_resource_logs(0))->AddVarint(999, 42);
  Index ix;
  ASSERT_TRUE(ix.build(Signal::logs, Bytes::copy_of(req.SerializeAsString())));
  Edits ed;
  ed.drop_attribute(ix.attributes()[0]);
  const RewriteResult out = Rewriter().apply(ix, ed);
  testing::LogsRequest got;
  ASSERT_TRUE(got.ParseFromString(std::string(out.bytes.view())));
  const auto& rec = got.resource_logs(0).scope_logs(0).log_records(0);
  ASSERT_EQ(rec.attributes_size(), 1);
  EXPECT_EQ(rec.attributes(0).key(), "keep");
  const auto& unknown = rec.GetReflection()->GetUnknownFields(rec);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 1234);
  EXPECT_EQ(unknown.field(0).length_delimited(), "opaque");
  EXPECT_EQ(got.resource_logs(0).GetReflection()->GetUnknownFields(got.resource_logs(0)).field_count(), 1);
}

TEST(Rewriter, RenamingKeepsAnEmptyButPresentValue) {
  testing::TraceRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  auto* kv = span->add_attributes();
  kv->set_key("a");
  kv->mutable_value();  // present, nothing set
  span->add_attributes()->set_key("b");  // absent value
  Index ix;
  ASSERT_TRUE(ix.build(Signal::traces, Bytes::copy_of(req.SerializeAsString())));
  Edits ed;
  ed.rename_attribute(ix.attributes()[0], "a2");
  ed.rename_attribute(ix.attributes()[1], "b2");
  testing::TraceRequest got;
  ASSERT_TRUE(got.ParseFromString(std::string(Rewriter().apply(ix, ed).bytes.view())));
  const auto& s = got.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.attributes(0).key(), "a2");
  EXPECT_TRUE(s.attributes(0).has_value());
  EXPECT_EQ(s.attributes(1).key(), "b2");
  EXPECT_FALSE(s.attributes(1).has_value());
}

}  // namespace
}  // namespace otlpgate::otlp
