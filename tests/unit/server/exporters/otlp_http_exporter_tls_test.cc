// The otlphttp exporter over TLS against an in-process HTTPS server with certificates made in the
// test: CA file, system roots, host name checks, SNI, insecure_skip_verify and client certificates.
#include "server/exporters/otlp_http_exporter.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "tests/support/random_otlp.h"

namespace otlpgate::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Kind = ExportOutcome::Kind;
using namespace std::chrono_literals;

struct Pem {
  std::string cert;
  std::string key;
};

// A self-signed certificate (its own CA) with the given subjectAltName, e.g. "DNS:localhost".
Pem self_signed(const std::string& cn, const std::string& san) {
  static std::atomic<long> serial{1};
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, pkey, EVP_sha256());
  Pem out;
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* data;
  long n = BIO_get_mem_data(b, &data);
  out.cert.assign(data, static_cast<std::size_t>(n));
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(b, &data);
  out.key.assign(data, static_cast<std::size_t>(n));
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return out;
}

// An HTTPS server answering 200 to everything; optionally demands a client certificate.
class TlsServer {
 public:
  TlsServer(const Pem& server, const std::string* client_ca)
      : ctx_(ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    ctx_.use_certificate_chain(asio::buffer(server.cert));
    ctx_.use_private_key(asio::buffer(server.key), ssl::context::pem);
    if (client_ca) {
      ctx_.add_certificate_authority(asio::buffer(*client_ca));
      ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsServer() {
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int requests() const { return requests_.load(); }
  std::string sni() const {
    std::lock_guard l(mu_);
    return sni_;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(TlsServer* s, tcp::socket sock) : server(s), stream(std::move(sock), s->ctx_) {}
    TlsServer* server;
    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;

    void start() {
      stream.async_handshake(
          ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return;
            if (const char* name =
                    SSL_get_servername(self->stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
              std::lock_guard l(self->server->mu_);
              self->server->sni_ = name;
            }
            self->read();
          });
    }
    void read() {
      req = {};
      http::async_read(
          stream, buffer, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return;
            ++self->server->requests_;
            self->res = {};
            self->res.result(http::status::ok);
            self->res.version(11);
            self->res.keep_alive(true);
            self->res.prepare_payload();
            http::async_write(self->stream, self->res, [self](beast::error_code ec2, std::size_t) {
              if (!ec2) self->read();
            });
          });
    }
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket sock) {
      if (ec) return;
      std::make_shared<Session>(this, std::move(sock))->start();
      accept();
    });
  }

  ssl::context ctx_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::string sni_;
};

