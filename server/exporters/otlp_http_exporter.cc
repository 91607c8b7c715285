// The otlphttp exporter. Everything of one exporter runs on one strand of its io_context: the
// pool, the attempts and their timers, so no locks are needed; send() and shutdown() only post.
#include "server/exporters/otlp_http_exporter.h"

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <unordered_set>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/compression/compression.h"
#include "server/exporters/endpoint_url.h"
#include "server/exporters/export_outcome.h"
#include "server/exporters/user_agent.h"

namespace otlpgate::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

// OTLP responses are tiny; an error page larger than this is not worth reading whole.
constexpr std::size_t kMaxResponseBody = 4 << 20;
constexpr std::uint32_t kMaxResponseHeader = 64 << 10;
// Servers commonly drop idle keep-alive connections after 60-120 s; reusing one older than this
// risks a write into a connection the server is closing.
constexpr auto kMaxIdle = std::chrono::seconds(30);

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

ExportOutcome retryable(std::string message) {
  ExportOutcome o;
  o.kind = ExportOutcome::Kind::retryable;
  o.message = std::move(message);
  return o;
}

ExportOutcome permanent(std::string message) {
  ExportOutcome o;
  o.kind = ExportOutcome::Kind::permanent;
  o.message = std::move(message);
  return o;
}

// One keep-alive connection to one scheme://host:port.
struct Connection {
  std::string key;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  template <class F>
  void visit(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }

  void close() {
    error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }

