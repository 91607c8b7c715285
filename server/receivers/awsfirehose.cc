// The awsfirehose receiver: checks a delivery's headers, decodes its records with
// core/firehose, and answers Firehose in its JSON shape once the pipeline took the data.
#include "server/receivers/awsfirehose.h"

#include <chrono>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/compression/compression.h"
#include "core/firehose/common_attributes.h"
#include "core/firehose/delivery.h"
#include "core/firehose/request.h"
#include "core/log.h"
#include "core/pipeline/memory_admission.h"

namespace otlpgate::server {

namespace http = boost::beast::http;

namespace {

// The HTTP statuses this receiver answers with, for the requests counter.
constexpr std::array<http::status, 6> kStatuses = {http::status::ok,
                                                   http::status::bad_request,
                                                   http::status::unauthorized,
                                                   http::status::method_not_allowed,
                                                   http::status::internal_server_error,
                                                   http::status::service_unavailable};

// Gunzipped CloudWatch Logs data one delivery may produce, as a multiple of the body limit: the
// records' gzip typically shrinks logs about tenfold, and this bounds a gzip bomb's cost.
constexpr std::size_t kDecompressBudgetFactor = 4;

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> d{};
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct FirehoseReceiver::Counters {
  std::array<telemetry::Counter*, kStatuses.size()> requests{};
  std::array<telemetry::Counter*, firehose::kFormatNames.size()> records{};
  std::array<telemetry::Counter*, firehose::kRecordErrorNames.size()> invalid{};
  telemetry::Counter* redeliveries = nullptr;
  telemetry::Counter* evicted = nullptr;
  telemetry::Counter* control_messages = nullptr;
  telemetry::Counter* common_attributes_invalid = nullptr;

  Counters(telemetry::Registry& r, const std::string& id) {
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
      requests[i] = &r.counter(
          "otlpgate_firehose_requests_total", "Firehose deliveries answered, by HTTP status.",
          {{"receiver", id}, {"code", std::to_string(static_cast<int>(kStatuses[i]))}});
    }
    for (std::size_t i = 1; i < firehose::kFormatNames.size(); ++i) {  // not "auto"
      records[i] =
          &r.counter("otlpgate_firehose_records_total",
                     "Firehose records decoded, by the format they were read as.",
                     {{"receiver", id}, {"format", std::string(firehose::kFormatNames[i])}});
    }
    for (std::size_t i = 1; i < firehose::kRecordErrorNames.size(); ++i) {  // not "none"
      invalid[i] =
          &r.counter("otlpgate_firehose_invalid_records_total",
                     "Firehose records not forwarded because they could not be decoded, by reason "
                     "(cwmetrics_line counts skipped lines of records that were forwarded).",
                     {{"receiver", id}, {"reason", std::string(firehose::kRecordErrorNames[i])}});
    }
    redeliveries = &r.counter("otlpgate_firehose_redeliveries_total",
                              "Firehose redeliveries of accepted request ids, answered 200 "
                              "without forwarding them again.",
                              {{"receiver", id}});
    evicted = &r.counter("otlpgate_firehose_request_ids_evicted_total",
                         "Request ids forgotten before their dedup window ended, because "
                         "max_entries was reached.",
                         {{"receiver", id}});
    control_messages =
        &r.counter("otlpgate_firehose_control_messages_total",
                   "CloudWatch Logs control messages received and skipped.", {{"receiver", id}});
    common_attributes_invalid = &r.counter(
        "otlpgate_firehose_common_attributes_invalid_total",
        "Firehose deliveries whose X-Amz-Firehose-Common-Attributes header could not be read.",
        {{"receiver", id}});
  }

  void answered(http::status s) {
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
      if (kStatuses[i] == s) return requests[i]->add();
    }
  }
};

// One delivery on its way into the pipeline: its requests are submitted one after the other.
struct FirehoseReceiver::Delivery {
  std::string request_id;
  Respond respond;
  std::vector<std::pair<Signal, Bytes>> requests;
  std::size_t next = 0;
  std::string message;  // errorMessage for a 200 that dropped records
};

FirehoseReceiver::FirehoseReceiver(std::string receiver_id, const config::FirehoseServer& cfg,
                                   Ingest& ingest, telemetry::Registry& metrics)
    : id_(std::move(receiver_id)),
      cfg_(cfg),
      format_(firehose::format_from_name(cfg.encoding).value_or(firehose::Format::auto_detect)),
      ingest_(ingest),
      counters_(std::make_unique<Counters>(metrics, id_)),
      request_ids_(cfg.dedup_window, cfg.dedup_max_entries, counters_->evicted) {
  if (!cfg_.access_key.empty()) key_digest_ = sha256(cfg_.access_key);
}

