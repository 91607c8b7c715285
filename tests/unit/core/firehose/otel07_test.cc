// OpenTelemetry 0.7.0 → v1: requests built with libprotobuf from the v0.7.0 schema
// (tests/proto/otel07), converted, and read back with the v1 classes field by field.
#include "core/firehose/otel07.h"

#include <gtest/gtest.h>

#include "core/firehose/otel_records.h"
#include "otel07/metrics_v07.pb.h"
#include "tests/unit/core/firehose/firehose_test_util.h"

namespace otlpgate::firehose {
namespace {

namespace v07 = otlpgate::test::otel07;
using test::attr;
using test::framed;
using test::MetricsRequest;

void label(google::protobuf::RepeatedPtrField<v07::StringKeyValue>* labels, const std::string& k,
           const std::string& v) {
  auto* l = labels->Add();
  l->set_key(k);
  l->set_value(v);
}

// A CloudWatch-shaped 0.7.0 request (its documented example: a DoubleSummary with Namespace,
// MetricName and dimension labels) plus one metric of every other v0.7.0 type.
v07::ExportMetricsServiceRequest every_type() {
  v07::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  auto* ra = rm->mutable_resource()->add_attributes();
  ra->set_key("cloud.provider");
  ra->mutable_value()->set_string_value("aws");
  auto* ilm = rm->add_instrumentation_library_metrics();
  ilm->mutable_instrumentation_library()->set_name("lib");
  ilm->mutable_instrumentation_library()->set_version("0.7");

  auto* summary = ilm->add_metrics();
  summary->set_name("amazonaws.com/AWS/DynamoDB/ConsumedReadCapacityUnits");
  summary->set_unit("1");
  auto* sp = summary->mutable_double_summary()->add_data_points();
  label(sp->mutable_labels(), "Namespace", "AWS/DynamoDB");
  label(sp->mutable_labels(), "MetricName", "ConsumedReadCapacityUnits");
  label(sp->mutable_labels(), "TableName", "MyTable");
  sp->set_start_time_unix_nano(1604948400000000000);
  sp->set_time_unix_nano(1604948460000000000);
  sp->set_count(1);
  sp->set_sum(1.5);
  auto* q0 = sp->add_quantile_values();
  q0->set_quantile(0);
  q0->set_value(1);
  auto* q1 = sp->add_quantile_values();
  q1->set_quantile(1);
  q1->set_value(2);

  auto* ig = ilm->add_metrics();
  ig->set_name("int_gauge");
  auto* igp = ig->mutable_int_gauge()->add_data_points();
  label(igp->mutable_labels(), "host", "a");
  igp->set_time_unix_nano(10);
  igp->set_value(-42);
  auto* ix = igp->add_exemplars();
  label(ix->mutable_filtered_labels(), "user", "u1");
  ix->set_time_unix_nano(9);
  ix->set_value(-7);
  ix->set_span_id(std::string(8, '\x01'));
  ix->set_trace_id(std::string(16, '\x02'));

  auto* dg = ilm->add_metrics();
  dg->set_name("double_gauge");
  auto* dgp = dg->mutable_double_gauge()->add_data_points();
  dgp->set_value(2.25);
  dgp->add_exemplars()->set_value(0.5);

  auto* is = ilm->add_metrics();
  is->set_name("int_sum");
  is->mutable_int_sum()->set_aggregation_temporality(v07::AGGREGATION_TEMPORALITY_CUMULATIVE);
  is->mutable_int_sum()->set_is_monotonic(true);
  is->mutable_int_sum()->add_data_points()->set_value(5);

  auto* ds = ilm->add_metrics();
  ds->set_name("double_sum");
  ds->mutable_double_sum()->set_aggregation_temporality(v07::AGGREGATION_TEMPORALITY_DELTA);
  ds->mutable_double_sum()->add_data_points()->set_value(0.75);

  auto* ih = ilm->add_metrics();
  ih->set_name("int_histogram");
  ih->mutable_int_histogram()->set_aggregation_temporality(v07::AGGREGATION_TEMPORALITY_DELTA);
  auto* ihp = ih->mutable_int_histogram()->add_data_points();
  label(ihp->mutable_labels(), "route", "/x");
  ihp->set_count(3);
  ihp->set_sum(-12);
  ihp->add_bucket_counts(1);
  ihp->add_bucket_counts(2);
  ihp->add_explicit_bounds(10);

  auto* dh = ilm->add_metrics();
  dh->set_name("double_histogram");
  auto* dhp = dh->mutable_double_histogram()->add_data_points();
  dhp->set_count(1);
  dhp->set_sum(0.125);
  dhp->add_bucket_counts(1);
  return req;
}

MetricsRequest convert(const v07::ExportMetricsServiceRequest& in) {
  std::string out, error;
  EXPECT_TRUE(convert_otel07_request(in.SerializeAsString(), out, &error)) << error;
  return test::parse<MetricsRequest>(out);
}

TEST(Otel07, EveryMetricTypeConvertsToV1) {
  const MetricsRequest req = convert(every_type());
  ASSERT_EQ(req.resource_metrics_size(), 1);
  const auto& rm = req.resource_metrics(0);
  EXPECT_EQ(attr(rm.resource().attributes(), "cloud.provider"), "aws");
  ASSERT_EQ(rm.scope_metrics_size(), 1);
  const auto& sm = rm.scope_metrics(0);
  EXPECT_EQ(sm.scope().name(), "lib");
  EXPECT_EQ(sm.scope().version(), "0.7");
  ASSERT_EQ(sm.metrics_size(), 7);

  const auto& summary = sm.metrics(0);
  EXPECT_EQ(summary.name(), "amazonaws.com/AWS/DynamoDB/ConsumedReadCapacityUnits");
  EXPECT_EQ(summary.unit(), "1");
  ASSERT_TRUE(summary.has_summary());
  const auto& sp = summary.summary().data_points(0);
  EXPECT_EQ(attr(sp.attributes(), "Namespace"), "AWS/DynamoDB");
  EXPECT_EQ(attr(sp.attributes(), "MetricName"), "ConsumedReadCapacityUnits");
  EXPECT_EQ(attr(sp.attributes(), "TableName"), "MyTable");
  EXPECT_EQ(sp.start_time_unix_nano(), 1604948400000000000u);
  EXPECT_EQ(sp.time_unix_nano(), 1604948460000000000u);
  EXPECT_EQ(sp.count(), 1u);
  EXPECT_EQ(sp.sum(), 1.5);
  ASSERT_EQ(sp.quantile_values_size(), 2);
  EXPECT_EQ(sp.quantile_values(1).quantile(), 1.0);
  EXPECT_EQ(sp.quantile_values(1).value(), 2.0);

  const auto& ig = sm.metrics(1);
  ASSERT_TRUE(ig.has_gauge());
  const auto& igp = ig.gauge().data_points(0);
  EXPECT_EQ(igp.value_case(), igp.kAsInt);
  EXPECT_EQ(igp.as_int(), -42);
  EXPECT_EQ(igp.time_unix_nano(), 10u);
  EXPECT_EQ(attr(igp.attributes(), "host"), "a");
  ASSERT_EQ(igp.exemplars_size(), 1);
  const auto& ix = igp.exemplars(0);
  EXPECT_EQ(ix.as_int(), -7);
  EXPECT_EQ(ix.time_unix_nano(), 9u);
  EXPECT_EQ(attr(ix.filtered_attributes(), "user"), "u1");
  EXPECT_EQ(ix.span_id(), std::string(8, '\x01'));
  EXPECT_EQ(ix.trace_id(), std::string(16, '\x02'));

  const auto& dgp = sm.metrics(2).gauge().data_points(0);
  EXPECT_EQ(dgp.value_case(), dgp.kAsDouble);
  EXPECT_EQ(dgp.as_double(), 2.25);
  EXPECT_EQ(dgp.exemplars(0).as_double(), 0.5);

  const auto& is = sm.metrics(3);
  ASSERT_TRUE(is.has_sum());
  EXPECT_EQ(is.sum().aggregation_temporality(),
            opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_TRUE(is.sum().is_monotonic());
  EXPECT_EQ(is.sum().data_points(0).as_int(), 5);

  const auto& ds = sm.metrics(4);
  EXPECT_EQ(ds.sum().aggregation_temporality(),
            opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_FALSE(ds.sum().is_monotonic());
  EXPECT_EQ(ds.sum().data_points(0).as_double(), 0.75);

  const auto& ih = sm.metrics(5);
  ASSERT_TRUE(ih.has_histogram());
  const auto& ihp = ih.histogram().data_points(0);
  EXPECT_EQ(attr(ihp.attributes(), "route"), "/x");
  EXPECT_EQ(ihp.count(), 3u);
  EXPECT_TRUE(ihp.has_sum());
  EXPECT_EQ(ihp.sum(), -12.0);
  EXPECT_EQ(std::vector<uint64_t>(ihp.bucket_counts().begin(), ihp.bucket_counts().end()),
            (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(ihp.explicit_bounds_size(), 1);

  const auto& dhp = sm.metrics(6).histogram().data_points(0);
  EXPECT_EQ(dhp.sum(), 0.125);
  EXPECT_EQ(dhp.bucket_counts_size(), 1);
}

TEST(Otel07, RecordsOfSeveralMessagesAreFramedLikeOtel1) {
  const std::string msg = every_type().SerializeAsString();
  EXPECT_TRUE(looks_like_otel07(framed(msg)));
  std::string out;
  uint64_t points = 0;
  ASSERT_TRUE(append_otel07_record(framed(msg) + framed(msg), out, &points));
  EXPECT_EQ(points, 14u);
  EXPECT_EQ(test::metric_count(test::parse<MetricsRequest>(out)), 14);
}

TEST(Otel07, DetectionNeedsOnlyOneMarker) {
  // A double summary with labels: only the labels (field 1) tell 0.7.0 from 1.0.0.
  v07::ExportMetricsServiceRequest req;
  auto* p = req.add_resource_metrics()
                ->add_instrumentation_library_metrics()
                ->add_metrics()
                ->mutable_double_summary()
                ->add_data_points();
  EXPECT_FALSE(looks_like_otel07(framed(req.SerializeAsString())));
  label(p->mutable_labels(), "k", "v");
  EXPECT_TRUE(looks_like_otel07(framed(req.SerializeAsString())));
}

TEST(Otel07, MalformedMessagesAreRefusedWithTheirOffset) {
  std::string out, error;
  // Metric (field 2 of InstrumentationLibraryMetrics) whose labels field is a varint.
  v07::ExportMetricsServiceRequest req;
  req.add_resource_metrics()->add_instrumentation_library_metrics()->add_metrics()->set_name("m");
  std::string bytes = req.SerializeAsString();
  EXPECT_TRUE(convert_otel07_request(bytes, out, &error)) << error;
  bytes.resize(bytes.size() - 1);  // the name now runs past its message
  out.clear();
  EXPECT_FALSE(convert_otel07_request(bytes, out, &error));
  EXPECT_NE(error.find("at byte"), std::string::npos) << error;

  // A DoubleSummaryDataPoint whose labels are a varint: a known field with the wrong type.
  const std::string point = std::string("\x08\x01", 2);  // field 1, varint
  const std::string summary = "\x0a" + std::string(1, char(point.size())) + point;  // data_points
  const std::string metric = "\x5a" + std::string(1, char(summary.size())) + summary;  // 11
  const std::string ilm = "\x12" + std::string(1, char(metric.size())) + metric;
  const std::string rm = "\x12" + std::string(1, char(ilm.size())) + ilm;
  const std::string request = "\x0a" + std::string(1, char(rm.size())) + rm;
  out.clear();
  error.clear();
  EXPECT_FALSE(convert_otel07_request(request, out, &error));
  EXPECT_NE(error.find("field 1 has the wrong wire type at byte 10"), std::string::npos) << error;

  uint64_t points = 0;
  std::string kept = "kept";
  EXPECT_EQ(append_otel07_record(framed(request), kept, &points).error, RecordError::otel_message);
  EXPECT_EQ(kept, "kept");
}

}  // namespace
}  // namespace otlpgate::firehose
