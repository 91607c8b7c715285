// IndexError: why a request's bytes could not be indexed. Every malformed input maps to one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace otlpgate::otlp {

enum class IndexError : uint8_t {
  none = 0,
  truncated,          // the buffer ends inside a field (a fixed-size value or a tag)
  bad_varint,         // a varint longer than 10 bytes
  length_past_end,    // a length prefix points past the end of its enclosing message
  bad_wire_type,      // wire type 3, 4, 6 or 7 (groups and invalid types are not accepted)
  bad_field_number,   // field number 0 or in the reserved range 19000-19999
  wrong_wire_type,    // a known field encoded with a wire type its schema does not allow
  too_deep,           // AnyValue nesting deeper than kMaxNesting
  too_large,          // larger than 4 GiB, or more nodes than 32-bit offsets can address
};

// Maximum nesting of AnyValue arrays/kvlists inside one attribute value. Each level costs two
// protobuf message levels, and backends built on libprotobuf refuse more than 100 in all.
inline constexpr int kMaxNesting = 32;

struct IndexResult {
  IndexError error = IndexError::none;
  uint32_t offset = 0;  // byte offset where the problem was found
  explicit operator bool() const noexcept { return error == IndexError::none; }
};

// A short lowercase description, e.g. "length prefix past the end of the enclosing message".
std::string_view describe(IndexError e);
// "<description> at byte <offset>", for error responses and logs.
std::string describe(const IndexResult& r);

}  // namespace otlpgate::otlp
