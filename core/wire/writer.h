// Small protobuf encoding helpers over protozero, for building fields the rewriter inserts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <protozero/pbf_writer.hpp>
#include <protozero/varint.hpp>

namespace otlpgate::wire {

inline std::size_t varint_size(uint64_t v) { return static_cast<std::size_t>(protozero::length_of_varint(v)); }

inline void append_varint(std::string& out, uint64_t v) { protozero::add_varint_to_buffer(&out, v); }

// Appends a length-delimited field: tag, length, bytes.
inline void append_bytes_field(std::string& out, uint32_t field, std::string_view bytes) {
  protozero::pbf_writer w(out);
  w.add_bytes(field, bytes.data(), bytes.size());
}

}  // namespace otlpgate::wire
