// OpenTelemetry 1.0.0 records: the hand-written CloudWatch fixtures (tests/fixtures/firehose/
// otel10) and framing errors built around libprotobuf requests, every one caught before a byte is
// read past the record's end (the sanitizer build runs these too).
#include "core/firehose/otel_records.h"

#include <gtest/gtest.h>

#include "tests/unit/core/firehose/firehose_test_util.h"

namespace otlpgate::firehose {
namespace {

using test::fixture;
using test::framed;
using test::MetricsRequest;

std::string small_request(const std::string& name) {
  MetricsRequest req;
  auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name(name);
  auto* p = m->mutable_gauge()->add_data_points();
  p->set_as_int(7);
  p->set_time_unix_nano(1);
  return req.SerializeAsString();
}

TEST(Otel1, TheCloudWatchFixturesDecode) {
  struct Case {
    const char* file;
    uint64_t points;
    int metrics, resources;
  };
  // single_request: 1 message; multi_request: 3, merged into one request of 3 resources.
  for (const Case& c :
       {Case{"otel10/single_request.bin", 7, 6, 1}, Case{"otel10/multi_request.bin", 61, 50, 3}}) {
    std::string out;
    uint64_t points = 0;
    ASSERT_TRUE(append_otel1_record(fixture(c.file), out, &points)) << c.file;
    EXPECT_EQ(points, c.points) << c.file;
    const MetricsRequest req = test::parse<MetricsRequest>(out);
    EXPECT_EQ(test::metric_count(req), c.metrics) << c.file;
    ASSERT_EQ(req.resource_metrics_size(), c.resources) << c.file;
    EXPECT_EQ(test::attr(req.resource_metrics(0).resource().attributes(), "cloud.provider"), "aws");
  }
}

TEST(Otel1, TruncatedFixtureIsRefusedAndAddsNothing) {
  std::string out = "kept";
  uint64_t points = 0;
  const RecordResult r = append_otel1_record(fixture("otel10/truncated.bin"), out, &points);
  EXPECT_EQ(r.error, RecordError::otel_framing);
  EXPECT_NE(r.message.find("message 2 (at byte 1745): length prefix 4455 runs past the end"),
            std::string::npos)
      << r.message;
  EXPECT_EQ(out, "kept");
  EXPECT_EQ(points, 0u);
}

TEST(Otel1, EveryLengthPrefixIsCheckedAgainstTheRecordsEnd) {
  const std::string msg = small_request("a");
  std::string out;
  uint64_t points = 0;
  // A prefix claiming one byte more than is left.
  std::string over = test::framed(msg);
  over.pop_back();
  EXPECT_EQ(append_otel1_record(over, out, &points).error, RecordError::otel_framing);
  // A huge prefix (2^63) after a valid message.
  std::string huge = framed(msg) + std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 9);
  EXPECT_EQ(append_otel1_record(huge, out, &points).error, RecordError::otel_framing);
  // A varint cut off by the end, and one longer than 10 bytes.
  EXPECT_EQ(append_otel1_record(framed(msg) + "\x80", out, &points).error,
            RecordError::otel_framing);
  EXPECT_EQ(append_otel1_record(std::string(11, '\x80') + "\x01", out, &points).error,
            RecordError::otel_framing);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(points, 0u);
}

TEST(Otel1, AMessageThatIsNotARequestIsRefused) {
  std::string out;
  uint64_t points = 0;
  // Field 1 (resource_metrics) with a length running past the framed message's end.
  const RecordResult r =
      append_otel1_record(framed(small_request("a")) + framed("\x0a\x05\x01"), out, &points);
  EXPECT_EQ(r.error, RecordError::otel_message);
  EXPECT_NE(r.message.find("message 2"), std::string::npos) << r.message;
  EXPECT_TRUE(out.empty());
}

TEST(Otel1, EmptyRecordsAndMessagesAreFine) {
  std::string out;
  uint64_t points = 0;
  EXPECT_TRUE(append_otel1_record("", out, &points));
  EXPECT_TRUE(append_otel1_record(framed("") + framed(small_request("b")), out, &points));
  EXPECT_EQ(points, 1u);
  EXPECT_EQ(test::metric_count(test::parse<MetricsRequest>(out)), 1);
}

TEST(Otel1, FixturesAreNotTakenForOtel07) {
  EXPECT_FALSE(looks_like_otel07(fixture("otel10/single_request.bin")));
  EXPECT_FALSE(looks_like_otel07(fixture("otel10/multi_request.bin")));
}

}  // namespace
}  // namespace otlpgate::firehose
