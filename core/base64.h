// Base64 decoding (RFC 4648) for the places that receive it: OTLP/JSON bytes fields and Firehose
// record data. One decoder; the callers differ only in the rules they accept.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace otlpgate {

struct Base64Rules {
  bool url_safe = false;          // also accept '-' and '_' (RFC 4648 §5), as protobuf's JSON parsers do
  bool padding_optional = false;  // a last group of 2 or 3 digits without its '='
  bool skip_line_breaks = false;  // ignore CR and LF anywhere (as Go's decoder does)
};

// The decoded size of `in` if it is valid under `rules`; an upper bound otherwise.
std::size_t base64_decoded_size(std::string_view in, Base64Rules rules);

// Decodes `in` into `out`, which has room for base64_decoded_size(in, rules) bytes. Returns the
// number of bytes written, or sets `*bad_offset` to the offset of the first character that cannot
// stand where it is (in.size() when the input ends inside a group) and returns npos.
std::size_t base64_decode(std::string_view in, char* out, Base64Rules rules, std::size_t* bad_offset);

// The same, appending to `out`; false (and `out` unchanged in size) when `in` is not valid.
bool base64_decode(std::string_view in, std::string& out, Base64Rules rules, std::size_t* bad_offset);

}  // namespace otlpgate
