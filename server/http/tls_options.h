// TLS for an HttpServer from a listener's `tls` config block (core/tls/server_context.h).
#pragma once

#include <optional>
#include <string>

#include "core/config/config.h"
#include "server/http/http_server.h"

namespace otlpgate::server {

// Sets opts.tls from `tls` (left unset when the listener has no tls block). False and *err
// ("tls.<key>: <file>: <why>") when the files can no longer be loaded.
bool set_tls(const std::optional<config::TlsServer>& tls, HttpServerOptions& opts,
             std::string* err);

}  // namespace otlpgate::server
