// OTLP/HTTP receiver: status codes as in FACTS.md (the Collector's mapping); protobuf or OTLP JSON
// bodies (JSON is transcoded to protobuf here, once), answered in the request's encoding.
#include "server/receivers/otlp_http.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/compression/compression.h"
#include "core/otlp/json_transcode.h"
#include "core/pipeline/memory_admission.h"
#include "core/signal.h"
#include "server/receivers/otlp_status.h"

namespace otlpgate::server {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kProtobuf = "application/x-protobuf";
constexpr std::string_view kJson = "application/json";

// grpc status codes used in google.rpc.Status bodies.
enum GrpcCode : int32_t {
  kInvalidArgument = 3,
  kNotFound = 5,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kUnimplemented = 12,
  kUnavailable = 14,
  kUnauthenticated = 16,
};

std::string lower_media_type(std::string_view ct) {
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.back()))) ct.remove_suffix(1);
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.front()))) ct.remove_prefix(1);
  std::string out(ct);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The encoding of a request's body, which its responses use too (every response body is JSON
// for a JSON request, protobuf otherwise, including errors found before the body is read).
enum class Format { protobuf, json };

Format format_of(std::string_view content_type) {
  return lower_media_type(content_type) == kJson ? Format::json : Format::protobuf;
}

std::string media_type(Format f) { return std::string(f == Format::json ? kJson : kProtobuf); }

HttpResponse status_response(Format f, http::status s, int32_t code, std::string message,
                             std::chrono::seconds retry_after = std::chrono::seconds(0)) {
  HttpResponse res = make_response(s, media_type(f),
                                   f == Format::json ? otlp::rpc_status_json(code, message, retry_after)
                                                     : encode_rpc_status(code, message, retry_after));
  if (retry_after.count() > 0) res.set(http::field::retry_after, std::to_string(retry_after.count()));
  return res;
}

// The signal a request's path names ("?query" ignored), or nullopt.
std::optional<Signal> signal_of_target(std::string_view target) {
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  for (Signal s : kAllSignals) {
    if (target == signal_http_path(s)) return s;
  }
  return std::nullopt;
}

// The answer to a request once Ingest (or the memory limit, before it) decided.
HttpResponse result_response(Format format, Signal sig, const IngestResult& r) {
  switch (r.status) {
    case IngestResult::Status::ok: {
      std::string msg = r.message;
      if (r.rejected_items > 0 && msg.empty()) {
        msg = std::to_string(r.rejected_items) + " invalid " + std::string(signal_item_name(sig)) + " rejected";
      }
      if (!r.rejected_items) msg.clear();
      return make_response(http::status::ok, media_type(format),
                           format == Format::json
                               ? otlp::export_response_json(sig, r.rejected_items, msg)
                               : encode_export_response(r.rejected_items, msg));
    }
    case IngestResult::Status::invalid:
      return status_response(format, http::status::bad_request, kInvalidArgument,
                             r.message.empty() ? "invalid request" : r.message);
    case IngestResult::Status::forbidden:
      return status_response(format, http::status::forbidden, kPermissionDenied,
                             r.message.empty() ? "not allowed" : r.message);
    case IngestResult::Status::overloaded:
      return status_response(format, http::status::too_many_requests, kResourceExhausted,
                             r.message.empty() ? "overloaded, retry later" : r.message,
                             std::max(r.retry_after, std::chrono::seconds(1)));
    case IngestResult::Status::unavailable:
      return status_response(format, http::status::service_unavailable, kUnavailable,
                             r.message.empty() ? "unavailable, retry later" : r.message,
                             std::max(r.retry_after, std::chrono::seconds(1)));
  }
  return status_response(format, http::status::internal_server_error, kUnavailable, r.message);
}

}  // namespace

HttpResponse OtlpHttpReceiver::error_response(http::status status, std::string message,
                                              std::string_view content_type) {
  const Format format = format_of(content_type);
  switch (status) {
    case http::status::payload_too_large:
      return status_response(format, status, kResourceExhausted, std::move(message));
    case http::status::too_many_requests:  // over the memory limit
      return result_response(format, Signal::metrics, memory_refused(ingest_.memory_limit()));
    case http::status::service_unavailable:  // over max_requests_in_flight
      return status_response(format, status, kUnavailable, std::move(message),
                             std::chrono::seconds(1));
    default:
      return status_response(format, status, kInvalidArgument, std::move(message));
  }
}

