// The otlphttp exporter against an in-process Beast server on port 0: what arrives (path, headers,
// body, compression), how answers are classified, keep-alive reuse, the pool limit and timeouts.
#include "server/exporters/otlp_http_exporter.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/compression/compression.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "tests/support/random_otlp.h"

namespace otlpgate::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Kind = ExportOutcome::Kind;
using namespace std::chrono_literals;

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};
  bool close = false;  // close the connection after answering, without saying so
};

struct Seen {
  std::string target;
  std::string body;  // as received (still compressed)
  std::map<std::string, std::string> headers;
  int connection = 0;  // which accepted connection carried it
};

// A scripted HTTP/1.1 server on 127.0.0.1:0 with its own thread.
class TestServer {
 public:
  using Handler = std::function<Reply(const Seen&)>;

  explicit TestServer(Handler h)
      : handler_(std::move(h)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_.load(); }
  int max_concurrent() const { return max_concurrent_.load(); }
  std::vector<Seen> seen() const {
    std::lock_guard l(mu_);
    return seen_;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(TestServer* s, tcp::socket sock, int n)
        : server(s), socket(std::move(sock)), timer(socket.get_executor()), number(n) {}
    TestServer* server;
    tcp::socket socket;
    asio::steady_timer timer;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    Reply reply;
    int number;

    void read() {
      req = {};
      http::async_read(socket, buffer, req,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return self->gone();
                         self->on_request();
                       });
    }
    void on_request() {
      Seen s;
      s.target = std::string(req.target());
      s.body = req.body();
      s.connection = number;
      for (const auto& f : req) s.headers[std::string(f.name_string())] = std::string(f.value());
      {
        std::lock_guard l(server->mu_);
        server->seen_.push_back(s);
      }
      reply = server->handler_(s);
      timer.expires_after(reply.delay);
      timer.async_wait([self = shared_from_this()](beast::error_code) { self->answer(); });
    }
    void answer() {
      res = {};
      res.result(reply.status);
      res.version(11);
      res.set(http::field::content_type, "application/x-protobuf");
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = reply.body;
      res.keep_alive(true);
      res.prepare_payload();
      http::async_write(socket, res,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec || self->reply.close) {
                            beast::error_code ignored;
                            self->socket.shutdown(tcp::socket::shutdown_both, ignored);
                            self->socket.close(ignored);
                            return self->gone();
                          }
                          self->read();
                        });
    }
    void gone() { --server->open_; }
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket sock) {
      if (ec) return;
      const int n = ++accepted_;
      const int open = ++open_;
      int prev = max_concurrent_.load();
      while (open > prev && !max_concurrent_.compare_exchange_weak(prev, open)) {
      }
      std::make_shared<Session>(this, std::move(sock), n)->read();
      accept();
    });
  }

  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> accepted_{0};
  std::atomic<int> open_{0};
  std::atomic<int> max_concurrent_{0};
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

// The exporter's io_context on its own thread, as the server's IoPool gives it one.
class ExporterTest : public ::testing::Test {
 protected:
  ExporterTest() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~ExporterTest() override {
    if (exporter_) exporter_->shutdown();
    exporter_.reset();
    guard_.reset();
    thread_.join();
  }

  config::Exporter config_for(const TestServer& server) {
    config::Exporter c;
    c.id = "otlphttp/test";
    c.type = config::ExporterType::otlphttp;
    c.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
    c.compression = config::Compression::none;
    c.timeout = 2000ms;
    return c;
  }

  void make(const config::Exporter& c) {
    std::string err;
    exporter_ = OtlpHttpExporter::create(c, io_, &err);
    ASSERT_TRUE(exporter_) << err;
  }

