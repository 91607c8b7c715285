// URL handling for the OTLP exporters.
#include "server/exporters/endpoint_url.h"

#include <cctype>

namespace otlpgate::server {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Splits "host:port" / "[v6]:port" / "host". False on an empty host or a bad port.
bool split_authority(std::string_view auth, std::string* host, std::string* port,
                     std::string* err) {
  std::string_view h, p;
  if (!auth.empty() && auth.front() == '[') {
    const auto close = auth.find(']');
    if (close == std::string_view::npos) {
      *err = "unterminated IPv6 address";
      return false;
    }
    h = auth.substr(1, close - 1);
    auto rest = auth.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        *err = "unexpected text after the IPv6 address";
        return false;
      }
      p = rest.substr(1);
      if (p.empty()) {
        *err = "empty port";
        return false;
      }
    }
  } else {
    const auto colon = auth.rfind(':');
    h = auth.substr(0, colon);
    if (colon != std::string_view::npos) {
      p = auth.substr(colon + 1);
      if (p.empty()) {
        *err = "empty port";
        return false;
      }
    }
    if (h.find(':') != std::string_view::npos) {
      *err = "IPv6 addresses need brackets";
      return false;
    }
  }
  if (h.empty()) {
    *err = "no host";
    return false;
  }
  if (!p.empty()) {
    if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoul(std::string(p)) == 0 || std::stoul(std::string(p)) > 65535) {
      *err = "bad port \"" + std::string(p) + "\"";
      return false;
    }
  }
  *host = std::string(h);
  *port = std::string(p);
  return true;
}

}  // namespace

std::optional<HttpTarget> parse_http_url(std::string_view url, std::string* err) {
  HttpTarget t;
  t.url = std::string(url);
  std::string_view rest;
  if (starts_with_ci(url, "https://")) {
    t.tls = true;
    rest = url.substr(8);
  } else if (starts_with_ci(url, "http://")) {
    rest = url.substr(7);
  } else {
    *err = "\"" + std::string(url) + "\" is not an http:// or https:// URL";
    return std::nullopt;
  }
  const auto auth_end = rest.find_first_of("/?#");
  const std::string_view auth = rest.substr(0, auth_end);
  std::string_view tail =
      auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (auth.find('@') != std::string_view::npos) {
    *err = "\"" + std::string(url) + "\": user info in the URL is not supported (use headers)";
    return std::nullopt;
  }
  std::string why;
  std::string port;
  if (!split_authority(auth, &t.host, &port, &why)) {
    *err = "\"" + std::string(url) + "\": " + why;
    return std::nullopt;
  }
  const std::string default_port = t.tls ? "443" : "80";
  t.port = port.empty() ? default_port : port;
  const bool v6 = t.host.find(':') != std::string::npos;
  t.host_header = v6 ? "[" + t.host + "]" : t.host;
  if (t.port != default_port) t.host_header += ":" + t.port;
  if (const auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  if (tail.empty() || tail.front() == '?') {
    t.target = "/" + std::string(tail);
  } else {
    t.target = std::string(tail);
  }
  return t;
}

std::string otlp_http_url(const config::Exporter& cfg, Signal s) {
  if (auto it = cfg.signal_endpoints.find(s);
      it != cfg.signal_endpoints.end() && !it->second.empty()) {
    return it->second;
  }
  std::string url = cfg.endpoint;
  if (url.empty() || url.back() != '/') url += '/';
  url += "v1/";
  url += signal_name(s);
  return url;
}

std::optional<GrpcTarget> parse_grpc_endpoint(std::string_view endpoint, bool insecure,
                                              std::string* err) {
  GrpcTarget t;
  t.tls = !insecure;
  std::string_view auth = endpoint;
  if (starts_with_ci(endpoint, "https://")) {
    t.tls = true;
    auth = endpoint.substr(8);
  } else if (starts_with_ci(endpoint, "http://")) {
    t.tls = false;
    auth = endpoint.substr(7);
  }
  if (!auth.empty() && auth.back() == '/') auth.remove_suffix(1);
  if (auth.find_first_of("/?#@") != std::string_view::npos) {
    *err = "\"" + std::string(endpoint) + "\": expected host:port";
    return std::nullopt;
  }
  std::string host, port, why;
  if (!split_authority(auth, &host, &port, &why)) {
    *err = "\"" + std::string(endpoint) + "\": " + why;
    return std::nullopt;
  }
  if (port.empty()) {
    // configgrpc needs a port; with a URL scheme the scheme's default is the evident meaning.
    if (auth.size() == endpoint.size()) {
      *err = "\"" + std::string(endpoint) + "\": expected host:port";
      return std::nullopt;
    }
    port = t.tls ? "443" : "80";
  }
  t.host = host;
  t.address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  return t;
}

}  // namespace otlpgate::server
