// make_payloads DIR [BYTES]: writes the benchmark workloads (bench/workload.h) as files
// DIR/{metrics,traces,logs}.pb, serialized Export*ServiceRequests of about BYTES each (default
// 64 KiB, a typical SDK/collector batch), for the load tests in loadtest/.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "bench/workload.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: " << argv[0] << " DIR [BYTES]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const std::size_t bytes = argc == 3 ? std::strtoull(argv[2], nullptr, 10) : 64 * 1024;
  for (otlpgate::Signal s : otlpgate::kAllSignals) {
    const std::string path = dir + "/" + std::string(otlpgate::signal_name(s)) + ".pb";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << otlpgate::bench::make_request(s, bytes);
    if (!out) {
      std::cerr << "cannot write " << path << "\n";
      return 1;
    }
  }
  return 0;
}
