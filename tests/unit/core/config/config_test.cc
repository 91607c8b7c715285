// Tests of config loading: defaults, every option, ${env:…} substitution, each error's message,
// and the documented seed-000 exporter blocks.
#include "core/config/config.h"

#include <cstdlib>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace otlpgate::config {
namespace {

using namespace std::chrono_literals;

const std::string kReceiver = R"(
receivers:
  otlp:
    protocols:
      grpc:
      http:
)";

// Sets (or, with nullptr, unsets) an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_.c_str(), old_->c_str(), 1);
    else
      unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

Config load_ok(const std::string& yaml) {
  Config c;
  Error e;
  EXPECT_TRUE(load_string(yaml, "cfg.yaml", c, e)) << e.message;
  return c;
}

std::string load_err(const std::string& yaml) {
  Config c;
  Error e;
  EXPECT_FALSE(load_string(yaml, "cfg.yaml", c, e));
  return e.message;
}

// A config with one otlp receiver, the given exporters block, and a pipeline using `exporter`.
std::string with_exporter(const std::string& exporters, const std::string& exporter = "x",
                          const std::string& signal = "metrics") {
  return kReceiver + "exporters:\n" + exporters + R"(
service:
  pipelines:
    )" + signal +
         R"(:
      receivers: [otlp]
      exporters: [)" +
         exporter + "]\n";
}

TEST(ConfigDefaults, MinimalConfigGetsTheCollectorDefaults) {
  const Config c = load_ok(kReceiver + R"(
exporters:
  otlphttp:
    endpoint: https://backend.example
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp]
)");
  EXPECT_EQ(c.source, "cfg.yaml");
  ASSERT_EQ(c.receivers.size(), 1u);
  const Receiver& r = c.receivers[0];
  EXPECT_EQ(r.id, "otlp");
  ASSERT_TRUE(r.grpc && r.http);
  EXPECT_EQ(r.grpc->endpoint, "0.0.0.0:4317");
  EXPECT_EQ(r.grpc->max_recv_msg_size_mib, 16u);
  EXPECT_EQ(r.http->endpoint, "0.0.0.0:4318");
  EXPECT_EQ(r.http->max_request_body_size, 20u << 20);

  const Exporter* e = c.find_exporter("otlphttp");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, ExporterType::otlphttp);
  EXPECT_EQ(e->compression, Compression::gzip);
  EXPECT_EQ(e->timeout, 5s);
  EXPECT_TRUE(e->sending_queue.enabled);
  EXPECT_EQ(e->sending_queue.num_consumers, 10);
  EXPECT_EQ(e->sending_queue.queue_size, 1000);
  EXPECT_TRUE(e->retry_on_failure.enabled);
  EXPECT_EQ(e->retry_on_failure.initial_interval, 5s);
  EXPECT_EQ(e->retry_on_failure.max_interval, 30s);
  EXPECT_EQ(e->retry_on_failure.max_elapsed_time, 300s);
  EXPECT_DOUBLE_EQ(e->retry_on_failure.multiplier, 1.5);
  EXPECT_DOUBLE_EQ(e->retry_on_failure.randomization_factor, 0.5);
  EXPECT_FALSE(e->tls.insecure);
  EXPECT_TRUE(e->headers.empty());

  EXPECT_FALSE(c.health_check);
  EXPECT_EQ(c.service.io_threads, 0);
  EXPECT_EQ(c.service.shutdown_timeout, 30s);
  EXPECT_EQ(c.service.log_level, "info");
  ASSERT_EQ(c.service.pipelines.size(), 1u);
  EXPECT_EQ(c.service.pipelines[0].id, "traces");
  EXPECT_EQ(c.service.pipelines[0].signal, Signal::traces);
}

TEST(ConfigReceivers, OnlyTheGivenProtocolsArePresent) {
  const Config c = load_ok(R"(
receivers:
  otlp/internal:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        max_request_body_size: 1048576
        read_timeout: 10s
        idle_timeout: 1m
        max_header_size: 8192
  otlp:
    protocols:
      grpc:
        endpoint: "[::1]:4317"
        max_recv_msg_size_mib: 4
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp, otlp/internal]
      exporters: [debug]
)");
  const Receiver* in = c.find_receiver("otlp/internal");
  ASSERT_NE(in, nullptr);
  EXPECT_FALSE(in->grpc);
  ASSERT_TRUE(in->http);
  EXPECT_EQ(in->http->endpoint, "127.0.0.1:0");
  EXPECT_EQ(in->http->max_request_body_size, 1048576u);
  EXPECT_EQ(in->http->read_timeout, 10s);
  EXPECT_EQ(in->http->idle_timeout, 60s);
  EXPECT_EQ(in->http->max_header_size, 8192u);
  const Receiver* o = c.find_receiver("otlp");
  ASSERT_NE(o, nullptr);
  ASSERT_TRUE(o->grpc);
  EXPECT_FALSE(o->http);
  EXPECT_EQ(o->grpc->endpoint, "[::1]:4317");
  EXPECT_EQ(o->grpc->max_recv_msg_size_mib, 4u);
  EXPECT_EQ(c.find_receiver("nope"), nullptr);
}

