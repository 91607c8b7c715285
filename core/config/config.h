// Config: the typed form of the collector-shaped YAML configuration, validated once at start-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/signal.h"

namespace otlpgate::config {

using Millis = std::chrono::milliseconds;

// exporters.<id>.tls (the collector's configtls.ClientConfig subset).
struct TlsClient {
  bool insecure = false;              // plain text (gRPC exporter; for otlphttp the URL scheme decides)
  bool insecure_skip_verify = false;  // TLS without verifying the server certificate
  std::string ca_file;                // extra CA bundle; system CAs otherwise
  std::string cert_file;              // client certificate (mTLS)
  std::string key_file;
  std::string server_name_override;
};

// exporters.<id>.sending_queue (collector exporterhelper names and defaults).
struct SendingQueue {
  bool enabled = true;
  int num_consumers = 10;
  int queue_size = 1000;  // requests
  uint64_t queue_size_mib = 256;  // bytes held by the queue (waiting and in delivery), in MiB
  // What a full queue does with a new request (docs: README "When a backend is down"):
  // backpressure refuses it (the sender gets 429 / RESOURCE_EXHAUSTED and keeps it), drop_oldest
  // and drop_newest keep the gateway accepting and count what they shed. Empty = the default:
  // backpressure for an exporter that is alone in all its pipelines, drop_oldest for one that
  // shares a pipeline with others, so that a dead backend never stops the healthy ones.
  std::string on_full;
  // Persistent mode: a directory for this exporter's on-disk queue (core/queue/disk_queue.h).
  std::string storage;
  uint64_t storage_size_mib = 1024;  // disk cap of the persistent queue
  std::string fsync = "always";      // always | interval
  Millis fsync_interval{200};
};

// exporters.<id>.retry_on_failure (collector exporterhelper names and defaults).
struct RetryOnFailure {
  bool enabled = true;
  Millis initial_interval{5000};
  Millis max_interval{30000};
  Millis max_elapsed_time{300000};  // 0 = retry forever
  double multiplier = 1.5;
  double randomization_factor = 0.5;
};

enum class Compression { none, gzip, zstd };

enum class ExporterType { otlp, otlphttp, debug };

struct Exporter {
  std::string id;  // "otlphttp" or "otlphttp/logfire"
  ExporterType type = ExporterType::debug;
  // otlp: "host:port" or "http(s)://host:port"; otlphttp: base URL, /v1/<signal> is appended.
  std::string endpoint;
  // otlphttp only: full URLs used as given (collector's traces_endpoint & co.).
  std::map<Signal, std::string> signal_endpoints;
  std::map<std::string, std::string> headers;
  Compression compression = Compression::gzip;  // collector default for otlp and otlphttp
  Millis timeout{5000};                         // per attempt
  TlsClient tls;
  SendingQueue sending_queue;
  RetryOnFailure retry_on_failure;
  std::string verbosity = "basic";  // debug only: basic | normal | detailed
};

// <listener>.tls (the collector's configtls.ServerConfig subset): TLS on a receiver's listener.
// The files are read and checked (the key matches the certificate) when the config is loaded.
struct TlsServer {
  std::string cert_file;       // PEM certificate chain, leaf first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CAs: when set, clients must present a certificate they signed
  std::string min_version = "1.2";  // "1.2" | "1.3"; never below 1.2
};

// receivers.otlp.protocols.grpc
struct GrpcServer {
  std::string endpoint = "0.0.0.0:4317";
  uint64_t max_recv_msg_size_mib = 16;  // one request message, after decompression
  std::optional<TlsServer> tls;
  std::string authenticator;  // auth.authenticator: a bearertokenauth extension id, or empty
};

// receivers.otlp.protocols.http
struct HttpServer {
  std::string endpoint = "0.0.0.0:4318";
  uint64_t max_request_body_size = 20ull << 20;  // bytes, after decompression
  // Bytes of a body sent with a Content-Encoding, as read off the wire; when not given, the same
  // as max_request_body_size.
  uint64_t max_compressed_body_size = 20ull << 20;
  Millis read_timeout{30000};    // whole request, headers and body, from its first byte
  Millis idle_timeout{120000};   // keep-alive connection without a request
  Millis write_timeout{30000};   // one response
  uint64_t max_header_size = 64 << 10;
  uint64_t max_connections = 10000;       // more are closed as soon as they are accepted
  uint64_t max_requests_in_flight = 1024;  // being read or handled at once; more get 503
  std::optional<TlsServer> tls;
  std::string authenticator;  // auth.authenticator: a bearertokenauth extension id, or empty
};

// receivers.awsfirehose: the Amazon Data Firehose HTTP endpoint (server/receivers/awsfirehose.h).
struct FirehoseServer {
  std::string endpoint = "127.0.0.1:4433";  // the Collector's default host is 0.0.0.0
  std::string encoding = "auto";            // auto | cwmetrics | otel1 (otlp_v1) | otel07 | cwlogs
  std::string access_key;                   // empty: no key required (${env:…} recommended)
  bool reject_invalid_records = false;      // on_invalid_record: drop (false) | reject (true)
  uint64_t max_request_body_size = 64ull << 20;  // bytes, after decompression (Firehose's maximum)
  Millis dedup_window{2 * 3600 * 1000};     // request_id_dedup.window; 0 disables
  uint64_t dedup_max_entries = 100000;      // request_id_dedup.max_entries
  std::optional<TlsServer> tls;             // Firehose delivers to https:// only
};

enum class ReceiverType { otlp, awsfirehose };

struct Receiver {
  std::string id;  // "otlp" or "otlp/internal", "awsfirehose" or "awsfirehose/logs"
  ReceiverType type = ReceiverType::otlp;
  std::optional<GrpcServer> grpc;  // present when protocols.grpc is given (even empty)
  std::optional<HttpServer> http;
  std::optional<FirehoseServer> firehose;  // type awsfirehose
};

// processors.<id>: kept as YAML text; the stage registry in filters/ parses and validates it, so
// core/ does not need to know every stage's options.
struct Processor {
  std::string id;    // "filter/drop_debug"
  std::string type;  // "filter"
  std::string yaml;  // the block under processors.<id>, re-emitted as YAML (may be empty)
};

// extensions.health_check
struct HealthCheck {
  std::string endpoint = "0.0.0.0:13133";
  std::string path = "/";
};

// extensions.bearertokenauth/<name>: who may send, as tenants with their tokens. Receivers refer
// to it with auth.authenticator; a request's tenant routes it (Pipeline::tenants) and may be
// written as a resource attribute.
struct Tenant {
  std::string name;
  std::vector<std::string> tokens;  // from `tokens` and the lines of `token_files`; never logged
};

struct BearerTokenAuth {
  std::string id;  // "bearertokenauth/clients"
  std::vector<Tenant> tenants;
  std::string tenant_attribute;  // resource attribute set to the tenant's name; empty: none
};

struct Pipeline {
  std::string id;  // "metrics" or "metrics/aws"
  Signal signal = Signal::metrics;
  std::vector<std::string> receivers;
  std::vector<std::string> processors;
  std::vector<std::string> exporters;
  // Only requests of these tenants (auth) enter this pipeline; empty: every request.
  std::vector<std::string> tenants;
};

struct Service {
  std::vector<std::string> extensions;
  std::vector<Pipeline> pipelines;
  int io_threads = 0;           // 0 = one per core
  Millis shutdown_timeout{30000};  // how long SIGTERM waits for queues to drain
  // Request bytes held in memory at once, across receivers and in-memory queues (README "Memory
  // limit"); over it receivers answer 429 / RESOURCE_EXHAUSTED / 503. 0 = no limit.
  uint64_t memory_limit_mib = 1024;
  // service.telemetry (the collector's names; only these two are accepted).
  std::string log_level = "info";         // telemetry.logs.level: debug | info | warn | error
  std::string metrics_level = "normal";   // telemetry.metrics.level: none | basic | normal | detailed
};

struct Config {
  std::string source;  // the file it came from, for messages
  std::vector<Receiver> receivers;
  std::vector<Exporter> exporters;
  std::vector<Processor> processors;
  std::optional<HealthCheck> health_check;  // set when declared AND listed in service.extensions
  std::vector<BearerTokenAuth> authenticators;  // declared AND listed in service.extensions
  Service service;

  const Receiver* find_receiver(const std::string& id) const;
  const Exporter* find_exporter(const std::string& id) const;
  const Processor* find_processor(const std::string& id) const;
  const BearerTokenAuth* find_authenticator(const std::string& id) const;
};

// A configuration error: "<file>: <key.path>: <what was expected>".
struct Error {
  std::string message;
};

// Go's time.ParseDuration grammar, as the Collector's YAML uses it: "500ms", "30s", "1h30m",
// "1.5s", "0". Empty, negative or unknown units give nullopt.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s);

// Reads, substitutes ${env:NAME} / ${env:NAME:-default}, and validates. Returns false and sets
// `err` on the first problem. Unknown keys are errors.
bool load_file(const std::string& path, Config& out, Error& err);
bool load_string(const std::string& yaml, const std::string& source_name, Config& out, Error& err);

}  // namespace otlpgate::config
