// HttpServer: a Beast HTTP/1.1 listener with keep-alive and the limits every exposed listener needs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include "server/io_pool.h"

namespace otlpgate::server {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Plugged into an HttpServer: the OTLP/HTTP receiver, the health endpoint, later Firehose.
class HttpHandler {
 public:
  using Respond = std::function<void(HttpResponse)>;
  virtual ~HttpHandler() = default;
  // Called on the connection's I/O thread with a complete request (body within the limit).
  // `respond` must be called exactly once, from any thread; it must not throw. The handler owns
  // `req` and may move its body out.
  virtual void handle(HttpRequest&& req, Respond respond) = 0;
  // The response for a request the server refused before it was complete (413 over the body
  // limit, 431, 400 malformed, 503 over max_requests_in_flight): the handler chooses the body
  // format (OTLP: google.rpc.Status in the request's encoding). `content_type` is the request's
  // Content-Type when its header was read, else empty.
  virtual HttpResponse error_response(boost::beast::http::status status, std::string message,
                                      std::string_view content_type);
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