// What follows a receivers: block in the receiver tests: receiver otlp feeding a debug exporter.
const std::string kOtlpToDebug = R"(
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [debug]
)";

// A config whose receiver otlp has the HTTP block `http_block` (indented 8).
std::string http_receiver(const std::string& http_block) {
  return "receivers:\n  otlp:\n    protocols:\n      http:\n" + http_block + kOtlpToDebug;
}

TEST(ConfigReceivers, HttpListenerLimitsHaveDefaults) {
  const Config c = load_ok(http_receiver("        endpoint: 127.0.0.1:0\n"));
  const HttpServer& h = *c.receivers.at(0).http;
  EXPECT_EQ(h.max_request_body_size, 20u << 20);
  EXPECT_EQ(h.max_compressed_body_size, 20u << 20);
  EXPECT_EQ(h.read_timeout, 30s);
  EXPECT_EQ(h.idle_timeout, 120s);
  EXPECT_EQ(h.write_timeout, 30s);
  EXPECT_EQ(h.max_header_size, 64u << 10);
  EXPECT_EQ(h.max_connections, 10000u);
  EXPECT_EQ(h.max_requests_in_flight, 1024u);
}

TEST(ConfigReceivers, EveryHttpListenerLimitIsRead) {
  const Config c = load_ok(http_receiver(R"(        max_request_body_size: 4096
        max_compressed_body_size: 1024
        read_timeout: 2s
        idle_timeout: 3s
        write_timeout: 4s
        max_header_size: 2048
        max_connections: 5
        max_requests_in_flight: 6
)"));
  const HttpServer& h = *c.receivers.at(0).http;
  EXPECT_EQ(h.max_request_body_size, 4096u);
  EXPECT_EQ(h.max_compressed_body_size, 1024u);
  EXPECT_EQ(h.read_timeout, 2s);
  EXPECT_EQ(h.idle_timeout, 3s);
  EXPECT_EQ(h.write_timeout, 4s);
  EXPECT_EQ(h.max_header_size, 2048u);
  EXPECT_EQ(h.max_connections, 5u);
  EXPECT_EQ(h.max_requests_in_flight, 6u);
}

TEST(ConfigReceivers, CompressedBodyLimitFollowsTheBodyLimitUnlessGiven) {
  const Config c = load_ok(http_receiver("        max_request_body_size: 4096\n"));
  EXPECT_EQ(c.receivers.at(0).http->max_compressed_body_size, 4096u);
}

TEST(ConfigErrors, HttpListenerLimitsAreChecked) {
  EXPECT_EQ(load_err(http_receiver("        read_timeout: 0s\n")),
            "cfg.yaml: receivers.otlp.protocols.http.read_timeout: expected a duration of at "
            "least 1ms, such as \"30s\"; got \"0s\"");
  EXPECT_EQ(load_err(http_receiver("        max_connections: 0\n")),
            "cfg.yaml: receivers.otlp.protocols.http.max_connections: expected an integer from 1 "
            "to 1000000; got \"0\"");
  EXPECT_EQ(load_err(http_receiver("        max_in_flight: 3\n")),
            "cfg.yaml: receivers.otlp.protocols.http.max_in_flight: unknown key; expected one of "
            "endpoint, max_request_body_size, max_compressed_body_size, read_timeout, "
            "idle_timeout, write_timeout, max_header_size, max_connections, "
            "max_requests_in_flight, tls, auth");
}

TEST(ConfigExporters, EveryOtlpHttpOptionIsRead) {
  const Config c = load_ok(with_exporter(R"(
  otlphttp/x:
    endpoint: http://localhost:4318
    traces_endpoint: https://t.example/v1/traces
    metrics_endpoint: https://m.example/custom
    logs_endpoint: https://l.example/v1/logs
    headers:
      Authorization: Bearer abc
      x-tenant: "7"
    compression: zstd
    timeout: 1m30s
    tls:
      insecure: true
      insecure_skip_verify: true
      ca_file: /etc/ca.pem
      cert_file: /etc/c.pem
      key_file: /etc/k.pem
      server_name_override: backend.internal
    sending_queue:
      enabled: false
      num_consumers: 3
      queue_size: 50
    retry_on_failure:
      enabled: false
      initial_interval: 500ms
      max_interval: 2h
      max_elapsed_time: 0
      multiplier: 2
      randomization_factor: 0.1
)",
                                         "otlphttp/x"));
  const Exporter* e = c.find_exporter("otlphttp/x");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->endpoint, "http://localhost:4318");
  EXPECT_EQ(e->signal_endpoints.at(Signal::traces), "https://t.example/v1/traces");
  EXPECT_EQ(e->signal_endpoints.at(Signal::metrics), "https://m.example/custom");
  EXPECT_EQ(e->signal_endpoints.at(Signal::logs), "https://l.example/v1/logs");
  EXPECT_EQ(e->headers.at("Authorization"), "Bearer abc");
  EXPECT_EQ(e->headers.at("x-tenant"), "7");
  EXPECT_EQ(e->compression, Compression::zstd);
  EXPECT_EQ(e->timeout, 90s);
  EXPECT_TRUE(e->tls.insecure);
  EXPECT_TRUE(e->tls.insecure_skip_verify);
  EXPECT_EQ(e->tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(e->tls.cert_file, "/etc/c.pem");
  EXPECT_EQ(e->tls.key_file, "/etc/k.pem");
  EXPECT_EQ(e->tls.server_name_override, "backend.internal");
  EXPECT_FALSE(e->sending_queue.enabled);
  EXPECT_EQ(e->sending_queue.num_consumers, 3);
  EXPECT_EQ(e->sending_queue.queue_size, 50);
  EXPECT_FALSE(e->retry_on_failure.enabled);
  EXPECT_EQ(e->retry_on_failure.initial_interval, 500ms);
  EXPECT_EQ(e->retry_on_failure.max_interval, 2h);
  EXPECT_EQ(e->retry_on_failure.max_elapsed_time, 0ms);
  EXPECT_DOUBLE_EQ(e->retry_on_failure.multiplier, 2.0);
  EXPECT_DOUBLE_EQ(e->retry_on_failure.randomization_factor, 0.1);
}

