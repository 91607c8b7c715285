// The awsfirehose receiver: Amazon Data Firehose's HTTP endpoint delivery (CloudWatch Metric
// Streams in JSON, OpenTelemetry 1.0.0 or 0.7.0; CloudWatch Logs subscriptions), decoded by
// core/firehose into OTLP requests and handed to Ingest like any other receiver's.
//
// Protocol (AWS "HTTP Endpoint Delivery Request and Response Specifications"): every answer is
// JSON {"requestId", "timestamp", "errorMessage"?} and only 200 means delivered.
//   400  missing / mismatched request id, unreadable body, a body over max_request_body_size
//        (never 413: Firehose takes 413 as permanent and skips its S3 backup), invalid records
//        under on_invalid_record: reject
//   401  access_key configured and X-Amz-Firehose-Access-Key missing or different (constant
//        time; the key is never logged or echoed)
//   503  the queues or the memory limit cannot take the data now, or the same request id is
//        being processed
//   200  accepted (invalid records dropped under on_invalid_record: drop, the first reason in
//        errorMessage), or a redelivery of an id accepted within request_id_dedup.window,
//        answered without forwarding it again
//
// Counters (registered at construction, labelled receiver=<id>):
//   otlpgate_firehose_requests_total{code}            deliveries answered, by HTTP status
//   otlpgate_firehose_records_total{format}           records decoded, by the format read
//   otlpgate_firehose_invalid_records_total{reason}   records not forwarded (reason
//                                                     cwmetrics_line: lines of kept records)
//   otlpgate_firehose_redeliveries_total              redeliveries answered from the window
//   otlpgate_firehose_request_ids_evicted_total       ids forgotten early (max_entries reached)
//   otlpgate_firehose_control_messages_total          CloudWatch Logs control messages skipped
//   otlpgate_firehose_common_attributes_invalid_total deliveries whose common-attributes header
//                                                     could not be read (the data still goes)
#pragma once

#include <array>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/firehose/format.h"
#include "core/firehose/request_ids.h"
#include "core/pipeline/ingest.h"
#include "core/telemetry/metrics.h"
#include "server/http/http_server.h"

namespace otlpgate::firehose {
struct DecodedDelivery;
}

namespace otlpgate::server {

class FirehoseReceiver : public HttpHandler {
 public:
  // `ingest` and `metrics` must outlive every request handled here.
  FirehoseReceiver(std::string receiver_id, const config::FirehoseServer& cfg, Ingest& ingest,
                   telemetry::Registry& metrics);
  ~FirehoseReceiver() override;

  // 400 (no request id), 401 (access key), 405 (method), from the header alone.
  std::optional<HttpResponse> screen(const HttpRequest& header, std::string* tenant) override;
  void handle_screened(HttpRequest&& req, std::string tenant, Respond respond) override;
  // Refusals by the HTTP server (body over the limit, header too large, malformed, too many in
  // flight, over the memory limit) in the Firehose response shape; 413 becomes 400 and 429
  // becomes 503 (see above).
  HttpResponse error_response(boost::beast::http::status status, std::string message,
                              std::string_view content_type) override;
  memory::MemoryLimit* memory_limit() override { return ingest_.memory_limit(); }

 private:
  struct Delivery;
  HttpResponse reply(boost::beast::http::status status, std::string_view request_id,
                     std::string_view error_message);
  void submit_next(std::shared_ptr<Delivery> d);
  void count_decoded(const firehose::DecodedDelivery& d);

  std::string id_;
  config::FirehoseServer cfg_;
  firehose::Format format_;
  std::array<unsigned char, 32> key_digest_{};  // SHA-256 of the access key, when one is set
  Ingest& ingest_;
  struct Counters;
  std::unique_ptr<Counters> counters_;  // before request_ids_, which counts into it
  firehose::RequestIdWindow request_ids_;
};

// The listener options for a Firehose receiver's HttpServer, but TLS (server/http/tls_options.h
// adds it from cfg.tls).
HttpServerOptions firehose_listener_options(const config::FirehoseServer& cfg);

}  // namespace otlpgate::server
