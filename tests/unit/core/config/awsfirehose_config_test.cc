// receivers.awsfirehose: defaults, every option, the access key from the environment, and the
// errors that name the key.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "core/config/config.h"

namespace otlpgate::config {
namespace {

using namespace std::chrono_literals;

// A config with `receiver_block` under receivers.awsfirehose and a `signal` pipeline using it.
std::string firehose_config(const std::string& receiver_block,
                            const std::string& signal = "metrics") {
  return "receivers:\n  awsfirehose:\n" + receiver_block +
         "exporters:\n  debug:\nservice:\n  pipelines:\n    " + signal +
         ":\n      receivers: [awsfirehose]\n      exporters: [debug]\n";
}

bool load(const std::string& yaml, Config& c, std::string* error) {
  Error e;
  const bool ok = load_string(yaml, "cfg.yaml", c, e);
  if (error) *error = e.message;
  return ok;
}

const FirehoseServer& firehose_of(const Config& c) {
  EXPECT_EQ(c.receivers.size(), 1u);
  EXPECT_EQ(c.receivers.at(0).type, ReceiverType::awsfirehose);
  EXPECT_TRUE(c.receivers.at(0).firehose.has_value());
  return *c.receivers.at(0).firehose;
}

TEST(FirehoseConfig, EmptyBlockGetsTheDefaults) {
  Config c;
  std::string e;
  ASSERT_TRUE(load(firehose_config(""), c, &e)) << e;
  const FirehoseServer& f = firehose_of(c);
  EXPECT_EQ(f.endpoint, "127.0.0.1:4433");
  EXPECT_EQ(f.encoding, "auto");
  EXPECT_EQ(f.access_key, "");
  EXPECT_FALSE(f.reject_invalid_records);
  EXPECT_EQ(f.max_request_body_size, 64u << 20);
  EXPECT_EQ(f.dedup_window, 2h);
  EXPECT_EQ(f.dedup_max_entries, 100000u);
  EXPECT_FALSE(c.receivers[0].grpc || c.receivers[0].http);
}

TEST(FirehoseConfig, EveryOption) {
  setenv("OTLPGATE_TEST_FIREHOSE_KEY", "s3cr3t", 1);
  Config c;
  std::string e;
  ASSERT_TRUE(load(firehose_config(R"(    endpoint: 0.0.0.0:8443
    encoding: otlp_v1
    access_key: ${env:OTLPGATE_TEST_FIREHOSE_KEY}
    on_invalid_record: reject
    max_request_body_size: 1048576
    request_id_dedup:
      window: 30m
      max_entries: 500
)",
                                   "logs"),
                   c, &e))
      << e;
  unsetenv("OTLPGATE_TEST_FIREHOSE_KEY");
  const FirehoseServer& f = firehose_of(c);
  EXPECT_EQ(f.endpoint, "0.0.0.0:8443");
  EXPECT_EQ(f.encoding, "otlp_v1");
  EXPECT_EQ(f.access_key, "s3cr3t");
  EXPECT_TRUE(f.reject_invalid_records);
  EXPECT_EQ(f.max_request_body_size, 1048576u);
  EXPECT_EQ(f.dedup_window, 30min);
  EXPECT_EQ(f.dedup_max_entries, 500u);
}

TEST(FirehoseConfig, ErrorsNameTheKey) {
  struct Case {
    std::string block, signal, want;
  };
  const Case cases[] = {
      {"    encoding: json\n", "metrics",
       "receivers.awsfirehose.encoding: expected one of auto, cwmetrics"},
      {"    on_invalid_record: skip\n", "metrics",
       "receivers.awsfirehose.on_invalid_record: expected one of drop, reject"},
      {"    protocols:\n      http:\n", "metrics", "receivers.awsfirehose.protocols: unknown key"},
      {"    tls:\n      cert_file: a.pem\n", "metrics",
       "receivers.awsfirehose.tls.key_file: expected a PEM private key file; got nothing"},
      {"    max_request_body_size: 10\n", "metrics",
       "receivers.awsfirehose.max_request_body_size: expected an integer"},
      {"    request_id_dedup:\n      ttl: 1h\n", "metrics",
       "receivers.awsfirehose.request_id_dedup.ttl: unknown key"},
      {"    access_key: ${env:OTLPGATE_TEST_FIREHOSE_UNSET}\n", "metrics",
       "OTLPGATE_TEST_FIREHOSE_UNSET to be set"},
      {"", "traces", "service.pipelines.traces.receivers: expected receivers of traces"},
  };
  for (const Case& k : cases) {
    Config c;
    std::string e;
    EXPECT_FALSE(load(firehose_config(k.block, k.signal), c, &e)) << k.block;
    EXPECT_NE(e.find(k.want), std::string::npos) << e;
  }
}

TEST(FirehoseConfig, ASecretFromTheEnvironmentIsNeverPrinted) {
  setenv("OTLPGATE_TEST_FIREHOSE_KEY", "s3cr3t", 1);
  Config c;
  std::string e;
  // A value that is wrong after substitution is shown as written, not as substituted.
  EXPECT_FALSE(load(
      firehose_config("    max_request_body_size: ${env:OTLPGATE_TEST_FIREHOSE_KEY}\n"), c, &e));
  EXPECT_NE(e.find("max_request_body_size"), std::string::npos) << e;
  unsetenv("OTLPGATE_TEST_FIREHOSE_KEY");
  EXPECT_EQ(e.find("s3cr3t"), std::string::npos) << e;
}

}  // namespace
}  // namespace otlpgate::config
