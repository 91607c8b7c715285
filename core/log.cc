// The stderr logger: one write(2) per line so lines from several threads never interleave.
#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace otlpgate::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_level(std::string_view name) {
  Level l = Level::info;
  if (name == "debug") l = Level::debug;
  else if (name == "warn") l = Level::warn;
  else if (name == "error") l = Level::error;
  g_level.store(static_cast<int>(l), std::memory_order_relaxed);
}

bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view message) {
  std::string line = "otlpgate: ";
  line += level_name(l);
  line += ": ";
  line += message;
  line += '\n';
  // Best effort: a failed log write has nowhere better to go.
  [[maybe_unused]] ssize_t n = ::write(2, line.data(), line.size());
}

}  // namespace otlpgate::log
