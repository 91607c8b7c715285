// The otlp (gRPC) exporter against an in-process TraceService: the bytes and metadata arrive,
// and status codes, RetryInfo, deadlines and partial success are classified per OTLP.
#include "server/exporters/otlp_grpc_exporter.h"

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "tests/support/random_otlp.h"

namespace otlpgate::server {
namespace {

using Kind = ExportOutcome::Kind;
using namespace std::chrono_literals;
namespace trace_v1 = opentelemetry::proto::collector::trace::v1;

// What the test backend answers; set before each send.
struct Script {
  grpc::Status status = grpc::Status::OK;
  trace_v1::ExportTraceServiceResponse response;
  std::chrono::milliseconds delay{0};
};

class Backend final : public trace_v1::TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext* ctx, const trace_v1::ExportTraceServiceRequest* req,
                      trace_v1::ExportTraceServiceResponse* resp) override {
    Script s;
    {
      std::lock_guard l(mu);
      received.push_back(req->SerializeAsString());
      for (const auto& [k, v] : ctx->client_metadata()) {
        metadata[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
      }
      s = script;
    }
    const auto until = std::chrono::steady_clock::now() + s.delay;
    while (std::chrono::steady_clock::now() < until && !ctx->IsCancelled()) {
      std::this_thread::sleep_for(5ms);
    }
    *resp = s.response;
    return s.status;
  }

  std::mutex mu;
  Script script;
  std::vector<std::string> received;
  std::map<std::string, std::string> metadata;
};

class GrpcExporterTest : public ::testing::Test {
 protected:
  GrpcExporterTest() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&backend_);
    server_ = b.BuildAndStart();
  }
  ~GrpcExporterTest() override {
    exporter_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }

  config::Exporter config() const {
    config::Exporter c;
    c.id = "otlp/test";
    c.type = config::ExporterType::otlp;
    c.endpoint = "127.0.0.1:" + std::to_string(port_);
    c.tls.insecure = true;
    c.timeout = 5000ms;
    return c;
  }

  void make(const config::Exporter& c) {
    std::string err;
    exporter_ = OtlpGrpcExporter::create(c, &err);
    ASSERT_TRUE(exporter_) << err;
  }

  static Batch batch(uint64_t seed = 1) {
    Batch b;
    b.signal = Signal::traces;
    b.bytes = Bytes::adopt(testing::random_request_bytes(Signal::traces, seed));
    b.items = 1;
    return b;
  }

  std::future<ExportOutcome> start(const Batch& b) {
    auto p = std::make_shared<std::promise<ExportOutcome>>();
    auto f = p->get_future();
    exporter_->send(b, [p](ExportOutcome o) { p->set_value(std::move(o)); });
    return f;
  }

  ExportOutcome send(const Batch& b) {
    auto f = start(b);
    if (f.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within 10 s";
      return ExportOutcome{Kind::permanent, std::nullopt, "no answer", 0, 0};
    }
    return f.get();
  }

  void script(Script s) {
    std::lock_guard l(backend_.mu);
    backend_.script = std::move(s);
  }

  int port_ = 0;
  Backend backend_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<OtlpGrpcExporter> exporter_;
};

TEST_F(GrpcExporterTest, BytesAndMetadataArrive) {
  auto c = config();
  c.headers["Authorization"] = "Bearer secret";
  c.compression = config::Compression::gzip;
  make(c);
  const Batch b = batch();
  const ExportOutcome o = send(b);
  EXPECT_EQ(o.kind, Kind::ok) << o.message;
  std::lock_guard l(backend_.mu);
  ASSERT_EQ(backend_.received.size(), 1u);
  EXPECT_EQ(backend_.received[0], b.bytes.view());
  EXPECT_EQ(backend_.metadata["authorization"], "Bearer secret");
  EXPECT_EQ(backend_.metadata["user-agent"].rfind("otlpgate/", 0), 0u)
      << backend_.metadata["user-agent"];
}

TEST_F(GrpcExporterTest, PartialSuccessIsOkWithRejectedCount) {
  Script s;
  s.response.mutable_partial_success()->set_rejected_spans(4);
  script(s);
  make(config());
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::ok);
  EXPECT_EQ(o.rejected_items, 4u);
}

TEST_F(GrpcExporterTest, UnavailableWithRetryInfoIsRetryableAfterTheDelay) {
  google::rpc::Status st;
  st.set_code(grpc::StatusCode::UNAVAILABLE);
  st.set_message("overloaded");
  google::rpc::RetryInfo ri;
  ri.mutable_retry_delay()->set_seconds(2);
  st.add_details()->PackFrom(ri);
  Script s;
  s.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "overloaded", st.SerializeAsString());
  script(s);
  make(config());
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::retryable);
  EXPECT_EQ(o.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(o.retry_after, 2000ms);
  EXPECT_NE(o.message.find("overloaded"), std::string::npos);
}

TEST_F(GrpcExporterTest, ResourceExhaustedWithoutRetryInfoIsPermanent) {
  Script s;
  s.status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too big");
  script(s);
  make(config());
  EXPECT_EQ(send(batch()).kind, Kind::permanent);
}

TEST_F(GrpcExporterTest, InvalidArgumentIsPermanent) {
  Script s;
  s.status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad span");
  script(s);
  make(config());
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::permanent);
  EXPECT_EQ(o.message, "gRPC status 3: bad span");
}

TEST_F(GrpcExporterTest, DeadlineIsTheTimeoutAndRetryable) {
  Script s;
  s.delay = 3000ms;
  script(s);
  auto c = config();
  c.timeout = 200ms;
  make(c);
  const auto t0 = std::chrono::steady_clock::now();
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::retryable);
  EXPECT_EQ(o.code, grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_F(GrpcExporterTest, ShutdownCancelsInFlightCallsAsRetryable) {
  Script s;
  s.delay = 5000ms;
  script(s);
  make(config());
  auto f = start(batch());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    {
      std::lock_guard l(backend_.mu);
      if (!backend_.received.empty()) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(5ms);
  }
  exporter_->shutdown();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get().kind, Kind::retryable);
  EXPECT_EQ(send(batch()).kind, Kind::retryable);
}

TEST(OtlpGrpcExporterCreate, RejectsUnusableConfig) {
  config::Exporter c;
  c.id = "otlp/bad";
  c.type = config::ExporterType::otlp;
  c.endpoint = "collector";  // no port
  std::string err;
  EXPECT_FALSE(OtlpGrpcExporter::create(c, &err));
  EXPECT_NE(err.find("exporters.otlp/bad.endpoint"), std::string::npos) << err;
  c.endpoint = "collector:4317";
  c.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(OtlpGrpcExporter::create(c, &err));
  EXPECT_NE(err.find("tls.ca_file"), std::string::npos) << err;
}

}  // namespace
}  // namespace otlpgate::server
