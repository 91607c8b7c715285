// The User-Agent the exporters send: otlpgate/<version>.
#pragma once

#include <string_view>

// The build may pass -DOTLPGATE_VERSION="x.y.z"; until releases are versioned this is the default.
#ifndef OTLPGATE_VERSION
#define OTLPGATE_VERSION "0.1.0"
#endif

namespace otlpgate::server {

inline constexpr std::string_view kUserAgent = "otlpgate/" OTLPGATE_VERSION;

}  // namespace otlpgate::server
