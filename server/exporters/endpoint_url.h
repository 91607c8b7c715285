// Where the OTLP exporters connect: URL parsing and the collector's rules for building the
// per-signal OTLP/HTTP URL and reading the OTLP/gRPC endpoint.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/signal.h"

namespace otlpgate::server {

// An http:// or https:// URL split for a client connection.
struct HttpTarget {
  bool tls = false;
  std::string host;         // name or IP literal, without IPv6 brackets
  std::string port;         // explicit, or 80 / 443 from the scheme
  std::string target;       // path and query ("/" when the URL has none); no fragment
  std::string host_header;  // Host: value ("[::1]:4318"; the port only when not the default)
  std::string url;          // the URL as given, for messages

  // Connections are pooled per scheme, host and port.
  std::string pool_key() const { return (tls ? "https://" : "http://") + host_header + "|" + port; }
};

// Parses an absolute http(s) URL. nullopt and `err` set when it is not one (other schemes, user
// info, empty host, bad port).
std::optional<HttpTarget> parse_http_url(std::string_view url, std::string* err);

// The OTLP/HTTP URL of one signal, as the collector's otlphttp exporter builds it: a
// signal_endpoints entry is used as given; otherwise endpoint + "/v1/<signal>", without doubling
// a trailing slash of the endpoint.
std::string otlp_http_url(const config::Exporter& cfg, Signal s);

// An OTLP/gRPC endpoint: "host:port", or a URL whose scheme picks the transport.
struct GrpcTarget {
  std::string address;  // "host:port" for the channel
  bool tls = true;
  std::string host;  // for messages and the TLS name check
};

// The collector's rules (configgrpc): "http://" means plain text and "https://" TLS; without a
// scheme, tls.insecure decides. A path after the authority is refused.
std::optional<GrpcTarget> parse_grpc_endpoint(std::string_view endpoint, bool insecure,
                                              std::string* err);

}  // namespace otlpgate::server