class TlsExporterTest : public ::testing::Test {
 protected:
  TlsExporterTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("otlpgate-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_))),
        guard_(asio::make_work_guard(io_)),
        thread_([this] { io_.run(); }) {
    std::filesystem::create_directories(dir_);
  }
  ~TlsExporterTest() override {
    if (exporter_) exporter_->shutdown();
    exporter_.reset();
    guard_.reset();
    thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  config::Exporter config_for(const std::string& host, unsigned short port) {
    config::Exporter c;
    c.id = "otlphttp/tls";
    c.type = config::ExporterType::otlphttp;
    c.endpoint = "https://" + host + ":" + std::to_string(port);
    c.compression = config::Compression::none;
    c.timeout = 3000ms;
    return c;
  }

  ExportOutcome send_once(const config::Exporter& c) {
    std::string err;
    exporter_ = OtlpHttpExporter::create(c, io_, &err);
    if (!exporter_) {
      ADD_FAILURE() << err;
      return {};
    }
    Batch b;
    b.signal = Signal::logs;
    b.bytes = Bytes::adopt(testing::random_request_bytes(Signal::logs, 1));
    auto p = std::make_shared<std::promise<ExportOutcome>>();
    auto f = p->get_future();
    exporter_->send(b, [p](ExportOutcome o) { p->set_value(std::move(o)); });
    if (f.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within 10 s";
      return {};
    }
    return f.get();
  }

  static inline std::atomic<int> counter_{0};
  std::filesystem::path dir_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
  std::unique_ptr<OtlpHttpExporter> exporter_;
};

TEST_F(TlsExporterTest, CaFileTrustsTheServerAndSniCarriesTheHost) {
  const Pem server = self_signed("localhost", "DNS:localhost");
  TlsServer tls(server, nullptr);
  auto c = config_for("localhost", tls.port());
  c.tls.ca_file = write("ca.pem", server.cert);
  const ExportOutcome o = send_once(c);
  EXPECT_EQ(o.kind, Kind::ok) << o.message;
  EXPECT_EQ(tls.requests(), 1);
  EXPECT_EQ(tls.sni(), "localhost");
}

TEST_F(TlsExporterTest, UntrustedServerFailsRetryablyWithoutSending) {
  const Pem server = self_signed("localhost", "DNS:localhost");
  TlsServer tls(server, nullptr);
  const ExportOutcome o = send_once(config_for("localhost", tls.port()));  // system roots only
  EXPECT_EQ(o.kind, Kind::retryable);
  EXPECT_NE(o.message.find("TLS handshake"), std::string::npos) << o.message;
  EXPECT_EQ(tls.requests(), 0);
}

TEST_F(TlsExporterTest, HostNameMismatchFails) {
  const Pem server = self_signed("other.example", "DNS:other.example");
  TlsServer tls(server, nullptr);
  auto c = config_for("localhost", tls.port());
  c.tls.ca_file = write("ca.pem", server.cert);
  EXPECT_EQ(send_once(c).kind, Kind::retryable);
  EXPECT_EQ(tls.requests(), 0);
}

TEST_F(TlsExporterTest, ServerNameOverrideIsCheckedInstead) {
  const Pem server = self_signed("other.example", "DNS:other.example");
  TlsServer tls(server, nullptr);
  auto c = config_for("127.0.0.1", tls.port());
  c.tls.ca_file = write("ca.pem", server.cert);
  c.tls.server_name_override = "other.example";
  const ExportOutcome o = send_once(c);
  EXPECT_EQ(o.kind, Kind::ok) << o.message;
  EXPECT_EQ(tls.sni(), "other.example");
}

TEST_F(TlsExporterTest, IpAddressIsCheckedAgainstIpSubjectAltName) {
  const Pem server = self_signed("gateway", "IP:127.0.0.1");
  TlsServer tls(server, nullptr);
  auto c = config_for("127.0.0.1", tls.port());
  c.tls.ca_file = write("ca.pem", server.cert);
  EXPECT_EQ(send_once(c).kind, Kind::ok);
}

TEST_F(TlsExporterTest, InsecureSkipVerifyAcceptsAnyCertificate) {
  const Pem server = self_signed("other.example", "DNS:other.example");
  TlsServer tls(server, nullptr);
  auto c = config_for("localhost", tls.port());
  c.tls.insecure_skip_verify = true;
  EXPECT_EQ(send_once(c).kind, Kind::ok);
  EXPECT_EQ(tls.requests(), 1);
}

TEST_F(TlsExporterTest, ClientCertificateSatisfiesMutualTls) {
  const Pem server = self_signed("localhost", "DNS:localhost");
  const Pem client = self_signed("otlpgate", "DNS:otlpgate");
  TlsServer tls(server, &client.cert);
  auto c = config_for("localhost", tls.port());
  c.tls.ca_file = write("ca.pem", server.cert);
  EXPECT_EQ(send_once(c).kind, Kind::retryable);  // no client certificate: refused
  EXPECT_EQ(tls.requests(), 0);
  c.tls.cert_file = write("client.pem", client.cert);
  c.tls.key_file = write("client.key", client.key);
  const ExportOutcome o = send_once(c);
  EXPECT_EQ(o.kind, Kind::ok) << o.message;
  EXPECT_EQ(tls.requests(), 1);
}

}  // namespace
}  // namespace otlpgate::server
