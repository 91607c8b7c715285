// libFuzzer target for the OTLP JSON transcoder: any byte string is either refused with a message
// or becomes a request that the index accepts (unless nested deeper than it allows) and libprotobuf
// parses; libprotobuf's own OTLP JSON of that request transcodes back to the same bytes.
//
// Build: cmake -S . -B build-fuzz-json -G Ninja -DCMAKE_C_COMPILER=clang
// -DCMAKE_CXX_COMPILER=clang++ \
//          -DOTLPGATE_FUZZ=ON -DOTLPGATE_ONLY_UNIT=ON && cmake --build build-fuzz-json --target
//          json_fuzz fuzz_seed_corpus
// Run:   cd build-fuzz-json/tests/fuzz && mkdir -p json-corpus && ./fuzz_seed_corpus json-corpus 24
// json &&
//          ./json_fuzz -max_total_time=60 -rss_limit_mb=2048 json-corpus
//        (or `ctest --test-dir build-fuzz-json -L fuzz`, 20-second runs)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/otlp/index.h"
#include "core/otlp/json_transcode.h"
#include "tests/fuzz/require.h"
#include "tests/support/otlp_json.h"
#include "tests/support/random_otlp.h"

using namespace otlpgate;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the signal; the rest is the JSON document.
  const Signal signal = static_cast<Signal>(data[0] % 3);
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);

  otlp::JsonTranscodeResult r = otlp::json_to_protobuf(signal, json);
  if (!r) {
    require(!r.error.empty() && r.bytes.empty());
    return 0;
  }
  const std::string bytes = r.bytes;
  otlp::Index ix;
  const otlp::IndexResult indexed = ix.build(signal, Bytes::adopt(std::move(r.bytes)));
  if (!indexed) {
    require(indexed.error == otlp::IndexError::too_deep);
    return 0;
  }
  auto msg = testing::new_request(signal);
  require(msg->ParseFromString(bytes));

  // libprotobuf prints what it parsed in field-number order without defaults: transcoding that
  // must give exactly its serialization.
  otlp::JsonTranscodeResult again = otlp::json_to_protobuf(signal, testing::to_otlp_json(*msg));
  require(static_cast<bool>(again));
  require(again.bytes == msg->SerializeAsString());
  return 0;
}
