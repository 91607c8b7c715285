// Cursor: a non-throwing reader over the fields of one protobuf message, reporting byte offsets.
//
// Why not protozero::pbf_reader here: it reports malformed input by throwing, without the offset.
// The index needs an error value with the offset for the 400 message, and STYLE.md keeps
// exceptions off the data plane. Writing stays with protozero (core/wire/writer.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/otlp/index_error.h"

namespace otlpgate::wire {

enum class WireType : uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

// Decodes a varint at p (< end). Returns the byte after it, or nullptr when it runs past `end`
// (truncated) or is longer than 10 bytes (bad).
inline const char* decode_varint(const char* p, const char* end, uint64_t* out, bool* too_long) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p == end) return nullptr;
    const auto b = static_cast<uint8_t>(*p++);
    v |= static_cast<uint64_t>(b & 0x7fu) << shift;
    if ((b & 0x80u) == 0) {
      *out = v;
      return p;
    }
  }
  *too_long = true;
  return nullptr;
}

// Walks the fields of one message in [begin, end) of `base`. After next() returns true, the
// field's number, wire type, offsets and value are available; the cursor is already past it.
class Cursor {
 public:
  Cursor(const char* base, uint32_t begin, uint32_t end) : base_(base), pos_(begin), end_(end) {}

  bool next() {
    if (pos_ >= end_) return false;
    field_begin_ = pos_;
    const char* const stop = base_ + end_;
    const char* p = base_ + pos_;
    uint64_t key;
    if (static_cast<uint8_t>(*p) < 0x80u) {  // fields 1..15, the usual case: only 0 is bad
      key = static_cast<uint8_t>(*p++);
      if (key < 8) return fail(otlp::IndexError::bad_field_number);
    } else {
      bool too_long = false;
      p = decode_varint(p, stop, &key, &too_long);
      if (!p) return fail(too_long ? otlp::IndexError::bad_varint : otlp::IndexError::truncated);
      const uint64_t f = key >> 3;
      if (f == 0 || (f >= 19000 && f <= 19999) || key > 0xffffffffull)
        return fail(otlp::IndexError::bad_field_number);
    }
    field_ = static_cast<uint32_t>(key >> 3);
    const auto wt = static_cast<uint8_t>(key & 7u);
    header_ = static_cast<uint32_t>(p - base_);
    switch (wt) {
      case 0: {
        bool too_long = false;
        if (p < stop && static_cast<uint8_t>(*p) < 0x80u) {
          value_ = static_cast<uint8_t>(*p++);
        } else {
          p = decode_varint(p, stop, &value_, &too_long);
          if (!p) return fail(too_long ? otlp::IndexError::bad_varint : otlp::IndexError::truncated);
        }
        payload_ = header_;
        break;
      }
      case 1:
        if (stop - p < 8) return fail(otlp::IndexError::truncated);
        std::memcpy(&value_, p, 8);
        payload_ = header_;
        p += 8;
        break;
      case 5: {
        if (stop - p < 4) return fail(otlp::IndexError::truncated);
        uint32_t v;
        std::memcpy(&v, p, 4);
        value_ = v;
        payload_ = header_;
        p += 4;
        break;
      }
      case 2: {
        uint64_t len;
        if (p < stop && static_cast<uint8_t>(*p) < 0x80u) {
          len = static_cast<uint8_t>(*p++);
        } else {
          bool too_long = false;
          p = decode_varint(p, stop, &len, &too_long);
          if (!p) return fail(too_long ? otlp::IndexError::bad_varint : otlp::IndexError::truncated);
        }
        if (len > static_cast<uint64_t>(stop - p)) return fail(otlp::IndexError::length_past_end);
        payload_ = static_cast<uint32_t>(p - base_);
        p += len;
        value_ = len;
        break;
      }
      default:
        return fail(otlp::IndexError::bad_wire_type);
    }
    wire_ = static_cast<WireType>(wt);
    pos_ = static_cast<uint32_t>(p - base_);
    return true;
  }

  uint32_t field() const noexcept { return field_; }
  WireType wire() const noexcept { return wire_; }
  bool is(WireType w) const noexcept { return wire_ == w; }
  // Offsets: tag, length varint (length-delimited) or value, payload, end of the field.
  uint32_t field_begin() const noexcept { return field_begin_; }
  uint32_t header() const noexcept { return header_; }
  uint32_t payload() const noexcept { return payload_; }
  uint32_t field_end() const noexcept { return pos_; }
  // varint value, fixed32/fixed64 bits, or the length of a length-delimited field.
  uint64_t value() const noexcept { return value_; }
  std::string_view bytes() const noexcept {
    return std::string_view(base_ + payload_, pos_ - payload_);
  }

  otlp::IndexError error() const noexcept { return error_; }
  uint32_t error_offset() const noexcept { return field_begin_; }

 private:
  bool fail(otlp::IndexError e) {
    error_ = e;
    pos_ = end_;
    return false;
  }

  const char* base_;
  uint32_t pos_;
  uint32_t end_;
  uint32_t field_begin_ = 0;
  uint32_t header_ = 0;
  uint32_t payload_ = 0;
  uint32_t field_ = 0;
  uint64_t value_ = 0;
  WireType wire_ = WireType::varint;
  otlp::IndexError error_ = otlp::IndexError::none;
};

}  // namespace otlpgate::wire
