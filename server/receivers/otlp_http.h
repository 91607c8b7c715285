// The OTLP/HTTP receiver: POST /v1/{metrics,traces,logs}, protobuf or JSON, any Content-Encoding
// of core/compression, handed to Ingest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/pipeline/ingest.h"
#include "server/http/http_server.h"
#include "server/receivers/listener_auth.h"

namespace otlpgate::server {

class OtlpHttpReceiver : public HttpHandler {
 public:
  // `ingest` must outlive every request handled here. `max_body_size` bounds a body once its
  // Content-Encoding is undone (the HttpServer bounds it as sent). With `auth`, every request
  // needs `Authorization: Bearer <token>` of one of its tenants (else 401).
  OtlpHttpReceiver(std::string receiver_id, Ingest& ingest, uint64_t max_body_size = 20ull << 20,
                   std::shared_ptr<const ListenerAuth> auth = nullptr)
      : id_(std::move(receiver_id)),
        ingest_(ingest),
        max_body_size_(max_body_size),
        auth_(std::move(auth)) {}
  // 401 (credentials), 404 (path), 405 (method), 415 (content type), from the header alone.
  std::optional<HttpResponse> screen(const HttpRequest& header, std::string* tenant) override;
  void handle_screened(HttpRequest&& req, std::string tenant, Respond respond) override;
  HttpResponse error_response(boost::beast::http::status status, std::string message,
                              std::string_view content_type) override;
  memory::MemoryLimit* memory_limit() override { return ingest_.memory_limit(); }

 private:
  std::string id_;
  Ingest& ingest_;
  uint64_t max_body_size_;
  std::shared_ptr<const ListenerAuth> auth_;
};

}  // namespace otlpgate::server
