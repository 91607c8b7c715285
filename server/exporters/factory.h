// The server's exporter factory: builds the configured exporter (otlp, otlphttp, debug).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "core/config/config.h"
#include "core/exporter.h"

namespace otlpgate::server {

// Builds one exporter from its validated config block. The otlphttp exporter runs on `io`; the
// otlp (gRPC) exporter on gRPC's own threads. nullptr and `err` set when the block cannot work
// (a malformed endpoint, an unreadable TLS file); nothing connects here.
std::unique_ptr<Exporter> make_exporter(const config::Exporter& cfg, boost::asio::io_context& io,
                                        std::string* err);

}  // namespace otlpgate::server
