// CwMetricsDecoder against the Collector's test data and expectations (tests/fixtures/firehose/
// upstream/cwmetrics, README there): the mapping, the grouping, and what a bad line costs.
#include "core/firehose/cwmetrics.h"

#include <set>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/firehose/encode.h"
#include "tests/unit/core/firehose/firehose_test_util.h"

namespace otlpgate::firehose {
namespace {

using test::attr;
using test::fixture;
using test::MetricsRequest;

MetricsRequest decode(std::initializer_list<std::string_view> records, CwMetricsDecoder& d) {
  for (auto r : records) EXPECT_TRUE(d.add_record(r)) << r;
  std::string out;
  d.finish(out);
  return test::parse<MetricsRequest>(out);
}

TEST(CwMetrics, SingleRecordMapsLikeTheCollector) {
  CwMetricsDecoder d;
  const MetricsRequest req = decode({fixture("upstream/cwmetrics/single_record")}, d);
  ASSERT_EQ(req.resource_metrics_size(), 1);
  const auto& rm = req.resource_metrics(0);
  const auto& ra = rm.resource().attributes();
  EXPECT_EQ(attr(ra, "cloud.provider"), "aws");
  EXPECT_EQ(attr(ra, "cloud.account.id"), "1234567890");
  EXPECT_EQ(attr(ra, "cloud.region"), "us-east-1");
  EXPECT_EQ(attr(ra, "service.namespace"), "AWS");
  EXPECT_EQ(attr(ra, "service.name"), "EC2");
  EXPECT_EQ(attr(ra, "aws.cloudwatch.metric_stream_name"), "MyMetricStream");
  ASSERT_EQ(rm.scope_metrics_size(), 1);
  EXPECT_EQ(rm.scope_metrics(0).scope().name(), kScopeName);
  ASSERT_EQ(rm.scope_metrics(0).metrics_size(), 1);
  const auto& m = rm.scope_metrics(0).metrics(0);
  EXPECT_EQ(m.name(), "DiskWriteOps");
  EXPECT_EQ(m.unit(), "Seconds");
  ASSERT_TRUE(m.has_summary());
  ASSERT_EQ(m.summary().data_points_size(), 1);
  const auto& p = m.summary().data_points(0);
  EXPECT_EQ(p.time_unix_nano(), 1611929698000000000u);
  EXPECT_EQ(p.start_time_unix_nano(), 0u);
  EXPECT_EQ(p.count(), 3u);
  EXPECT_EQ(p.sum(), 20.0);
  std::vector<std::pair<double, double>> q;
  for (const auto& v : p.quantile_values()) q.emplace_back(v.quantile(), v.value());
  const std::vector<std::pair<double, double>> want = {{0, 0}, {0.9, 16}, {0.99, 17}, {1, 18}};
  EXPECT_EQ(q, want);
  ASSERT_EQ(p.attributes_size(), 1);
  EXPECT_EQ(attr(p.attributes(), "service.instance.id"), "i-123456789012");
  EXPECT_EQ(d.data_points(), 1u);
  EXPECT_EQ(d.skipped_lines(), 0u);
}

TEST(CwMetrics, SomeInvalidRecordsGiveTheCollectorsCounts) {
  CwMetricsDecoder d;
  const MetricsRequest req = decode({fixture("upstream/cwmetrics/some_invalid_records")}, d);
  EXPECT_EQ(req.resource_metrics_size(), 5);
  EXPECT_EQ(test::metric_count(req), 36);
  EXPECT_EQ(d.data_points(), 88u);
  EXPECT_EQ(d.skipped_lines(), 4u);
  EXPECT_NE(d.first_skipped().find("line 1:"), std::string::npos) << d.first_skipped();
  // Every metric is a summary with min ≤ max, in its resource once per (name, unit).
  for (const auto& rm : req.resource_metrics()) {
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& m : rm.scope_metrics(0).metrics()) {
      EXPECT_TRUE(seen.emplace(m.name(), m.unit()).second) << m.name();
      for (const auto& p : m.summary().data_points()) {
        ASSERT_GE(p.quantile_values_size(), 2);
        EXPECT_LE(p.quantile_values(0).value(),
                  p.quantile_values(p.quantile_values_size() - 1).value());
      }
    }
  }
}

TEST(CwMetrics, GroupsAcrossTheRecordsOfADelivery) {
  // The same lines split over three records (as the _split delivery does) group the same way.
  const std::string all = fixture("upstream/cwmetrics/some_invalid_records");
  std::vector<std::string> parts(3);
  std::size_t line = 0, pos = 0;
  while (pos < all.size()) {
    const std::size_t nl = all.find('\n', pos);
    const std::size_t end = nl == std::string::npos ? all.size() : nl + 1;
    parts[line < 32 ? 0 : line < 64 ? 1 : 2] += all.substr(pos, end - pos);
    pos = end;
    ++line;
  }
  CwMetricsDecoder d;
  const MetricsRequest req = decode({parts[0], parts[1], parts[2]}, d);
  EXPECT_EQ(req.resource_metrics_size(), 5);
  EXPECT_EQ(test::metric_count(req), 36);
  EXPECT_EQ(d.data_points(), 88u);
}

TEST(CwMetrics, ServiceNameSplitsOnlyAwsNamespaces) {
  CwMetricsDecoder d;
  const std::string line =
      R"({"metric_stream_name":"s","account_id":"1","region":"r","namespace":"MyApp/Orders",)"
      R"("metric_name":"Latency","dimensions":{},"timestamp":1,"value":{"count":1,"sum":2,"min":2,"max":2},"unit":"Milliseconds"})";
  const std::string aws_lower =
      R"({"metric_stream_name":"s","account_id":"1","region":"r","namespace":"aws/Lambda",)"
      R"("metric_name":"Errors","timestamp":1,"value":{"count":1},"unit":"Count"})";
  const MetricsRequest req = decode({line, aws_lower}, d);
  ASSERT_EQ(req.resource_metrics_size(), 2);
  const auto& a = req.resource_metrics(0).resource().attributes();
  EXPECT_EQ(attr(a, "service.name"), "MyApp/Orders");
  EXPECT_EQ(attr(a, "service.namespace"), "<absent>");
  const auto& b = req.resource_metrics(1).resource().attributes();
  EXPECT_EQ(attr(b, "service.namespace"), "aws");
  EXPECT_EQ(attr(b, "service.name"), "Lambda");
}

TEST(CwMetrics, PercentilesBecomeSortedQuantiles) {
  CwMetricsDecoder d;
  const MetricsRequest req = decode(
      {R"({"namespace":"AWS/ELB","metric_name":"Latency","unit":"Seconds","timestamp":5,)"
       R"("value":{"p99.9":9,"max":10,"p50":5,"min":1,"count":4,"sum":20,"p0":1,"p100":10,"pxx":3,"p75":"7"}})"},
      d);
  const auto& p = req.resource_metrics(0).scope_metrics(0).metrics(0).summary().data_points(0);
  std::vector<std::pair<double, double>> q;
  for (const auto& v : p.quantile_values()) q.emplace_back(v.quantile(), v.value());
  // p0 / p100 repeat min / max, "pxx" is no percentile, a string value is ignored. (99.9 / 100
  // is not exactly 0.999 in binary; the Collector computes the same double.)
  const std::vector<std::pair<double, double>> want = {
      {0, 1}, {0.5, 5}, {99.9 / 100.0, 9}, {1, 10}};
  EXPECT_EQ(q, want);
  EXPECT_EQ(p.time_unix_nano(), 5'000'000u);
}

TEST(CwMetrics, LinesThatAreNotMetricsAreSkippedAndCounted) {
  CwMetricsDecoder d;
  const std::string good =
      R"({"namespace":"AWS/EC2","metric_name":"CPU","unit":"Percent","value":{"max":1}})";
  const std::string record =
      good + "\n" +
      R"({"namespace":"AWS/EC2","metric_name":"CPU","unit":"Percent"})"
      "\n" +  // no value
      R"({"namespace":"AWS/EC2","metric_name":"CPU","unit":"Percent","account_id":7,"value":{}})"
      "\n" +  // number for a string
      "{not json\n\n" +
      R"(["an","array"])"
      "\n";
  EXPECT_TRUE(d.add_record(record));
  EXPECT_EQ(d.data_points(), 1u);
  EXPECT_EQ(d.skipped_lines(), 4u);
  EXPECT_NE(d.first_skipped().find("line 2: not a CloudWatch metric"), std::string::npos)
      << d.first_skipped();
}

TEST(CwMetrics, ARecordWithoutAnyMetricFailsAndAddsNothing) {
  CwMetricsDecoder d;
  const RecordResult r = d.add_record(R"({"CHANGE":-0.09,"PRICE":4.96,"TICKER_SYMBOL":"KIN"})"
                                      "\n");
  EXPECT_EQ(r.error, RecordError::cwmetrics);
  EXPECT_NE(r.message.find("line 1"), std::string::npos) << r.message;
  EXPECT_EQ(d.add_record("\n\n").error, RecordError::cwmetrics);
  std::string out;
  d.finish(out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.data_points(), 0u);
}

}  // namespace
}  // namespace otlpgate::firehose
