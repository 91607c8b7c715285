// Text form of attribute values.
#include "filters/attribute_text.h"

#include <charconv>

#include "core/otlp/fields.h"
#include "core/wire/writer.h"

namespace otlpgate::filters {

namespace {

void append_base64(std::string& out, std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
}

}  // namespace

void append_attribute_text(const otlp::Attribute& a, std::string& out) {
  char buf[64];
  switch (a.type) {
    case otlp::ValueType::string:
      out.append(a.scalar());
      return;
    case otlp::ValueType::boolean:
      out.append(a.as_bool() ? "true" : "false");
      return;
    case otlp::ValueType::integer: {
      auto r = std::to_chars(buf, buf + sizeof buf, a.as_int());
      out.append(buf, r.ptr);
      return;
    }
    case otlp::ValueType::floating: {
      auto r = std::to_chars(buf, buf + sizeof buf, a.as_double());
      out.append(buf, r.ptr);
      return;
    }
    case otlp::ValueType::bytes:
      append_base64(out, a.scalar());
      return;
    default:
      return;
  }
}

void append_any_value_string(std::string& out, std::string_view s) {
  wire::append_bytes_field(out, otlp::num(otlp::AnyValue::string_value), s);
}

}  // namespace otlpgate::filters
