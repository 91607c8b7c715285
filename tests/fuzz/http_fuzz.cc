// libFuzzer target for the OTLP/HTTP request path: the input is what a client writes on a
// connection (request line, headers, body). Beast's parser reads it with the listener's header and
// body limits, as the HttpServer does; then OtlpHttpReceiver screens the header (auth, path,
// method, content type) and handles the request (Content-Encoding, JSON transcoding, the body
// limit after decompression) into the real Runtime: index, validation, a filter + redact + relabel
// chain, and an exporter queue whose exporter accepts everything. Whatever the input: no crash, no
// read outside a buffer (ASan), `respond` is called exactly once, the status is one of the
// documented table, and an error's body is a google.rpc.Status in the request's encoding.
//
// Build (the fuzz build with the server library):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz-http -G Ninja -DOTLPGATE_FUZZ=ON \
//       -DOTLPGATE_BENCH=OFF && ninja -C build-fuzz-http http_fuzz fuzz_seed_corpus
// Run:
//   cd build-fuzz-http/tests/fuzz && ./fuzz_seed_corpus http-corpus 24 http && \
//   ./http_fuzz -max_total_time=60 -rss_limit_mb=2048 http-corpus
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/beast/http.hpp>

#include "core/config/config.h"
#include "core/pipeline/runtime.h"
#include "filters/registry.h"
#include "google/rpc/status.pb.h"
#include "server/receivers/otlp_http.h"
#include "tests/fuzz/require.h"

namespace {

namespace http = boost::beast::http;
using namespace otlpgate;
using fuzz::require;

constexpr uint64_t kBodyLimit = 1 << 20;  // small, so that the 413 paths are reached
constexpr uint64_t kHeaderLimit = 8 << 10;

// Accepts every attempt at once: the fuzzer exercises the path to the queue, not a backend.
class AcceptingExporter final : public Exporter {
 public:
  explicit AcceptingExporter(std::string id) : id_(std::move(id)) {}
  std::string_view id() const override { return id_; }
  void send(const Batch&, std::function<void(ExportOutcome)> done) override { done({}); }
  void shutdown() override {}

 private:
  std::string id_;
};

constexpr const char* kConfig = R"yaml(
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  filter/f:
    metrics: {exclude: {match_type: regexp, metric_names: ["debug\\..*"]}}
  redact/r:
    delete_keys: [user.email]
    builtin_patterns: [email]
  relabel/l:
    metric_relabel_configs:
      - {source_labels: [__name__], regex: "http_(.*)", target_label: kind, replacement: "$1"}
exporters:
  otlphttp/sink:
    endpoint: http://127.0.0.1:9
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [filter/f, redact/r, relabel/l], exporters: [otlphttp/sink]}
    traces: {receivers: [otlp], processors: [redact/r], exporters: [otlphttp/sink]}
    logs: {receivers: [otlp], processors: [redact/r], exporters: [otlphttp/sink]}
)yaml";

struct Harness {
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<server::OtlpHttpReceiver> receiver;

  Harness() {
    config::Config cfg;
    config::Error err;
    require(config::load_string(kConfig, "http_fuzz", cfg, err));
    std::string why;
    runtime = Runtime::create(
        cfg,
        [](const config::Exporter& e, std::string*) -> std::unique_ptr<Exporter> {
          return std::make_unique<AcceptingExporter>(e.id);
        },
        [](const config::Processor& p, std::string* e) { return filters::make_stage(p, e); }, &why);
    require(runtime != nullptr);
    runtime->start();
    receiver = std::make_unique<server::OtlpHttpReceiver>("otlp", *runtime, kBodyLimit);
  }
};

const std::set<unsigned> kStatuses = {200, 400, 401, 403, 404, 405, 413, 415, 429, 503};

// The request's media type as the receiver reads it: before any ';', trimmed, lowercase.
std::string media_type(std::string_view content_type) {
  std::string_view m = content_type.substr(0, content_type.find(';'));
  while (!m.empty() && (m.front() == ' ' || m.front() == '\t')) m.remove_prefix(1);
  while (!m.empty() && (m.back() == ' ' || m.back() == '\t')) m.remove_suffix(1);
  std::string out(m);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void check_response(const server::HttpResponse& res, std::string_view request_type) {
  const unsigned code = res.result_int();
  require(kStatuses.count(code) == 1);
  if (code == 200) return;
  // An OTLP error body: google.rpc.Status, as JSON when the request was JSON, else protobuf.
  const bool json = media_type(request_type) == "application/json";
  require(res[boost::beast::http::field::content_type] ==
          (json ? "application/json" : "application/x-protobuf"));
  if (json) {
    require(res.body().starts_with("{\"code\":"));
    require(res.body().find("\"message\":\"") != std::string::npos);
  } else {
    google::rpc::Status status;
    require(status.ParseFromString(res.body()));
    require(!status.message().empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static Harness harness;
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(data, size), ec);
  if (ec == http::error::need_more) ec = {};
  if (!ec && !parser.is_done() && used < size) parser.put(boost::asio::buffer(data + used, size - used), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the server answers 400 / 413 / 431 itself

  server::HttpRequest req = parser.release();
  const std::string content_type(req[http::field::content_type]);
  int calls = 0;
  std::optional<server::HttpResponse> got;
  harness.receiver->handle(std::move(req), [&](server::HttpResponse res) {
    ++calls;
    got = std::move(res);
  });
  // The runtime answers inline once every queue took the request (the exporter never refuses).
  require(calls == 1);
  check_response(*got, content_type);
  return 0;
}
