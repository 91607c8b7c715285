// The hot-path rule "no per-item heap allocation": once warm, the stages' process() calls
// allocate nothing at all, on the benchmark workload of every signal with rules that drop, delete,
// hash, mask, add and rename. A binary of its own, because it replaces the global operator new to
// count every allocation.
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench/workload.h"
#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "tests/support/chain_reference.h"

namespace {
thread_local long t_allocations = 0;
}  // namespace

// GCC takes free() of what a replaced operator new returned for a mismatch; here it is the pair.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  ++t_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
// The nothrow forms too (std::stable_partition's temporary buffer): every form must pair with the
// free() below, or ASan reports a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++t_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace otlpgate {
namespace {

// Rules that fire on the workload (bench/workload.cc): every stage edits something.
const std::vector<std::pair<std::string, std::string>> kChain = {
    {"filter/f",
     "metrics: {exclude: {match_type: strict, metric_names: [http.server.request.1.count], "
     "attributes: [{key: http.route, value: /healthz}]}}\n"
     "spans: {exclude: {match_type: regexp, span_names: ['^GET /healthz']}}\n"
     "logs: {exclude: {match_type: strict, severity_texts: [DEBUG]}}\n"},
    {"redact/r",
     "delete_keys: [k8s.pod.name, thread.name]\nhash_keys: [client.address]\nhash_key: k\n"
     "builtin_patterns: [email]\n"},
    {"dedup/d", "max_series: 1000000\n"},
    {"relabel/l",
     "metric_relabel_configs:\n"
     "- {source_labels: [__name__], regex: 'http\\.server\\.request\\.1.*', target_label: "
     "service, replacement: checkout}\n"
     "- {source_labels: [__name__], regex: '(.*)\\.count', target_label: __name__, "
     "replacement: '${1}.total'}\n"
     "actions:\n- {key: deployment.environment, value: prod, action: insert, level: resource}\n"
     "- {key: tenant, value: shop, action: upsert}\n"},
};

class ChainAllocationTest : public ::testing::TestWithParam<Signal> {};

TEST_P(ChainAllocationTest, WarmStagesAllocateNothing) {
  const Signal signal = GetParam();
  std::string err;
  const std::vector<std::unique_ptr<Stage>> chain = testing::build_stages(kChain, &err);
  ASSERT_FALSE(chain.empty()) << err;
  otlp::Index ix;
  otlp::Edits edits;
  otlp::Rewriter rw;
  std::vector<long> per_stage(chain.size());
  long rewrite = 0;
  // Requests 1-3 warm the caches, scratch buffers and the dedup window; request 4 is counted.
  for (unsigned seed = 1; seed <= 4; ++seed) {
    const Bytes in = Bytes::adopt(bench::make_request(signal, 256 << 10, seed));
    std::size_t edited = 0;
    // As run_stages runs them: one index, one Edits that every stage reads and adds to.
    ASSERT_TRUE(ix.build(signal, in));
    edits.reset(ix);
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const std::size_t entries = edits.entries().size();
      const long before = t_allocations;
      chain[i]->process(ix, edits);
      per_stage[i] = t_allocations - before;
      edited += edits.entries().size() != entries;
    }
    const long before_rewrite = t_allocations;
    const Bytes out = rw.apply(ix, edits).bytes;
    rewrite = t_allocations - before_rewrite;
    EXPECT_FALSE(out.same_storage(in));
    for (auto& st : chain) st->finish(true);
    ASSERT_GE(edited, 2u) << "the rules must fire for the count to mean something";
  }
  for (std::size_t i = 0; i < chain.size(); ++i)
    EXPECT_EQ(per_stage[i], 0) << chain[i]->name() << " on " << signal_name(signal);
  // The output buffer (its string and the Bytes' control block) and nothing else.
  EXPECT_LE(rewrite, 2) << "rewrite on " << signal_name(signal);
}

INSTANTIATE_TEST_SUITE_P(AllSignals, ChainAllocationTest,
                         ::testing::Values(Signal::metrics, Signal::traces, Signal::logs),
                         [](const auto& info) { return std::string(signal_name(info.param)); });

}  // namespace
}  // namespace otlpgate
