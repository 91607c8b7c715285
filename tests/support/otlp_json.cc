// libprotobuf's JSON printing adjusted to OTLP (see otlp_json.h).
#include "tests/support/otlp_json.h"

#include <google/protobuf/util/json_util.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/base64.h"

namespace otlpgate::testing {
namespace {

// Base64 (standard alphabet, padded, as libprotobuf prints bytes) to lowercase hex.
std::string base64_to_hex(std::string_view b64) {
  std::string bytes;
  std::size_t bad = 0;
  if (!base64_decode(b64, bytes, Base64Rules{}, &bad)) {
    std::fprintf(stderr, "otlp_json: not base64 at %zu: %.*s\n", bad, static_cast<int>(b64.size()),
                 b64.data());
    std::abort();
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  return hex;
}

// Rewrites the string value of every `"<key>":"…"` in libprotobuf's compact output. Keys appear
// only as field names there: a string value containing the pattern would have its quotes escaped.
std::string ids_to_hex(std::string_view json, std::string_view key) {
  const std::string pattern = "\"" + std::string(key) + "\":\"";
  std::string out;
  out.reserve(json.size() + json.size() / 8);
  std::size_t done = 0;
  for (std::size_t at; (at = json.find(pattern, done)) != std::string_view::npos;) {
    const std::size_t begin = at + pattern.size();
    const std::size_t end = json.find('"', begin);
    out.append(json.substr(done, begin - done));
    out += base64_to_hex(json.substr(begin, end - begin));
    done = end;
  }
  out.append(json.substr(done));
  return out;
}

}  // namespace

std::string to_otlp_json(const google::protobuf::Message& m, const OtlpJsonOptions& o) {
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_enums_as_ints = !o.enum_names;
  print.preserve_proto_field_names = o.proto_field_names;
  print.always_print_primitive_fields = o.print_defaults;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(m, &json, print);
  if (!status.ok()) {
    std::fprintf(stderr, "otlp_json: MessageToJsonString failed: %s\n", status.ToString().c_str());
    std::abort();
  }
  if (!o.hex_ids) return json;
  for (std::string_view key :
       {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}) {
    json = ids_to_hex(json, key);
  }
  return json;
}

}  // namespace otlpgate::testing
