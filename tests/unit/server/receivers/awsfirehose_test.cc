// FirehoseReceiver without sockets: each answer's status and JSON shape, the access key, the
// request-id window (redelivery, in flight, refusal forgotten), policies, and what Ingest gets.
#include "server/receivers/awsfirehose.h"

#include <optional>

#include <gtest/gtest.h>

#include "core/compression/compression.h"
#include "core/firehose/request.h"
#include "tests/unit/core/firehose/firehose_test_util.h"

namespace otlpgate::server {
namespace {

namespace http = boost::beast::http;
using firehose::test::fixture;

// Keeps what it is handed; answers with `result` at once, or later when `hold` is set.
class RecordingIngest final : public Ingest {
 public:
  void submit(std::string_view, Signal signal, Bytes body, std::string_view,
              std::function<void(IngestResult)> done) override {
    submitted.emplace_back(signal, std::string(body.view()));
    if (hold) {
      held = std::move(done);
    } else {
      done(result);
    }
  }
  memory::MemoryLimit* memory_limit() override { return memory.get(); }
  std::vector<std::pair<Signal, std::string>> submitted;
  IngestResult result;
  std::shared_ptr<memory::MemoryLimit> memory;  // none unless a test sets one
  bool hold = false;
  std::function<void(IngestResult)> held;
};

class FirehoseReceiverTest : public ::testing::Test {
 protected:
  static config::FirehoseServer cfg(bool reject = false) {
    config::FirehoseServer c;
    c.access_key = "k3y";
    c.reject_invalid_records = reject;
    return c;
  }

  static HttpRequest delivery(const std::string& file, std::string_view id) {
    HttpRequest req{http::verb::post, "/", 11};
    req.set(http::field::content_type, "application/json");
    req.set(firehose::kRequestIdHeader, id);
    req.set(firehose::kAccessKeyHeader, "k3y");
    req.body() = fixture("deliveries/" + file);
    return req;
  }

  static constexpr const char* kCwmetricsId = "94d269fe-1263-5772-a287-8cac941a1cb9";
  static constexpr const char* kTruncatedId = "e0ac6233-78f1-5391-8a85-332e4eaa9dc3";

  std::optional<HttpResponse> send(FirehoseReceiver& r, HttpRequest req) {
    std::optional<HttpResponse> got;
    r.handle(std::move(req), [&](HttpResponse res) { got = std::move(res); });
    return got;
  }

  HttpResponse post(HttpRequest req) {
    auto got = send(receiver_, std::move(req));
    EXPECT_TRUE(got) << "respond was not called";
    return got.value_or(HttpResponse{});
  }

  // The response body must be Firehose's shape, echoing the request id.
  static void expect_shape(const HttpResponse& r, std::string_view id) {
    EXPECT_EQ(r[http::field::content_type], "application/json");
    EXPECT_EQ(r[http::field::content_encoding], "");
    EXPECT_EQ(r.body().rfind("{\"requestId\":\"" + std::string(id) + "\",\"timestamp\":", 0), 0u)
        << r.body();
  }

