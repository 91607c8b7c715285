// The OTLP/gRPC receiver: the three collector Export methods taken as raw bytes through the
// generic callback API, so the chain sees the serialized request without a libprotobuf parse.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server.h>

#include "core/config/config.h"
#include "core/pipeline/ingest.h"
#include "server/receivers/listener_auth.h"

namespace otlpgate::server {

class OtlpGrpcService : public grpc::CallbackGenericService {
 public:
  // With `auth`, every call needs `authorization: Bearer <token>` metadata of one of its tenants
  // (else UNAUTHENTICATED, before the message is read).
  OtlpGrpcService(std::string receiver_id, Ingest& ingest,
                  std::shared_ptr<const ListenerAuth> auth = nullptr)
      : id_(std::move(receiver_id)), ingest_(ingest), auth_(std::move(auth)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  std::string id_;
  Ingest& ingest_;
  std::shared_ptr<const ListenerAuth> auth_;
};

// One gRPC server (its own completion threads, owned by grpc++) for one receiver.
class OtlpGrpcReceiver {
 public:
  // `auth`: the listener's authenticator (auth.authenticator), or nullptr. TLS from cfg.tls.
  OtlpGrpcReceiver(std::string receiver_id, const config::GrpcServer& cfg, Ingest& ingest,
                   std::shared_ptr<const ListenerAuth> auth = nullptr);
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