TEST(ConfigExporters, OtlpAndDebugExporters) {
  const Config c = load_ok(kReceiver + R"(
exporters:
  otlp:
    endpoint: backend:4317
    compression: none
    tls:
      insecure: true
  debug/loud:
    verbosity: detailed
  debug:
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [otlp, debug/loud, debug]
)");
  const Exporter* o = c.find_exporter("otlp");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->type, ExporterType::otlp);
  EXPECT_EQ(o->endpoint, "backend:4317");
  EXPECT_EQ(o->compression, Compression::none);
  EXPECT_TRUE(o->tls.insecure);
  ASSERT_NE(c.find_exporter("debug/loud"), nullptr);
  EXPECT_EQ(c.find_exporter("debug/loud")->type, ExporterType::debug);
  EXPECT_EQ(c.find_exporter("debug/loud")->verbosity, "detailed");
  EXPECT_EQ(c.find_exporter("debug")->verbosity, "basic");
  // Declaration order is kept: the runtime builds exporters in the order the user wrote them.
  ASSERT_EQ(c.exporters.size(), 3u);
  EXPECT_EQ(c.exporters[1].id, "debug/loud");
  EXPECT_EQ(c.service.pipelines[0].exporters,
            (std::vector<std::string>{"otlp", "debug/loud", "debug"}));
}

TEST(ConfigExporters, OtlpHttpWithOnlySignalEndpointsServesThoseSignals) {
  const Config c = load_ok(with_exporter(R"(
  otlphttp:
    logs_endpoint: https://l.example/ingest
)",
                                         "otlphttp", "logs"));
  EXPECT_TRUE(c.find_exporter("otlphttp")->endpoint.empty());
  EXPECT_EQ(load_err(with_exporter(R"(
  otlphttp:
    logs_endpoint: https://l.example/ingest
)",
                                   "otlphttp", "traces")),
            "cfg.yaml: exporters.otlphttp.traces_endpoint: expected an endpoint for traces (used "
            "by service.pipelines.traces); got nothing");
}

TEST(ConfigDurations, GoSyntax) {
  struct Case {
    const char* text;
    Millis want;
  };
  for (const Case& k : {Case{"5s", 5s}, Case{"500ms", 500ms}, Case{"1m30s", 90s}, Case{"2h", 2h},
                        Case{"1.5s", 1500ms}, Case{"0", 0ms}, Case{"250000us", 250ms},
                        Case{"1h0m0.5s", 3600500ms}}) {
    const Config c = load_ok(with_exporter(
        std::string("  debug:\n") + "  otlp:\n    endpoint: a:1\n    timeout: \"" + k.text + "\"\n",
        "otlp"));
    EXPECT_EQ(c.find_exporter("otlp")->timeout, k.want) << k.text;
  }
  for (const char* bad : {"5", "soon", "5 s", "1d", "-5s", "s", "1..5s", ""}) {
    const std::string msg = load_err(with_exporter(
        std::string("  otlp:\n    endpoint: a:1\n    timeout: \"") + bad + "\"\n", "otlp"));
    EXPECT_EQ(msg, std::string("cfg.yaml: exporters.otlp.timeout: expected a duration such as "
                               "\"5s\", \"500ms\" or \"1m30s\"; got \"") +
                       bad + "\"");
  }
}

