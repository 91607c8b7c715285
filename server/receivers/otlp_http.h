// The OTLP/HTTP receiver: POST /v1/{metrics,traces,logs}, protobuf or JSON, any Content-Encoding
// of core/compression, handed to Ingest.
#pragma once

#include <cstdint>
#include <string>

#include "core/pipeline/ingest.h"
#include "server/http/http_server.h"

namespace otlpgate::server {

class OtlpHttpReceiver : public HttpHandler {
 public:
  // `ingest` must outlive every request handled here. `max_body_size` bounds a body once its
  // Content-Encoding is undone (the HttpServer bounds it as sent).
  OtlpHttpReceiver(std::string receiver_id, Ingest& ingest, uint64_t max_body_size = 20ull << 20)
      : id_(std::move(receiver_id)), ingest_(ingest), max_body_size_(max_body_size) {}
  void handle(HttpRequest&& req, Respond respond) override;
  HttpResponse error_response(boost::beast::http::status status, std::string message,
                              std::string_view content_type) override;

 private:
  std::string id_;
  Ingest& ingest_;
  uint64_t max_body_size_;
};

}  // namespace otlpgate::server