std::optional<HttpResponse> OtlpHttpReceiver::screen(const HttpRequest& req, std::string* tenant) {
  const std::string media = lower_media_type(req[http::field::content_type]);
  const Format format = media == kJson ? Format::json : Format::protobuf;
  // Credentials first, as the Collector does: without them nothing about the server is revealed.
  if (auth_) {
    const ListenerAuth::Verdict v = auth_->authenticate(req[http::field::authorization]);
    if (!v.tenant) {
      HttpResponse res = status_response(format, http::status::unauthorized, kUnauthenticated,
                                         v.refusal);
      res.set(http::field::www_authenticate, "Bearer");
      return res;
    }
    *tenant = std::string(*v.tenant);
  }
  if (!signal_of_target(req.target())) {
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    return status_response(format, http::status::not_found, kNotFound,
                           "unknown path " + std::string(target) +
                               " (expected /v1/metrics, /v1/traces or /v1/logs)");
  }
  if (req.method() != http::verb::post) {
    HttpResponse res = status_response(format, http::status::method_not_allowed, kUnimplemented,
                                       "method " + std::string(req.method_string()) + " not allowed, use POST");
    res.set(http::field::allow, "POST");
    return res;
  }
  if (media != kProtobuf && media != kJson) {
    return status_response(format, http::status::unsupported_media_type, kInvalidArgument,
                           "unsupported content type \"" + media +
                               "\"; send application/x-protobuf or application/json");
  }
  return std::nullopt;
}

void OtlpHttpReceiver::handle_screened(HttpRequest&& req, std::string tenant, Respond respond) {
  const Format format = format_of(req[http::field::content_type]);
  const std::optional<Signal> signal = signal_of_target(req.target());
  if (!signal) {  // screen() let it through: not reached
    return respond(status_response(format, http::status::not_found, kNotFound, "unknown path"));
  }
  // The body's bytes count against the memory limit from here until the last queue lets go of them.
  memory::Reservation held;
  if (!reserve_memory(ingest_, req.body().size(), held)) {
    return respond(result_response(format, *signal, memory_refused(ingest_.memory_limit())));
  }
  // Content-Encoding is undone here, never past the body limit: a bomb stops there with 413.
  const std::string encoding = lower_media_type(req[http::field::content_encoding]);
  const std::optional<compression::Codec> codec = compression::codec_from_name(encoding);
  if (!codec) {
    return respond(status_response(format, http::status::bad_request, kInvalidArgument,
                                   "unsupported Content-Encoding \"" + encoding +
                                       "\"; send gzip, deflate, zstd or none"));
  }
  if (*codec != compression::Codec::none) {
    std::string decoded;
    const compression::Result d =
        compression::decompress(*codec, req.body(), decoded, max_body_size_);
    if (d.status == compression::Status::too_large) {
      return respond(status_response(
          format, http::status::payload_too_large, kResourceExhausted,
          "request body exceeds the limit of " + std::to_string(max_body_size_) +
              " bytes once decompressed"));
    }
    if (!d.ok()) {
      return respond(status_response(format, http::status::bad_request, kInvalidArgument,
                                     "cannot decode the " + encoding + " body: " + d.message));
    }
    if (!held.try_resize(held.bytes() + decoded.size())) {
      return respond(result_response(format, *signal, memory_refused(ingest_.memory_limit())));
    }
    req.body() = std::move(decoded);
    held.resize(req.body().size());
  }

  // JSON (after Content-Encoding is undone) becomes the protobuf bytes the chain uses. An empty
  // body is an empty request in either encoding.
  if (format == Format::json && !req.body().empty()) {
    otlp::JsonTranscodeResult json = otlp::json_to_protobuf(*signal, req.body());
    if (!json) {
      return respond(status_response(format, http::status::bad_request, kInvalidArgument,
                                     "invalid OTLP JSON: " + json.error));
    }
    held.resize(held.bytes() + json.bytes.size());  // admitted already: never larger than JSON
    req.body() = std::move(json.bytes);
    held.resize(req.body().size());
  }

  const Signal sig = *signal;
  const Bytes received = Bytes::adopt(std::move(req.body()), std::move(held));
  Bytes body = auth_ ? auth_->with_tenant_attribute(sig, received, tenant) : received;
  if (!body.same_storage(received)) body = body.charged_to(ingest_.memory_limit());
  ingest_.submit(id_, sig, std::move(body), tenant,
                 [respond = std::move(respond), sig, format](IngestResult r) {
                   respond(result_response(format, sig, r));
                 });
}

}  // namespace otlpgate::server
