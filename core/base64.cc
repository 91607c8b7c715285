#include "core/base64.h"

#include <array>
#include <cstdint>

namespace otlpgate {
namespace {

constexpr int8_t kInvalid = -1;
constexpr int8_t kUrlSafe = -2;  // '-' and '_': 62 and 63 when the rules allow them

constexpr std::array<int8_t, 256> kDigits = [] {
  std::array<int8_t, 256> t{};
  t.fill(kInvalid);
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  t['-'] = t['_'] = kUrlSafe;
  return t;
}();

bool is_line_break(char c) { return c == '\r' || c == '\n'; }

}  // namespace

std::size_t base64_decoded_size(std::string_view in, Base64Rules rules) {
  std::size_t digits = 0;
  for (char c : in) digits += c != '=' && !(rules.skip_line_breaks && is_line_break(c));
  return digits / 4 * 3 + (digits % 4 > 1 ? digits % 4 - 1 : 0);
}

namespace {

// Writes the 1 or 2 bytes that a last group of 2 or 3 digits holds.
char* write_tail(uint32_t acc, int digits, char* out) {
  acc <<= 6 * (4 - digits);
  *out++ = static_cast<char>(acc >> 16);
  if (digits == 3) *out++ = static_cast<char>((acc >> 8) & 0xff);
  return out;
}

}  // namespace

std::size_t base64_decode(std::string_view in, char* out, Base64Rules rules,
                          std::size_t* bad_offset) {
  char* const begin = out;
  uint32_t acc = 0;
  int digits = 0;   // in the current group of four
  int padding = 0;  // '=' seen in the current group
  bool done = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (rules.skip_line_breaks && is_line_break(static_cast<char>(c))) continue;
    int8_t v = kDigits[c];
    if (v == kUrlSafe) v = rules.url_safe ? (c == '-' ? 62 : 63) : kInvalid;
    const bool ok = !done && (c == '=' ? digits >= 2 : v >= 0 && padding == 0);
    if (!ok) {
      *bad_offset = i;
      return std::string_view::npos;
    }
    if (c == '=') {
      if (digits + ++padding < 4) continue;
      out = write_tail(acc, digits, out);  // "xx==" holds one byte, "xxx=" two
      done = true;
      continue;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++digits == 4) {
      *out++ = static_cast<char>(acc >> 16);
      *out++ = static_cast<char>((acc >> 8) & 0xff);
      *out++ = static_cast<char>(acc & 0xff);
      acc = 0;
      digits = 0;
    }
  }
  if (!done && digits != 0) {
    if (padding != 0 || !rules.padding_optional || digits < 2) {
      *bad_offset = in.size();
      return std::string_view::npos;
    }
    out = write_tail(acc, digits, out);
  }
  return static_cast<std::size_t>(out - begin);
}

bool base64_decode(std::string_view in, std::string& out, Base64Rules rules,
                   std::size_t* bad_offset) {
  const std::size_t old = out.size();
  out.resize(old + base64_decoded_size(in, rules));
  const std::size_t n = base64_decode(in, out.data() + old, rules, bad_offset);
  out.resize(n == std::string_view::npos ? old : old + n);
  return n != std::string_view::npos;
}

}  // namespace otlpgate
