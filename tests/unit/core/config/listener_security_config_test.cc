// Config of listener security: tls blocks (files checked at load), bearertokenauth extensions,
// receivers' auth.authenticator and pipelines' tenants, with the message of each error.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/config/config.h"
#include "tests/unit/core/tls/tls_test_files.h"

namespace otlpgate::config {
namespace {

using testing::tls_files;

bool load(const std::string& yaml, Config& c, std::string& err) {
  Error e;
  const bool ok = load_string(yaml, "cfg.yaml", c, e);
  err = e.message;
  return ok;
}

// An otlp receiver with `http`/`grpc` lines (indented 6) and a metrics pipeline with `pipeline`
// lines (indented 6), plus `extensions` (top-level YAML) listed in service.extensions.
std::string config_with(const std::string& http, const std::string& grpc = "",
                        const std::string& extensions = "", const std::string& pipeline = "") {
  std::string y = "receivers:\n  otlp:\n    protocols:\n      http:\n" + http;
  if (!grpc.empty()) y += "      grpc:\n" + grpc;
  y += "exporters:\n  debug:\n";
  if (!extensions.empty()) y += "extensions:\n" + extensions;
  y += "service:\n";
  if (!extensions.empty()) y += "  extensions: [bearertokenauth/clients]\n";
  y += "  pipelines:\n    metrics:\n      receivers: [otlp]\n      exporters: [debug]\n" + pipeline;
  return y;
}

std::string tls_block(const std::string& cert, const std::string& key,
                      const std::string& more = "") {
  return "        tls:\n          cert_file: " + cert + "\n          key_file: " + key + "\n" +
         more;
}

const std::string kClients =
    "  bearertokenauth/clients:\n"
    "    tenant_attribute: tenant\n"
    "    tenants:\n"
    "      - {name: team-a, tokens: [a1, a2]}\n"
    "      - {name: team-b, tokens: [b1]}\n";

TEST(ListenerSecurityConfigTest, TlsOnHttpGrpcAndFirehose) {
  const std::string tls = tls_block(
      tls_files().cert, tls_files().key,
      "          client_ca_file: " + tls_files().cert + "\n          min_version: \"1.3\"\n");
  Config c;
  std::string err;
  ASSERT_TRUE(load(config_with(tls, tls_block(tls_files().cert, tls_files().key)), c, err)) << err;
  ASSERT_TRUE(c.receivers[0].http->tls);
  EXPECT_EQ(c.receivers[0].http->tls->client_ca_file, tls_files().cert);
  EXPECT_EQ(c.receivers[0].http->tls->min_version, "1.3");
  ASSERT_TRUE(c.receivers[0].grpc->tls);
  EXPECT_EQ(c.receivers[0].grpc->tls->min_version, "1.2");

  const std::string firehose =
      "receivers:\n  awsfirehose:\n    tls: {cert_file: " + tls_files().cert +
      ", key_file: " + tls_files().key +
      "}\nexporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n"
      "      receivers: [awsfirehose]\n      exporters: [debug]\n";
  ASSERT_TRUE(load(firehose, c, err)) << err;
  ASSERT_TRUE(c.receivers[0].firehose->tls);
}

TEST(ListenerSecurityConfigTest, BadTlsFileNamesTheFileAndTheKey) {
  Config c;
  std::string err;
  EXPECT_FALSE(load(config_with(tls_block("/nonexistent/cert.pem", tls_files().key)), c, err));
  EXPECT_EQ(err,
            "cfg.yaml: receivers.otlp.protocols.http.tls.cert_file: \"/nonexistent/cert.pem\": "
            "cannot read: No such file or directory");
  EXPECT_FALSE(load(config_with(tls_block(tls_files().cert, tls_files().other_key)), c, err));
  EXPECT_NE(err.find("receivers.otlp.protocols.http.tls.key_file: \"" + tls_files().other_key +
                     "\": does not match the certificate"),
            std::string::npos)
      << err;
  EXPECT_FALSE(load(config_with("", tls_block(tls_files().not_pem, tls_files().key)), c, err));
  EXPECT_NE(err.find("receivers.otlp.protocols.grpc.tls.cert_file: \"" + tls_files().not_pem +
                     "\": not a PEM certificate"),
            std::string::npos)
      << err;
}

TEST(ListenerSecurityConfigTest, TlsNeedsCertAndKeyAndAKnownMinVersion) {
  Config c;
  std::string err;
  EXPECT_FALSE(load(config_with("        tls: {key_file: " + tls_files().key + "}\n"), c, err));
  EXPECT_EQ(err,
            "cfg.yaml: receivers.otlp.protocols.http.tls.cert_file: expected a PEM "
            "certificate file; got nothing");
  EXPECT_FALSE(load(
      config_with(tls_block(tls_files().cert, tls_files().key, "          min_version: \"1.1\"\n")),
      c, err));
  EXPECT_EQ(err,
            "cfg.yaml: receivers.otlp.protocols.http.tls.min_version: expected one of 1.2, "
            "1.3; got \"1.1\"");
  EXPECT_FALSE(load(
      config_with(tls_block(tls_files().cert, tls_files().key, "          reload_interval: 1h\n")),
      c, err));
  EXPECT_NE(err.find("tls.reload_interval: unknown key"), std::string::npos) << err;
}

TEST(ListenerSecurityConfigTest, BearerTokenAuthTenantsAndPipelineTenants) {
  Config c;
  std::string err;
  ASSERT_TRUE(load(config_with("        auth: {authenticator: bearertokenauth/clients}\n",
                               "        auth: {authenticator: bearertokenauth/clients}\n", kClients,
                               "      tenants: [team-b]\n"),
                   c, err))
      << err;
  EXPECT_EQ(c.receivers[0].http->authenticator, "bearertokenauth/clients");
  EXPECT_EQ(c.receivers[0].grpc->authenticator, "bearertokenauth/clients");
  const BearerTokenAuth* a = c.find_authenticator("bearertokenauth/clients");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->tenant_attribute, "tenant");
  ASSERT_EQ(a->tenants.size(), 2u);
  EXPECT_EQ(a->tenants[0].name, "team-a");
  EXPECT_EQ(a->tenants[0].tokens, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(c.service.pipelines[0].tenants, std::vector<std::string>{"team-b"});
}

TEST(ListenerSecurityConfigTest, TokensFromEnvAndFiles) {
  const std::string file = tls_files().dir + "/tokens.txt";
  std::ofstream(file) << "  file-token-1\n\nfile-token-2  \n";
  setenv("OTLPGATE_TEST_TOKEN", "env-token", 1);
  Config c;
  std::string err;
  const std::string ext =
      "  bearertokenauth/clients:\n    tenants:\n"
      "      - name: a\n        tokens: [\"${env:OTLPGATE_TEST_TOKEN}\"]\n"
      "        token_files: [" +
      file + "]\n";
  ASSERT_TRUE(load(config_with("        auth: {authenticator: bearertokenauth/clients}\n", "", ext),
                   c, err))
      << err;
  EXPECT_EQ(c.authenticators[0].tenants[0].tokens,
            (std::vector<std::string>{"env-token", "file-token-1", "file-token-2"}));
  unsetenv("OTLPGATE_TEST_TOKEN");
}

TEST(ListenerSecurityConfigTest, AuthErrorsAreNamed) {
  Config c;
  std::string err;
  // An authenticator that is not declared (or not listed in service.extensions).
  EXPECT_FALSE(load(
      config_with("        auth: {authenticator: bearertokenauth/other}\n", "", kClients), c, err));
  EXPECT_EQ(err,
            "cfg.yaml: receivers.otlp.protocols.http.auth.authenticator: expected a "
            "bearertokenauth extension declared under extensions and listed in "
            "service.extensions; got \"bearertokenauth/other\"");
  // A pipeline tenant that no authenticator defines.
  EXPECT_FALSE(load(config_with("        auth: {authenticator: bearertokenauth/clients}\n", "",
                                kClients, "      tenants: [team-c]\n"),
                    c, err));
  EXPECT_EQ(err,
            "cfg.yaml: service.pipelines.metrics.tenants: expected tenants of a "
            "bearertokenauth extension listed in service.extensions; got \"team-c\"");
  // Tenants on a pipeline whose receiver authenticates nobody.
  EXPECT_FALSE(load(config_with("", "", kClients, "      tenants: [team-a]\n"), c, err));
  EXPECT_EQ(err,
            "cfg.yaml: service.pipelines.metrics.receivers: expected receivers with an "
            "auth.authenticator (this pipeline has tenants); got \"otlp\"");
  // One token for two tenants (not printed).
  EXPECT_FALSE(
      load(config_with("", "",
                       "  bearertokenauth/clients:\n    tenants: [{name: a, tokens: [s3cr3t]}, "
                       "{name: b, tokens: [s3cr3t]}]\n"),
           c, err));
  EXPECT_EQ(err,
            "cfg.yaml: extensions.bearertokenauth/clients.tenants.1.tokens: expected tokens "
            "of this tenant only; got one that tenant \"a\" has too");
  // A tenant without tokens; a missing token file; a tenant named twice.
  EXPECT_FALSE(
      load(config_with("", "", "  bearertokenauth/clients:\n    tenants: [{name: a}]\n"), c, err));
  EXPECT_EQ(err,
            "cfg.yaml: extensions.bearertokenauth/clients.tenants.0.tokens: expected at "
            "least one token (tokens or token_files); got none");
  EXPECT_FALSE(load(config_with("", "",
                                "  bearertokenauth/clients:\n    tenants: [{name: a, token_files: "
                                "[/nonexistent/tokens]}]\n"),
                    c, err));
  EXPECT_EQ(err,
            "cfg.yaml: extensions.bearertokenauth/clients.tenants.0.token_files: "
            "\"/nonexistent/tokens\": cannot read: No such file or directory");
  EXPECT_FALSE(load(config_with("", "",
                                "  bearertokenauth/clients:\n    tenants: [{name: a, tokens: [x]}, "
                                "{name: a, tokens: [y]}]\n"),
                    c, err));
  EXPECT_EQ(err,
            "cfg.yaml: extensions.bearertokenauth/clients.tenants.1.name: expected each "
            "tenant name once; got \"a\" twice");
}

TEST(ListenerSecurityConfigTest, GrpcTakesNoMinVersionAbove12) {
  Config c;
  std::string err;
  EXPECT_FALSE(load(config_with("", tls_block(tls_files().cert, tls_files().key,
                                              "          min_version: \"1.3\"\n")),
                    c, err));
  EXPECT_NE(err.find("receivers.otlp.protocols.grpc.tls.min_version: expected \"1.2\" on a gRPC "
                     "listener"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace otlpgate::config