TEST(ConfigEnv, SubstitutesEveryScalarWithDefaults) {
  ScopedEnv token("OTLPGATE_TEST_TOKEN", "s3cret");
  ScopedEnv port("OTLPGATE_TEST_PORT", nullptr);
  ScopedEnv empty("OTLPGATE_TEST_EMPTY", "");
  ScopedEnv q("OTLPGATE_TEST_QUEUE", "77");
  const Config c = load_ok(R"(
receivers:
  otlp:
    protocols:
      http:
        endpoint: "127.0.0.1:${env:OTLPGATE_TEST_PORT:-4999}"
exporters:
  otlphttp:
    endpoint: "https://${env:OTLPGATE_TEST_EMPTY:-fallback.example}"
    headers:
      Authorization: "Bearer ${env:OTLPGATE_TEST_TOKEN}"
      x-literal: "$$5 and $${env:NOT_EXPANDED} and a lone $ sign"
      x-empty: "[${env:OTLPGATE_TEST_EMPTY}]"
      x-bare: "${OTLPGATE_TEST_TOKEN}"
    sending_queue:
      queue_size: ${env:OTLPGATE_TEST_QUEUE}
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [otlphttp]
)");
  EXPECT_EQ(c.receivers[0].http->endpoint, "127.0.0.1:4999");
  const Exporter* e = c.find_exporter("otlphttp");
  // A set but empty variable takes the default, as in the shell's ${NAME:-default}.
  EXPECT_EQ(e->endpoint, "https://fallback.example");
  EXPECT_EQ(e->headers.at("Authorization"), "Bearer s3cret");
  EXPECT_EQ(e->headers.at("x-literal"), "$5 and ${env:NOT_EXPANDED} and a lone $ sign");
  EXPECT_EQ(e->headers.at("x-empty"), "[]");
  EXPECT_EQ(e->headers.at("x-bare"), "s3cret");
  EXPECT_EQ(e->sending_queue.queue_size, 77);
}

TEST(ConfigEnv, UndefinedVariableIsAnErrorNamingIt) {
  ScopedEnv unset("OTLPGATE_TEST_UNSET", nullptr);
  EXPECT_EQ(
      load_err(with_exporter(R"(
  otlphttp:
    endpoint: https://b.example
    headers:
      Authorization: "Bearer ${env:OTLPGATE_TEST_UNSET}"
)",
                             "otlphttp")),
      "cfg.yaml: exporters.otlphttp.headers.Authorization: expected environment variable "
      "OTLPGATE_TEST_UNSET to be set; got it unset (write ${env:OTLPGATE_TEST_UNSET:-default} "
      "for a default)");
}

TEST(ConfigEnv, ABadSubstitutedValueIsReportedWithoutTheValue) {
  ScopedEnv secret("OTLPGATE_TEST_SECRET", "hunter2");
  const std::string msg = load_err(with_exporter(R"(
  otlp:
    endpoint: a:1
    compression: "${env:OTLPGATE_TEST_SECRET}"
)",
                                                 "otlp"));
  EXPECT_EQ(msg,
            "cfg.yaml: exporters.otlp.compression: expected one of none, gzip, zstd; got "
            "\"${env:OTLPGATE_TEST_SECRET}\" (after substitution)");
  EXPECT_EQ(msg.find("hunter2"), std::string::npos);
}

TEST(ConfigEnv, OtherProvidersAndMalformedReferencesAreErrors) {
  EXPECT_EQ(load_err(with_exporter("  otlp:\n    endpoint: \"${file:/etc/x}\"\n", "otlp")),
            "cfg.yaml: exporters.otlp.endpoint: expected ${env:NAME} or ${env:NAME:-default}; got "
            "\"${file:/etc/x}\"");
  EXPECT_EQ(load_err(with_exporter("  otlp:\n    endpoint: \"${env:OPEN\"\n", "otlp")),
            "cfg.yaml: exporters.otlp.endpoint: expected ${env:NAME} or ${env:NAME:-default}; got "
            "\"${env:OPEN\"");
  EXPECT_EQ(load_err(with_exporter("  otlp:\n    endpoint: \"${env:9BAD}\"\n", "otlp")),
            "cfg.yaml: exporters.otlp.endpoint: expected ${env:NAME} or ${env:NAME:-default}; got "
            "\"${env:9BAD}\"");
}

