// DeliveryDecoder: auto-detection per record, one request per signal, refused records counted by
// reason with the first problem reported.
#include "core/firehose/delivery.h"

#include <gtest/gtest.h>

#include "core/compression/compression.h"
#include "otel07/metrics_v07.pb.h"
#include "tests/unit/core/firehose/firehose_test_util.h"

namespace otlpgate::firehose {
namespace {

using test::fixture;
using test::framed;

std::string gzip(std::string_view s) {
  std::string out;
  EXPECT_TRUE(compression::compress(compression::Codec::gzip, s, out).ok());
  return out;
}

std::string cwlogs_line() {
  const std::string all = fixture("upstream/cwlogs/single_record");
  return all.substr(0, all.find('\n'));
}

std::string otel07_record() {
  ::otlpgate::test::otel07::ExportMetricsServiceRequest req;
  auto* p = req.add_resource_metrics()
                ->add_instrumentation_library_metrics()
                ->add_metrics()
                ->mutable_int_gauge()
                ->add_data_points();
  auto* l = p->add_labels();
  l->set_key("k");
  l->set_value("v");
  return framed(req.SerializeAsString());
}

TEST(DetectFormat, EachFormatByItsLooks) {
  EXPECT_EQ(detect_format(gzip(cwlogs_line())), Format::cwlogs);
  EXPECT_EQ(detect_format(cwlogs_line()), Format::cwlogs);
  EXPECT_EQ(detect_format(fixture("upstream/cwmetrics/single_record")), Format::cwmetrics);
  EXPECT_EQ(detect_format(fixture("otel10/single_request.bin")), Format::otel1);
  EXPECT_EQ(detect_format(otel07_record()), Format::otel07);
  EXPECT_EQ(detect_format("hello world"), std::nullopt);  // 'h' = 104 > the 10 bytes left
}

TEST(DeliveryDecoder, AutoSortsMixedRecordsIntoOneRequestPerSignal) {
  DeliveryDecoder d(Format::auto_detect, 1 << 20);
  d.add(0, fixture("upstream/cwmetrics/single_record"));
  d.add(1, fixture("otel10/single_request.bin"));
  d.add(2, gzip(cwlogs_line()));
  d.add(3, otel07_record());
  d.add(4, "");  // empty records are allowed and skipped
  const DecodedDelivery out = d.finish();
  EXPECT_EQ(out.data_points, 1u + 7u + 1u);
  EXPECT_EQ(out.log_records, 2u);
  EXPECT_EQ(test::metric_count(test::parse<test::MetricsRequest>(out.metrics)), 1 + 6 + 1);
  EXPECT_EQ(test::parse<test::LogsRequest>(out.logs).resource_logs_size(), 1);
  EXPECT_EQ(out.records_by_format[static_cast<int>(Format::cwmetrics)], 1u);
  EXPECT_EQ(out.records_by_format[static_cast<int>(Format::otel1)], 1u);
  EXPECT_EQ(out.records_by_format[static_cast<int>(Format::otel07)], 1u);
  EXPECT_EQ(out.records_by_format[static_cast<int>(Format::cwlogs)], 1u);
  EXPECT_EQ(out.refused_records, 0u);
  EXPECT_TRUE(out.first_error.empty()) << out.first_error;
}

TEST(DeliveryDecoder, RefusedRecordsAreCountedByReasonFirstOneReported) {
  DeliveryDecoder d(Format::auto_detect, 1 << 20);
  d.add(0, fixture("otel10/single_request.bin"));
  d.add_unreadable(1, "data is not base64 (at character 3)");
  d.add(2, fixture("otel10/truncated.bin"));
  d.add(3, "hello world");
  d.add(4, fixture("upstream/cwmetrics/some_invalid_records"));
  const DecodedDelivery out = d.finish();
  EXPECT_EQ(out.refused_records, 3u);
  EXPECT_EQ(out.refused[static_cast<int>(RecordError::base64)], 1u);
  EXPECT_EQ(out.refused[static_cast<int>(RecordError::otel_framing)], 1u);
  EXPECT_EQ(out.refused[static_cast<int>(RecordError::unknown_format)], 1u);
  EXPECT_EQ(out.refused[static_cast<int>(RecordError::cwmetrics_line)], 4u);
  EXPECT_EQ(out.first_error, "record 1: data is not base64 (at character 3)");
  EXPECT_EQ(out.data_points, 7u + 88u);
}

TEST(DeliveryDecoder, AFixedFormatReadsEveryRecordAsThatFormat) {
  DeliveryDecoder d(Format::cwmetrics, 1 << 20);
  d.add(0, fixture("otel10/single_request.bin"));
  const DecodedDelivery out = d.finish();
  EXPECT_EQ(out.refused[static_cast<int>(RecordError::cwmetrics)], 1u);
  EXPECT_TRUE(out.metrics.empty());
}

}  // namespace
}  // namespace otlpgate::firehose
