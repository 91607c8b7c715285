// OTLP/HTTP receiver: status codes as in FACTS.md (the Collector's mapping), bodies as
// google.rpc.Status protobuf. JSON and Content-Encoding come with the protocol-completeness issue.
#include "server/receivers/otlp_http.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/signal.h"
#include "server/receivers/otlp_status.h"

namespace otlpgate::server {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kProtobuf = "application/x-protobuf";

// grpc status codes used in google.rpc.Status bodies.
enum GrpcCode : int32_t {
  kInvalidArgument = 3,
  kNotFound = 5,
  kResourceExhausted = 8,
  kUnimplemented = 12,
  kUnavailable = 14,
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

HttpResponse status_response(http::status s, int32_t code, std::string message,
                             std::chrono::seconds retry_after = std::chrono::seconds(0)) {
  HttpResponse res = make_response(s, std::string(kProtobuf), encode_rpc_status(code, message, retry_after));
  if (retry_after.count() > 0) res.set(http::field::retry_after, std::to_string(retry_after.count()));
  return res;
}

}  // namespace

HttpResponse OtlpHttpReceiver::error_response(http::status status, std::string message) {
  int32_t code = status == http::status::payload_too_large ? kResourceExhausted : kInvalidArgument;
  return status_response(status, code, std::move(message));
}

void OtlpHttpReceiver::handle(HttpRequest&& req, Respond respond) {
  std::string_view target = req.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  std::optional<Signal> signal;
  for (Signal s : kAllSignals) {
    if (target == signal_http_path(s)) signal = s;
  }
  if (!signal) {
    return respond(status_response(http::status::not_found, kNotFound,
                                   "unknown path " + std::string(target) +
                                       " (expected /v1/metrics, /v1/traces or /v1/logs)"));
  }
  if (req.method() != http::verb::post) {
    HttpResponse res = status_response(http::status::method_not_allowed, kUnimplemented,
                                       "method " + std::string(req.method_string()) + " not allowed, use POST");
    res.set(http::field::allow, "POST");
    return respond(std::move(res));
  }
  std::string media = lower_media_type(req[http::field::content_type]);
  if (media != kProtobuf) {
    std::string msg = media == "application/json"
                          ? "content type application/json is not supported yet; send application/x-protobuf"
                          : "unsupported content type \"" + media + "\"; send application/x-protobuf";
    return respond(status_response(http::status::unsupported_media_type, kInvalidArgument, msg));
  }
  std::string encoding = lower_media_type(req[http::field::content_encoding]);
  if (!encoding.empty() && encoding != "identity") {
    return respond(status_response(http::status::bad_request, kInvalidArgument,
                                   "unsupported Content-Encoding \"" + encoding + "\""));
  }

  Bytes body = Bytes::adopt(std::move(req.body()));
  Signal sig = *signal;
  ingest_.submit(id_, sig, std::move(body), {}, [respond = std::move(respond), sig](IngestResult r) {
    switch (r.status) {
      case IngestResult::Status::ok: {
        std::string msg = r.message;
        if (r.rejected_items > 0 && msg.empty()) {
          msg = std::to_string(r.rejected_items) + " invalid " + std::string(signal_item_name(sig)) + " rejected";
        }
        return respond(make_response(http::status::ok, std::string(kProtobuf),
                                     encode_export_response(r.rejected_items, r.rejected_items ? msg : "")));
      }
      case IngestResult::Status::invalid:
        return respond(status_response(http::status::bad_request, kInvalidArgument,
                                       r.message.empty() ? "invalid request" : r.message));
      case IngestResult::Status::overloaded:
        return respond(status_response(http::status::too_many_requests, kResourceExhausted,
                                       r.message.empty() ? "overloaded, retry later" : r.message,
                                       std::max(r.retry_after, std::chrono::seconds(1))));
      case IngestResult::Status::unavailable:
        return respond(status_response(http::status::service_unavailable, kUnavailable,
                                       r.message.empty() ? "unavailable, retry later" : r.message,
                                       std::max(r.retry_after, std::chrono::seconds(1))));
    }
  });
}

}  // namespace otlpgate::server
