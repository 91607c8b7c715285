// HttpServer: a Beast HTTP/1.1 listener, plain or TLS, with keep-alive and the limits every
// exposed listener needs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>

#include "core/memory/memory_limit.h"
#include "server/io_pool.h"

namespace otlpgate::server {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Plugged into an HttpServer: the OTLP/HTTP receiver, the health endpoint, later Firehose.
class HttpHandler {
 public:
  using Respond = std::function<void(HttpResponse)>;
  virtual ~HttpHandler() = default;
  // Called on the connection's I/O thread with a request's header, before its body is read (the
  // body is empty): a response refuses the request at once without reading the body (401, 404,
  // 405, 415), nullopt lets it through. What it learns (the authenticated tenant) goes to
  // *tenant for handle_screened(). Must not block.
  virtual std::optional<HttpResponse> screen(const HttpRequest& header, std::string* tenant);
  // Called on the connection's I/O thread with a complete request (body within the limit) that
  // screen() let through, and the tenant it found. `respond` must be called exactly once, from
  // any thread; it must not throw. The handler owns `req` and may move its body out.
  virtual void handle_screened(HttpRequest&& req, std::string tenant, Respond respond) = 0;
  // A whole request that nothing screened yet: screen(), then handle_screened() (tests use it).
  void handle(HttpRequest&& req, Respond respond);
  // The response for a request the server refused before it was complete (413 over the body
  // limit, 431, 400 malformed, 503 over max_requests_in_flight, 429 over the memory limit): the
  // handler chooses the body format (OTLP: google.rpc.Status in the request's encoding).
  // `content_type` is the request's Content-Type when its header was read, else empty.
  virtual HttpResponse error_response(boost::beast::http::status status, std::string message,
                                      std::string_view content_type);
  // The memory limit a request's body counts against while the server reads it (reserved on its
  // Content-Length once the header is in: over the limit, 429 without reading the body); the
  // server lets go of it just before handle_screened(), which reserves the body again. Null: none.
  virtual memory::MemoryLimit* memory_limit() { return nullptr; }
};

struct HttpServerOptions {
  std::string endpoint;  // "host:port"; port 0 picks a free port
  uint64_t max_body_size = 20ull << 20;          // a body without Content-Encoding (413 over it)
  uint64_t max_encoded_body_size = 20ull << 20;  // a body with one, as sent (the handler decodes)
  uint64_t max_header_size = 64 << 10;           // 431 over it
  std::chrono::milliseconds read_timeout{30000};   // one whole request, from its first byte
  std::chrono::milliseconds idle_timeout{120000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
  std::size_t max_connections = 10000;        // more are closed as soon as they are accepted
  std::size_t max_requests_in_flight = 1024;  // from header read to response written; more: 503
  // TLS (core/tls/server_context.h) when set: the handshake must finish within read_timeout.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class HttpServer {
 public:
  HttpServer(IoPool& pool, HttpServerOptions opts, std::shared_ptr<HttpHandler> handler);
  ~HttpServer();

  // Binds and starts accepting. Returns false and sets *err when the endpoint cannot be bound.
  bool start(std::string* err);
  // Stops accepting; connections finish their current request and close.
  void stop();
  // The actually bound port (after start()).
  unsigned short port() const { return port_; }
  std::string host() const { return host_; }

  struct State;  // shared with connections so that they may outlive the server object

 private:
  IoPool& pool_;
  HttpServerOptions opts_;
  std::shared_ptr<State> state_;
  std::string host_;
  unsigned short port_ = 0;
};

// A plain response with the given status, content type and body (keep-alive decided later).
HttpResponse make_response(boost::beast::http::status status, std::string content_type, std::string body);

// Splits "host:port" (also "[v6]:port"); false on a malformed endpoint.
bool split_endpoint(const std::string& endpoint, std::string* host, std::string* port);

}  // namespace otlpgate::server
