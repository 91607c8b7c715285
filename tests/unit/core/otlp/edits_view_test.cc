// Edits' view: what a later stage reads after earlier edits, and what the rewriter then writes.
#include "core/otlp/edits.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/otlp/rewriter.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace otlpgate::otlp {
namespace {

using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using KVs = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

void add(KVs* kvs, const std::string& k, const std::string& v) {
  auto* kv = kvs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// One resource (with or without a Resource message), one scope, one gauge "g" with two points.
MetricsRequest request(bool with_resource) {
  MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  if (with_resource) add(rm->mutable_resource()->mutable_attributes(), "host", "a");
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name("g");
  for (int i = 0; i < 2; ++i) {
    auto* p = m->mutable_gauge()->add_data_points();
    p->set_as_int(i);
    add(p->mutable_attributes(), "job", "api");
    add(p->mutable_attributes(), "user.email", "x@y.z");
  }
  return req;
}

std::map<std::string, std::string> as_map(std::span<const Attribute> attrs) {
  std::map<std::string, std::string> m;
  for (const Attribute& a : attrs) m[std::string(a.key)] = std::string(a.scalar());
  return m;
}

std::map<std::string, std::string> as_map(const KVs& kvs) {
  std::map<std::string, std::string> m;
  for (const auto& kv : kvs) m[kv.key()] = kv.value().string_value();
  return m;
}

struct Fixture {
  explicit Fixture(const MetricsRequest& req) : in(Bytes::adopt(req.SerializeAsString())) {
    EXPECT_TRUE(ix.build(Signal::metrics, in));
    edits.reset(ix);
  }
  MetricsRequest out() {
    const RewriteResult r = rw.apply(ix, edits);
    MetricsRequest m;
    EXPECT_TRUE(m.ParseFromString(std::string(r.bytes.view())));
    out_size = r.bytes.size();
    return m;
  }
  std::size_t out_size = 0;
  Bytes in;
  Index ix;
  Edits edits;
  Rewriter rw;
};

TEST(EditsView, LaterReadersSeeDroppedReplacedAndAddedAttributes) {
  Fixture f(request(true));
  const DataPointEntry& p0 = f.ix.data_points()[0];
  // Stage 1: hash the e-mail, add a label.
  for (const Attribute& a : f.edits.attributes(p0))
    if (a.key == "user.email") f.edits.set_attribute_value(a, any_value_string("h"));
  f.edits.add_attribute(NodeKind::data_point, p0.node, "service", any_value_string("checkout"),
                        MetricType::gauge);
  EXPECT_EQ(as_map(f.edits.attributes(p0)),
            (std::map<std::string, std::string>{{"job", "api"}, {"user.email", "h"}, {"service", "checkout"}}));
  // Stage 2 edits what stage 1 wrote: renames the added label, drops the hashed one.
  for (const Attribute& a : f.edits.attributes(p0)) {
    if (a.key == "service") f.edits.rename_attribute(a, "svc");
    if (a.key == "user.email") f.edits.drop_attribute(a);
  }
  EXPECT_EQ(as_map(f.edits.attributes(p0)),
            (std::map<std::string, std::string>{{"job", "api"}, {"svc", "checkout"}}));
  // The other point is untouched: its span is the index's own.
  const DataPointEntry& p1 = f.ix.data_points()[1];
  EXPECT_EQ(f.edits.attributes(p1).data(), f.ix.attributes(p1.attrs).data());

  const MetricsRequest out = f.out();
  const auto& points = out.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points();
  ASSERT_EQ(points.size(), 2);
  EXPECT_EQ(as_map(points[0].attributes()),
            (std::map<std::string, std::string>{{"job", "api"}, {"svc", "checkout"}}));
  EXPECT_EQ(as_map(points[1].attributes()),
            (std::map<std::string, std::string>{{"job", "api"}, {"user.email", "x@y.z"}}));
}

TEST(EditsView, AnAddedAttributeDroppedAgainLeavesTheRequestUntouched) {
  Fixture f(request(true));
  const DataPointEntry& p0 = f.ix.data_points()[0];
  f.edits.add_attribute(NodeKind::data_point, p0.node, "tmp", any_value_string("1"), MetricType::gauge);
  for (const Attribute& a : f.edits.attributes(p0))
    if (a.key == "tmp") f.edits.drop_attribute(a);
  EXPECT_TRUE(f.edits.empty());
  EXPECT_TRUE(f.rw.apply(f.ix, f.edits).bytes.same_storage(f.in));
}

TEST(EditsView, OneEncodedAttributeAddedToSeveralOwnersIsEditedPerOwner) {
  Fixture f(request(true));
  const auto& points = f.ix.data_points();
  const Edits::EncodedAttribute label = f.edits.encode_attribute(
      NodeKind::data_point, "service", any_value_string("checkout"), MetricType::gauge);
  for (const DataPointEntry& p : points) f.edits.add_attribute(p.node, label);
  // A later stage changes the label on the first point only.
  for (const Attribute& a : f.edits.attributes(points[0]))
    if (a.key == "service") f.edits.set_attribute_value(a, any_value_string("cart"));
  EXPECT_EQ(as_map(f.edits.attributes(points[0]))["service"], "cart");
  EXPECT_EQ(as_map(f.edits.attributes(points[1]))["service"], "checkout");
  const MetricsRequest out = f.out();
  const auto& got = out.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points();
  ASSERT_EQ(got.size(), 2);
  EXPECT_EQ(as_map(got[0].attributes()),
            (std::map<std::string, std::string>{{"job", "api"}, {"user.email", "x@y.z"}, {"service", "cart"}}));
  EXPECT_EQ(as_map(got[1].attributes()),
            (std::map<std::string, std::string>{{"job", "api"}, {"user.email", "x@y.z"}, {"service", "checkout"}}));
}

TEST(EditsView, DropsCountItemsOnceAndHideDescendants) {
  Fixture f(request(true));
  const auto& points = f.ix.data_points();
  EXPECT_EQ(f.edits.items_left(), 2u);
  EXPECT_EQ(f.edits.drop(points[0].node), 1u);
  EXPECT_EQ(f.edits.drop(points[0].node), 0u);  // already gone
  EXPECT_EQ(f.edits.items_left(), 1u);
  EXPECT_EQ(f.edits.drop(f.ix.metrics()[0].node), 1u);  // only the point still there
  EXPECT_TRUE(f.edits.dropped(points[1].node));
  EXPECT_TRUE(f.edits.dropped(f.ix.attributes(points[1].attrs)[0].node));
  EXPECT_FALSE(f.edits.dropped(f.ix.resources()[0].node));
  EXPECT_EQ(f.edits.items_left(), 0u);
  EXPECT_EQ(f.out().resource_metrics_size(), 0);
}

TEST(EditsView, MetricRenamesCompose) {
  MetricsRequest req = request(true);
  auto* m = req.mutable_resource_metrics(0)->mutable_scope_metrics(0)->mutable_metrics(0);
  for (const bool named : {true, false}) {
    if (!named) m->clear_name();
    Fixture f(req);
    const MetricEntry& me = f.ix.metrics()[0];
    EXPECT_EQ(f.edits.metric_name(me), named ? "g" : "");
    f.edits.rename_metric(me, "first");
    EXPECT_EQ(f.edits.metric_name(me), "first");
    f.edits.rename_metric(me, "second");
    EXPECT_EQ(f.edits.metric_name(me), "second");
    const MetricsRequest out = f.out();
    EXPECT_EQ(out.resource_metrics(0).scope_metrics(0).metrics(0).name(), "second");
    // One name field, not one per rename.
    EXPECT_EQ(out.resource_metrics(0).scope_metrics(0).metrics(0).ByteSizeLong(),
              MetricsRequest(req).resource_metrics(0).scope_metrics(0).metrics(0).ByteSizeLong() -
                  (named ? 3 : 0) + 8);
  }
}

TEST(EditsView, AttributesAddedToAMissingResourceShareOneCreatedResource) {
  Fixture f(request(false));
  const ResourceEntry& r = f.ix.resources()[0];
  ASSERT_EQ(r.resource_node, kNone);
  f.edits.add_resource_attribute(r, "service.name", any_value_string("svc"));
  f.edits.add_resource_attribute(r, "env", any_value_string("prod"));
  f.edits.add_resource_attribute(r, "tmp", any_value_string("x"));
  for (const Attribute& a : f.edits.attributes(r))
    if (a.key == "tmp") f.edits.drop_attribute(a);
    else if (a.key == "env") f.edits.set_attribute_value(a, any_value_string("dev"));
  EXPECT_EQ(as_map(f.edits.attributes(r)),
            (std::map<std::string, std::string>{{"service.name", "svc"}, {"env", "dev"}}));
  const MetricsRequest out = f.out();
  EXPECT_EQ(as_map(out.resource_metrics(0).resource().attributes()),
            (std::map<std::string, std::string>{{"service.name", "svc"}, {"env", "dev"}}));
  // One Resource field in the group, whatever the number of edits: libprotobuf, which would
  // merge several, writes it back in as many bytes.
  EXPECT_EQ(f.out_size, out.ByteSizeLong());
}

TEST(EditsView, LogBodiesCompose) {
  LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  sl->add_log_records()->mutable_body()->set_string_value("mail x@y.z");
  sl->add_log_records();  // no body
  const Bytes in = Bytes::adopt(req.SerializeAsString());
  Index ix;
  ASSERT_TRUE(ix.build(Signal::logs, in));
  Edits edits;
  edits.reset(ix);
  const auto& logs = ix.log_records();
  EXPECT_EQ(edits.log_body(logs[0]).scalar, "mail x@y.z");
  EXPECT_EQ(edits.log_body(logs[1]).type, ValueType::empty);
  edits.set_log_body(logs[0], any_value_string("mail ****"));
  edits.set_log_body(logs[1], any_value_string("one"));
  edits.set_log_body(logs[1], any_value_int(2));
  EXPECT_EQ(edits.log_body(logs[0]).scalar, "mail ****");
  EXPECT_EQ(edits.log_body(logs[1]).type, ValueType::integer);
  Rewriter rw;
  LogsRequest out;
  ASSERT_TRUE(out.ParseFromString(std::string(rw.apply(ix, edits).bytes.view())));
  EXPECT_EQ(out.resource_logs(0).scope_logs(0).log_records(0).body().string_value(), "mail ****");
  EXPECT_EQ(out.resource_logs(0).scope_logs(0).log_records(1).body().int_value(), 2);
}

}  // namespace
}  // namespace otlpgate::otlp