FirehoseReceiver::~FirehoseReceiver() = default;

HttpResponse FirehoseReceiver::reply(http::status status, std::string_view request_id,
                                     std::string_view error_message) {
  counters_->answered(status);
  return make_response(status, "application/json",
                       firehose::encode_response(request_id, now_ms(), error_message));
}

HttpResponse FirehoseReceiver::error_response(http::status status, std::string message,
                                              std::string_view) {
  // The request id header may not have been read; Firehose then takes the answer as a 500,
  // which it retries like the 400 or 503 we mean.
  if (status == http::status::payload_too_large) {
    status = http::status::bad_request;
    message += " (answered 400, not 413: Firehose would drop a 413 without its S3 backup)";
  }
  if (status == http::status::too_many_requests) status = http::status::service_unavailable;
  return reply(status, "", message);
}

std::optional<HttpResponse> FirehoseReceiver::screen(const HttpRequest& req, std::string*) {
  const std::string_view request_id = req[firehose::kRequestIdHeader];
  if (request_id.empty()) {
    return reply(http::status::bad_request, "", "missing request id in header");
  }
  if (!cfg_.access_key.empty()) {
    const std::string_view key = req[firehose::kAccessKeyHeader];
    // Digests of equal length, compared in constant time: neither the key's bytes nor its
    // length leak through timing.
    const auto got = sha256(key);
    if (key.empty() || CRYPTO_memcmp(got.data(), key_digest_.data(), got.size()) != 0) {
      log::debug("awsfirehose " + id_ + ": delivery " + std::string(request_id) +
                 " refused: " + (key.empty() ? "no access key" : "wrong access key"));
      return reply(http::status::unauthorized, request_id,
                   key.empty() ? "missing firehose access key" : "invalid firehose access key");
    }
  }
  if (req.method() != http::verb::post) {
    HttpResponse res =
        reply(http::status::method_not_allowed, request_id,
              "method " + std::string(req.method_string()) + " not allowed, use POST");
    res.set(http::field::allow, "POST");
    return res;
  }
  return std::nullopt;
}

