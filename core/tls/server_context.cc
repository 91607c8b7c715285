// Server SSL_CTX construction (see server_context.h); OpenSSL's error queue becomes the message.
#include "core/tls/server_context.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace otlpgate::tls {

namespace {

// The reasons OpenSSL queued for the last failure, "; "-joined, and the queue emptied.
std::string openssl_reason() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

bool fail(ContextError* err, std::string key, const std::string& file, std::string what) {
  if (err) *err = {std::move(key), "\"" + file + "\": " + std::move(what)};
  ERR_clear_error();
  return false;
}

// Reading first gives "cannot read: No such file" rather than OpenSSL's "system lib" reasons.
bool readable(ContextError* err, const std::string& key, const std::string& file) {
  std::string content, why;
  if (!read_file(file, content, &why)) return fail(err, key, file, why);
  return true;
}

}  // namespace

bool read_file(const std::string& path, std::string& out, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (why) *why = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    if (why) *why = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  out = text.str();
  return true;
}

SslCtxPtr make_server_context(const config::TlsServer& cfg, ContextError* err) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    if (err) *err = {"", "cannot create a TLS context: " + openssl_reason()};
    return nullptr;
  }
  // Never below TLS 1.2, whatever min_version says (the config only takes 1.2 and 1.3).
  const int min = cfg.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx.get(), min);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);

  if (!readable(err, "cert_file", cfg.cert_file)) return nullptr;
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cfg.cert_file.c_str()) != 1) {
    fail(err, "cert_file", cfg.cert_file, "not a PEM certificate: " + openssl_reason());
    return nullptr;
  }
  if (!readable(err, "key_file", cfg.key_file)) return nullptr;
  // Read apart from the context, so that a key of another certificate is told from no key.
  EVP_PKEY* key = nullptr;
  if (FILE* f = std::fopen(cfg.key_file.c_str(), "r")) {
    key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
  }
  if (key == nullptr) {
    fail(err, "key_file", cfg.key_file, "not a PEM private key: " + openssl_reason());
    return nullptr;
  }
  const bool matches = X509_check_private_key(SSL_CTX_get0_certificate(ctx.get()), key) == 1;
  if (matches) SSL_CTX_use_PrivateKey(ctx.get(), key);
  EVP_PKEY_free(key);
  if (!matches || SSL_CTX_check_private_key(ctx.get()) != 1) {
    fail(err, "key_file", cfg.key_file,
         "does not match the certificate in \"" + cfg.cert_file + "\": " + openssl_reason());
    return nullptr;
  }
  if (!cfg.client_ca_file.empty()) {
    if (!readable(err, "client_ca_file", cfg.client_ca_file)) return nullptr;
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.client_ca_file.c_str());
    if (names == nullptr ||
        SSL_CTX_load_verify_locations(ctx.get(), cfg.client_ca_file.c_str(), nullptr) != 1) {
      if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
      fail(err, "client_ca_file", cfg.client_ca_file,
           "no PEM CA certificate in it: " + openssl_reason());
      return nullptr;
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);  // takes ownership
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

}  // namespace otlpgate::tls
