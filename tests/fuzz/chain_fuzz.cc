// libFuzzer target for the processing chain: a configuration of filter → redact → dedup → relabel
// chosen by the input (tests/support/chain_reference.h) runs over the request the rest of the
// input holds. Whatever the bytes, the chain must not crash, its output must index again with the
// item count the rewriter reported, a refused request must leave the dedup window as it
// found it, and for a metrics request that libprotobuf reads and would write byte for byte the
// same, the output must parse into exactly what the libprotobuf reference makes of it.
//
// Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
//          -DOTLPGATE_FUZZ=ON -DOTLPGATE_ONLY_UNIT=ON && cmake --build build-fuzz --target
//          chain_fuzz fuzz_seed_corpus
// Run:   cd build-fuzz/tests/fuzz && mkdir -p chain-corpus && ./fuzz_seed_corpus chain-corpus 64
// chain
//          && ./chain_fuzz -max_total_time=60 -rss_limit_mb=2048 chain-corpus
//        (or `ctest --test-dir build-fuzz -L fuzz`, a 20-second run)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include "filters/registry.h"
#include "tests/support/chain_reference.h"

using namespace otlpgate;

namespace {

// Fails loudly: libFuzzer reports the input that got here.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "chain_fuzz: %s\n", what);
  std::abort();
}

uint64_t window_keys(const Stage& dedup) {
  for (const auto& [name, value] : filters::stage_counters(dedup))
    if (name == "dedup_window_keys") return value;
  return 0;
}

// One chain per configuration, built once: building compiles regexes.
const std::vector<std::unique_ptr<Stage>>& chain_for(uint8_t config, testing::ChainConfig& c) {
  static std::map<uint8_t, std::pair<testing::ChainConfig, std::vector<std::unique_ptr<Stage>>>>
      chains;
  auto it = chains.find(config);
  if (it == chains.end()) {
    std::mt19937 rng(config);
    testing::ChainConfig cfg = testing::random_chain_config(rng);
    std::string err;
    auto chain = testing::build_chain(cfg, &err);
    if (chain.empty()) std::fprintf(stderr, "chain_fuzz: %s\n", err.c_str());
    require(!chain.empty(), "a random configuration does not build");
    it = chains.emplace(config, std::make_pair(std::move(cfg), std::move(chain))).first;
  }
  c = it->second.first;
  return it->second.second;
}

// Known limitation, not checked: an attribute a stage rewrites (Edits::set_attribute_value, the
// relabel writes) is written as key + value, so unknown fields inside that KeyValue or its
// AnyValue are lost, where libprotobuf would keep them. No sender puts fields there.
class IgnoreUnknownFieldsOfAttributes final
    : public google::protobuf::util::MessageDifferencer::IgnoreCriteria {
 public:
  bool IsIgnored(
      const google::protobuf::Message&, const google::protobuf::Message&,
      const google::protobuf::FieldDescriptor*,
      const std::vector<google::protobuf::util::MessageDifferencer::SpecificField>&) override {
    return false;
  }
  bool IsUnknownFieldIgnored(
      const google::protobuf::Message& m, const google::protobuf::Message&,
      const google::protobuf::util::MessageDifferencer::SpecificField&,
      const std::vector<google::protobuf::util::MessageDifferencer::SpecificField>&) override {
    const auto* d = m.GetDescriptor();
    return d == opentelemetry::proto::common::v1::KeyValue::descriptor() ||
           d == opentelemetry::proto::common::v1::AnyValue::descriptor();
  }
};

// The metrics request parsed by libprotobuf, when it writes it back as the very same bytes (so
// that no encoding freedom the two sides may treat differently is in play).
bool canonical(const Bytes& in, testing::MetricsRequest& req) {
  return req.ParseFromArray(in.data(), static_cast<int>(in.size())) &&
         req.SerializeAsString() == in.view();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 in strings is expected here
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the signal (low part) and the configuration; the rest is the request.
  const Signal signal = static_cast<Signal>(data[0] % 3);
  testing::ChainConfig c;
  const auto& chain = chain_for(static_cast<uint8_t>(data[0] / 3), c);
  const Bytes in =
      Bytes::copy_of(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));

  static testing::ChainScratch scratch;
  if (!scratch.index.build(signal, in)) return 0;  // refused at the door: not the chain's business
  const uint64_t items_in = scratch.index.item_count();
  const testing::ChainOutput out = testing::run_chain(chain, signal, in, scratch);
  require(out.ok, "run_chain could not index an input that indexes");
  require(out.items <= items_in, "the chain added items");
  otlp::Index again;
  require(static_cast<bool>(again.build(signal, out.bytes)), "the output does not index");
  require(again.item_count() == out.items, "the rewriter miscounted the items it kept");

  testing::MetricsRequest want;
  if (signal == Signal::metrics && canonical(in, want)) {
    testing::apply_reference_chain(c, want);
    testing::MetricsRequest got;
    require(got.ParseFromArray(out.bytes.data(), static_cast<int>(out.bytes.size())),
            "libprotobuf cannot parse the output");
    std::string diff;
    google::protobuf::util::DefaultFieldComparator values;
    values.set_treat_nan_as_equal(true);  // a NaN point value is still the same point
    google::protobuf::util::MessageDifferencer d;
    d.set_field_comparator(&values);
    d.AddIgnoreCriteria(new IgnoreUnknownFieldsOfAttributes());  // the differencer owns it
    d.ReportDifferencesToString(&diff);
    if (!d.Compare(want, got)) std::fprintf(stderr, "chain_fuzz: differences:\n%s", diff.c_str());
    require(d.Compare(want, got), "the output differs from the libprotobuf reference");
  }

  // As if every queue refused the request: the dedup window forgets it, so the next input starts
  // from an empty window again (and the fuzzer's findings reproduce).
  for (const auto& st : chain) st->finish(false);
  require(window_keys(*chain[2]) == 0, "a refused request left keys in the dedup window");
  return 0;
}
