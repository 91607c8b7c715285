// The OTLP/HTTP receiver: POST /v1/{metrics,traces,logs} with protobuf bodies, handed to Ingest.
#pragma once

#include <string>

#include "core/pipeline/ingest.h"
#include "server/http/http_server.h"

namespace otlpgate::server {

class OtlpHttpReceiver : public HttpHandler {
 public:
  // `ingest` must outlive every request handled here.
  OtlpHttpReceiver(std::string receiver_id, Ingest& ingest) : id_(std::move(receiver_id)), ingest_(ingest) {}
  void handle(HttpRequest&& req, Respond respond) override;
  HttpResponse error_response(boost::beast::http::status status, std::string message) override;

 private:
  std::string id_;
  Ingest& ingest_;
};

}  // namespace otlpgate::server
