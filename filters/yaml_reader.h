// YamlReader: typed, path-naming access to one processor's YAML block, shared by the stage
// factories.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/config/config.h"

namespace otlpgate::filters {

// Every getter returns false and sets the error ("processors.<id>.<path>: <what was expected>")
// on the first problem; config is read once at start-up, so clarity beats speed here.
class YamlReader {
 public:
  YamlReader(const config::Processor& p, std::string* err) : id_(p.id), err_(err) {}

  // Parses the processor's YAML text; an empty block is an empty map.
  bool load(const config::Processor& p, YAML::Node& root);

  // "processors.<id>" + "." + key path.
  std::string path(std::string_view sub) const;

  // `n` must be a map (or null) whose keys are all in `allowed`.
  bool check_keys(const YAML::Node& n, std::string_view sub,
                  std::initializer_list<std::string_view> allowed);
  bool get_string(const YAML::Node& n, std::string_view sub, std::string& out);
  bool get_string_list(const YAML::Node& n, std::string_view sub, std::vector<std::string>& out);
  bool get_bool(const YAML::Node& n, std::string_view sub, bool& out);
  bool get_uint(const YAML::Node& n, std::string_view sub, uint64_t& out);
  bool get_int(const YAML::Node& n, std::string_view sub, int64_t& out);
  // "10m", "30s", "1h30m", "500ms", or a bare number of seconds.
  bool get_duration(const YAML::Node& n, std::string_view sub, std::chrono::nanoseconds& out);
  // A string that must be one of `choices`.
  bool get_enum(const YAML::Node& n, std::string_view sub,
                std::initializer_list<std::string_view> choices, std::string& out);

  // Sets the error for `sub` and returns false.
  bool fail(std::string_view sub, std::string_view what);

 private:
  std::string id_;
  std::string* err_;
};

}  // namespace otlpgate::filters
