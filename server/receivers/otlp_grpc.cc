// OTLP/gRPC receiver implementation: one reactor per call, reading exactly one request message.
#include "server/receivers/otlp_grpc.h"

#include <optional>
#include <vector>

#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>

#include "core/signal.h"
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
  ExportReactor(Ingest& ingest, const std::string& receiver_id, Signal signal)
      : ingest_(ingest), receiver_id_(receiver_id), signal_(signal) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    // Bytes owns a std::string, so one copy into contiguous storage is unavoidable; it is the
    // only one (slices are appended straight into the reserved buffer).
    std::vector<grpc::Slice> slices;
    std::string body;
    if (!request_.Dump(&slices).ok()) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read request message"));
      return;
    }
    body.reserve(request_.Length());
    for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    request_.Clear();
    ingest_.submit(receiver_id_, signal_, Bytes::adopt(std::move(body)), {},
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
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class UnimplementedReactor : public grpc::ServerGenericBidiReactor {
 public:
  explicit UnimplementedReactor(const std::string& method) {
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + method));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerGenericBidiReactor* OtlpGrpcService::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  auto signal = signal_of_method(ctx->method());
  if (!signal) return new UnimplementedReactor(ctx->method());
  return new ExportReactor(ingest_, id_, *signal);
}

OtlpGrpcReceiver::OtlpGrpcReceiver(std::string receiver_id, const config::GrpcServer& cfg, Ingest& ingest)
    : cfg_(cfg), service_(std::move(receiver_id), ingest) {}

OtlpGrpcReceiver::~OtlpGrpcReceiver() { stop(std::chrono::milliseconds(0)); }

bool OtlpGrpcReceiver::start(std::string* err) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(cfg_.endpoint, grpc::InsecureServerCredentials(), &port_);
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