TEST(ConfigErrors, UnknownKeysNameTheirPath) {
  EXPECT_EQ(load_err(with_exporter("  otlphttp:\n    endpiont: https://b.example\n", "otlphttp")),
            "cfg.yaml: exporters.otlphttp.endpiont: unknown key; expected one of endpoint, "
            "traces_endpoint, metrics_endpoint, logs_endpoint, headers, compression, timeout, tls, "
            "sending_queue, retry_on_failure");
  EXPECT_EQ(
      load_err(with_exporter("  otlp:\n    endpoint: a:1\n    tls:\n      verify: true\n", "otlp")),
      "cfg.yaml: exporters.otlp.tls.verify: unknown key; expected one of insecure, "
      "insecure_skip_verify, ca_file, cert_file, key_file, server_name_override");
  EXPECT_EQ(load_err(with_exporter("  debug:\n    endpoint: x\n", "debug")),
            "cfg.yaml: exporters.debug.endpoint: unknown key; expected one of verbosity");
  EXPECT_EQ(load_err(kReceiver + "connectors:\n  x:\n"),
            "cfg.yaml: connectors: unknown key; expected one of receivers, processors, exporters, "
            "extensions, service");
  EXPECT_EQ(load_err(with_exporter("  debug:\n", "debug") + "  telemetry:\n    traces: {}\n"),
            "cfg.yaml: service.telemetry.traces: unknown key; expected one of logs, metrics");
}

TEST(ConfigErrors, BadValuesSayWhatWasExpectedAndWhatCame) {
  EXPECT_EQ(load_err(with_exporter(
                "  otlphttp/x:\n    endpoint: https://b\n    compression: brotli\n", "otlphttp/x")),
            "cfg.yaml: exporters.otlphttp/x.compression: expected one of none, gzip, zstd; got "
            "\"brotli\"");
  EXPECT_EQ(load_err(with_exporter("  otlphttp:\n    endpoint: b.example:4318\n", "otlphttp")),
            "cfg.yaml: exporters.otlphttp.endpoint: expected a URL starting with http:// or "
            "https://; got \"b.example:4318\"");
  EXPECT_EQ(load_err(with_exporter("  otlp:\n    endpoint: a:1\n    tls:\n      insecure: yes\n",
                                   "otlp")),
            "cfg.yaml: exporters.otlp.tls.insecure: expected true or false; got \"yes\"");
  EXPECT_EQ(
      load_err(with_exporter(
          "  otlp:\n    endpoint: a:1\n    sending_queue:\n      queue_size: lots\n", "otlp")),
      "cfg.yaml: exporters.otlp.sending_queue.queue_size: expected an integer from 1 to "
      "100000000; got \"lots\"");
  EXPECT_EQ(
      load_err(with_exporter(
          "  otlp:\n    endpoint: a:1\n    retry_on_failure:\n      randomization_factor: 2\n",
          "otlp")),
      "cfg.yaml: exporters.otlp.retry_on_failure.randomization_factor: expected a number "
      "from 0 to 1; got \"2\"");
  EXPECT_EQ(load_err(with_exporter("  otlp:\n    compression: gzip\n", "otlp")),
            "cfg.yaml: exporters.otlp.endpoint: expected an endpoint such as \"backend:4317\" or "
            "\"https://backend:4317\"; got nothing");
  EXPECT_EQ(load_err(with_exporter("  otlp:\n", "otlp")),
            "cfg.yaml: exporters.otlp.endpoint: expected an endpoint such as \"backend:4317\" or "
            "\"https://backend:4317\"; got nothing");
  EXPECT_EQ(load_err(with_exporter("  otlphttp:\n", "otlphttp")),
            "cfg.yaml: exporters.otlphttp.endpoint: expected an endpoint (or traces_endpoint, "
            "metrics_endpoint, logs_endpoint); got nothing");
  EXPECT_EQ(load_err(with_exporter("  otlp:\n    endpoint: a:1\n    headers: [a, b]\n", "otlp")),
            "cfg.yaml: exporters.otlp.headers: expected a mapping of header names to values; got "
            "a list");
  EXPECT_EQ(load_err(with_exporter("  kafka:\n    brokers: [a]\n", "kafka")),
            "cfg.yaml: exporters.kafka: expected an exporter of type otlp, otlphttp or debug; got "
            "\"kafka\"");
  EXPECT_EQ(
      load_err(with_exporter("  otlp:\n    endpoint: a:1\n    tls:\n      cert_file: c\n", "otlp")),
      "cfg.yaml: exporters.otlp.tls.key_file: expected cert_file and key_file together; got "
      "only one of them");
  EXPECT_EQ(load_err(with_exporter("  debug:\n    verbosity: loud\n", "debug")),
            "cfg.yaml: exporters.debug.verbosity: expected one of basic, normal, detailed; got "
            "\"loud\"");
}

