// HttpServer TLS set-up: the SSL_CTX of core/tls handed to asio.
#include "server/http/tls_options.h"

#include "core/tls/server_context.h"

namespace otlpgate::server {

bool set_tls(const std::optional<config::TlsServer>& tls, HttpServerOptions& opts,
             std::string* err) {
  if (!tls) return true;
  otlpgate::tls::ContextError e;
  otlpgate::tls::SslCtxPtr ctx = otlpgate::tls::make_server_context(*tls, &e);
  if (!ctx) {
    *err = "tls." + e.key + ": " + e.message;
    return false;
  }
  // asio takes the SSL_CTX over and frees it with the context.
  opts.tls = std::make_shared<boost::asio::ssl::context>(ctx.release());
  return true;
}

}  // namespace otlpgate::server
