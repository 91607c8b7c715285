// chain_bench: the processing chain (filter → redact → dedup → relabel, built from YAML by the
// registry) against the same configuration applied with libprotobuf (parse → edit → serialize),
// and an untouched request through the chain against the index pass alone. See RESULTS.md,
// "Processing chain (issue 6)", for the figures and the command.
#include <benchmark/benchmark.h>

#include <google/protobuf/arena.h>
#include <google/protobuf/util/message_differencer.h>

#include <chrono>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "tests/support/chain_reference.h"

namespace {

using otlpgate::Bytes;
using otlpgate::Signal;
using otlpgate::testing::ChainConfig;
using otlpgate::testing::MetricsRequest;
namespace otlp = otlpgate::otlp;
namespace testing = otlpgate::testing;

constexpr std::size_t kRequestBytes = 1 << 20;
// Distinct metrics requests (different point values) cycled through, so that the dedup window sees
// new points as in production rather than the same request again; with max_series below, a
// request is evicted from the window long before it comes round again. Dedup ignores the other
// signals: a few variants of them do.
constexpr unsigned kMetricVariants = 64;
constexpr unsigned kOtherVariants = 4;

// The realistic rules on the workload's metrics (bench/workload.cc): drop health-check
// points of one metric, delete a high-cardinality resource attribute, dedup, and seed 004's
// relabel shape (label every point of 11 of the 20 metrics per scope with service=checkout).
ChainConfig realistic() {
  ChainConfig c;
  c.excluded_name = "http.server.request.1.count";
  c.bad_kv = {"http.route", "/healthz"};
  c.deleted_key = "k8s.pod.name";
  c.max_series = 131072;
  c.rule = 4;
  c.src = "__name__";
  c.prefix = "http.server.request.1";
  c.target = "service";
  c.replacement = "checkout";
  return c;
}

// The same stages with rules that match nothing in the workload: nothing may change.
ChainConfig untouched() {
  ChainConfig c = realistic();
  c.excluded_name = "no.such.metric";
  c.deleted_key = "no.such.key";
  c.prefix = "no.such.prefix";
  return c;
}

// The workload's metrics request for `seed`, its points `minutes` later: the next export of the
// same series, as a collector sends every minute (the workload's timestamps are fixed).
Bytes later_metrics(unsigned seed, uint64_t minutes) {
  MetricsRequest req;
  req.ParseFromString(otlpgate::bench::make_request(Signal::metrics, kRequestBytes, seed));
  const uint64_t shift = minutes * 60'000'000'000ull;
  for (auto& rm : *req.mutable_resource_metrics())
    for (auto& sm : *rm.mutable_scope_metrics())
      for (auto& m : *sm.mutable_metrics()) {
        if (m.has_sum())
          for (auto& p : *m.mutable_sum()->mutable_data_points())
            p.set_time_unix_nano(p.time_unix_nano() + shift);
        if (m.has_histogram())
          for (auto& p : *m.mutable_histogram()->mutable_data_points())
            p.set_time_unix_nano(p.time_unix_nano() + shift);
      }
  return Bytes::adopt(req.SerializeAsString());
}

const std::vector<Bytes>& requests(Signal s) {
  static std::vector<Bytes> all[3];
  auto& v = all[static_cast<int>(s)];
  if (v.empty()) {
    const unsigned n = s == Signal::metrics ? kMetricVariants : kOtherVariants;
    for (unsigned i = 0; i < n; ++i)
      v.push_back(s == Signal::metrics
                      ? later_metrics(i + 1, i)
                      : Bytes::adopt(otlpgate::bench::make_request(s, kRequestBytes, i + 1)));
  }
  return v;
}

Signal signal_arg(const benchmark::State& state) { return static_cast<Signal>(state.range(0)); }

// Bytes and items per iteration: the variants are within a few bytes of each other.
void finish(benchmark::State& state, Signal s) {
  const Bytes& b = requests(s)[0];
  otlp::Index ix;
  ix.build(s, b);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ix.item_count()));
  state.SetLabel(std::string(otlpgate::signal_name(s)));
}

std::vector<std::unique_ptr<otlpgate::Stage>> chain_of(benchmark::State& state,
                                                       const ChainConfig& c, bool dedup = true) {
  std::string err;
  auto chain = testing::build_chain(c, &err);
  if (chain.empty()) state.SkipWithError(err.c_str());
  if (!dedup && !chain.empty()) chain.erase(chain.begin() + 2);
  return chain;
}

// Our chain's output for variant 0 must parse into what the reference makes of it.
bool matches_reference(const ChainConfig& c) {
  std::string err;
  auto chain = testing::build_chain(c, &err);
  testing::ChainScratch scratch;
  const Bytes& in = requests(Signal::metrics)[0];
  const testing::ChainOutput out = testing::run_chain(chain, Signal::metrics, in, scratch);
  MetricsRequest got, want;
  if (!out.ok || !got.ParseFromString(std::string(out.bytes.view()))) return false;
  want.ParseFromString(std::string(in.view()));
  testing::apply_reference_chain(c, want);
  return google::protobuf::util::MessageDifferencer::Equals(want, got);
}

