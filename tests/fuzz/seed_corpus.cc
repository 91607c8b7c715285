// Writes N small valid requests per signal into DIR, each prefixed with the control byte the
// fuzz target reads (the signal in its low bits): seed_corpus DIR N
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "tests/support/random_otlp.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " DIR N\n";
    return 2;
  }
  const std::string dir = argv[1];
  const int n = std::atoi(argv[2]);
  const otlpgate::testing::RandomOptions small;
  for (otlpgate::Signal s : otlpgate::kAllSignals) {
    for (int i = 0; i < n; ++i) {
      const std::string body = otlpgate::testing::random_request_bytes(s, static_cast<uint64_t>(i), small);
      const char control = static_cast<char>(static_cast<int>(s) + 3 * (i % 80));
      std::ofstream out(dir + "/seed-" + std::to_string(static_cast<int>(s)) + "-" + std::to_string(i),
                        std::ios::binary);
      out.put(control);
      out << body;
    }
  }
  return 0;
}