TEST(ConfigErrors, ReceiverProblems) {
  const std::string& rest = kOtlpToDebug;
  EXPECT_EQ(load_err("receivers:\n  otlp:\n" + rest),
            "cfg.yaml: receivers.otlp.protocols: expected at least one of grpc, http; got none");
  EXPECT_EQ(load_err("receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: "
                     "localhost\n" +
                     rest),
            "cfg.yaml: receivers.otlp.protocols.http.endpoint: expected host:port such as "
            "\"0.0.0.0:4317\"; got \"localhost\"");
  EXPECT_EQ(load_err("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: "
                     "\"a:99999\"\n" +
                     rest),
            "cfg.yaml: receivers.otlp.protocols.grpc.endpoint: expected host:port such as "
            "\"0.0.0.0:4317\"; got \"a:99999\"");
  EXPECT_EQ(load_err("receivers:\n  jaeger:\n    protocols: {}\n" + rest),
            "cfg.yaml: receivers.jaeger: expected a receiver of type otlp or awsfirehose; got \"jaeger\"");
  EXPECT_EQ(load_err("receivers:\n  otlp:\n    protocols:\n      thrift:\n" + rest),
            "cfg.yaml: receivers.otlp.protocols.thrift: unknown key; expected one of grpc, http");
}

TEST(ConfigErrors, PipelineReferencesMustBeDeclaredAndListsNonEmpty) {
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug, otlp/missing]
)"),
            "cfg.yaml: service.pipelines.logs.exporters: expected an exporter declared under "
            "exporters; got \"otlp/missing\"");
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp, otlp/other]
      exporters: [debug]
)"),
            "cfg.yaml: service.pipelines.logs.receivers: expected a receiver declared under "
            "receivers; got \"otlp/other\"");
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [filter/x]
      exporters: [debug]
)"),
            "cfg.yaml: service.pipelines.logs.processors: expected a processor declared under "
            "processors; got \"filter/x\"");
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: []
)"),
            "cfg.yaml: service.pipelines.logs.exporters: expected a non-empty list of exporters; "
            "got a list");
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  pipelines:
    logs:
      exporters: [debug]
)"),
            "cfg.yaml: service.pipelines.logs.receivers: expected a non-empty list of receivers; "
            "got nothing");
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug, debug]
)"),
            "cfg.yaml: service.pipelines.logs.exporters: expected each name once; got \"debug\" "
            "twice");
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  pipelines:
    profiles:
      receivers: [otlp]
      exporters: [debug]
)"),
            "cfg.yaml: service.pipelines.profiles: expected a pipeline id of metrics, traces or "
            "logs, optionally followed by /name; got \"profiles\"");
  EXPECT_EQ(load_err(kReceiver + "exporters:\n  debug:\nservice:\n  extensions: []\n"),
            "cfg.yaml: service.pipelines: expected at least one pipeline (metrics, traces or "
            "logs); got none");
  EXPECT_EQ(load_err(kReceiver + "exporters:\n  debug:\n"),
            "cfg.yaml: service: expected a mapping with pipelines; got nothing");
}

TEST(ConfigErrors, DuplicateKeysAndBadYaml) {
  EXPECT_EQ(load_err(with_exporter("  otlp:\n    endpoint: a:1\n    endpoint: b:2\n", "otlp")),
            "cfg.yaml: exporters.otlp.endpoint: key given twice");
  const std::string msg = load_err("receivers: [unclosed\n");
  EXPECT_EQ(msg.rfind("cfg.yaml:", 0), 0u) << msg;
  EXPECT_NE(msg.find("invalid YAML"), std::string::npos) << msg;
  EXPECT_EQ(load_err("- a\n- b\n"),
            "cfg.yaml: (top level): expected a mapping with receivers, exporters and service; got "
            "a list");
  EXPECT_EQ(load_err(""),
            "cfg.yaml: (top level): expected a mapping with receivers, exporters and service; got "
            "an empty document");
}

TEST(ConfigPipelines, NamedPipelinesAndProcessors) {
  ScopedEnv v("OTLPGATE_TEST_ENV_KEY", "deployment.environment");
  const Config c = load_ok(kReceiver + R"(
processors:
  filter/drop_debug:
    logs:
      severity_below: info
  redact:
    keys: ["${env:OTLPGATE_TEST_ENV_KEY}", password]
  dedup:
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [debug]
    metrics/aws:
      receivers: [otlp]
      processors: [redact, filter/drop_debug]
      exporters: [debug]
)");
  ASSERT_EQ(c.service.pipelines.size(), 2u);
  const Pipeline& aws = c.service.pipelines[1];
  EXPECT_EQ(aws.id, "metrics/aws");
  EXPECT_EQ(aws.signal, Signal::metrics);
  EXPECT_EQ(aws.processors, (std::vector<std::string>{"redact", "filter/drop_debug"}));
  const Processor* f = c.find_processor("filter/drop_debug");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, "filter");
  EXPECT_NE(f->yaml.find("severity_below: info"), std::string::npos) << f->yaml;
  const Processor* r = c.find_processor("redact");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, "redact");
  // Substitution happens before the stage sees its block.
  EXPECT_NE(r->yaml.find("deployment.environment"), std::string::npos) << r->yaml;
  EXPECT_EQ(r->yaml.find("${env:"), std::string::npos) << r->yaml;
  ASSERT_NE(c.find_processor("dedup"), nullptr);
  EXPECT_EQ(c.find_processor("dedup")->yaml, "");
  EXPECT_EQ(c.find_processor("nope"), nullptr);
}

