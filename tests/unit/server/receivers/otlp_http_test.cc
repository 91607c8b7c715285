// OtlpHttpReceiver without sockets: Content-Encoding decoding and its limit, the status of each
// refusal and what Ingest is handed.
#include "server/receivers/otlp_http.h"

#include <optional>

#include <gtest/gtest.h>

#include "core/compression/compression.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace otlpgate::server {
namespace {

namespace http = boost::beast::http;
using compression::Codec;

// Records the bodies it is handed and answers with a fixed result.
class FakeIngest final : public Ingest {
 public:
  void submit(std::string_view, Signal, Bytes body, std::string_view,
              std::function<void(IngestResult)> done) override {
    bodies.emplace_back(body.view());
    if (keep) kept.push_back(body);
    done(result);
  }
  memory::MemoryLimit* memory_limit() override { return memory.get(); }
  std::vector<std::string> bodies;
  IngestResult result;
  std::shared_ptr<memory::MemoryLimit> memory;  // none unless a test sets one
  bool keep = false;                            // hold the Bytes, as a queue would
  std::vector<Bytes> kept;
};

std::string logs_request(int records) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  for (int i = 0; i < records; ++i) sl->add_log_records()->set_severity_text("INFO");
  return req.SerializeAsString();
}

class OtlpHttpReceiverTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kLimit = 64 << 10;

  HttpResponse post(std::string body, std::string_view encoding = {}) {
    HttpRequest req{http::verb::post, "/v1/logs", 11};
    req.set(http::field::content_type, "application/x-protobuf");
    if (!encoding.empty()) req.set(http::field::content_encoding, encoding);
    req.body() = std::move(body);
    std::optional<HttpResponse> got;
    receiver_.handle(std::move(req), [&](HttpResponse r) { got = std::move(r); });
    EXPECT_TRUE(got) << "respond was not called";
    return got.value_or(HttpResponse{});
  }

  static google::rpc::Status status_of(const HttpResponse& r) {
    google::rpc::Status s;
    EXPECT_TRUE(s.ParseFromString(r.body()));
    return s;
  }

  FakeIngest ingest_;
  OtlpHttpReceiver receiver_{"otlp", ingest_, kLimit};
};

TEST_F(OtlpHttpReceiverTest, EveryEncodingReachesIngestDecoded) {
  const std::string plain = logs_request(20);
  for (Codec c : {Codec::gzip, Codec::deflate, Codec::zstd}) {
    std::string packed;
    ASSERT_TRUE(compression::compress(c, plain, packed).ok());
    const HttpResponse r = post(packed, compression::codec_name(c));
    EXPECT_EQ(r.result(), http::status::ok) << compression::codec_name(c);
  }
  ASSERT_EQ(ingest_.bodies.size(), 3u);
  for (const auto& b : ingest_.bodies) EXPECT_EQ(b, plain);
}

TEST_F(OtlpHttpReceiverTest, DecodingStopsAtTheLimitWith413) {
  std::string packed;
  ASSERT_TRUE(compression::compress(Codec::gzip, std::string(kLimit + 1, '\0'), packed).ok());
  const HttpResponse r = post(packed, "gzip");
  EXPECT_EQ(r.result(), http::status::payload_too_large);
  EXPECT_EQ(status_of(r).code(), 8);
  EXPECT_NE(status_of(r).message().find("65536 bytes once decompressed"), std::string::npos);
  EXPECT_TRUE(ingest_.bodies.empty());
}

TEST_F(OtlpHttpReceiverTest, ExactlyTheLimitPasses) {
  std::string packed;
  ASSERT_TRUE(compression::compress(Codec::zstd, std::string(kLimit, '\0'), packed).ok());
  // Zero bytes are not a valid request, but they reach Ingest: the limit let them through.
  post(packed, "zstd");
  ASSERT_EQ(ingest_.bodies.size(), 1u);
  EXPECT_EQ(ingest_.bodies[0].size(), kLimit);
}

TEST_F(OtlpHttpReceiverTest, UnknownEncodingIsNamedIn400) {
  const HttpResponse r = post(logs_request(1), "snappy");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_NE(status_of(r).message().find("\"snappy\""), std::string::npos) << status_of(r).message();
  EXPECT_TRUE(ingest_.bodies.empty());
}

