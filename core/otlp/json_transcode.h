// OTLP/JSON at the receiver: transcodes an OTLP JSON Export*ServiceRequest, once, into the
// protobuf bytes the chain uses, and writes the receivers' responses as OTLP JSON.
//
// The JSON mapping is the OTLP one (opentelemetry-proto docs/specification.md, FACTS.md), which
// differs from plain proto3 JSON: trace and span ids are hex (either case), enums are integers
// (names are accepted too), 64-bit integers are decimal strings or numbers, keys are lowerCamelCase
// (the original snake_case names are accepted too, as protobuf's JSON parsers do), unknown keys are
// ignored and `null` means "absent". No libprotobuf on this path: simdjson parses and validates the
// whole document, a table per OTLP message drives the walk, and the output is written once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/otlp/index_error.h"
#include "core/signal.h"

namespace otlpgate::otlp {

// Deepest nesting of JSON arrays and objects accepted (simdjson refuses deeper documents before
// the walk, which therefore recurses at most this deep). The outermost AnyValue sits at most 15
// levels down (an exemplar's filtered attribute) and each AnyValue level costs at most four more
// (kvlistValue, values, element, value), so this admits every nesting the index accepts.
inline constexpr int kMaxJsonDepth = 16 + 4 * (kMaxNesting + 1);

struct JsonTranscodeResult {
  std::string bytes;  // the serialized Export*ServiceRequest, when the JSON was valid
  // Empty on success; otherwise "<JSON path>: <what was wrong>", e.g.
  // "resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex characters, got 30",
  // or "invalid JSON: <why>" when the document does not parse. Safe to echo to the sender.
  std::string error;
  explicit operator bool() const noexcept { return error.empty(); }
};

// Transcodes one OTLP JSON Export{Metrics,Trace,Logs}ServiceRequest of `signal`. `json` is only
// read during the call. The output is at most about 4 times the input (a packed double written
// as "1," becomes 8 bytes); fields appear in the order of the JSON keys, which for a document
// printed from protobuf gives the same bytes as serializing it. Thread-safe: each thread keeps
// its own parser (up to a few MiB of capacity; a larger document uses a one-off parser).
JsonTranscodeResult json_to_protobuf(Signal signal, std::string_view json);

// Export{Metrics,Trace,Logs}ServiceResponse as OTLP JSON: "{}" when rejected == 0 and the
// message is empty, otherwise {"partialSuccess":{"rejected<Items>":"<n>","errorMessage":"…"}}.
std::string export_response_json(Signal signal, uint64_t rejected, std::string_view error_message);

// `s` itself when it is valid UTF-8, otherwise a copy with every byte >= 0x80 written as '?': what
// a message that quotes request bytes (a header, a path) must go through before it becomes a
// protobuf `string` (parsers refuse invalid UTF-8) or JSON.
std::string valid_utf8(std::string_view s);

// Appends `s` as a JSON string literal, escaped, its bytes made valid as valid_utf8() does.
void append_json_string(std::string& out, std::string_view s);

// google.rpc.Status as JSON: {"code":…,"message":"…","details":[…]}, with a google.rpc.RetryInfo
// detail ({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"<n>s"}) when
// retry_after > 0. Bytes of `message` that are not valid UTF-8 are written as '?'.
std::string rpc_status_json(int32_t code, std::string_view message,
                            std::chrono::seconds retry_after);

}  // namespace otlpgate::otlp