TEST(ConfigPipelines, ProcessorTextKeepsQuotedStringsAsStrings) {
  ScopedEnv empty("OTLPGATE_TEST_EMPTY", "");
  const Config c = load_ok(kReceiver + R"(
processors:
  redact:
    tilde: "~"
    null_word: "null"
    number: "123"
    emptied: "${env:OTLPGATE_TEST_EMPTY}"
    really_null: ~
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [redact]
      exporters: [debug]
)");
  const YAML::Node n = YAML::Load(c.find_processor("redact")->yaml);
  ASSERT_TRUE(n.IsMap()) << c.find_processor("redact")->yaml;
  for (const char* key : {"tilde", "null_word", "number", "emptied"}) {
    EXPECT_TRUE(n[key].IsScalar()) << key << " in\n" << c.find_processor("redact")->yaml;
  }
  EXPECT_EQ(n["tilde"].Scalar(), "~");
  EXPECT_EQ(n["null_word"].Scalar(), "null");
  EXPECT_EQ(n["number"].Scalar(), "123");
  EXPECT_EQ(n["emptied"].Scalar(), "");
  EXPECT_TRUE(n["really_null"].IsNull());
}

TEST(ConfigService, ExtensionsTelemetryAndOwnOptions) {
  const Config c = load_ok(kReceiver + R"(
exporters:
  debug:
extensions:
  health_check:
    endpoint: 127.0.0.1:0
    path: /healthz
service:
  extensions: [health_check]
  io_threads: 3
  shutdown_timeout: 45s
  telemetry:
    logs:
      level: debug
    metrics:
      level: detailed
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)");
  ASSERT_TRUE(c.health_check);
  EXPECT_EQ(c.health_check->endpoint, "127.0.0.1:0");
  EXPECT_EQ(c.health_check->path, "/healthz");
  EXPECT_EQ(c.service.extensions, (std::vector<std::string>{"health_check"}));
  EXPECT_EQ(c.service.io_threads, 3);
  EXPECT_EQ(c.service.shutdown_timeout, 45s);
  EXPECT_EQ(c.service.log_level, "debug");
  EXPECT_EQ(c.service.metrics_level, "detailed");
}

TEST(ConfigService, DeclaredButUnlistedHealthCheckIsNotStarted) {
  const Config c = load_ok(kReceiver + R"(
exporters:
  debug:
extensions:
  health_check:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)");
  EXPECT_FALSE(c.health_check);
}

TEST(ConfigService, ListedButUndeclaredExtensionIsAnError) {
  EXPECT_EQ(load_err(kReceiver + R"(
exporters:
  debug:
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)"),
            "cfg.yaml: service.extensions: expected an extension declared under extensions; got "
            "\"health_check\"");
  EXPECT_EQ(load_err(kReceiver + "exporters:\n  debug:\nextensions:\n  pprof:\n"),
            "cfg.yaml: extensions.pprof: expected an extension of type health_check or "
            "bearertokenauth; got \"pprof\"");
  EXPECT_EQ(load_err(with_exporter("  debug:\n", "debug") + "  io_threads: -1\n"),
            "cfg.yaml: service.io_threads: expected an integer from 0 to 1024; got \"-1\"");
}

TEST(ConfigService, MemoryLimitDefaultsTo1GiBAndZeroTurnsItOff) {
  const std::string base = with_exporter("  debug:\n", "debug");
  EXPECT_EQ(load_ok(base).service.memory_limit_mib, 1024u);
  EXPECT_EQ(load_ok(base + "  memory_limit_mib: 0\n").service.memory_limit_mib, 0u);
  EXPECT_EQ(load_ok(base + "  memory_limit_mib: 512\n").service.memory_limit_mib, 512u);
  EXPECT_EQ(load_err(base + "  memory_limit_mib: -1\n"),
            "cfg.yaml: service.memory_limit_mib: expected an integer from 0 to 16777216; got "
            "\"-1\"");
}