// Found by http_fuzz: a message quoting request bytes that are not UTF-8 made a google.rpc.Status
// that protobuf parsers refuse (its message is a `string`). Such bytes are written as '?'.
TEST_F(OtlpHttpReceiverTest, ErrorMessagesQuotingRequestBytesStayValidUtf8) {
  const HttpResponse encoding = post(logs_request(1), "gz\xef\xefip");
  EXPECT_EQ(encoding.result(), http::status::bad_request);
  EXPECT_NE(status_of(encoding).message().find("\"gz??ip\""), std::string::npos)
      << status_of(encoding).message();

  HttpRequest req{http::verb::post, "/v1/logs", 11};
  req.set(http::field::content_type, "application/x-proto\xff");
  std::optional<HttpResponse> got;
  receiver_.handle(std::move(req), [&](HttpResponse r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->result(), http::status::unsupported_media_type);
  EXPECT_NE(status_of(*got).message().find("\"application/x-proto?\""), std::string::npos)
      << status_of(*got).message();
}

TEST_F(OtlpHttpReceiverTest, CorruptBodyIs400WithTheCodec) {
  const HttpResponse r = post("definitely not deflate", "deflate");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_NE(status_of(r).message().find("cannot decode the deflate body"), std::string::npos)
      << status_of(r).message();
}

TEST_F(OtlpHttpReceiverTest, PartialSuccessIs200WithRejectedAndMessage) {
  ingest_.result.rejected_items = 2;
  ingest_.result.message = "rejected 2 of 3 log records: ...";
  const HttpResponse r = post(logs_request(3));
  EXPECT_EQ(r.result(), http::status::ok);
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.body()));
  EXPECT_EQ(resp.partial_success().rejected_log_records(), 2);
  EXPECT_EQ(resp.partial_success().error_message(), "rejected 2 of 3 log records: ...");
}

TEST_F(OtlpHttpReceiverTest, OverloadIs429WithRetryAfterAndRetryInfo) {
  ingest_.result.status = IngestResult::Status::overloaded;
  ingest_.result.retry_after = std::chrono::seconds(3);
  const HttpResponse r = post(logs_request(1));
  EXPECT_EQ(r.result(), http::status::too_many_requests);
  EXPECT_EQ(r[http::field::retry_after], "3");
  const google::rpc::Status s = status_of(r);
  EXPECT_EQ(s.code(), 8);
  ASSERT_EQ(s.details_size(), 1);
  EXPECT_EQ(s.details(0).type_url(), "type.googleapis.com/google.rpc.RetryInfo");
}

TEST_F(OtlpHttpReceiverTest, ServerRefusalsMapToTheirCodes) {
  EXPECT_EQ(status_of(receiver_.error_response(http::status::payload_too_large, "big", "")).code(),
            8);
  const HttpResponse busy = receiver_.error_response(http::status::service_unavailable, "busy", "");
  EXPECT_EQ(status_of(busy).code(), 14);
  EXPECT_EQ(busy[http::field::retry_after], "1");
  EXPECT_EQ(status_of(receiver_.error_response(http::status::bad_request, "bad", "")).code(), 3);
}

TEST_F(OtlpHttpReceiverTest, OverTheMemoryLimitIs429AndNothingReachesIngest) {
  ingest_.memory = memory::MemoryLimit::create(1000);
  std::optional<memory::Reservation> other = ingest_.memory->try_reserve(900);
  const HttpResponse r = post(logs_request(20));
  EXPECT_EQ(r.result(), http::status::too_many_requests);
  EXPECT_EQ(r[http::field::retry_after], "1");
  EXPECT_EQ(status_of(r).code(), 8);
  EXPECT_NE(status_of(r).message().find("memory limit reached"), std::string::npos);
  EXPECT_TRUE(ingest_.bodies.empty());
  EXPECT_EQ(ingest_.memory->used(), 900u) << "the refusal holds nothing";
}

TEST_F(OtlpHttpReceiverTest, TheDecodedBodyCountsUntilTheLastHolderLetsGo) {
  ingest_.memory = memory::MemoryLimit::create(1 << 20);
  ingest_.keep = true;
  const std::string plain = logs_request(200);
  std::string packed;
  ASSERT_TRUE(compression::compress(Codec::gzip, plain, packed).ok());
  EXPECT_EQ(post(packed, "gzip").result(), http::status::ok);
  EXPECT_EQ(ingest_.memory->used(), plain.size()) << "the decoded bytes, not the wire bytes";
  ingest_.kept.clear();
  EXPECT_EQ(ingest_.memory->used(), 0u);
}

TEST_F(OtlpHttpReceiverTest, ABodyThatOutgrowsTheLimitWhenDecodedIs429) {
  const std::string plain = logs_request(2000);
  std::string packed;
  ASSERT_TRUE(compression::compress(Codec::gzip, plain, packed).ok());
  ingest_.memory = memory::MemoryLimit::create(plain.size());
  std::optional<memory::Reservation> other = ingest_.memory->try_reserve(packed.size());
  EXPECT_EQ(post(packed, "gzip").result(), http::status::too_many_requests);
  EXPECT_TRUE(ingest_.bodies.empty());
  EXPECT_EQ(ingest_.memory->used(), packed.size());
}

}  // namespace
}  // namespace otlpgate::server
