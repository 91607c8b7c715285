// make_server_context: a good pair loads; each bad file is named with the key it came from.
#include "core/tls/server_context.h"

#include <gtest/gtest.h>

#include "tests/unit/core/tls/tls_test_files.h"

namespace otlpgate::tls {
namespace {

using testing::tls_files;

config::TlsServer good() {
  config::TlsServer t;
  t.cert_file = tls_files().cert;
  t.key_file = tls_files().key;
  return t;
}

TEST(ServerContextTest, CertificateAndMatchingKeyLoad) {
  ContextError e;
  SslCtxPtr ctx = make_server_context(good(), &e);
  ASSERT_TRUE(ctx) << e.key << ": " << e.message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx.get()), SSL_VERIFY_NONE);
}

TEST(ServerContextTest, MinVersionAndClientCa) {
  config::TlsServer t = good();
  t.min_version = "1.3";
  t.client_ca_file = tls_files().cert;
  ContextError e;
  SslCtxPtr ctx = make_server_context(t, &e);
  ASSERT_TRUE(ctx) << e.message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx.get()), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

TEST(ServerContextTest, MissingFileIsNamed) {
  config::TlsServer t = good();
  t.cert_file = tls_files().dir + "/absent.pem";
  ContextError e;
  EXPECT_FALSE(make_server_context(t, &e));
  EXPECT_EQ(e.key, "cert_file");
  EXPECT_NE(e.message.find("absent.pem\": cannot read: No such file"), std::string::npos)
      << e.message;
}

TEST(ServerContextTest, KeyOfAnotherCertificateIsRefused) {
  config::TlsServer t = good();
  t.key_file = tls_files().other_key;
  ContextError e;
  EXPECT_FALSE(make_server_context(t, &e));
  EXPECT_EQ(e.key, "key_file");
  EXPECT_NE(e.message.find("does not match the certificate"), std::string::npos) << e.message;
}

TEST(ServerContextTest, FilesWithoutPemAreRefused) {
  for (const char* key : {"cert_file", "key_file", "client_ca_file"}) {
    config::TlsServer t = good();
    if (key == std::string("cert_file")) t.cert_file = tls_files().not_pem;
    if (key == std::string("key_file")) t.key_file = tls_files().not_pem;
    if (key == std::string("client_ca_file")) t.client_ca_file = tls_files().not_pem;
    ContextError e;
    EXPECT_FALSE(make_server_context(t, &e)) << key;
    EXPECT_EQ(e.key, key);
    EXPECT_NE(e.message.find("not.pem"), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace otlpgate::tls