void FirehoseReceiver::handle_screened(HttpRequest&& req, std::string, Respond respond) {
  const std::string request_id(req[firehose::kRequestIdHeader]);

  switch (request_ids_.begin(request_id)) {
    case firehose::RequestIdWindow::Begin::accepted_before:
      counters_->redeliveries->add();
      return respond(reply(http::status::ok, request_id, {}));
    case firehose::RequestIdWindow::Begin::in_flight:
      return respond(reply(http::status::service_unavailable, request_id,
                           "a delivery with this request id is being processed; retry later"));
    case firehose::RequestIdWindow::Begin::fresh:
      break;
  }
  // From here on every answer ends the id's begin(): remembered only when accepted.
  auto refuse = [&](http::status s, std::string_view message) {
    request_ids_.end(request_id, false);
    respond(reply(s, request_id, message));
  };

  std::string body = std::move(req.body());
  // Firehose retries a 503; the body counts against the memory limit until it is decoded.
  memory::Reservation held;
  if (!reserve_memory(ingest_, body.size(), held)) {
    return refuse(http::status::service_unavailable,
                  memory_refused(ingest_.memory_limit()).message);
  }
  const std::string_view encoding = req[http::field::content_encoding];
  const auto codec = compression::codec_from_name(encoding);
  if (!codec) {
    return refuse(http::status::bad_request, "unsupported Content-Encoding \"" +
                                                 std::string(encoding) + "\"; send gzip or none");
  }
  if (*codec != compression::Codec::none) {
    std::string plain;
    const compression::Result r =
        compression::decompress(*codec, body, plain, cfg_.max_request_body_size);
    if (r.status == compression::Status::too_large) {
      return refuse(http::status::bad_request,
                    "request body exceeds " + std::to_string(cfg_.max_request_body_size) +
                        " bytes after decompression (answered 400, not 413: Firehose would drop a "
                        "413 without its S3 backup)");
    }
    if (!r.ok())
      return refuse(http::status::bad_request, "cannot decompress the body: " + r.message);
    if (!held.try_resize(held.bytes() + plain.size())) {
      return refuse(http::status::service_unavailable,
                    memory_refused(ingest_.memory_limit()).message);
    }
    body = std::move(plain);
    held.resize(body.size());
  }

  firehose::DeliveryDecoder decoder(format_, cfg_.max_request_body_size * kDecompressBudgetFactor);
  firehose::DeliveryBody meta;
  const std::string body_error = firehose::parse_delivery(
      body, meta, [&](std::size_t index, std::string_view data, std::string_view error) {
        if (error.empty()) {
          decoder.add(index, data);
        } else {
          decoder.add_unreadable(index, error);
        }
      });
  if (!body_error.empty()) return refuse(http::status::bad_request, body_error);
  if (meta.request_id.empty())
    return refuse(http::status::bad_request, "missing request id in body");
  if (meta.request_id != request_id) {
    return refuse(http::status::bad_request, "different request id in body");
  }
  body = std::string();  // the decoded records are all we need from here

  firehose::DecodedDelivery decoded = decoder.finish();
  count_decoded(decoded);
  const uint64_t skipped_lines =
      decoded.refused[static_cast<std::size_t>(firehose::RecordError::cwmetrics_line)];
  std::string problems;
  if (decoded.refused_records > 0) {
    problems = std::to_string(decoded.refused_records) + " of " + std::to_string(meta.records) +
               " records invalid";
  }
  if (skipped_lines > 0) {
    problems += (problems.empty() ? "" : ", ") + std::to_string(skipped_lines) +
                " CloudWatch metric lines skipped";
  }
  if (!problems.empty()) {
    log::debug("awsfirehose " + id_ + ": delivery " + request_id + ": " + problems + "; " +
               decoded.first_error);
  }
  if (cfg_.reject_invalid_records && decoded.refused_records > 0) {
    return refuse(http::status::bad_request,
                  problems + " (on_invalid_record: reject); first: " + decoded.first_error);
  }

  auto d = std::make_shared<Delivery>();
  d->request_id = request_id;
  d->respond = std::move(respond);
  if (!problems.empty()) d->message = problems + ", not forwarded; first: " + decoded.first_error;
  firehose::Attributes common;
  if (const std::string_view header = req[firehose::kCommonAttributesHeader]; !header.empty()) {
    if (std::string why = firehose::parse_common_attributes(header, common); !why.empty()) {
      counters_->common_attributes_invalid->add();
      log::warn("awsfirehose " + id_ + ": ignoring " +
                std::string(firehose::kCommonAttributesHeader) + " of delivery " + request_id +
                ": " + why);
      common.clear();
    }
  }
  const std::pair<Signal, std::string*> parts[] = {{Signal::metrics, &decoded.metrics},
                                                   {Signal::logs, &decoded.logs}};
  for (const auto& [signal, bytes] : parts) {
    if (bytes->empty()) continue;
    d->requests.emplace_back(signal, otlp::add_missing_resource_attributes(
                                         signal, Bytes::adopt(std::move(*bytes)), common)
                                         .charged_to(ingest_.memory_limit()));
  }
  submit_next(std::move(d));
}

void FirehoseReceiver::submit_next(std::shared_ptr<Delivery> d) {
  if (d->next == d->requests.size()) {
    request_ids_.end(d->request_id, true);
    return d->respond(reply(http::status::ok, d->request_id, d->message));
  }
  const auto& [signal, bytes] = d->requests[d->next++];
  ingest_.submit(id_, signal, bytes, {}, [this, d](IngestResult r) mutable {
    if (r.status == IngestResult::Status::ok) return submit_next(std::move(d));
    // Not taken: Firehose retries the whole delivery (requests already taken are then sent
    // again; a delivery normally holds one signal, so one request).
    request_ids_.end(d->request_id, false);
    const http::status s = r.status == IngestResult::Status::invalid
                               ? http::status::bad_request
                               : http::status::service_unavailable;
    d->respond(reply(s, d->request_id,
                     r.message.empty() ? "the gateway cannot take the data now" : r.message));
  });
}

void FirehoseReceiver::count_decoded(const firehose::DecodedDelivery& d) {
  for (std::size_t i = 1; i < d.records_by_format.size(); ++i) {
    if (d.records_by_format[i]) counters_->records[i]->add(d.records_by_format[i]);
  }
  for (std::size_t i = 1; i < d.refused.size(); ++i) {
    if (d.refused[i]) counters_->invalid[i]->add(d.refused[i]);
  }
  if (d.control_messages) counters_->control_messages->add(d.control_messages);
}

HttpServerOptions firehose_listener_options(const config::FirehoseServer& cfg) {
  HttpServerOptions o;
  o.endpoint = cfg.endpoint;
  o.max_body_size = cfg.max_request_body_size;
  o.max_encoded_body_size = cfg.max_request_body_size;
  // Firehose allows the endpoint 3 minutes per request; a 64 MiB body may take a while to arrive.
  o.read_timeout = std::chrono::seconds(120);
  return o;
}

}  // namespace otlpgate::server