// The shape tests/integration/lib/gateway.mjs writes: two backends, three pipelines, health.
TEST(ConfigService, IntegrationTestShapeLoads) {
  ScopedEnv token("TEST_TOKEN", "t");
  ScopedEnv tenant("OTLPGATE_IT_UNSET_TENANT", nullptr);
  const Config c = load_ok(R"(receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
      http:
        endpoint: 127.0.0.1:0
exporters:
  otlp/grpcbackend:
    endpoint: 127.0.0.1:40001
    tls:
      insecure: true
    headers:
      Authorization: "Bearer ${env:TEST_TOKEN}"
      X-Tenant: "${env:OTLPGATE_IT_UNSET_TENANT:-acme}"
    retry_on_failure:
      initial_interval: 100ms
  otlphttp/httpbackend:
    endpoint: http://127.0.0.1:40002
    sending_queue:
      num_consumers: 1

extensions:
  health_check:
    endpoint: 127.0.0.1:0
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp/grpcbackend, otlphttp/httpbackend]
    metrics:
      receivers: [otlp]
      exporters: [otlp/grpcbackend, otlphttp/httpbackend]
    logs:
      receivers: [otlp]
      exporters: [otlp/grpcbackend, otlphttp/httpbackend]
)");
  EXPECT_EQ(c.service.pipelines.size(), 3u);
  EXPECT_EQ(c.find_exporter("otlp/grpcbackend")->headers.at("X-Tenant"), "acme");
  EXPECT_EQ(c.find_exporter("otlp/grpcbackend")->retry_on_failure.initial_interval, 100ms);
  EXPECT_EQ(c.find_exporter("otlphttp/httpbackend")->sending_queue.num_consumers, 1);
  ASSERT_TRUE(c.health_check);
  EXPECT_EQ(c.health_check->endpoint, "127.0.0.1:0");
}

TEST(ConfigFile, MissingFileNamesIt) {
  Config c;
  Error e;
  EXPECT_FALSE(load_file("/nonexistent/otlpgate.yaml", c, e));
  EXPECT_EQ(e.message.rfind("/nonexistent/otlpgate.yaml: cannot read", 0), 0u) << e.message;
}

// The exporter, extension and service blocks of the Logfire cloud-metrics guide load unchanged.
TEST(ConfigSeeds, Seed000ExporterBlocksLoad) {
  ScopedEnv token("LOGFIRE_TOKEN", "pylf_v1_test");
  ScopedEnv port("PORT", nullptr);
  for (const char* name : {"seed000_gcp.yaml", "seed000_aws.yaml"}) {
    const std::string path =
        std::string(OTLPGATE_SOURCE_DIR) + "/tests/unit/core/config/testdata/" + name;
    Config c;
    Error e;
    ASSERT_TRUE(load_file(path, c, e)) << e.message;
    EXPECT_EQ(c.source, path);
    const Exporter* x = c.find_exporter("otlphttp");
    ASSERT_NE(x, nullptr) << name;
    EXPECT_EQ(x->type, ExporterType::otlphttp);
    EXPECT_EQ(x->endpoint, "https://logfire-eu.pydantic.dev");
    EXPECT_EQ(x->headers.at("Authorization"), "Bearer pylf_v1_test");
    ASSERT_NE(c.find_exporter("debug"), nullptr);
    EXPECT_EQ(c.find_exporter("debug")->type, ExporterType::debug);
    ASSERT_TRUE(c.health_check) << name;
    EXPECT_EQ(c.health_check->endpoint, "0.0.0.0:13133");
    ASSERT_EQ(c.service.pipelines.size(), 1u);
    EXPECT_EQ(c.service.pipelines[0].exporters, (std::vector<std::string>{"otlphttp", "debug"}));
  }
  // Cloud Run sets PORT; the guide's default only applies without it.
  ScopedEnv cloud_run("PORT", "8080");
  Config c;
  Error e;
  ASSERT_TRUE(load_file(
      std::string(OTLPGATE_SOURCE_DIR) + "/tests/unit/core/config/testdata/seed000_gcp.yaml", c, e))
      << e.message;
  EXPECT_EQ(c.health_check->endpoint, "0.0.0.0:8080");
}

TEST(ConfigSeeds, Seed000WithoutTheTokenNamesTheVariable) {
  ScopedEnv token("LOGFIRE_TOKEN", nullptr);
  Config c;
  Error e;
  const std::string path =
      std::string(OTLPGATE_SOURCE_DIR) + "/tests/unit/core/config/testdata/seed000_aws.yaml";
  ASSERT_FALSE(load_file(path, c, e));
  EXPECT_EQ(e.message, path +
                           ": exporters.otlphttp.headers.Authorization: expected environment "
                           "variable LOGFIRE_TOKEN to be set; got it unset (write "
                           "${env:LOGFIRE_TOKEN:-default} for a default)");
}

}  // namespace
}  // namespace otlpgate::config
