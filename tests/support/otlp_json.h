// OTLP JSON printed by libprotobuf, for the JSON transcoder's tests, fuzz corpus and benchmarks:
// google::protobuf::util::MessageToJsonString, then adjusted to the OTLP rules (trace and span ids
// as hex instead of base64; enums as integers unless asked for names).
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace otlpgate::testing {

struct OtlpJsonOptions {
  bool enum_names = false;         // libprotobuf's default; OTLP says integers (both are accepted)
  bool proto_field_names = false;  // snake_case keys as in the .proto (accepted besides camelCase)
  bool print_defaults = false;     // also print fields that hold their default value
  bool hex_ids = true;             // false: keep libprotobuf's base64 ids (what its parser reads)
};

// `m` as JSON. Aborts the test binary if libprotobuf cannot print it (it always can for OTLP).
std::string to_otlp_json(const google::protobuf::Message& m, const OtlpJsonOptions& o = {});

}  // namespace otlpgate::testing
