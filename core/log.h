// A tiny leveled logger to stderr, shared by the server and the exporters.
#pragma once

#include <string_view>

namespace otlpgate::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// Sets the lowest level that is written; "debug" | "info" | "warn" | "error" (others: info).
void set_level(std::string_view name);
bool enabled(Level l);

// Writes one line "otlpgate: <level>: <message>" atomically (one write call).
void write(Level l, std::string_view message);

inline void debug(std::string_view m) { if (enabled(Level::debug)) write(Level::debug, m); }
inline void info(std::string_view m) { if (enabled(Level::info)) write(Level::info, m); }
inline void warn(std::string_view m) { if (enabled(Level::warn)) write(Level::warn, m); }
inline void error(std::string_view m) { if (enabled(Level::error)) write(Level::error, m); }

}  // namespace otlpgate::log
