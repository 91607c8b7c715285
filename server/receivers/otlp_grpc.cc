// OTLP/gRPC receiver implementation: one reactor per call, reading exactly one request message.
#include "server/receivers/otlp_grpc.h"

#include <optional>
#include <vector>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>

#include "core/pipeline/memory_admission.h"
#include "core/signal.h"
#include "core/tls/server_context.h"
#include "server/receivers/otlp_status.h"

namespace otlpgate::server {

namespace {

std::optional<Signal> signal_of_method(std::string_view method) {
  for (Signal s : kAllSignals) {
    if (method == signal_grpc_method(s)) return s;
  }
  return std::nullopt;
}

// Unary call over the bidi generic reactor: read one message, submit, write one, finish.
class ExportReactor : public grpc::ServerGenericBidiReactor {
 public:
  ExportReactor(Ingest& ingest, const std::string& receiver_id, Signal signal,
                const ListenerAuth* auth, std::string tenant)
      : ingest_(ingest),
        receiver_id_(receiver_id),
        signal_(signal),
        auth_(auth),
        tenant_(std::move(tenant)) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    // Bytes owns a std::string, so one copy into contiguous storage is unavoidable; it is the
    // only one (slices are appended straight into the reserved buffer).
    // The message is in memory already (gRPC read it); the limit decides whether it stays.
    memory::Reservation held;
    if (!reserve_memory(ingest_, request_.Length(), held)) {
      request_.Clear();
      on_result(memory_refused(ingest_.memory_limit()));
      return;
    }
    std::vector<grpc::Slice> slices;
    std::string body;
    if (!request_.Dump(&slices).ok()) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read request message"));
      return;
    }
    body.reserve(request_.Length());
    for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    request_.Clear();
    const Bytes received = Bytes::adopt(std::move(body), std::move(held));
    Bytes request = auth_ ? auth_->with_tenant_attribute(signal_, received, tenant_) : received;
    if (!request.same_storage(received)) request = request.charged_to(ingest_.memory_limit());
    ingest_.submit(receiver_id_, signal_, std::move(request), tenant_,
                   [this](IngestResult r) { on_result(std::move(r)); });
  }

  void OnDone() override { delete this; }

 private:
  void on_result(IngestResult r) {
    switch (r.status) {
      case IngestResult::Status::ok: {
        std::string msg = r.message;
        if (r.rejected_items > 0 && msg.empty()) {
          msg = std::to_string(r.rejected_items) + " invalid " + std::string(signal_item_name(signal_)) + " rejected";
        }
        std::string resp = encode_export_response(r.rejected_items, r.rejected_items ? msg : "");
        grpc::Slice slice(resp);
        response_ = grpc::ByteBuffer(&slice, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
        return;
      }
      case IngestResult::Status::invalid:
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, r.message.empty() ? "invalid request" : r.message));
        return;
      case IngestResult::Status::forbidden:
        Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, r.message.empty() ? "not allowed" : r.message));
        return;
      case IngestResult::Status::overloaded: {
        std::string msg = r.message.empty() ? "overloaded, retry later" : r.message;
        auto delay = std::max(r.retry_after, std::chrono::seconds(1));
        // RetryInfo in the status details makes RESOURCE_EXHAUSTED retryable for OTLP clients.
        Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, msg, encode_rpc_status(8, msg, delay)));
        return;
      }
      case IngestResult::Status::unavailable: {
        std::string msg = r.message.empty() ? "unavailable, retry later" : r.message;
        std::string details;
        if (r.retry_after.count() > 0) details = encode_rpc_status(14, msg, r.retry_after);
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, msg, details));
        return;
      }
    }
  }

  Ingest& ingest_;
  const std::string& receiver_id_;
  Signal signal_;
  const ListenerAuth* auth_;  // owned by the service; null without auth
  std::string tenant_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

// A call answered without reading its message (unknown method, bad credentials).
class RefusedReactor : public grpc::ServerGenericBidiReactor {
 public:
  explicit RefusedReactor(grpc::Status status) { Finish(status); }
  void OnDone() override { delete this; }
};

// The first `authorization` metadata value, or empty.
std::string_view authorization_of(const grpc::GenericCallbackServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  const auto it = md.find("authorization");
  return it == md.end() ? std::string_view() : std::string_view(it->second.data(), it->second.size());
}

// SSL credentials from the listener's TLS files (checked when the config was loaded). With a
// client CA, a client certificate it signed is required and verified.
std::shared_ptr<grpc::ServerCredentials> credentials(const config::GrpcServer& cfg,
                                                     std::string* err) {
  if (!cfg.tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  std::string why;
  if (!tls::read_file(cfg.tls->cert_file, pair.cert_chain, &why) ||
      !tls::read_file(cfg.tls->key_file, pair.private_key, &why) ||
      (!cfg.tls->client_ca_file.empty() &&
       !tls::read_file(cfg.tls->client_ca_file, options.pem_root_certs, &why))) {
    *err = "tls: " + why;
    return nullptr;
  }
  options.pem_key_cert_pairs.push_back(std::move(pair));
  options.client_certificate_request =
      cfg.tls->client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                      : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  return grpc::SslServerCredentials(options);
}

}  // namespace

grpc::ServerGenericBidiReactor* OtlpGrpcService::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  std::string tenant;
  if (auth_) {
    const ListenerAuth::Verdict v = auth_->authenticate(authorization_of(*ctx));
    if (!v.tenant) {
      return new RefusedReactor(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, v.refusal));
    }
    tenant = std::string(*v.tenant);
  }
  auto signal = signal_of_method(ctx->method());
  if (!signal) {
    return new RefusedReactor(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + ctx->method()));
  }
  return new ExportReactor(ingest_, id_, *signal, auth_.get(), std::move(tenant));
}

OtlpGrpcReceiver::OtlpGrpcReceiver(std::string receiver_id, const config::GrpcServer& cfg, Ingest& ingest,
                                   std::shared_ptr<const ListenerAuth> auth)
    : cfg_(cfg), service_(std::move(receiver_id), ingest, std::move(auth)) {}

OtlpGrpcReceiver::~OtlpGrpcReceiver() { stop(std::chrono::milliseconds(0)); }

bool OtlpGrpcReceiver::start(std::string* err) {
  std::shared_ptr<grpc::ServerCredentials> creds = credentials(cfg_, err);
  if (!creds) return false;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(cfg_.endpoint, creds, &port_);
  // A client that never finishes the (TLS) handshake is cut off after 30 s, as the HTTP
  // listeners' default read_timeout does (gRPC's own default is 120 s).
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 30000);
  builder.RegisterCallbackGenericService(&service_);
  uint64_t max = cfg_.max_recv_msg_size_mib << 20;
  builder.SetMaxReceiveMessageSize(max > INT32_MAX ? INT32_MAX : static_cast<int>(max));
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    *err = "cannot listen on " + cfg_.endpoint;
    server_.reset();
    return false;
  }
  return true;
}

void OtlpGrpcReceiver::stop(std::chrono::milliseconds deadline) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + deadline);
  server_->Wait();
  server_.reset();
}

std::string OtlpGrpcReceiver::host() const {
  auto colon = cfg_.endpoint.rfind(':');
  std::string h = colon == std::string::npos ? cfg_.endpoint : cfg_.endpoint.substr(0, colon);
  return h.empty() ? "0.0.0.0" : h;
}

}  // namespace otlpgate::server
