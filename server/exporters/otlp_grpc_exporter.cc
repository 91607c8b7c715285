// The otlp exporter on grpc++'s callback API. The request bytes go out as one gRPC slice that
// references the batch's buffer (no copy, no libprotobuf parse).
#include "server/exporters/otlp_grpc_exporter.h"

#include <cctype>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_set>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>

#include "core/log.h"
#include "server/exporters/endpoint_url.h"
#include "server/exporters/export_outcome.h"
#include "server/exporters/user_agent.h"

namespace otlpgate::server {
namespace {

// OTLP requests can be large batches; the gRPC default send limit is unlimited on clients but
// servers commonly accept 4-16 MiB, so this only guards against our own runaway batches.
constexpr int kMaxSendBytes = 64 << 20;
constexpr int kMaxReceiveBytes = 4 << 20;

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return static_cast<bool>(in) || in.eof();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void release_bytes(void* p) { delete static_cast<Bytes*>(p); }

// The batch's buffer as a gRPC message, kept alive by the slice's own reference.
grpc::ByteBuffer as_byte_buffer(const Bytes& bytes) {
  if (bytes.empty()) {
    grpc::Slice empty(std::string{});
    return grpc::ByteBuffer(&empty, 1);
  }
  auto* holder = new Bytes(bytes);
  grpc::Slice slice(const_cast<char*>(holder->data()), holder->size(), &release_bytes, holder);
  return grpc::ByteBuffer(&slice, 1);
}

std::string flatten(const grpc::ByteBuffer& buf) {
  std::string out;
  if (!buf.Valid()) return out;
  std::vector<grpc::Slice> slices;
  if (!buf.Dump(&slices).ok()) return out;
  out.reserve(buf.Length());
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace

struct OtlpGrpcExporter::State {
  std::string id;
  std::chrono::milliseconds timeout{0};
  std::vector<std::pair<std::string, std::string>> metadata;
  grpc_compression_algorithm compression = GRPC_COMPRESS_NONE;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;

  std::mutex mu;
  std::condition_variable idle;  // in_flight became empty
  bool stopped = false;
  std::unordered_set<grpc::ClientContext*> in_flight;  // guarded by mu; TryCancel under mu
};

namespace {

struct Call {
  grpc::ClientContext ctx;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  std::function<void(ExportOutcome)> done;
};

bool channel_credentials(const config::Exporter& cfg, bool tls,
                         std::shared_ptr<grpc::ChannelCredentials>* out, std::string* err) {
  if (!tls) {
    *out = grpc::InsecureChannelCredentials();
    return true;
  }
  const std::string key = "exporters." + cfg.id + ".tls";
  std::string ca, cert, private_key;
  if (!cfg.tls.ca_file.empty() && !read_file(cfg.tls.ca_file, &ca)) {
    *err = key + ".ca_file: cannot read \"" + cfg.tls.ca_file + "\"";
    return false;
  }
  if (cfg.tls.cert_file.empty() != cfg.tls.key_file.empty()) {
    *err = key + ": cert_file and key_file go together";
    return false;
  }
  if (!cfg.tls.cert_file.empty()) {
    if (!read_file(cfg.tls.cert_file, &cert)) {
      *err = key + ".cert_file: cannot read \"" + cfg.tls.cert_file + "\"";
      return false;
    }
    if (!read_file(cfg.tls.key_file, &private_key)) {
      *err = key + ".key_file: cannot read \"" + cfg.tls.key_file + "\"";
      return false;
    }
  }
  if (!cfg.tls.insecure_skip_verify) {
    grpc::SslCredentialsOptions opts;
    opts.pem_root_certs = ca;  // empty: gRPC's default roots (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH)
    opts.pem_cert_chain = cert;
    opts.pem_private_key = private_key;
    *out = grpc::SslCredentials(opts);
    return true;
  }
  // Skipping verification needs the TLS credentials API (experimental in grpc++ 1.51).
  grpc::experimental::TlsChannelCredentialsOptions opts;
  opts.set_verify_server_certs(false);
  opts.set_check_call_host(false);
  opts.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  if (!cert.empty() || !ca.empty()) {
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
    if (!cert.empty()) pairs.push_back({private_key, cert});
    auto provider =
        ca.empty() ? std::make_shared<grpc::experimental::StaticDataCertificateProvider>(pairs)
                   : std::make_shared<grpc::experimental::StaticDataCertificateProvider>(ca, pairs);
    opts.set_certificate_provider(provider);
    if (!ca.empty()) opts.watch_root_certs();
    if (!cert.empty()) opts.watch_identity_key_cert_pairs();
  }
  *out = grpc::experimental::TlsCredentials(opts);
  if (!*out) {
    *err = key + ": gRPC refused the TLS options";
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<OtlpGrpcExporter> OtlpGrpcExporter::create(const config::Exporter& cfg,
                                                           std::string* err) {
  std::string why;
  auto target = parse_grpc_endpoint(cfg.endpoint, cfg.tls.insecure, &why);
  if (!target) {
    *err = "exporters." + cfg.id + ".endpoint: " + why;
    return nullptr;
  }
  auto state = std::make_unique<State>();
  state->id = cfg.id;
  state->timeout = cfg.timeout;
  for (const auto& [name, value] : cfg.headers) {
    // gRPC metadata keys are lower case; binary ("-bin") values are not what a config holds.
    std::string k = lower(name);
    if (k.empty() ||
        k.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      *err = "exporters." + cfg.id + ".headers." + name + ": not a valid gRPC metadata entry";
      return nullptr;
    }
    state->metadata.emplace_back(std::move(k), value);
  }
  switch (cfg.compression) {
    case config::Compression::none:
      break;
    case config::Compression::gzip:
      state->compression = GRPC_COMPRESS_GZIP;
      break;
    case config::Compression::zstd:
      // grpc++ 1.51 has no zstd message compression; gzip is what every OTLP server accepts.
      log::warn("exporter " + cfg.id + ": gRPC has no zstd compression here; using gzip");
      state->compression = GRPC_COMPRESS_GZIP;
      break;
  }

  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!channel_credentials(cfg, target->tls, &creds, err)) return nullptr;
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxSendBytes);
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  args.SetUserAgentPrefix(std::string(kUserAgent));
  if (!cfg.tls.server_name_override.empty()) {
    args.SetSslTargetNameOverride(cfg.tls.server_name_override);
  }
  state->channel = grpc::CreateCustomChannel(target->address, creds, args);
  state->stub = std::make_unique<grpc::GenericStub>(state->channel);
  return std::unique_ptr<OtlpGrpcExporter>(new OtlpGrpcExporter(std::move(state)));
}

OtlpGrpcExporter::OtlpGrpcExporter(std::unique_ptr<State> state) : state_(std::move(state)) {}

OtlpGrpcExporter::~OtlpGrpcExporter() {
  // Wait for the cancelled calls to call back: their callbacks use the state, and the channel
  // must not be destroyed from a gRPC callback thread (grpc++ 1.51 then frees its callback
  // completion queue twice).
  shutdown();
  std::unique_lock lock(state_->mu);
  state_->idle.wait(lock, [&] { return state_->in_flight.empty(); });
}

std::string_view OtlpGrpcExporter::id() const { return state_->id; }

void OtlpGrpcExporter::send(const Batch& batch, std::function<void(ExportOutcome)> done) {
  auto* call = new Call;
  call->done = std::move(done);
  call->request = as_byte_buffer(batch.bytes);
  call->ctx.set_deadline(std::chrono::system_clock::now() + state_->timeout);
  if (state_->compression != GRPC_COMPRESS_NONE) {
    call->ctx.set_compression_algorithm(state_->compression);
  }
  for (const auto& [k, v] : state_->metadata) call->ctx.AddMetadata(k, v);
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) {
      auto d = std::move(call->done);
      delete call;
      ExportOutcome o;
      o.kind = ExportOutcome::Kind::retryable;
      o.message = "exporter " + state_->id + " is shut down";
      d(std::move(o));
      return;
    }
    state_->in_flight.insert(&call->ctx);
  }
  const std::string method(signal_grpc_method(batch.signal));
  state_->stub->UnaryCall(&call->ctx, method, grpc::StubOptions(), &call->request, &call->response,
                          [state = state_.get(), call](grpc::Status st) {
                            {
                              // The last use of the state: the destructor waits for this.
                              std::lock_guard lock(state->mu);
                              state->in_flight.erase(&call->ctx);
                              if (state->in_flight.empty()) state->idle.notify_all();
                            }
                            ExportOutcome o =
                                classify_grpc(static_cast<int>(st.error_code()), st.error_message(),
                                              st.error_details(),
                                              st.ok() ? flatten(call->response) : std::string());
                            auto d = std::move(call->done);
                            delete call;
                            d(std::move(o));
                          });
}

void OtlpGrpcExporter::shutdown() {
  std::lock_guard lock(state_->mu);
  state_->stopped = true;
  for (grpc::ClientContext* ctx : state_->in_flight) ctx->TryCancel();
}

}  // namespace otlpgate::server
