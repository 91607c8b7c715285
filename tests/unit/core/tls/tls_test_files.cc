// Test certificates made with OpenSSL's API (no openssl CLI needed by the unit tests).
#include "tests/unit/core/tls/tls_test_files.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace otlpgate::testing {

namespace {

EVP_PKEY* new_key() { return EVP_EC_gen("P-256"); }

void write_key(EVP_PKEY* key, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f || PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("cannot write " + path);
  std::fclose(f);
}

void write_cert(EVP_PKEY* key, const std::string& path) {
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f || PEM_write_X509(f, x) != 1) throw std::runtime_error("cannot write " + path);
  std::fclose(f);
  X509_free(x);
}

TlsFiles make() {
  char tmpl[] = "/tmp/otlpgate-tls-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  TlsFiles t;
  t.dir = tmpl;
  t.cert = t.dir + "/cert.pem";
  t.key = t.dir + "/key.pem";
  t.other_key = t.dir + "/other_key.pem";
  t.not_pem = t.dir + "/not.pem";
  EVP_PKEY* key = new_key();
  EVP_PKEY* other = new_key();
  write_key(key, t.key);
  write_cert(key, t.cert);
  write_key(other, t.other_key);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other);
  std::ofstream(t.not_pem) << "hello\n";
  return t;
}

}  // namespace

const TlsFiles& tls_files() {
  static const TlsFiles files = make();
  return files;
}

}  // namespace otlpgate::testing
