// The fuzz targets' assertion: fails loudly, so that libFuzzer reports the input that got there.
#pragma once

#include <cstdlib>

namespace otlpgate::fuzz {

inline void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace otlpgate::fuzz
