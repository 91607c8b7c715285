// HttpServer implementation: one Session per connection, paired do_/on_ handlers, a fresh parser
// with header and body limits per request, a timeout on every read and write (and on the TLS
// handshake). The one Session template serves plain TCP and TLS streams.
#include "server/http/http_server.h"

#include <algorithm>
#include <array>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "core/log.h"

namespace otlpgate::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::State {
  HttpServerOptions opts;
  std::shared_ptr<HttpHandler> handler;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};  // requests between header and response written
  std::atomic<bool> stopping{false};
  std::optional<tcp::acceptor> acceptor;
};

namespace {

// `Stream` is beast::tcp_stream (plain) or beast::ssl_stream<beast::tcp_stream> (TLS).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

 public:
  // `stream_args`: the accepted socket, and for TLS the ssl::context.
  template <class... StreamArgs>
  explicit Session(std::shared_ptr<HttpServer::State> st, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...), state_(std::move(st)) {}
  ~Session() {
    release_slot();
    state_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->handshake(); });
  }

 private:
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  // TLS: the handshake runs under the read timeout, so a client that never finishes it is cut
  // off like a slow request.
  void handshake() {
    if constexpr (kTls) {
      tcp().expires_after(state_->opts.read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->wait_for_request();
                              });
    } else {
      wait_for_request();
    }
  }

  // Idle phase: wait for the first byte of the next request under the idle timeout, so that the
  // (shorter) read timeout covers exactly one request and a silent keep-alive connection is cut.
  void wait_for_request() {
    if (state_->stopping.load(std::memory_order_relaxed)) return close();
    if (buffer_.size() > 0) return read_request();
    tcp().expires_after(state_->opts.idle_timeout);
    auto space = buffer_.prepare(4096);
    stream_.async_read_some(space, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->read_request();
    });
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->opts.max_header_size));
    // Beast checks Content-Length against this when the header completes; the limit that fits
    // the request's Content-Encoding is applied in on_header().
    limit_ = std::max(state_->opts.max_body_size, state_->opts.max_encoded_body_size);
    parser_->body_limit(limit_);
    tcp().expires_after(state_->opts.read_timeout);  // covers the header and the body
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  // The header is in: let the handler refuse it (auth, path, method, content type), pick the body
  // limit, take an in-flight slot, then read the body.
  void on_header(beast::error_code ec) {
    if (ec) return read_failed(ec);
    const auto& header = parser_->get();
    keep_alive_ = header.keep_alive();
    version_ = header.version();
    tenant_.clear();
    if (std::optional<HttpResponse> refusal = state_->handler->screen(header, &tenant_)) {
      return refuse(std::move(*refusal));
    }
    const std::string_view encoding = header[http::field::content_encoding];
    const bool encoded = !encoding.empty() && !beast::iequals(encoding, "identity");
    limit_ = encoded ? state_->opts.max_encoded_body_size : state_->opts.max_body_size;
    const auto length = parser_->content_length();
    if (length && *length > limit_) return read_failed(http::error::body_limit);
    parser_->body_limit(limit_);
    if (!take_slot()) {
      return send_error(http::status::service_unavailable,
                        "too many requests in flight (limit " +
                            std::to_string(state_->opts.max_requests_in_flight) + "); retry later");
    }
    if (!reserve_body(length ? *length : limit_)) {
      return send_error(http::status::too_many_requests, "memory limit reached; retry later");
    }
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      // The client waits for this before sending the body (curl does, for large bodies).
      auto cont =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      return http::async_write(
          stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
            if (wec) return self->close();
            self->read_body();
          });
    }
    read_body();
  }

  void read_body() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return read_failed(ec);
    body_.reset();  // handed over: the handler reserves the body again at once
    HttpRequest req = parser_->release();
    tcp().expires_never();  // the handler may take a while (queue admission); no read pending
    auto ex = stream_.get_executor();
    auto self = shared_from_this();
    // The response hops back to this connection's thread; the Session stays alive until then.
    state_->handler->handle_screened(
        std::move(req), std::move(tenant_), [self, ex](HttpResponse res) mutable {
          asio::post(ex, [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
        });
  }

  void read_failed(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof) return close();
    if (ec == http::error::body_limit) {
      return send_error(http::status::payload_too_large,
                        "request body exceeds the limit of " + std::to_string(limit_) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return send_error(http::status::request_header_fields_too_large,
                        "request header exceeds the limit of " +
                            std::to_string(state_->opts.max_header_size) + " bytes");
    }
    // A timeout has closed the socket already (beast::tcp_stream does): nothing to answer on.
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return close();
    if (ec == asio::ssl::error::stream_truncated) return close();  // TLS peer left mid-request
    send_error(http::status::bad_request, "malformed HTTP request: " + ec.message());
  }

  // One of HttpServerOptions::max_requests_in_flight, held from the header until the response is
  // written, so that the bodies held in memory at once are bounded too.
  bool take_slot() {
    if (state_->in_flight.fetch_add(1, std::memory_order_relaxed) >=
        state_->opts.max_requests_in_flight) {
      state_->in_flight.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    has_slot_ = true;
    return true;
  }
  void release_slot() {
    if (std::exchange(has_slot_, false)) state_->in_flight.fetch_sub(1, std::memory_order_relaxed);
    body_.reset();
  }

  // The body counts against the handler's memory limit (if it keeps one) while it is read: its
  // Content-Length, or the body limit when it comes chunked. False when the limit refuses it.
  bool reserve_body(uint64_t bytes) {
    memory::MemoryLimit* limit = state_->handler->memory_limit();
    if (!limit) return true;
    std::optional<memory::Reservation> r = limit->try_reserve(bytes);
    if (!r) return false;
    body_ = std::move(*r);
    return true;
  }

  void send_error(http::status status, std::string message) {
    const std::string_view content_type = parser_ ? parser_->get()[http::field::content_type] : "";
    HttpResponse res = state_->handler->error_response(status, std::move(message), content_type);
    const bool retryable =
        status == http::status::service_unavailable || status == http::status::too_many_requests;
    if (retryable && res[http::field::retry_after].empty()) {
      res.set(http::field::retry_after, "1");
    }
    refuse(std::move(res));
  }

  // Answers a request whose body was not (wholly) read, and ends the connection.
  void refuse(HttpResponse res) {
    keep_alive_ = false;  // the stream position is unknown after a parse error or unread body
    linger_ = true;       // and the client may still be sending the body
    write(std::move(res));
  }

  void write(HttpResponse res) {
    res.version(version_ ? version_ : 11);
    res.keep_alive(keep_alive_ && !state_->stopping.load(std::memory_order_relaxed));
    res.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(res));
    tcp().expires_after(state_->opts.write_timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->release_slot();
                        bool again = !ec && self->response_->keep_alive();
                        self->response_.reset();
                        if (ec) return self->close();
                        if (!again) return self->linger_ ? self->linger() : self->close();
                        self->wait_for_request();
                      });
  }

  // After an early error response the client may still be sending its body; closing at once
  // would make the kernel answer with a reset that can destroy the response before the client
  // reads it. So stop sending, and read and discard for a bounded time first (nginx's
  // lingering_close).
  void linger() {
    beast::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp().expires_after(
        std::min<std::chrono::milliseconds>(state_->opts.read_timeout, kLingerTime));
    discard();
  }
  void discard() {
    if (!discard_) discard_ = std::make_unique<std::array<char, 16384>>();
    stream_.async_read_some(asio::buffer(*discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->discard();
                            });
  }

  // For TLS too a TCP close, without close_notify: every response has a Content-Length, so the
  // client cannot mistake a cut one for a whole one.
  void close() {
    release_slot();
    beast::error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    tcp().socket().close(ec);
  }

  static constexpr std::chrono::milliseconds kLingerTime{5000};

  Stream stream_;
  std::shared_ptr<HttpServer::State> state_;
  std::string tenant_;  // what screen() found, for handle_screened()
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;
  std::unique_ptr<std::array<char, 16384>> discard_;  // only for lingering connections
  uint64_t limit_ = 0;  // the body limit of the current request
  bool keep_alive_ = false;
  bool has_slot_ = false;
  memory::Reservation body_;  // the body being read, while it is read
  bool linger_ = false;
  unsigned version_ = 11;
};

