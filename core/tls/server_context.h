// The OpenSSL context of a TLS listener, built from its config::TlsServer: the one place that
// reads the certificate, key and client CA files (config loading checks them with it, so that
// `--check` catches a bad file; the HTTP listeners then serve with it).
#pragma once

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "core/config/config.h"

namespace otlpgate::tls {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// What is wrong with a listener's TLS files: the TlsServer key ("cert_file", "key_file",
// "client_ca_file") and a message naming the file and OpenSSL's reason.
struct ContextError {
  std::string key;
  std::string message;
};

// A server SSL_CTX: TLS min_version (1.2 or 1.3) and up, the certificate chain and its private
// key (checked to match), and with client_ca_file, a client certificate signed by one of those
// CAs required on every handshake. nullptr and *err on failure.
SslCtxPtr make_server_context(const config::TlsServer& cfg, ContextError* err);

// The whole content of a (PEM) file; false and *why when it cannot be read.
bool read_file(const std::string& path, std::string& out, std::string* why);

}  // namespace otlpgate::tls