void BM_Chain(benchmark::State& state) {
  const ChainConfig c = realistic();
  if (!matches_reference(c)) return state.SkipWithError("chain output differs from the reference");
  auto chain = chain_of(state, c);
  const auto& in = requests(Signal::metrics);
  testing::ChainScratch scratch;
  std::size_t i = 0, out_bytes = 0;
  uint64_t out_items = 0;
  for (auto _ : state) {
    const testing::ChainOutput out =
        testing::run_chain(chain, Signal::metrics, in[i++ % in.size()], scratch);
    for (const auto& st : chain) st->finish(true);
    out_bytes = out.bytes.size();
    out_items = out.items;
    benchmark::DoNotOptimize(out.bytes.data());
  }
  state.counters["out_bytes"] = static_cast<double>(out_bytes);
  state.counters["out_items"] = static_cast<double>(out_items);
  finish(state, Signal::metrics);
}

void BM_ChainReference(benchmark::State& state) {
  const ChainConfig c = realistic();
  const auto& in = requests(Signal::metrics);
  std::string out;
  std::size_t i = 0;
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<MetricsRequest>(&arena);
    const Bytes& b = in[i++ % in.size()];
    req->ParseFromArray(b.data(), static_cast<int>(b.size()));
    testing::apply_reference_chain(c, *req);
    out.clear();
    req->SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  finish(state, Signal::metrics);
}

// Arg 0: signal; arg 1: with dedup (1) or without (0).
void BM_ChainUntouched(benchmark::State& state) {
  const Signal s = signal_arg(state);
  auto chain = chain_of(state, untouched(), state.range(1) != 0);
  const auto& in = requests(s);
  testing::ChainScratch scratch;
  std::size_t i = 0;
  for (auto _ : state) {
    const Bytes& b = in[i++ % in.size()];
    const testing::ChainOutput out = testing::run_chain(chain, s, b, scratch);
    for (const auto& st : chain) st->finish(true);
    if (!out.bytes.same_storage(b)) return state.SkipWithError("the untouched request changed");
  }
  finish(state, s);
}

void BM_IndexAlone(benchmark::State& state) {
  const Signal s = signal_arg(state);
  const auto& in = requests(s);
  otlp::Index ix;
  std::size_t i = 0;
  for (auto _ : state) {
    if (!ix.build(s, in[i++ % in.size()])) return state.SkipWithError("index failed");
    benchmark::DoNotOptimize(ix.nodes().data());
  }
  finish(state, s);
}

// The untouched chain (without dedup) and the index pass alone on the same requests, alternated in
// one loop, which one goes first alternated too (the second finds the request in the cache): on a
// shared machine a ratio taken in one loop is steadier than two benchmarks' times. The time is
// the chain's; `vs_index` is the chain's time over the index pass's.
void BM_UntouchedVsIndex(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const Signal s = signal_arg(state);
  auto chain = chain_of(state, untouched(), false);
  const auto& in = requests(s);
  testing::ChainScratch scratch;
  otlp::Index ix;
  double chain_s = 0, index_s = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    const Bytes& b = in[i % in.size()];
    const bool chain_first = (i++ / in.size()) % 2 == 0;
    double took[2] = {0, 0};  // chain, index
    for (int step = 0; step < 2; ++step) {
      const auto t0 = Clock::now();
      if ((step == 0) == chain_first) {
        const testing::ChainOutput out = testing::run_chain(chain, s, b, scratch);
        if (!out.bytes.same_storage(b)) return state.SkipWithError("the untouched request changed");
        took[0] = std::chrono::duration<double>(Clock::now() - t0).count();
      } else {
        if (!ix.build(s, b)) return state.SkipWithError("index failed");
        benchmark::DoNotOptimize(ix.nodes().data());
        took[1] = std::chrono::duration<double>(Clock::now() - t0).count();
      }
    }
    chain_s += took[0];
    index_s += took[1];
    state.SetIterationTime(took[0]);
  }
  state.counters["vs_index"] = index_s > 0 ? chain_s / index_s : 0;
  finish(state, s);
}

BENCHMARK(BM_Chain);
BENCHMARK(BM_ChainReference);
BENCHMARK(BM_IndexAlone)->DenseRange(0, 2);
BENCHMARK(BM_ChainUntouched)->ArgsProduct({{0, 1, 2}, {1, 0}});
BENCHMARK(BM_UntouchedVsIndex)->DenseRange(0, 2)->UseManualTime();

// The dedup stage alone on the realistic metrics requests, every point new to its window (the
// variants are evicted before they come round again): BM_IndexAlone/0, the hashing and the window.
void BM_DedupWindow(benchmark::State& state) {
  std::string err;
  auto chain = testing::build_stages({{"dedup/d", testing::dedup_yaml(realistic())}}, &err);
  if (chain.empty()) return state.SkipWithError(err.c_str());
  const auto& in = requests(Signal::metrics);
  testing::ChainScratch scratch;
  std::size_t i = 0;
  for (auto _ : state) {
    const testing::ChainOutput out =
        testing::run_chain(chain, Signal::metrics, in[i++ % in.size()], scratch);
    chain[0]->finish(true);
    benchmark::DoNotOptimize(out.bytes.data());
  }
  finish(state, Signal::metrics);
}
BENCHMARK(BM_DedupWindow);

}  // namespace

BENCHMARK_MAIN();