  static Batch batch(Signal s = Signal::logs, uint64_t seed = 1) {
    Batch b;
    b.signal = s;
    b.bytes = Bytes::adopt(testing::random_request_bytes(s, seed));
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

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
  std::unique_ptr<OtlpHttpExporter> exporter_;
};

Reply ok() { return Reply{}; }

TEST_F(ExporterTest, PostsTheBytesToTheSignalPathWithHeaders) {
  TestServer server([](const Seen&) { return ok(); });
  auto c = config_for(server);
  c.headers["Authorization"] = "Bearer secret-token";
  make(c);
  const Batch b = batch(Signal::traces);
  const ExportOutcome o = send(b);
  EXPECT_EQ(o.kind, Kind::ok) << o.message;
  EXPECT_EQ(o.code, 200);
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/traces");
  EXPECT_EQ(seen[0].body, b.bytes.view());
  EXPECT_EQ(seen[0].headers.at("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(seen[0].headers.at("Authorization"), "Bearer secret-token");
  EXPECT_EQ(seen[0].headers.at("User-Agent").rfind("otlpgate/", 0), 0u);
  EXPECT_EQ(seen[0].headers.count("Content-Encoding"), 0u);
}

TEST_F(ExporterTest, EndpointPathPrefixIsKept) {
  TestServer server([](const Seen&) { return ok(); });
  auto c = config_for(server);
  c.endpoint += "/otlp/";
  make(c);
  EXPECT_EQ(send(batch(Signal::metrics)).kind, Kind::ok);
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].target, "/otlp/v1/metrics");
}

class CompressionTest : public ExporterTest,
                        public ::testing::WithParamInterface<config::Compression> {};

TEST_P(CompressionTest, BodyDecodesToTheSameBytes) {
  TestServer server([](const Seen&) { return ok(); });
  auto c = config_for(server);
  c.compression = GetParam();
  make(c);
  const Batch b = batch(Signal::logs, 7);
  ASSERT_EQ(send(b).kind, Kind::ok);
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  const std::string& enc = seen[0].headers.at("Content-Encoding");
  const auto codec = compression::codec_from_name(enc);
  ASSERT_TRUE(codec) << enc;
  EXPECT_EQ(*codec, GetParam() == config::Compression::gzip ? compression::Codec::gzip
                                                            : compression::Codec::zstd);
  std::string plain;
  ASSERT_TRUE(compression::decompress(*codec, seen[0].body, plain, 64 << 20).ok());
  EXPECT_EQ(plain, b.bytes.view());
  EXPECT_LT(seen[0].body.size(), b.bytes.size());
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest,
                         ::testing::Values(config::Compression::gzip, config::Compression::zstd));

TEST_F(ExporterTest, PartialSuccessIsOkWithRejectedCount) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_log_records(3);
  resp.mutable_partial_success()->set_error_message("3 records too large");
  TestServer server([body = resp.SerializeAsString()](const Seen&) {
    Reply r;
    r.body = body;
    return r;
  });
  make(config_for(server));
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::ok);
  EXPECT_EQ(o.rejected_items, 3u);
  EXPECT_EQ(o.message, "3 records too large");
}

TEST_F(ExporterTest, ServiceUnavailableIsRetryableWithRetryAfter) {
  TestServer server([](const Seen&) {
    Reply r;
    r.status = http::status::service_unavailable;
    r.headers.emplace_back("Retry-After", "3");
    return r;
  });
  make(config_for(server));
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::retryable);
  EXPECT_EQ(o.code, 503);
  EXPECT_EQ(o.retry_after, 3000ms);
}

TEST_F(ExporterTest, BadRequestIsPermanentWithTheBackendsMessage) {
  google::rpc::Status st;
  st.set_code(3);
  st.set_message("unexpected end of buffer");
  TestServer server([body = st.SerializeAsString()](const Seen&) {
    Reply r;
    r.status = http::status::bad_request;
    r.body = body;
    return r;
  });
  make(config_for(server));
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::permanent);
  EXPECT_EQ(o.code, 400);
  EXPECT_EQ(o.message, "HTTP 400: unexpected end of buffer");
}

