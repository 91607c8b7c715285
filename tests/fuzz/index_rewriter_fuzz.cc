// libFuzzer target for the zero-copy core: the index must accept or refuse any byte string
// without reading outside it, with the same verdict (error and offset) and counts whether it
// indexes attributes or not (IndexOptions), and when it accepts, a rewrite with edits chosen from the input
// must produce a request that indexes again with the expected item count.
//
// Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
//          -DOTLPGATE_FUZZ=ON -DOTLPGATE_ONLY_UNIT=ON && cmake --build build-fuzz --target index_rewriter_fuzz
//          fuzz_seed_corpus
// Run:   cd build-fuzz/tests/fuzz && mkdir -p corpus && ./fuzz_seed_corpus corpus 24 &&
//          ./index_rewriter_fuzz -max_total_time=60 -rss_limit_mb=2048 corpus
//        (or `ctest --test-dir build-fuzz -L fuzz`, a 20-second run)
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "tests/fuzz/require.h"

using namespace otlpgate;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the signal and seeds the edit choice; the rest is the request.
  const uint8_t control = data[0];
  const Signal signal = static_cast<Signal>(control % 3);
  Bytes in = Bytes::copy_of(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));

  static thread_local otlp::Index ix;
  static thread_local otlp::Index lean;
  static thread_local otlp::Edits edits;
  static thread_local otlp::Rewriter rw;
  const otlp::IndexResult full_result = ix.build(signal, in);
  const otlp::IndexResult lean_result = lean.build(signal, in, {.attributes = false});
  require(full_result.error == lean_result.error && full_result.offset == lean_result.offset);
  if (!full_result) return 0;
  require(lean.item_count() == ix.item_count() && lean.attributes().empty());
  require(lean.metrics().size() == ix.metrics().size() &&
          lean.data_points().size() == ix.data_points().size());

  // No edits: the very same buffer comes back.
  edits.clear();
  otlp::RewriteResult same = rw.apply(ix, edits);
  require(!same.changed && same.bytes.same_storage(in));
  require(same.items == ix.item_count());

  // Edits picked by the control byte: drop every k-th attribute, rename/replace others, drop
  // some items. The result must index again.
  const uint32_t k = 1 + (control >> 2) % 5;
  uint32_t n = 0;
  for (const otlp::Attribute& a : ix.attributes()) {
    switch (n++ % (k + 2)) {
      case 0: edits.drop_attribute(a); break;
      case 1: edits.set_attribute_value(a, otlp::any_value_string("redacted")); break;
      case 2: edits.rename_attribute(a, "renamed"); break;
      default: break;
    }
  }
  for (const auto& m : ix.metrics()) {
    if (n++ % k == 0) edits.rename_metric(m, "fuzz.metric");
  }
  uint64_t dropped_items = 0;
  for (const auto& p : ix.data_points()) {
    if (n++ % (k + 1) == 0) { edits.drop(p.node); ++dropped_items; }
  }
  for (const auto& s : ix.spans()) {
    if (n++ % (k + 1) == 0) { edits.drop(s.node); ++dropped_items; }
  }
  for (const auto& l : ix.log_records()) {
    if (n++ % (k + 1) == 0) { edits.drop(l.node); ++dropped_items; }
  }
  for (const auto& r : ix.resources()) {
    edits.add_resource_attribute(r, "fuzz.tenant", otlp::any_value_string("t"));
  }
  const uint64_t before = ix.item_count();
  otlp::RewriteResult out = rw.apply(ix, edits);
  require(out.items == before - dropped_items);

  otlp::Index again;
  require(static_cast<bool>(again.build(signal, out.bytes)));
  require(again.item_count() == out.items);
  return 0;
}
