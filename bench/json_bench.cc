// json_bench: the OTLP JSON transcoder against libprotobuf doing the same job on the same
// documents (JsonStringToMessage + SerializeToString): the bench/workload.h payloads printed as
// JSON by libprotobuf, with hex ids for ours (OTLP) and base64 ids for libprotobuf (what it reads).
// See RESULTS.md for the figures and the command.
#include <benchmark/benchmark.h>

#include <google/protobuf/util/json_util.h>

#include <memory>
#include <string>

#include "bench/workload.h"
#include "core/otlp/index.h"
#include "core/otlp/json_transcode.h"
#include "tests/support/otlp_json.h"
#include "tests/support/random_otlp.h"

namespace {

using otlpgate::Signal;
namespace testing = otlpgate::testing;

constexpr std::size_t kRequestBytes = 1 << 20;

// One workload as the documents each side reads, and its item count.
struct Payload {
  std::string otlp_json;      // hex ids, enums as integers
  std::string protobuf_json;  // libprotobuf's own printing: base64 ids
  uint64_t items = 0;
};

const Payload& payload(Signal s) {
  static const auto all = [] {
    auto p = std::make_unique<Payload[]>(3);
    for (Signal sig : otlpgate::kAllSignals) {
      const std::string bytes = otlpgate::bench::make_request(sig, kRequestBytes);
      auto m = testing::new_request(sig);
      if (!m->ParseFromString(bytes)) std::abort();
      Payload& out = p[static_cast<int>(sig)];
      out.otlp_json = testing::to_otlp_json(*m);
      out.protobuf_json = testing::to_otlp_json(*m, {.hex_ids = false});
      otlpgate::otlp::Index ix;
      if (!ix.build(sig, otlpgate::Bytes::copy_of(bytes))) std::abort();
      out.items = ix.item_count();
    }
    return p;
  }();
  return all[static_cast<int>(s)];
}

Signal signal_arg(const benchmark::State& state) { return static_cast<Signal>(state.range(0)); }

void finish(benchmark::State& state, std::size_t bytes, uint64_t items) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items));
  state.SetLabel(std::string(otlpgate::signal_name(signal_arg(state))) + ", " +
                 std::to_string(bytes >> 10) + " KiB of JSON");
}

void BM_JsonTranscode(benchmark::State& state) {
  const Signal s = signal_arg(state);
  const Payload& p = payload(s);
  for (auto _ : state) {
    otlpgate::otlp::JsonTranscodeResult r = otlpgate::otlp::json_to_protobuf(s, p.otlp_json);
    if (!r) state.SkipWithError(r.error.c_str());
    benchmark::DoNotOptimize(r.bytes.data());
  }
  finish(state, p.otlp_json.size(), p.items);
}

void BM_LibprotobufJsonParseSerialize(benchmark::State& state) {
  const Signal s = signal_arg(state);
  const Payload& p = payload(s);
  auto m = testing::new_request(s);
  std::string out;
  for (auto _ : state) {
    m->Clear();
    if (!google::protobuf::util::JsonStringToMessage(p.protobuf_json, m.get()).ok()) {
      state.SkipWithError("JsonStringToMessage failed");
    }
    out.clear();
    m->SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  finish(state, p.protobuf_json.size(), p.items);
}

BENCHMARK(BM_JsonTranscode)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LibprotobufJsonParseSerialize)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