void do_accept(IoPool& pool, std::shared_ptr<HttpServer::State> st) {
  if (!st->acceptor || !st->acceptor->is_open()) return;
  // Each accepted socket is bound to the next I/O thread's context (one connection, one thread).
  asio::io_context& target = pool.next();
  st->acceptor->async_accept(target, [&pool, st](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || st->stopping.load()) return;
    if (!ec) {
      if (st->connections.fetch_add(1, std::memory_order_relaxed) >= st->opts.max_connections) {
        st->connections.fetch_sub(1, std::memory_order_relaxed);
        beast::error_code ignored;
        socket.close(ignored);  // over the connection cap: refuse at once rather than queue
      } else if (st->opts.tls) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(st, std::move(socket),
                                                                         *st->opts.tls)
            ->run();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(st, std::move(socket))->run();
      }
    }
    do_accept(pool, st);
  });
}

}  // namespace

std::optional<HttpResponse> HttpHandler::screen(const HttpRequest&, std::string*) {
  return std::nullopt;
}

void HttpHandler::handle(HttpRequest&& req, Respond respond) {
  std::string tenant;
  if (std::optional<HttpResponse> refusal = screen(req, &tenant)) return respond(std::move(*refusal));
  handle_screened(std::move(req), std::move(tenant), std::move(respond));
}

