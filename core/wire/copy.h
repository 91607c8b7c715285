// copy_run: copies the short byte runs that protobuf rewriting is made of (a tag, a length, one
// attribute's field) with a few fixed-size moves instead of a call to memcpy for each.
#pragma once

#include <cstddef>
#include <cstring>

namespace otlpgate::wire {

// Copies `n` bytes from `from` to `out` (the two do not overlap); returns `out + n`. Runs of up
// to 64 bytes are two moves (the second overlapping the first), longer ones one memcpy.
inline char* copy_run(char* out, const char* from, std::size_t n) {
  if (n > 64) {
    std::memcpy(out, from, n);
  } else if (n > 32) {
    std::memcpy(out, from, 32);
    std::memcpy(out + n - 32, from + n - 32, 32);
  } else if (n >= 16) {
    std::memcpy(out, from, 16);
    std::memcpy(out + n - 16, from + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(out, from, 8);
    std::memcpy(out + n - 8, from + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(out, from, 4);
    std::memcpy(out + n - 4, from + n - 4, 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = from[i];
  }
  return out + n;
}

}  // namespace otlpgate::wire