  telemetry::Registry metrics_;
  RecordingIngest ingest_;
  FirehoseReceiver receiver_{"awsfirehose", cfg(), ingest_, metrics_};
};

TEST_F(FirehoseReceiverTest, AcceptedDeliveryReachesIngestAs200) {
  const HttpResponse r = post(delivery("cwmetrics_single_record.json", kCwmetricsId));
  EXPECT_EQ(r.result(), http::status::ok);
  expect_shape(r, kCwmetricsId);
  EXPECT_EQ(r.body().find("errorMessage"), std::string::npos);
  ASSERT_EQ(ingest_.submitted.size(), 1u);
  EXPECT_EQ(ingest_.submitted[0].first, Signal::metrics);
  EXPECT_NE(metrics_.render().find(
                "otlpgate_firehose_records_total{receiver=\"awsfirehose\",format=\"cwmetrics\"} 1"),
            std::string::npos);
}

TEST_F(FirehoseReceiverTest, RequestIdMissingOrDifferentIs400) {
  HttpRequest no_id = delivery("cwmetrics_single_record.json", "x");
  no_id.erase(firehose::kRequestIdHeader);
  HttpResponse r = post(std::move(no_id));
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_NE(r.body().find("missing request id in header"), std::string::npos);
  r = post(delivery("cwmetrics_single_record.json", "another-id"));
  EXPECT_EQ(r.result(), http::status::bad_request);
  expect_shape(r, "another-id");
  EXPECT_NE(r.body().find("different request id in body"), std::string::npos);
  EXPECT_TRUE(ingest_.submitted.empty());
}

TEST_F(FirehoseReceiverTest, AccessKeyMissingOrWrongIs401AndNeverEchoed) {
  HttpRequest none = delivery("cwmetrics_single_record.json", kCwmetricsId);
  none.erase(firehose::kAccessKeyHeader);
  EXPECT_EQ(post(std::move(none)).result(), http::status::unauthorized);
  HttpRequest wrong = delivery("cwmetrics_single_record.json", kCwmetricsId);
  wrong.set(firehose::kAccessKeyHeader, "k3y-but-longer");
  const HttpResponse r = post(std::move(wrong));
  EXPECT_EQ(r.result(), http::status::unauthorized);
  EXPECT_EQ(r.body().find("k3y"), std::string::npos) << r.body();
  EXPECT_TRUE(ingest_.submitted.empty());
}

TEST_F(FirehoseReceiverTest, ARedeliveryIsAnsweredWithoutForwarding) {
  EXPECT_EQ(post(delivery("cwmetrics_single_record.json", kCwmetricsId)).result(),
            http::status::ok);
  EXPECT_EQ(post(delivery("cwmetrics_single_record.json", kCwmetricsId)).result(),
            http::status::ok);
  EXPECT_EQ(ingest_.submitted.size(), 1u);
  EXPECT_NE(
      metrics_.render().find("otlpgate_firehose_redeliveries_total{receiver=\"awsfirehose\"} 1"),
      std::string::npos);
}

TEST_F(FirehoseReceiverTest, OverloadIs503AndTheRetryIsForwarded) {
  ingest_.result.status = IngestResult::Status::overloaded;
  ingest_.result.message = "exporter x: queue full";
  HttpResponse r = post(delivery("cwmetrics_single_record.json", kCwmetricsId));
  EXPECT_EQ(r.result(), http::status::service_unavailable);
  EXPECT_NE(r.body().find("queue full"), std::string::npos);
  ingest_.result = {};
  r = post(delivery("cwmetrics_single_record.json", kCwmetricsId));
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(ingest_.submitted.size(), 2u);
}

TEST_F(FirehoseReceiverTest, TheSameIdWhileInFlightIs503) {
  ingest_.hold = true;
  std::optional<HttpResponse> first;
  receiver_.handle(delivery("cwmetrics_single_record.json", kCwmetricsId),
                   [&](HttpResponse res) { first = std::move(res); });
  EXPECT_FALSE(first);  // waiting for the queues
  EXPECT_EQ(post(delivery("cwmetrics_single_record.json", kCwmetricsId)).result(),
            http::status::service_unavailable);
  ingest_.hold = false;
  ingest_.held(IngestResult{});  // the held one is accepted now, so its id is remembered
  ASSERT_TRUE(first);
  EXPECT_EQ(first->result(), http::status::ok);
  EXPECT_EQ(post(delivery("cwmetrics_single_record.json", kCwmetricsId)).result(),
            http::status::ok);
  EXPECT_EQ(ingest_.submitted.size(), 1u);
}

TEST_F(FirehoseReceiverTest, InvalidRecordsDroppedOrRejectedByPolicy) {
  HttpResponse r = post(delivery("otel10_truncated_delivery.json", kTruncatedId));
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_NE(
      r.body().find("\"errorMessage\":\"1 of 2 records invalid, not forwarded; first: record 1: "),
      std::string::npos)
      << r.body();
  EXPECT_EQ(ingest_.submitted.size(), 1u);

  FirehoseReceiver strict{"awsfirehose/strict", cfg(true), ingest_, metrics_};
  r = send(strict, delivery("otel10_truncated_delivery.json", kTruncatedId)).value();
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_NE(r.body().find("on_invalid_record: reject"), std::string::npos) << r.body();
  EXPECT_EQ(ingest_.submitted.size(), 1u);
}

TEST_F(FirehoseReceiverTest, GzipBodiesAreDecodedAndOverTheLimitIsNot413) {
  HttpRequest gz =
      delivery("cwmetrics_some_invalid_records.json.gz", "5558c62f-b5fe-5e88-9487-273050c8af60");
  gz.set(http::field::content_encoding, "gzip");
  EXPECT_EQ(post(std::move(gz)).result(), http::status::ok);
  ASSERT_EQ(ingest_.submitted.size(), 1u);

  config::FirehoseServer small = cfg();
  small.max_request_body_size = 4096;
  FirehoseReceiver limited{"awsfirehose/small", small, ingest_, metrics_};
  HttpRequest big = delivery("cwmetrics_some_invalid_records.json.gz", "other-id");
  big.set(http::field::content_encoding, "gzip");
  const HttpResponse r = send(limited, std::move(big)).value();
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_NE(r.body().find("exceeds 4096 bytes after decompression"), std::string::npos) << r.body();
  // The HTTP server's own refusal of a body over the limit, too.
  EXPECT_EQ(limited.error_response(http::status::payload_too_large, "too big", "").result(),
            http::status::bad_request);
}

TEST_F(FirehoseReceiverTest, CommonAttributesReachTheResources) {
  HttpRequest req = delivery("cwmetrics_single_record.json", kCwmetricsId);
  req.set(firehose::kCommonAttributesHeader,
          R"({"commonAttributes":{"env":"prod","cloud.region":"x"}})");
  EXPECT_EQ(post(std::move(req)).result(), http::status::ok);
  ASSERT_EQ(ingest_.submitted.size(), 1u);
  const auto got =
      firehose::test::parse<firehose::test::MetricsRequest>(ingest_.submitted[0].second);
  const auto& attrs = got.resource_metrics(0).resource().attributes();
  EXPECT_EQ(firehose::test::attr(attrs, "env"), "prod");
  EXPECT_EQ(firehose::test::attr(attrs, "cloud.region"), "us-east-1");  // not overwritten
}

TEST_F(FirehoseReceiverTest, OverTheMemoryLimitIs503AndTheRetryIsForwarded) {
  ingest_.memory = memory::MemoryLimit::create(1000);
  std::optional<memory::Reservation> other = ingest_.memory->try_reserve(1000);
  HttpResponse r = post(delivery("cwmetrics_single_record.json", kCwmetricsId));
  EXPECT_EQ(r.result(), http::status::service_unavailable);
  expect_shape(r, kCwmetricsId);
  EXPECT_NE(r.body().find("memory limit reached"), std::string::npos);
  EXPECT_TRUE(ingest_.submitted.empty());
  EXPECT_EQ(receiver_.error_response(http::status::too_many_requests, "memory", "").result(),
            http::status::service_unavailable)
      << "the server's refusal before the body is read is a 503 for Firehose too";
  other.reset();
  r = post(delivery("cwmetrics_single_record.json", kCwmetricsId));
  EXPECT_EQ(r.result(), http::status::ok) << "the id was not remembered as accepted";
  EXPECT_EQ(ingest_.submitted.size(), 1u);
}

}  // namespace
}  // namespace otlpgate::server
