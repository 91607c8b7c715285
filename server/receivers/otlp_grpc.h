// The OTLP/gRPC receiver: the three collector Export methods taken as raw bytes through the
// generic callback API, so the chain sees the serialized request without a libprotobuf parse.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server.h>

#include "core/config/config.h"
#include "core/pipeline/ingest.h"

namespace otlpgate::server {

class OtlpGrpcService : public grpc::CallbackGenericService {
 public:
  OtlpGrpcService(std::string receiver_id, Ingest& ingest) : id_(std::move(receiver_id)), ingest_(ingest) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  std::string id_;
  Ingest& ingest_;
};

// One gRPC server (its own completion threads, owned by grpc++) for one receiver.
class OtlpGrpcReceiver {
 public:
  OtlpGrpcReceiver(std::string receiver_id, const config::GrpcServer& cfg, Ingest& ingest);
  ~OtlpGrpcReceiver();

  // Binds and starts; false and *err when the port cannot be bound.
  bool start(std::string* err);
  // Stops accepting and waits up to `deadline` for in-flight calls, then cancels them.
  void stop(std::chrono::milliseconds deadline);
  int port() const { return port_; }
  std::string host() const;

 private:
  config::GrpcServer cfg_;
  OtlpGrpcService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace otlpgate::server