TEST_F(ExporterTest, KeepAliveReusesOneConnectionForSequentialSends) {
  TestServer server([](const Seen&) { return ok(); });
  make(config_for(server));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(send(batch(Signal::logs, i)).kind, Kind::ok);
  EXPECT_EQ(server.seen().size(), 5u);
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(ExporterTest, ConnectionClosedByTheServerIsReplacedTransparently) {
  TestServer server([](const Seen&) {
    Reply r;
    r.close = true;  // answers, then closes without "Connection: close"
    return r;
  });
  make(config_for(server));
  EXPECT_EQ(send(batch()).kind, Kind::ok);
  EXPECT_EQ(send(batch()).kind, Kind::ok);
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(ExporterTest, ConcurrentSendsStayWithinNumConsumersConnections) {
  TestServer server([](const Seen&) {
    Reply r;
    r.delay = 100ms;
    return r;
  });
  auto c = config_for(server);
  c.sending_queue.num_consumers = 2;
  make(c);
  std::vector<std::future<ExportOutcome>> pending;
  for (int i = 0; i < 6; ++i) pending.push_back(start(batch(Signal::logs, i)));
  for (auto& f : pending) {
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(f.get().kind, Kind::ok);
  }
  EXPECT_EQ(server.seen().size(), 6u);
  EXPECT_LE(server.accepted(), 2);
}

TEST_F(ExporterTest, SlowBackendTimesOutAsRetryable) {
  TestServer server([](const Seen&) {
    Reply r;
    r.delay = 5000ms;
    return r;
  });
  auto c = config_for(server);
  c.timeout = 200ms;
  make(c);
  const auto t0 = std::chrono::steady_clock::now();
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::retryable);
  EXPECT_NE(o.message.find("timed out"), std::string::npos) << o.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(ExporterTest, RefusedConnectionIsRetryable) {
  unsigned short port;
  {
    asio::io_context tmp;
    tcp::acceptor a(tmp, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed again: nothing listens there now
  config::Exporter c;
  c.id = "otlphttp/refused";
  c.type = config::ExporterType::otlphttp;
  c.endpoint = "http://127.0.0.1:" + std::to_string(port);
  c.compression = config::Compression::none;
  make(c);
  const ExportOutcome o = send(batch());
  EXPECT_EQ(o.kind, Kind::retryable);
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.message.find("connecting"), std::string::npos) << o.message;
}

TEST_F(ExporterTest, ShutdownAnswersInFlightSendsAsRetryable) {
  TestServer server([](const Seen&) {
    Reply r;
    r.delay = 5000ms;
    return r;
  });
  make(config_for(server));
  auto f = start(batch());
  // Wait until the request is at the server, then shut down under it.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.seen().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(server.seen().size(), 1u);
  exporter_->shutdown();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get().kind, Kind::retryable);
  EXPECT_EQ(send(batch()).kind, Kind::retryable);  // and later sends are refused
}

TEST(OtlpHttpExporterCreate, RejectsUnusableConfig) {
  asio::io_context io;
  config::Exporter c;
  c.id = "otlphttp/bad";
  c.type = config::ExporterType::otlphttp;
  std::string err;
  c.endpoint = "localhost:4318";
  EXPECT_FALSE(OtlpHttpExporter::create(c, io, &err));
  EXPECT_NE(err.find("exporters.otlphttp/bad"), std::string::npos) << err;

  c.endpoint = "https://localhost:4318";
  c.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(OtlpHttpExporter::create(c, io, &err));
  EXPECT_NE(err.find("tls.ca_file"), std::string::npos) << err;

  c.tls.ca_file.clear();
  c.headers["X-Evil"] = "a\r\nInjected: yes";
  EXPECT_FALSE(OtlpHttpExporter::create(c, io, &err));
}

}  // namespace
}  // namespace otlpgate::server
