// HttpServer implementation: one Session per connection, paired do_/on_ handlers, a fresh parser
// with header and body limits per request, a timeout on every read and write.
#include "server/http/http_server.h"

#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>

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
  std::atomic<bool> stopping{false};
  std::optional<tcp::acceptor> acceptor;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& s, std::shared_ptr<HttpServer::State> st)
      : stream_(std::move(s)), state_(std::move(st)) {}
  ~Session() { state_->connections.fetch_sub(1, std::memory_order_relaxed); }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
  }

 private:
  // Idle phase: wait for the first byte of the next request under the idle timeout, so that the
  // (shorter) read timeout covers exactly one request and a silent keep-alive connection is cut.
  void wait_for_request() {
    if (state_->stopping.load(std::memory_order_relaxed)) return close();
    if (buffer_.size() > 0) return read_request();
    stream_.expires_after(state_->opts.idle_timeout);
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
    parser_->body_limit(state_->opts.max_body_size);
    stream_.expires_after(state_->opts.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof) return close();
    if (ec == http::error::body_limit) {
      return send_error(http::status::payload_too_large,
                        "request body exceeds the limit of " + std::to_string(state_->opts.max_body_size) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return send_error(http::status::request_header_fields_too_large, "request header too large");
    }
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return close();
    if (ec) return send_error(http::status::bad_request, "malformed HTTP request: " + ec.message());

    HttpRequest req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    stream_.expires_never();  // the handler may take a while (queue admission); no read pending
    auto ex = stream_.get_executor();
    auto self = shared_from_this();
    // The response hops back to this connection's thread; the Session stays alive until then.
    state_->handler->handle(std::move(req), [self, ex](HttpResponse res) mutable {
      asio::post(ex, [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
    });
  }

  void send_error(http::status status, std::string message) {
    keep_alive_ = false;  // the stream position is unknown after a parse error
    write(state_->handler->error_response(status, std::move(message)));
  }

  void write(HttpResponse res) {
    res.version(version_ ? version_ : 11);
    res.keep_alive(keep_alive_ && !state_->stopping.load(std::memory_order_relaxed));
    res.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(res));
    stream_.expires_after(state_->opts.write_timeout);
    http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      bool again = !ec && self->response_->keep_alive();
      self->response_.reset();
      if (!again) return self->close();
      self->wait_for_request();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<HttpServer::State> state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;
  bool keep_alive_ = false;
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
      } else {
        std::make_shared<Session>(std::move(socket), st)->run();
      }
    }
    do_accept(pool, st);
  });
}

}  // namespace

HttpResponse HttpHandler::error_response(http::status status, std::string message) {
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
  });
}

}  // namespace otlpgate::server
