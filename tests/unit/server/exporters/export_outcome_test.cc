// Outcome classification against the OTLP specification's tables (FACTS.md), with the protobuf
// answers built by libprotobuf so that our cursor-based reading is checked against the real thing.
#include "server/exporters/export_outcome.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace otlpgate::server {
namespace {

using Kind = ExportOutcome::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;

const auto kNow =
    std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT

std::string rpc_status(int code, const std::string& message, std::optional<seconds> retry = {}) {
  google::rpc::Status st;
  st.set_code(code);
  st.set_message(message);
  if (retry) {
    google::rpc::RetryInfo ri;
    ri.mutable_retry_delay()->set_seconds(retry->count());
    ri.mutable_retry_delay()->set_nanos(250000000);
    st.add_details()->PackFrom(ri);
  }
  return st.SerializeAsString();
}

TEST(ClassifyHttp, StatusTable) {
  struct Row {
    int status;
    Kind kind;
  };
  const Row rows[] = {{200, Kind::ok},        {202, Kind::ok},        {400, Kind::permanent},
                      {401, Kind::permanent}, {403, Kind::permanent}, {404, Kind::permanent},
                      {413, Kind::permanent}, {429, Kind::retryable}, {500, Kind::permanent},
                      {501, Kind::permanent}, {502, Kind::retryable}, {503, Kind::retryable},
                      {504, Kind::retryable}, {301, Kind::permanent}};
  for (const Row& r : rows) {
    const ExportOutcome o = classify_http(r.status, "application/x-protobuf", "", "", kNow);
    EXPECT_EQ(o.kind, r.kind) << r.status;
    EXPECT_EQ(o.code, r.status);
  }
}

TEST(ClassifyHttp, PartialSuccessCountsRejectedItems) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_spans(7);
  resp.mutable_partial_success()->set_error_message("7 spans too old");
  const ExportOutcome o =
      classify_http(200, "application/x-protobuf", resp.SerializeAsString(), "", kNow);
  EXPECT_EQ(o.kind, Kind::ok);
  EXPECT_EQ(o.rejected_items, 7u);
  EXPECT_EQ(o.message, "7 spans too old");
}

TEST(ClassifyHttp, ErrorBodyStatusMessageBecomesTheMessage) {
  const ExportOutcome o =
      classify_http(400, "application/x-protobuf", rpc_status(3, "bad trace id length"), "", kNow);
  EXPECT_EQ(o.kind, Kind::permanent);
  EXPECT_EQ(o.message, "HTTP 400: bad trace id length");
}

TEST(ClassifyHttp, TextBodyIsQuotedPrintably) {
  const ExportOutcome o = classify_http(401, "text/plain", "invalid token\n\x01", "", kNow);
  EXPECT_EQ(o.message, "HTTP 401: invalid token ?");
}

TEST(ClassifyHttp, RetryAfterOnRetryableStatuses) {
  EXPECT_EQ(classify_http(429, "", "", "7", kNow).retry_after, milliseconds(7000));
  EXPECT_EQ(classify_http(503, "", "", "Sun, 06 Nov 1994 08:50:07 GMT", kNow).retry_after,
            milliseconds(30000));
  EXPECT_EQ(classify_http(503, "", "", "", kNow).retry_after, std::nullopt);
}

TEST(ParseRetryAfter, SecondsAndTheThreeDateForms) {
  EXPECT_EQ(parse_retry_after("120", kNow), milliseconds(120000));
  EXPECT_EQ(parse_retry_after(" 0 ", kNow), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", kNow), milliseconds(10000));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:57 GMT", kNow), milliseconds(20000));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:50:37 1994", kNow), milliseconds(60000));
}

TEST(ParseRetryAfter, PastDateIsNoDelayAndGarbageIsNothing) {
  EXPECT_EQ(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", kNow), milliseconds(0));
  EXPECT_EQ(parse_retry_after("-5", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("", kNow), std::nullopt);
}

TEST(ParseRetryAfter, HugeSecondsAreClampedNotOverflowed) {
  const auto d = parse_retry_after("99999999999999999999999", kNow);
  ASSERT_TRUE(d);
  EXPECT_GT(d->count(), 0);
}

TEST(ClassifyGrpc, CodeTable) {
  // grpc::StatusCode numbers: OK 0, CANCELLED 1, UNKNOWN 2, INVALID_ARGUMENT 3,
  // DEADLINE_EXCEEDED 4, NOT_FOUND 5, ALREADY_EXISTS 6, PERMISSION_DENIED 7,
  // RESOURCE_EXHAUSTED 8, FAILED_PRECONDITION 9, ABORTED 10, OUT_OF_RANGE 11,
  // UNIMPLEMENTED 12, INTERNAL 13, UNAVAILABLE 14, DATA_LOSS 15, UNAUTHENTICATED 16.
  const Kind expected[] = {Kind::ok,        Kind::retryable, Kind::permanent, Kind::permanent,
                           Kind::retryable, Kind::permanent, Kind::permanent, Kind::permanent,
                           Kind::permanent, Kind::permanent, Kind::retryable, Kind::retryable,
                           Kind::permanent, Kind::permanent, Kind::retryable, Kind::retryable,
                           Kind::permanent};
  for (int code = 0; code <= 16; ++code) {
    EXPECT_EQ(classify_grpc(code, "m", "", "").kind, expected[code]) << code;
  }
}

TEST(ClassifyGrpc, ResourceExhaustedIsRetryableOnlyWithRetryInfo) {
  EXPECT_EQ(classify_grpc(8, "quota", rpc_status(8, "quota"), "").kind, Kind::permanent);
  const ExportOutcome o = classify_grpc(8, "quota", rpc_status(8, "quota", seconds(3)), "");
  EXPECT_EQ(o.kind, Kind::retryable);
  EXPECT_EQ(o.retry_after, milliseconds(3250));
  EXPECT_EQ(o.message, "gRPC status 8: quota");
}

TEST(ClassifyGrpc, UnavailableTakesRetryInfoDelay) {
  EXPECT_EQ(classify_grpc(14, "", rpc_status(14, "", seconds(10)), "").retry_after,
            milliseconds(10250));
  EXPECT_EQ(classify_grpc(14, "", "", "").retry_after, std::nullopt);
}

TEST(ClassifyGrpc, OkReadsPartialSuccess) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_spans(2);
  const ExportOutcome o = classify_grpc(0, "", "", resp.SerializeAsString());
  EXPECT_EQ(o.kind, Kind::ok);
  EXPECT_EQ(o.rejected_items, 2u);
}

TEST(ParseRpcStatus, MalformedBytesAreRefused) {
  RpcStatus st;
  EXPECT_FALSE(parse_rpc_status(std::string("\x0a\x05"
                                            "ab",
                                            4),
                                &st));
  PartialSuccess ps;
  EXPECT_FALSE(parse_export_response(std::string("\x0a\x09\x08", 3), &ps));
  EXPECT_TRUE(parse_export_response("", &ps));
  EXPECT_EQ(ps.rejected, 0u);
}

}  // namespace
}  // namespace otlpgate::server
