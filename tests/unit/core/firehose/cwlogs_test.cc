// CwLogsDecoder against the Collector's test data (tests/fixtures/firehose/upstream/cwlogs): each
// line gzipped as one record, as CloudWatch Logs delivers through Firehose.
#include "core/firehose/cwlogs.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "core/compression/compression.h"
#include "core/firehose/encode.h"
#include "tests/unit/core/firehose/firehose_test_util.h"

namespace otlpgate::firehose {
namespace {

using test::attr;
using test::fixture;
using test::LogsRequest;

constexpr std::size_t kBudget = 1 << 20;

std::string gzip(std::string_view s) {
  std::string out;
  EXPECT_TRUE(compression::compress(compression::Codec::gzip, s, out).ok());
  return out;
}

// The fixture's first line (without its newline).
std::string first_line(const std::string& name) {
  const std::string all = fixture("upstream/cwlogs/" + name);
  return all.substr(0, all.find('\n'));
}

// True when the decoder holds nothing to send.
bool finishes_empty(CwLogsDecoder& d) {
  std::string out;
  d.finish(out);
  return out.empty();
}

LogsRequest finish(CwLogsDecoder& d) {
  std::string out;
  d.finish(out);
  return test::parse<LogsRequest>(out);
}

TEST(CwLogs, SingleRecordMapsLikeTheCollector) {
  CwLogsDecoder d(kBudget);
  ASSERT_TRUE(d.add_record(gzip(first_line("single_record"))));
  const LogsRequest req = finish(d);
  ASSERT_EQ(req.resource_logs_size(), 1);
  const auto& rl = req.resource_logs(0);
  const auto& ra = rl.resource().attributes();
  EXPECT_EQ(attr(ra, "cloud.provider"), "aws");
  EXPECT_EQ(attr(ra, "cloud.account.id"), "123");
  EXPECT_EQ(attr(ra, "cloud.region"), "<absent>");
  EXPECT_EQ(attr(ra, "aws.log.group.names"), "[test]");
  EXPECT_EQ(attr(ra, "aws.log.stream.names"), "[test]");
  ASSERT_EQ(rl.scope_logs_size(), 1);
  EXPECT_EQ(rl.scope_logs(0).scope().name(), kScopeName);
  ASSERT_EQ(rl.scope_logs(0).log_records_size(), 2);
  const auto& first = rl.scope_logs(0).log_records(0);
  EXPECT_EQ(first.time_unix_nano(), 1725544035523'000'000u);  // 2024-09-05 13:47:15.523 UTC
  EXPECT_EQ(first.body().string_value(), "Hello world, here is our first log message!");
  EXPECT_EQ(d.log_records(), 2u);
}

TEST(CwLogs, AlreadyDecompressedRecordsAreReadToo) {
  CwLogsDecoder d(kBudget);
  ASSERT_TRUE(d.add_record(first_line("single_record")));
  EXPECT_EQ(d.log_records(), 2u);
}

TEST(CwLogs, RecordsOfOneStreamShareAResource) {
  const std::string all = fixture("upstream/cwlogs/multiple_records");
  CwLogsDecoder d(kBudget);
  std::size_t records = 0;
  for (std::size_t pos = 0; pos < all.size(); ++records) {
    const std::size_t nl = std::min(all.find('\n', pos), all.size());
    ASSERT_TRUE(d.add_record(gzip(std::string_view(all).substr(pos, nl - pos))));
    pos = nl + 1;
  }
  EXPECT_EQ(records, 2u);
  const LogsRequest req = finish(d);
  ASSERT_EQ(req.resource_logs_size(), 1);
  EXPECT_EQ(req.resource_logs(0).scope_logs(0).log_records_size(), 2);
}

TEST(CwLogs, ExtractedFieldsSplitResourcesByAccountAndRegion) {
  CwLogsDecoder d(kBudget);
  ASSERT_TRUE(d.add_record(gzip(first_line("two_records_different_extracted_fields"))));
  const LogsRequest req = finish(d);
  ASSERT_EQ(req.resource_logs_size(), 2);
  EXPECT_EQ(attr(req.resource_logs(0).resource().attributes(), "cloud.account.id"), "111111111111");
  EXPECT_EQ(attr(req.resource_logs(0).resource().attributes(), "cloud.region"), "us-east-1");
  EXPECT_EQ(attr(req.resource_logs(1).resource().attributes(), "cloud.account.id"), "222222222222");
  EXPECT_EQ(attr(req.resource_logs(1).resource().attributes(), "cloud.region"), "us-west-2");
  for (const auto& rl : req.resource_logs()) EXPECT_EQ(rl.scope_logs(0).log_records_size(), 1);
}

TEST(CwLogs, ControlMessagesAreSkippedWithoutError) {
  CwLogsDecoder d(kBudget);
  const RecordResult r = d.add_record(gzip(first_line("only_control")));
  EXPECT_TRUE(r) << r.message;
  EXPECT_EQ(d.control_messages(), 1u);
  EXPECT_EQ(d.log_records(), 0u);
  EXPECT_TRUE(finishes_empty(d));
}

TEST(CwLogs, ANonCloudWatchRecordIsInvalidAndKeepsNothing) {
  CwLogsDecoder d(kBudget);
  const RecordResult r = d.add_record(gzip(first_line("invalid_records")));
  EXPECT_EQ(r.error, RecordError::cwlogs);
  EXPECT_NE(r.message.find("not a CloudWatch Logs message"), std::string::npos) << r.message;
  // A record whose second message is bad keeps neither.
  const std::string good = first_line("single_record");
  EXPECT_EQ(d.add_record(gzip(good + "\n{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"1\"}")).error,
            RecordError::cwlogs);
  EXPECT_EQ(d.add_record(gzip(R"({"messageType":"SOMETHING","owner":"1"})")).error,
            RecordError::cwlogs);
  EXPECT_EQ(d.log_records(), 0u);
  EXPECT_TRUE(finishes_empty(d));
}

TEST(CwLogs, DataMessagesNeedOwnerGroupAndStream) {
  CwLogsDecoder d(kBudget);
  for (const char* missing : {"owner", "logGroup", "logStream"}) {
    std::string msg = first_line("single_record");
    const std::string key = std::string("\"") + missing + "\":\"";
    const auto at = msg.find(key);
    ASSERT_NE(at, std::string::npos);
    msg.replace(at + key.size(), msg.find('"', at + key.size()) - (at + key.size()), "");
    const RecordResult r = d.add_record(gzip(msg));
    EXPECT_EQ(r.error, RecordError::cwlogs) << missing;
    EXPECT_NE(r.message.find(missing), std::string::npos) << r.message;
  }
}

TEST(CwLogs, GzipProblemsHaveTheirOwnReasons) {
  CwLogsDecoder small(64);
  EXPECT_EQ(small.add_record(gzip(std::string(4096, ' ') + first_line("single_record"))).error,
            RecordError::too_large);
  CwLogsDecoder d(kBudget);
  std::string corrupt = gzip(first_line("single_record"));
  corrupt.resize(corrupt.size() / 2);
  EXPECT_EQ(d.add_record(corrupt).error, RecordError::gzip);
}

TEST(CwLogs, TheBudgetCoversTheWholeDelivery) {
  const std::string line = first_line("single_record");
  CwLogsDecoder d(line.size() * 2 + 1);
  EXPECT_TRUE(d.add_record(gzip(line)));
  EXPECT_TRUE(d.add_record(gzip(line)));
  EXPECT_EQ(d.add_record(gzip(line)).error, RecordError::too_large);
  EXPECT_EQ(d.log_records(), 4u);
}

}  // namespace
}  // namespace otlpgate::firehose
