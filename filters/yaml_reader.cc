// YamlReader: parsing helpers that turn YAML problems into messages naming the key path.
#include "filters/yaml_reader.h"

#include <charconv>

namespace otlpgate::filters {

namespace {

std::string join(std::initializer_list<std::string_view> xs) {
  std::string s;
  for (auto x : xs) {
    if (!s.empty()) s += ", ";
    s += x;
  }
  return s;
}

}  // namespace

bool YamlReader::load(const config::Processor& p, YAML::Node& root) {
  try {
    root = p.yaml.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(p.yaml);
  } catch (const YAML::Exception& e) {
    return fail("", std::string("invalid YAML: ") + e.what());
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) return fail("", "expected a map");
  return true;
}

std::string YamlReader::path(std::string_view sub) const {
  std::string s = "processors." + id_;
  if (!sub.empty()) {
    s += '.';
    s += sub;
  }
  return s;
}

bool YamlReader::fail(std::string_view sub, std::string_view what) {
  if (err_) *err_ = path(sub) + ": " + std::string(what);
  return false;
}

bool YamlReader::check_keys(const YAML::Node& n, std::string_view sub,
                            std::initializer_list<std::string_view> allowed) {
  if (!n || n.IsNull()) return true;
  if (!n.IsMap()) return fail(sub, "expected a map");
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>("");
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      std::string p(sub);
      if (!p.empty()) p += '.';
      p += key;
      return fail(p, "unknown key; expected one of " + join(allowed));
    }
  }
  return true;
}

bool YamlReader::get_string(const YAML::Node& n, std::string_view sub, std::string& out) {
  if (!n.IsScalar()) return fail(sub, "expected a string");
  out = n.Scalar();
  return true;
}

bool YamlReader::get_string_list(const YAML::Node& n, std::string_view sub,
                                 std::vector<std::string>& out) {
  out.clear();
  if (n.IsNull()) return true;
  if (n.IsScalar()) {  // a single string is accepted as a list of one
    out.push_back(n.Scalar());
    return true;
  }
  if (!n.IsSequence()) return fail(sub, "expected a list of strings");
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar())
      return fail(std::string(sub) + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back(n[i].Scalar());
  }
  return true;
}

bool YamlReader::get_bool(const YAML::Node& n, std::string_view sub, bool& out) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  if (s == "true" || s == "True" || s == "TRUE")
    out = true;
  else if (s == "false" || s == "False" || s == "FALSE")
    out = false;
  else
    return fail(sub, "expected true or false; got \"" + s + "\"");
  return true;
}

bool YamlReader::get_uint(const YAML::Node& n, std::string_view sub, uint64_t& out) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
    return fail(sub, "expected a non-negative integer; got \"" + s + "\"");
  return true;
}

bool YamlReader::get_int(const YAML::Node& n, std::string_view sub, int64_t& out) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
    return fail(sub, "expected an integer; got \"" + s + "\"");
  return true;
}

bool YamlReader::get_duration(const YAML::Node& n, std::string_view sub,
                              std::chrono::nanoseconds& out) {
  std::string s = n.IsScalar() ? n.Scalar() : "";
  const std::string bad = "expected a duration such as 10m, 30s or 500ms; got \"" + s + "\"";
  // A bare number is seconds; otherwise the Collector's (Go) duration grammar.
  double secs = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), secs);
  if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) s += "s";
  const auto d = config::parse_duration(s);
  if (!d) return fail(sub, bad);
  out = *d;
  return true;
}

bool YamlReader::get_enum(const YAML::Node& n, std::string_view sub,
                          std::initializer_list<std::string_view> choices, std::string& out) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  for (auto c : choices) {
    if (c == s) {
      out = s;
      return true;
    }
  }
  return fail(sub, "expected one of " + join(choices) + "; got \"" + s + "\"");
}

}  // namespace otlpgate::filters