  // An idle connection is usable while the peer has neither closed it nor sent anything (an
  // unsolicited byte on an idle HTTP/1.1 connection is a close_notify or garbage). Peeking is one
  // non-blocking syscall and spares most writes into a connection the server already closed.
  bool idle_usable() {
    auto& sock = lowest().socket();
    if (!sock.is_open() || buffer.size() != 0) return false;
    char probe;
    const ssize_t n = ::recv(sock.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

// One delivery attempt of one batch.
struct Attempt {
  explicit Attempt(const Strand& ex) : timer(ex), resolver(ex) {}

  Batch batch;
  std::function<void(ExportOutcome)> done;
  const HttpTarget* target = nullptr;
  std::string compressed;  // the body when compression is on; otherwise batch.bytes is sent
  http::request<http::span_body<const char>> req;
  std::optional<http::response_parser<http::string_body>> parser;
  std::shared_ptr<Connection> conn;
  bool reused = false;         // conn came from the idle pool
  bool stale_retried = false;  // already moved to a fresh connection once
  bool timed_out = false;
  bool waiting = false;  // in the queue for a free connection
  bool finished = false;
  asio::steady_timer timer;
  tcp::resolver resolver;
};

using AttemptPtr = std::shared_ptr<Attempt>;

}  // namespace

class OtlpHttpExporter::Impl : public std::enable_shared_from_this<OtlpHttpExporter::Impl> {
 public:
  Impl(const config::Exporter& cfg, asio::io_context& io)
      : id_(cfg.id),
        strand_(asio::make_strand(io)),
        timeout_(cfg.timeout),
        max_conns_(static_cast<std::size_t>(std::max(1, cfg.sending_queue.num_consumers))),
        sni_override_(cfg.tls.server_name_override),
        verify_(!cfg.tls.insecure_skip_verify) {}

  bool init(const config::Exporter& cfg, std::string* err) {
    bool any_tls = false;
    for (Signal s : kAllSignals) {
      std::string why;
      auto t = parse_http_url(otlp_http_url(cfg, s), &why);
      if (!t) {
        *err = "exporters." + cfg.id + ": " + std::string(signal_name(s)) + " endpoint " + why;
        return false;
      }
      any_tls = any_tls || t->tls;
      targets_[static_cast<std::size_t>(s)] = std::move(*t);
    }
    switch (cfg.compression) {
      case config::Compression::none:
        codec_ = compression::Codec::none;
        break;
      case config::Compression::gzip:
        codec_ = compression::Codec::gzip;
        break;
      case config::Compression::zstd:
        codec_ = compression::Codec::zstd;
        break;
    }
    for (const auto& [name, value] : cfg.headers) {
      // A CR or LF would let a config value inject headers or split the request.
      if (name.empty() || name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        *err = "exporters." + cfg.id + ".headers." + name +
               ": header names and values may not "
               "contain line breaks (or ':' in names)";
        return false;
      }
      headers_.emplace_back(name, value);
    }
    if (any_tls) return init_tls(cfg, err);
    return true;
  }

  std::string_view id() const { return id_; }

  void send(const Batch& batch, std::function<void(ExportOutcome)> done) {
    if (stopped_.load(std::memory_order_acquire)) {
      done(retryable("exporter " + id_ + " is shut down"));
      return;
    }
    auto a = std::make_shared<Attempt>(strand_);
    a->batch = batch;
    a->done = std::move(done);
    asio::post(strand_, [self = shared_from_this(), a] { self->start(a); });
  }

  void shutdown() {
    stopped_.store(true, std::memory_order_release);
    asio::post(strand_, [self = shared_from_this()] { self->stop_all(); });
  }

 private:
  bool init_tls(const config::Exporter& cfg, std::string* err) {
    const std::string key = "exporters." + cfg.id + ".tls";
    tls_ctx_.emplace(ssl::context::tls_client);
    error_code ec;
    tls_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                              ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1,
                          ec);
    // As the collector's configtls: ca_file replaces the system roots rather than adding to them.
    if (cfg.tls.ca_file.empty()) {
      tls_ctx_->set_default_verify_paths(ec);
      if (ec) {
        *err = key + ": cannot load the system CA certificates: " + ec.message();
        return false;
      }
    } else {
      tls_ctx_->load_verify_file(cfg.tls.ca_file, ec);
      if (ec) {
        *err = key + ".ca_file: cannot load \"" + cfg.tls.ca_file + "\": " + ec.message();
        return false;
      }
    }
    if (cfg.tls.cert_file.empty() != cfg.tls.key_file.empty()) {
      *err = key + ": cert_file and key_file go together";
      return false;
    }
    if (!cfg.tls.cert_file.empty()) {
      tls_ctx_->use_certificate_chain_file(cfg.tls.cert_file, ec);
      if (ec) {
        *err = key + ".cert_file: cannot load \"" + cfg.tls.cert_file + "\": " + ec.message();
        return false;
      }
      tls_ctx_->use_private_key_file(cfg.tls.key_file, ssl::context::pem, ec);
      if (ec) {
        *err = key + ".key_file: cannot load \"" + cfg.tls.key_file + "\": " + ec.message();
        return false;
      }
    }
    tls_ctx_->set_verify_mode(verify_ ? ssl::verify_peer : ssl::verify_none, ec);
    return true;
  }

  std::shared_ptr<Connection> make_connection(const HttpTarget& t) {
    auto c = std::make_shared<Connection>();
    c->key = t.pool_key();
    if (!t.tls) {
      c->plain = std::make_unique<beast::tcp_stream>(strand_);
      return c;
    }
    c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(strand_, *tls_ctx_);
    const std::string& name = sni_override_.empty() ? t.host : sni_override_;
    SSL* s = c->tls->native_handle();
    const bool ip = is_ip_literal(name);
    // SNI carries host names only (RFC 6066 §3); the certificate check covers both forms.
    if (!ip) SSL_set_tlsext_host_name(s, const_cast<char*>(name.c_str()));
    if (verify_) {
      if (ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), name.c_str());
      } else {
        SSL_set1_host(s, name.c_str());
      }
    }
    return c;
  }

  void start(const AttemptPtr& a) {
    if (stopped_.load(std::memory_order_acquire)) {
      a->finished = true;
      a->done(retryable("exporter " + id_ + " is shut down"));
      return;
    }
    a->target = &targets_[static_cast<std::size_t>(a->batch.signal)];
    active_.insert(a);
    const HttpTarget& t = *a->target;
    auto& req = a->req;
    req.method(http::verb::post);
    req.target(t.target);
    req.version(11);
    req.set(http::field::host, t.host_header);
    req.set(http::field::user_agent, kUserAgent);
    req.set(http::field::content_type, "application/x-protobuf");
    const std::string_view raw = a->batch.bytes.view();
    if (codec_ != compression::Codec::none) {
      const compression::Result r = compression::compress(codec_, raw, a->compressed);
      if (!r.ok()) return finish(a, permanent("compressing the request: " + r.message));
      req.set(http::field::content_encoding, compression::codec_name(codec_));
      req.body() = beast::span<const char>(a->compressed.data(), a->compressed.size());
    } else {
      req.body() = beast::span<const char>(raw.data(), raw.size());
    }
    // Configured headers last, so that they may replace ours (a custom User-Agent, say).
    for (const auto& [name, value] : headers_) req.set(name, value);
    req.keep_alive(true);
    req.prepare_payload();

    a->timer.expires_after(timeout_);
    a->timer.async_wait([self = shared_from_this(), a](error_code ec) {
      if (!ec) self->on_timeout(a);
    });
    acquire(a, false);
  }

  void on_timeout(const AttemptPtr& a) {
    if (a->finished) return;
    a->timed_out = true;
    if (a->waiting) {
      std::erase(waiting_, a);
      a->waiting = false;
      return finish(a, timeout_outcome("waiting for a free connection"));
    }
    abort(a);  // the pending operation ends with an error and reports the timeout
  }

  ExportOutcome timeout_outcome(std::string_view during) const {
    return retryable("timed out after " + std::to_string(timeout_.count()) + " ms " +
                     std::string(during));
  }

  // Ends the pending network operation of `a`; its handler then finishes the attempt.
  void abort(const AttemptPtr& a) {
    a->resolver.cancel();
    if (a->conn) a->conn->close();
  }

  void acquire(const AttemptPtr& a, bool fresh) {
    const std::string key = a->target->pool_key();
    if (!fresh) {
      if (auto it = idle_.find(key); it != idle_.end()) {
        auto& v = it->second;
        while (!v.empty()) {
          auto c = std::move(v.back());
          v.pop_back();
          if (c->idle_usable() && Clock::now() - c->idle_since < kMaxIdle) {
            a->conn = std::move(c);
            a->reused = true;
            return write(a);
          }
          c->close();
          --open_;
        }
      }
    }
    if (open_ >= max_conns_) evict_one_idle();
    if (open_ < max_conns_) {
      ++open_;
      a->conn = make_connection(*a->target);
      a->reused = false;
      return resolve(a);
    }
    a->waiting = true;
    waiting_.push_back(a);
  }

  // Frees a slot held by an idle connection to another host, for an attempt that needs one.
  void evict_one_idle() {
    for (auto& [key, v] : idle_) {
      if (v.empty()) continue;
      v.front()->close();
      v.erase(v.begin());
      --open_;
      return;
    }
  }

  void resolve(const AttemptPtr& a) {
    a->resolver.async_resolve(
        a->target->host, a->target->port,
        [self = shared_from_this(), a](error_code ec, tcp::resolver::results_type results) {
          if (ec) return self->fail(a, ec, "resolving");
          a->conn->lowest().async_connect(results, [self, a](error_code ec2, const tcp::endpoint&) {
            self->on_connect(a, ec2);
          });
        });
  }

  void on_connect(const AttemptPtr& a, error_code ec) {
    if (ec) return fail(a, ec, "connecting");
    error_code ignored;
    a->conn->lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (!a->conn->tls) return write(a);
    a->conn->tls->async_handshake(ssl::stream_base::client,
                                  [self = shared_from_this(), a](error_code ec2) {
                                    if (ec2) return self->fail(a, ec2, "TLS handshake");
                                    self->write(a);
                                  });
  }

  void write(const AttemptPtr& a) {
    a->conn->visit([&](auto& stream) {
      http::async_write(stream, a->req, [self = shared_from_this(), a](error_code ec, std::size_t) {
        self->on_write(a, ec);
      });
    });
  }

  void on_write(const AttemptPtr& a, error_code ec) {
    if (ec) return fail(a, ec, "sending");
    a->parser.emplace();
    a->parser->body_limit(kMaxResponseBody);
    a->parser->header_limit(kMaxResponseHeader);
    a->conn->visit([&](auto& stream) {
      http::async_read(
          stream, a->conn->buffer, *a->parser,
          [self = shared_from_this(), a](error_code ec2, std::size_t) { self->on_read(a, ec2); });
    });
  }

  void on_read(const AttemptPtr& a, error_code ec) {
    if (ec) return fail(a, ec, "reading the response");
    auto& res = a->parser->get();
    const int status = static_cast<int>(res.result_int());
    const bool keep = res.keep_alive() && !a->timed_out;
    const std::string content_type(res[http::field::content_type]);
    const std::string retry_after(res[http::field::retry_after]);
    const std::string_view encoding = res[http::field::content_encoding];
    std::string body = std::move(res.body());
    if (!encoding.empty()) {
      const auto codec = compression::codec_from_name(encoding);
      std::string plain;
      if (codec && compression::decompress(*codec, body, plain, kMaxResponseBody).ok()) {
        body = std::move(plain);
      } else {
        body.clear();  // unreadable: classify by status alone
      }
    }
    release(std::move(a->conn), keep);
    finish(a, classify_http(status, content_type, body, retry_after,
                            std::chrono::system_clock::now()));
  }

  void fail(const AttemptPtr& a, error_code ec, std::string_view during) {
    const bool nothing_back = !a->parser || !a->parser->got_some();
    if (a->conn) discard(std::move(a->conn));
    if (a->timed_out) return finish(a, timeout_outcome(during));
    if (stopped_.load(std::memory_order_acquire)) {
      return finish(a, retryable("exporter " + id_ + " shut down while " + std::string(during)));
    }
    // A reused connection the server closed between our requests fails on write or with an
    // empty read; that says nothing about the backend, so try once more on a new connection.
    if (a->reused && !a->stale_retried && nothing_back) {
      a->stale_retried = true;
      a->parser.reset();
      return acquire(a, true);
    }
    const HttpTarget& t = *a->target;
    finish(a, retryable(std::string(during) + " " + t.host_header + ": " + ec.message()));
  }

  void release(std::shared_ptr<Connection> c, bool reusable) {
    if (!reusable || stopped_.load(std::memory_order_acquire) || !c->lowest().socket().is_open()) {
      return discard(std::move(c));
    }
    if (!waiting_.empty()) {
      AttemptPtr w = waiting_.front();
      if (w->target->pool_key() == c->key) {
        waiting_.pop_front();
        w->waiting = false;
        w->conn = std::move(c);
        w->reused = true;
        return write(w);
      }
      return discard(std::move(c));  // its slot goes to the waiter's host
    }
    c->idle_since = Clock::now();
    idle_[c->key].push_back(std::move(c));
  }

  void discard(std::shared_ptr<Connection> c) {
    c->close();
    --open_;
    serve_waiters();
  }

  void serve_waiters() {
    while (!waiting_.empty() && open_ < max_conns_ && !stopped_.load(std::memory_order_acquire)) {
      AttemptPtr w = waiting_.front();
      waiting_.pop_front();
      w->waiting = false;
      acquire(w, false);
    }
  }

  void finish(const AttemptPtr& a, ExportOutcome outcome) {
    if (a->finished) return;
    a->finished = true;
    a->timer.cancel();
    active_.erase(a);
    auto done = std::move(a->done);
    done(std::move(outcome));
  }

  void stop_all() {
    for (auto& [key, v] : idle_) {
      for (auto& c : v) {
        c->close();
        --open_;
      }
    }
    idle_.clear();
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& w : waiting) {
      w->waiting = false;
      finish(w, retryable("exporter " + id_ + " shut down"));
    }
    const std::vector<AttemptPtr> active(active_.begin(), active_.end());
    for (const auto& a : active) abort(a);
  }

  const std::string id_;
  Strand strand_;
  const std::chrono::milliseconds timeout_;
  const std::size_t max_conns_;
  const std::string sni_override_;
  const bool verify_;
  std::array<HttpTarget, 3> targets_;
  compression::Codec codec_ = compression::Codec::none;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::optional<ssl::context> tls_ctx_;

  // Strand-only state.
  std::size_t open_ = 0;  // connections existing: connecting, in use or idle
  std::map<std::string, std::vector<std::shared_ptr<Connection>>> idle_;
  std::deque<AttemptPtr> waiting_;
  std::unordered_set<AttemptPtr> active_;
  std::atomic<bool> stopped_{false};
};

std::unique_ptr<OtlpHttpExporter> OtlpHttpExporter::create(const config::Exporter& cfg,
                                                           asio::io_context& io, std::string* err) {
  auto impl = std::make_shared<Impl>(cfg, io);
  if (!impl->init(cfg, err)) return nullptr;
  return std::unique_ptr<OtlpHttpExporter>(new OtlpHttpExporter(std::move(impl)));
}

OtlpHttpExporter::OtlpHttpExporter(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

OtlpHttpExporter::~OtlpHttpExporter() { impl_->shutdown(); }

std::string_view OtlpHttpExporter::id() const { return impl_->id(); }

void OtlpHttpExporter::send(const Batch& batch, std::function<void(ExportOutcome)> done) {
  impl_->send(batch, std::move(done));
}

void OtlpHttpExporter::shutdown() { impl_->shutdown(); }

}  // namespace otlpgate::server
