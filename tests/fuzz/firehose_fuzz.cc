// libFuzzer target for the Firehose receiver's decoding: the delivery body and each record decoder.
// The first input byte picks what the rest is: 0 a delivery body (records auto-detected), 1-4 one
// record read as cwmetrics / otel1 / otel07 / cwlogs, 5 a common-attributes header. Whatever the
// input, nothing reads out of bounds or crashes, and every request the decoders produce is one
// the index accepts (the pipeline would otherwise refuse the whole delivery).
//
// Build: cmake -S . -B build-fuzz-fh -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
// \
//          -DOTLPGATE_FUZZ=ON -DOTLPGATE_ONLY_UNIT=ON && cmake --build build-fuzz-fh --target
//          firehose_fuzz
// Run:   ctest --test-dir build-fuzz-fh -R fuzz_firehose_smoke   (seeds the corpus from
//          tests/fixtures/firehose, then 20 s), or in build-fuzz-fh/tests/fuzz after that:
//          ./firehose_fuzz -max_total_time=60 -rss_limit_mb=2048 firehose-corpus
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/firehose/common_attributes.h"
#include "core/firehose/delivery.h"
#include "core/firehose/request.h"
#include "core/otlp/index.h"

namespace {

using namespace otlpgate;

void must_be_valid(Signal signal, const std::string& request) {
  if (request.empty()) return;
  otlp::Index index;
  if (!index.build(signal, Bytes::copy_of(request))) std::abort();
}

void check(firehose::DeliveryDecoder& decoder) {
  const firehose::DecodedDelivery out = decoder.finish();
  must_be_valid(Signal::metrics, out.metrics);
  must_be_valid(Signal::logs, out.logs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr std::size_t kBudget = 1 << 20;
  switch (data[0] % 6) {
    case 0: {
      firehose::DeliveryDecoder decoder(firehose::Format::auto_detect, kBudget);
      std::string body(in);
      firehose::DeliveryBody meta;
      firehose::parse_delivery(body, meta,
                               [&](std::size_t i, std::string_view record, std::string_view error) {
                                 if (error.empty()) {
                                   decoder.add(i, record);
                                 } else {
                                   decoder.add_unreadable(i, error);
                                 }
                               });
      check(decoder);
      break;
    }
    case 5: {
      firehose::Attributes attrs;
      if (!firehose::parse_common_attributes(in, attrs).empty()) break;
      // A small request with one resource that has an attribute and one that has no Resource.
      const std::string request(
          "\x0a\x0f\x0a\x0d\x0a\x0b\x0a\x03"
          "env\x12\x04\x0a\x02"
          "qa\x0a\x00",
          19);
      const Bytes out =
          otlp::add_missing_resource_attributes(Signal::logs, Bytes::copy_of(request), attrs);
      must_be_valid(Signal::logs, std::string(out.view()));
      break;
    }
    default: {
      firehose::DeliveryDecoder decoder(static_cast<firehose::Format>(data[0] % 6), kBudget);
      decoder.add(0, in);
      check(decoder);
      break;
    }
  }
  return 0;
}