HttpResponse HttpHandler::error_response(http::status status, std::string message, std::string_view) {
  return make_response(status, "text/plain; charset=utf-8", std::move(message) + "\n");
}

HttpResponse make_response(http::status status, std::string content_type, std::string body) {
  HttpResponse res{status, 11};
  res.set(http::field::server, "otlpgate");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

bool split_endpoint(const std::string& endpoint, std::string* host, std::string* port) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon + 1 >= endpoint.size()) return false;
  std::string h = endpoint.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  *host = h.empty() ? "0.0.0.0" : h;
  *port = endpoint.substr(colon + 1);
  return true;
}

HttpServer::HttpServer(IoPool& pool, HttpServerOptions opts, std::shared_ptr<HttpHandler> handler)
    : pool_(pool), opts_(std::move(opts)), state_(std::make_shared<State>()) {
  state_->opts = opts_;
  state_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::start(std::string* err) {
  std::string port;
  if (!split_endpoint(opts_.endpoint, &host_, &port)) {
    *err = "invalid endpoint \"" + opts_.endpoint + "\" (expected host:port)";
    return false;
  }
  beast::error_code ec;
  asio::io_context& ctx = pool_.context(0);
  tcp::resolver resolver(ctx);
  auto results = resolver.resolve(host_, port, tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    *err = "cannot resolve " + opts_.endpoint + ": " + ec.message();
    return false;
  }
  tcp::endpoint ep = results.begin()->endpoint();
  tcp::acceptor acc(ctx);
  if (acc.open(ep.protocol(), ec); !ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *err = "cannot listen on " + opts_.endpoint + ": " + ec.message();
    return false;
  }
  port_ = acc.local_endpoint().port();
  state_->acceptor.emplace(std::move(acc));
  do_accept(pool_, state_);
  return true;
}

void HttpServer::stop() {
  if (state_->stopping.exchange(true)) return;
  // The acceptor belongs to context 0: close it there, so no handler runs concurrently with it.
  auto st = state_;
  asio::post(pool_.context(0), [st] {
    beast::error_code ec;
    if (st->acceptor) st->acceptor->close(ec);
    st->acceptor.reset();  // connections on other contexts may keep `st` alive past context 0
  });
}

}  // namespace otlpgate::server
