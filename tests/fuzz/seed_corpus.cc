// Writes N small valid requests per signal into DIR, each prefixed with the control byte the
// fuzz targets read (the signal in its low bits): seed_corpus DIR N [json|chain|http]
// With "json", the requests are OTLP JSON (libprotobuf's printing adjusted to OTLP, in the styles
// the transcoder accepts) for json_fuzz; with "chain", metrics requests use the vocabulary of the
// chain's random configs (tests/support/chain_reference.h) for chain_fuzz; otherwise protobuf for
// index_rewriter_fuzz. With "http", whole OTLP/HTTP requests as a client writes them (request
// line, headers, body; protobuf or JSON, some gzip-compressed) for http_fuzz, without a control
// byte.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "core/compression/compression.h"
#include "tests/support/chain_reference.h"
#include "tests/support/otlp_json.h"
#include "tests/support/random_otlp.h"

namespace {

std::string json_request(otlpgate::Signal s, uint64_t seed, const otlpgate::testing::RandomOptions& o) {
  otlpgate::testing::OtlpJsonOptions style;
  style.enum_names = seed % 3 == 1;
  style.proto_field_names = seed % 4 == 2;
  style.print_defaults = seed % 5 == 3;
  switch (s) {
    case otlpgate::Signal::metrics: return to_otlp_json(otlpgate::testing::random_metrics(seed, o), style);
    case otlpgate::Signal::traces: return to_otlp_json(otlpgate::testing::random_traces(seed, o), style);
    case otlpgate::Signal::logs: break;
  }
  return to_otlp_json(otlpgate::testing::random_logs(seed, o), style);
}

// POST /v1/<signal> with `body` as a client sends it; every third one gzip-compressed.
std::string http_request(otlpgate::Signal s, int i, std::string body, bool json) {
  std::string encoding;
  if (i % 3 == 2) {
    std::string packed;
    otlpgate::compression::compress(otlpgate::compression::Codec::gzip, body, packed);
    body = std::move(packed);
    encoding = "Content-Encoding: gzip\r\n";
  }
  return "POST /v1/" + std::string(otlpgate::signal_name(s)) + " HTTP/1.1\r\nHost: gw\r\n" +
         "Content-Type: application/" + (json ? "json" : "x-protobuf") + "\r\n" + encoding +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 4 ? argv[3] : "";
  if (argc != 3 && !(argc == 4 && (mode == "json" || mode == "chain" || mode == "http"))) {
    std::cerr << "usage: " << argv[0] << " DIR N [json|chain|http]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const int n = std::atoi(argv[2]);
  const bool http = mode == "http";
  const otlpgate::testing::RandomOptions small;
  // JSON is several times larger than protobuf for the same request: smaller ones fuzz faster.
  const otlpgate::testing::RandomOptions smaller{
      .max_resources = 2, .max_scopes = 2, .max_items = 3, .max_points = 2, .max_attributes = 3};
  for (otlpgate::Signal s : otlpgate::kAllSignals) {
    for (int i = 0; i < n; ++i) {
      const auto seed = static_cast<uint64_t>(i);
      std::mt19937 rng(static_cast<uint32_t>(seed));
      const bool json = mode == "json" || (http && i % 2 == 1);
      const std::string body =
          json ? json_request(s, seed, smaller)
          : mode == "chain" && s == otlpgate::Signal::metrics
              ? otlpgate::testing::random_chain_request(rng).SerializeAsString()
              : otlpgate::testing::random_request_bytes(s, seed, small);
      const char control = static_cast<char>(static_cast<int>(s) + 3 * (i % 80));
      std::ofstream out(dir + "/seed-" + std::to_string(static_cast<int>(s)) + "-" + std::to_string(i),
                        std::ios::binary);
      if (http) {
        out << http_request(s, i, body, json);
        continue;
      }
      out.put(control);
      out << body;
    }
  }
  return 0;
}
