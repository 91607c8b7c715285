// Config loading: collector-shaped YAML → typed Config, with ${env:…} substitution and errors that
// name the file, the key path, what was expected and what was found.
#include "core/config/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "core/firehose/format.h"
#include "core/tls/server_context.h"

namespace otlpgate::config {

const Receiver* Config::find_receiver(const std::string& id) const {
  for (const auto& r : receivers) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

const Exporter* Config::find_exporter(const std::string& id) const {
  for (const auto& e : exporters) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

const Processor* Config::find_processor(const std::string& id) const {
  for (const auto& p : processors) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const BearerTokenAuth* Config::find_authenticator(const std::string& id) const {
  for (const auto& a : authenticators) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

namespace {

using Keys = std::initializer_list<std::string_view>;

// What extensions: declares; service.extensions says which of them are used.
struct Extensions {
  std::vector<std::pair<std::string, HealthCheck>> health_checks;
  std::vector<BearerTokenAuth> authenticators;
};

std::string join(Keys xs) {
  std::string s;
  for (auto x : xs) {
    if (!s.empty()) s += ", ";
    s += x;
  }
  return s;
}

std::string child(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string s = path;
  s += '.';
  s += key;
  return s;
}

// A scalar in double quotes with the few characters that would confuse a one-line message escaped.
std::string quote(std::string_view s) {
  std::string q = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        q += "\\\"";
        break;
      case '\\':
        q += "\\\\";
        break;
      case '\n':
        q += "\\n";
        break;
      case '\t':
        q += "\\t";
        break;
      default:
        q += c;
    }
  }
  q += '"';
  return q;
}

// Collector component ids: "<type>" or "<type>/<name>", type = letter then letters, digits, '_'.
bool valid_component_id(std::string_view id) {
  const auto slash = id.find('/');
  const std::string_view type = id.substr(0, slash);
  if (type.empty() || !std::isalpha(static_cast<unsigned char>(type[0]))) return false;
  for (char c : type) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  if (slash != std::string_view::npos && slash + 1 == id.size()) return false;
  return true;
}

std::string component_type(std::string_view id) { return std::string(id.substr(0, id.find('/'))); }

bool valid_env_name(std::string_view n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

class Loader {
 public:
  Loader(std::string source, Error& err) : source_(std::move(source)), err_(err) {}

  bool load(const YAML::Node& root, Config& out) {
    out = Config{};
    out.source = source_;
    if (!root || root.IsNull())
      return fail("", "a mapping with receivers, exporters and service", "an empty document");
    if (!root.IsMap())
      return fail("", "a mapping with receivers, exporters and service", describe(root));
    if (!check_keys(root, "", {"receivers", "processors", "exporters", "extensions", "service"}))
      return false;
    if (!load_receivers(root["receivers"], out)) return false;
    if (!load_processors(root["processors"], out)) return false;
    if (!load_exporters(root["exporters"], out)) return false;
    Extensions extensions;
    if (!load_extensions(root["extensions"], extensions)) return false;
    if (!load_service(root["service"], out, extensions)) return false;
    return check_authenticators(out);
  }

  bool fail(const std::string& path, std::string_view expected, std::string_view got) {
    err_.message = source_ + ": " + (path.empty() ? std::string("(top level)") : path) +
                   ": expected " + std::string(expected) + "; got " + std::string(got);
    return false;
  }

  bool fail_raw(const std::string& path, std::string_view what) {
    err_.message = source_ + ": " + path + ": " + std::string(what);
    return false;
  }

  // What the user wrote, for "got …": the raw scalar (before substitution, so a secret from the
  // environment is never printed), or the kind of node.
  static std::string describe(const YAML::Node& n) {
    if (!n || n.IsNull()) return "nothing";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    const std::string& raw = n.Scalar();
    std::string d = quote(raw);
    if (raw.find("${") != std::string::npos) d += " (after substitution)";
    return d;
  }

  // Replaces ${env:NAME}, ${env:NAME:-default}, ${NAME} and $$ in `in`.
  bool expand(const std::string& in, const std::string& path, std::string& out) {
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '$' || i + 1 >= in.size()) {
        out += in[i];
        continue;
      }
      if (in[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      if (in[i + 1] != '{') {
        out += '$';
        continue;
      }
      const size_t close = in.find('}', i + 2);
      const std::string_view whole = close == std::string::npos
                                         ? std::string_view(in).substr(i)
                                         : std::string_view(in).substr(i, close - i + 1);
      const std::string_view shape = "${env:NAME} or ${env:NAME:-default}";
      if (close == std::string::npos) return fail(path, shape, quote(whole));
      std::string_view body = std::string_view(in).substr(i + 2, close - i - 2);
      if (body.substr(0, 4) == "env:") {
        body.remove_prefix(4);
      } else if (body.find(':') != std::string_view::npos && body.find(":-") != body.find(':')) {
        // ${file:…}, ${http:…}: the collector's other providers, which we do not have.
        return fail(path, shape, quote(whole));
      }
      std::string_view name = body;
      std::optional<std::string_view> def;
      if (const size_t d = body.find(":-"); d != std::string_view::npos) {
        name = body.substr(0, d);
        def = body.substr(d + 2);
      }
      if (!valid_env_name(name)) return fail(path, shape, quote(whole));
      const char* v = std::getenv(std::string(name).c_str());
      if (v != nullptr && (*v != '\0' || !def)) {
        out += v;
      } else if (def) {
        out += *def;
      } else {
        return fail(path, "environment variable " + std::string(name) + " to be set",
                    "it unset (write ${env:" + std::string(name) + ":-default} for a default)");
      }
      i = close;
    }
    return true;
  }

  // A non-null scalar, substituted.
  bool scalar(const YAML::Node& n, const std::string& path, std::string_view expected,
              std::string& out) {
    if (!n || !n.IsScalar()) return fail(path, expected, describe(n));
    return expand(n.Scalar(), path, out);
  }

  // A map (or null, meaning empty) whose keys are all in `allowed`, each key once.
  bool check_keys(const YAML::Node& n, const std::string& path, Keys allowed) {
    if (!n || n.IsNull()) return true;
    if (!n.IsMap()) return fail(path, "a mapping", describe(n));
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return fail(path, "scalar keys", describe(kv.first));
      const std::string& key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return fail_raw(child(path, key), "unknown key; expected one of " + join(allowed));
      }
      if (!seen.insert(key).second) return fail_raw(child(path, key), "key given twice");
    }
    return true;
  }

  // A map of arbitrary keys (component ids, headers), each once.
  bool check_unique_keys(const YAML::Node& n, const std::string& path, std::string_view what) {
    if (!n || n.IsNull()) return true;
    if (!n.IsMap()) return fail(path, what, describe(n));
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return fail(path, "scalar keys", describe(kv.first));
      if (!seen.insert(kv.first.Scalar()).second)
        return fail_raw(child(path, kv.first.Scalar()), "key given twice");
    }
    return true;
  }

  bool get_string(const YAML::Node& m, const std::string& path, std::string_view key,
                  std::string& out) {
    const YAML::Node n = m[std::string(key)];
    if (!n) return true;
    return scalar(n, child(path, key), "a string", out);
  }

  bool get_bool(const YAML::Node& m, const std::string& path, std::string_view key, bool& out) {
    const YAML::Node n = m[std::string(key)];
    if (!n) return true;
    const std::string p = child(path, key);
    std::string s;
    if (!scalar(n, p, "true or false", s)) return false;
    if (s == "true" || s == "True" || s == "TRUE")
      out = true;
    else if (s == "false" || s == "False" || s == "FALSE")
      out = false;
    else
      return fail(p, "true or false", describe(n));
    return true;
  }

  template <typename Int>
  bool get_int(const YAML::Node& m, const std::string& path, std::string_view key, Int& out,
               int64_t min, int64_t max) {
    const YAML::Node n = m[std::string(key)];
    if (!n) return true;
    const std::string p = child(path, key);
    const std::string expected =
        "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    std::string s;
    if (!scalar(n, p, expected, s)) return false;
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty() || v < min || v > max)
      return fail(p, expected, describe(n));
    out = static_cast<Int>(v);
    return true;
  }

  bool get_double(const YAML::Node& m, const std::string& path, std::string_view key, double& out,
                  double min, double max, std::string_view expected) {
    const YAML::Node n = m[std::string(key)];
    if (!n) return true;
    const std::string p = child(path, key);
    std::string s;
    if (!scalar(n, p, expected, s)) return false;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v) || v < min ||
        v > max)
      return fail(p, expected, describe(n));
    out = v;
    return true;
  }

  // A duration that must be more than zero (a timeout of 0 would cut every connection).
  bool get_positive_duration(const YAML::Node& m, const std::string& path, std::string_view key,
                             Millis& out) {
    if (!get_duration(m, path, key, out)) return false;
    if (out.count() > 0) return true;
    return fail(child(path, key), "a duration of at least 1ms, such as \"30s\"",
                describe(m[std::string(key)]));
  }

  bool get_duration(const YAML::Node& m, const std::string& path, std::string_view key,
                    Millis& out) {
    const YAML::Node n = m[std::string(key)];
    if (!n) return true;
    const std::string p = child(path, key);
    const std::string_view expected = "a duration such as \"5s\", \"500ms\" or \"1m30s\"";
    std::string s;
    if (!scalar(n, p, expected, s)) return false;
    const auto d = parse_duration(s);
    if (!d) return fail(p, expected, describe(n));
    out = std::chrono::duration_cast<Millis>(*d);
    return true;
  }

  bool get_enum(const YAML::Node& m, const std::string& path, std::string_view key, Keys choices,
                std::string& out) {
    const YAML::Node n = m[std::string(key)];
    if (!n) return true;
    const std::string p = child(path, key);
    const std::string expected = "one of " + join(choices);
    std::string s;
    if (!scalar(n, p, expected, s)) return false;
    if (std::find(choices.begin(), choices.end(), s) == choices.end())
      return fail(p, expected, describe(n));
    out = s;
    return true;
  }

  // "host:port", host may be empty (all interfaces) or a bracketed IPv6 address.
  bool get_host_port(const YAML::Node& m, const std::string& path, std::string_view key,
                     std::string& out) {
    const YAML::Node n = m[std::string(key)];
    if (!n) return true;
    const std::string p = child(path, key);
    const std::string_view expected = "host:port such as \"0.0.0.0:4317\"";
    std::string s;
    if (!scalar(n, p, expected, s)) return false;
    const size_t colon = s.rfind(':');
    bool ok = colon != std::string::npos && colon + 1 < s.size();
    if (ok) {
      const std::string_view port = std::string_view(s).substr(colon + 1);
      unsigned v = 0;
      const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
      ok = ec == std::errc() && ptr == port.data() + port.size() && v <= 65535;
      const std::string_view host = std::string_view(s).substr(0, colon);
      if (host.find(':') != std::string_view::npos)
        ok = ok && host.front() == '[' && host.back() == ']';
    }
    if (!ok) return fail(p, expected, describe(n));
    out = s;
    return true;
  }

  bool get_list(const YAML::Node& m, const std::string& path, std::string_view key,
                std::vector<std::string>& out) {
    const YAML::Node n = m[std::string(key)];
    if (!n || n.IsNull()) return true;
    const std::string p = child(path, key);
    if (!n.IsSequence()) return fail(p, "a list such as [a, b]", describe(n));
    for (const auto& item : n) {
      std::string s;
      if (!scalar(item, p, "a list of names", s)) return false;
      if (std::find(out.begin(), out.end(), s) != out.end())
        return fail(p, "each name once", quote(s) + " twice");
      out.push_back(s);
    }
    return true;
  }

  // ---- receivers ----

  // receivers.awsfirehose[/name]: the Firehose HTTP endpoint (FirehoseServer in config.h).
  bool load_firehose(const std::string& id, const YAML::Node& b, const std::string& p, Receiver& r) {
    r.id = id;
    r.type = ReceiverType::awsfirehose;
    FirehoseServer& f = r.firehose.emplace();
    if (!check_keys(b, p,
                    {"endpoint", "encoding", "access_key", "on_invalid_record",
                     "max_request_body_size", "request_id_dedup", "tls"}))
      return false;
    if (!b || b.IsNull()) return true;
    if (!get_host_port(b, p, "endpoint", f.endpoint)) return false;
    if (!load_server_tls(b, p, f.tls)) return false;
    if (!get_string(b, p, "encoding", f.encoding)) return false;
    if (!firehose::format_from_name(f.encoding))
      return fail(child(p, "encoding"), "one of auto, cwmetrics, otel1, otel07, cwlogs",
                  describe(b["encoding"]));
    if (!get_string(b, p, "access_key", f.access_key)) return false;
    std::string policy = "drop";
    if (!get_enum(b, p, "on_invalid_record", {"drop", "reject"}, policy)) return false;
    f.reject_invalid_records = policy == "reject";
    if (!get_int(b, p, "max_request_body_size", f.max_request_body_size, 1024, int64_t{1} << 32))
      return false;
    if (const YAML::Node d = b["request_id_dedup"]) {
      const std::string dp = child(p, "request_id_dedup");
      if (!check_keys(d, dp, {"window", "max_entries"})) return false;
      if (!d.IsNull()) {
        if (!get_duration(d, dp, "window", f.dedup_window)) return false;
        if (!get_int(d, dp, "max_entries", f.dedup_max_entries, 1, 100'000'000)) return false;
      }
    }
    return true;
  }

  // <listener>.tls: the files are loaded into a TLS context now, so a bad one is a config error.
  bool load_server_tls(const YAML::Node& listener, const std::string& listener_path,
                       std::optional<TlsServer>& out) {
    const YAML::Node n = listener["tls"];
    if (!n) return true;
    const std::string path = child(listener_path, "tls");
    if (!check_keys(n, path, {"cert_file", "key_file", "client_ca_file", "min_version"}))
      return false;
    TlsServer& t = out.emplace();
    if (!n.IsNull()) {
      if (!get_string(n, path, "cert_file", t.cert_file)) return false;
      if (!get_string(n, path, "key_file", t.key_file)) return false;
      if (!get_string(n, path, "client_ca_file", t.client_ca_file)) return false;
      if (!get_enum(n, path, "min_version", {"1.2", "1.3"}, t.min_version)) return false;
    }
    if (t.cert_file.empty())
      return fail(child(path, "cert_file"), "a PEM certificate file", "nothing");
    if (t.key_file.empty())
      return fail(child(path, "key_file"), "a PEM private key file", "nothing");
    tls::ContextError e;
    if (!tls::make_server_context(t, &e)) return fail_raw(child(path, e.key), e.message);
    return true;
  }

  // <listener>.auth: {authenticator: <extension id>}; the id is checked once extensions are known.
  bool load_auth(const YAML::Node& listener, const std::string& listener_path, std::string& out) {
    const YAML::Node n = listener["auth"];
    if (!n) return true;
    const std::string path = child(listener_path, "auth");
    if (!check_keys(n, path, {"authenticator"})) return false;
    if (!n.IsNull() && !get_string(n, path, "authenticator", out)) return false;
    if (out.empty())
      return fail(child(path, "authenticator"), "an extension id such as bearertokenauth/clients",
                  describe(n["authenticator"]));
    auth_refs_.emplace_back(child(path, "authenticator"), out);
    return true;
  }

  // Every auth.authenticator names a bearertokenauth extension listed in service.extensions.
  bool check_authenticators(const Config& cfg) {
    for (const auto& [path, id] : auth_refs_) {
      if (!cfg.find_authenticator(id))
        return fail(path, "a bearertokenauth extension declared under extensions and listed in "
                    "service.extensions", quote(id));
    }
    return true;
  }

  bool load_receivers(const YAML::Node& n, Config& out) {
    const std::string path = "receivers";
    if (!check_unique_keys(n, path, "a mapping of receiver ids")) return false;
    if (!n) return true;
    for (const auto& kv : n) {
      const std::string& id = kv.first.Scalar();
      const std::string p = child(path, id);
      if (!valid_component_id(id)) return fail(p, "an id such as otlp or otlp/name", quote(id));
      if (component_type(id) == "awsfirehose") {
        Receiver r;
        if (!load_firehose(id, kv.second, p, r)) return false;
        out.receivers.push_back(std::move(r));
        continue;
      }
      if (component_type(id) != "otlp")
        return fail(p, "a receiver of type otlp or awsfirehose", quote(component_type(id)));
      Receiver r;
      r.id = id;
      r.type = ReceiverType::otlp;
      const YAML::Node& b = kv.second;
      if (!check_keys(b, p, {"protocols"})) return false;
      const YAML::Node protocols = b.IsMap() ? b["protocols"] : YAML::Node();
      const std::string pp = child(p, "protocols");
      if (!check_keys(protocols, pp, {"grpc", "http"})) return false;
      if (!protocols || protocols.IsNull() || (!protocols["grpc"] && !protocols["http"]))
        return fail(pp, "at least one of grpc, http", "none");
      if (const YAML::Node g = protocols["grpc"]) {
        const std::string gp = child(pp, "grpc");
        if (!check_keys(g, gp, {"endpoint", "max_recv_msg_size_mib", "tls", "auth"})) return false;
        GrpcServer s;
        if (!g.IsNull()) {
          if (!get_host_port(g, gp, "endpoint", s.endpoint)) return false;
          if (!get_int(g, gp, "max_recv_msg_size_mib", s.max_recv_msg_size_mib, 1, 4096))
            return false;
          if (!load_server_tls(g, gp, s.tls)) return false;
          // gRPC 1.51's C++ API has no minimum version setting; it takes TLS 1.2 and 1.3.
          if (s.tls && s.tls->min_version != "1.2")
            return fail(child(child(gp, "tls"), "min_version"),
                        "\"1.2\" on a gRPC listener (its TLS library accepts 1.2 and 1.3)",
                        describe(g["tls"]["min_version"]));
          if (!load_auth(g, gp, s.authenticator)) return false;
        }
        r.grpc = s;
      }
      if (const YAML::Node h = protocols["http"]) {
        const std::string hp = child(pp, "http");
        if (!check_keys(h, hp,
                        {"endpoint", "max_request_body_size", "max_compressed_body_size",
                         "read_timeout", "idle_timeout", "write_timeout", "max_header_size",
                         "max_connections", "max_requests_in_flight", "tls", "auth"}))
          return false;
        HttpServer s;
        if (!h.IsNull()) {
          constexpr int64_t kMaxBody = int64_t{1} << 40;
          if (!get_host_port(h, hp, "endpoint", s.endpoint)) return false;
          if (!get_int(h, hp, "max_request_body_size", s.max_request_body_size, 1, kMaxBody))
            return false;
          s.max_compressed_body_size = s.max_request_body_size;
          if (!get_int(h, hp, "max_compressed_body_size", s.max_compressed_body_size, 1, kMaxBody))
            return false;
          if (!get_positive_duration(h, hp, "read_timeout", s.read_timeout)) return false;
          if (!get_positive_duration(h, hp, "idle_timeout", s.idle_timeout)) return false;
          if (!get_positive_duration(h, hp, "write_timeout", s.write_timeout)) return false;
          if (!get_int(h, hp, "max_header_size", s.max_header_size, 1024, 16 << 20)) return false;
          if (!get_int(h, hp, "max_connections", s.max_connections, 1, 1000000)) return false;
          if (!get_int(h, hp, "max_requests_in_flight", s.max_requests_in_flight, 1, 1000000))
            return false;
          if (!load_server_tls(h, hp, s.tls)) return false;
          if (!load_auth(h, hp, s.authenticator)) return false;
        }
        r.http = s;
      }
      out.receivers.push_back(std::move(r));
    }
    return true;
  }

  // ---- processors: substituted, then kept as text for the stage registry ----

  // Re-emits a processor block with every scalar substituted. A scalar that was quoted or tagged,
  // or that substitution changed, is written double-quoted so that the stage reads the string the
  // user meant ("~", "null", "" stay strings instead of becoming YAML nulls).
  bool emit_substituted(const YAML::Node& in, const std::string& path, YAML::Emitter& e) {
    if (!in || in.IsNull()) {
      e << YAML::Null;
    } else if (in.IsScalar()) {
      std::string s;
      if (!expand(in.Scalar(), path, s)) return false;
      const std::string& tag = in.Tag();
      if ((!tag.empty() && tag != "?") || s != in.Scalar())
        e << YAML::DoubleQuoted << s;
      else
        e << s;
    } else if (in.IsSequence()) {
      e << YAML::BeginSeq;
      size_t i = 0;
      for (const auto& item : in) {
        if (!emit_substituted(item, child(path, std::to_string(i++)), e)) return false;
      }
      e << YAML::EndSeq;
    } else {
      e << YAML::BeginMap;
      for (const auto& kv : in) {
        e << YAML::Key << kv.first << YAML::Value;
        const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
        if (!emit_substituted(kv.second, child(path, key), e)) return false;
      }
      e << YAML::EndMap;
    }
    return true;
  }

  bool load_processors(const YAML::Node& n, Config& out) {
    const std::string path = "processors";
    if (!check_unique_keys(n, path, "a mapping of processor ids")) return false;
    if (!n) return true;
    for (const auto& kv : n) {
      const std::string& id = kv.first.Scalar();
      const std::string p = child(path, id);
      if (!valid_component_id(id)) return fail(p, "an id such as filter or filter/name", quote(id));
      Processor proc;
      proc.id = id;
      proc.type = component_type(id);
      if (!kv.second.IsNull()) {
        YAML::Emitter e;
        if (!emit_substituted(kv.second, p, e)) return false;
        proc.yaml = e.c_str();
      }
      out.processors.push_back(std::move(proc));
    }
    return true;
  }

  // ---- exporters ----

  bool load_tls(const YAML::Node& n, const std::string& path, TlsClient& tls) {
    if (!check_keys(n, path,
                    {"insecure", "insecure_skip_verify", "ca_file", "cert_file", "key_file",
                     "server_name_override"}))
      return false;
    if (n.IsNull()) return true;
    if (!get_bool(n, path, "insecure", tls.insecure)) return false;
    if (!get_bool(n, path, "insecure_skip_verify", tls.insecure_skip_verify)) return false;
    if (!get_string(n, path, "ca_file", tls.ca_file)) return false;
    if (!get_string(n, path, "cert_file", tls.cert_file)) return false;
    if (!get_string(n, path, "key_file", tls.key_file)) return false;
    if (!get_string(n, path, "server_name_override", tls.server_name_override)) return false;
    if (tls.cert_file.empty() != tls.key_file.empty()) {
      const char* missing = tls.cert_file.empty() ? "cert_file" : "key_file";
      return fail(child(path, missing), "cert_file and key_file together", "only one of them");
    }
    return true;
  }

  bool load_queue(const YAML::Node& n, const std::string& path, SendingQueue& q) {
    if (!check_keys(n, path,
                    {"enabled", "num_consumers", "queue_size", "queue_size_mib", "on_full",
                     "storage", "storage_size_mib", "fsync", "fsync_interval"}))
      return false;
    if (n.IsNull()) return true;
    if (!get_bool(n, path, "enabled", q.enabled)) return false;
    if (!get_int(n, path, "num_consumers", q.num_consumers, 1, 1000)) return false;
    if (!get_int(n, path, "queue_size_mib", q.queue_size_mib, 1, 1 << 20)) return false;
    if (!get_enum(n, path, "on_full", {"backpressure", "drop_oldest", "drop_newest"}, q.on_full))
      return false;
    if (!get_string(n, path, "storage", q.storage)) return false;
    if (!get_int(n, path, "storage_size_mib", q.storage_size_mib, 1, 1 << 30)) return false;
    if (!get_enum(n, path, "fsync", {"always", "interval"}, q.fsync)) return false;
    if (!get_positive_duration(n, path, "fsync_interval", q.fsync_interval)) return false;
    return get_int(n, path, "queue_size", q.queue_size, 1, 100'000'000);
  }

  bool load_retry(const YAML::Node& n, const std::string& path, RetryOnFailure& r) {
    if (!check_keys(n, path,
                    {"enabled", "initial_interval", "max_interval", "max_elapsed_time",
                     "multiplier", "randomization_factor"}))
      return false;
    if (n.IsNull()) return true;
    if (!get_bool(n, path, "enabled", r.enabled)) return false;
    if (!get_duration(n, path, "initial_interval", r.initial_interval)) return false;
    if (!get_duration(n, path, "max_interval", r.max_interval)) return false;
    if (!get_duration(n, path, "max_elapsed_time", r.max_elapsed_time)) return false;
    if (!get_double(n, path, "multiplier", r.multiplier, 1e-9, 1000.0,
                    "a positive number such as 1.5"))
      return false;
    if (!get_double(n, path, "randomization_factor", r.randomization_factor, 0.0, 1.0,
                    "a number from 0 to 1"))
      return false;
    // Zero would retry in a tight loop. (max_interval below initial_interval is allowed, as in the
    // collector: the interval is simply capped.)
    if (r.enabled && r.initial_interval.count() <= 0)
      return fail(child(path, "initial_interval"), "a duration above zero",
                  describe(n["initial_interval"]));
    return true;
  }

  bool load_exporter(const std::string& id, const YAML::Node& block, const std::string& p,
                     Exporter& e) {
    // `debug:` with nothing under it is an exporter with every default.
    const YAML::Node b = block.IsNull() ? YAML::Node(YAML::NodeType::Map) : block;
    const std::string type = component_type(id);
    e.id = id;
    if (type == "debug") {
      e.type = ExporterType::debug;
      if (!check_keys(b, p, {"verbosity"})) return false;
      return get_enum(b, p, "verbosity", {"basic", "normal", "detailed"}, e.verbosity);
    }
    if (type == "otlp") {
      e.type = ExporterType::otlp;
      if (!check_keys(b, p,
                      {"endpoint", "headers", "compression", "timeout", "tls", "sending_queue",
                       "retry_on_failure"}))
        return false;
    } else if (type == "otlphttp") {
      e.type = ExporterType::otlphttp;
      if (!check_keys(
              b, p,
              {"endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint", "headers",
               "compression", "timeout", "tls", "sending_queue", "retry_on_failure"}))
        return false;
    } else {
      return fail(p, "an exporter of type otlp, otlphttp or debug", quote(type));
    }
    if (e.type == ExporterType::otlphttp) {
      const auto url = [&](std::string_view key, std::string& v) {
        if (!get_string(b, p, key, v)) return false;
        if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
          return fail(child(p, key), "a URL starting with http:// or https://",
                      describe(b[std::string(key)]));
        return true;
      };
      if (!url("endpoint", e.endpoint)) return false;
      for (Signal s : kAllSignals) {
        std::string v;
        const std::string key = std::string(signal_name(s)) + "_endpoint";
        if (!url(key, v)) return false;
        if (!v.empty()) e.signal_endpoints[s] = v;
      }
      if (e.endpoint.empty() && e.signal_endpoints.empty())
        return fail(child(p, "endpoint"),
                    "an endpoint (or traces_endpoint, metrics_endpoint, logs_endpoint)", "nothing");
    } else if (!get_string(b, p, "endpoint", e.endpoint)) {
      return false;
    } else if (e.endpoint.empty()) {
      return fail(child(p, "endpoint"),
                  "an endpoint such as \"backend:4317\" or \"https://backend:4317\"",
                  describe(b["endpoint"]));
    }
    if (const YAML::Node h = b["headers"]) {
      const std::string hp = child(p, "headers");
      if (!check_unique_keys(h, hp, "a mapping of header names to values")) return false;
      if (h.IsMap()) {
        for (const auto& kv : h) {
          std::string v;
          if (!scalar(kv.second, child(hp, kv.first.Scalar()), "a string", v)) return false;
          e.headers[kv.first.Scalar()] = v;
        }
      }
    }
    if (const YAML::Node c = b["compression"]) {
      const std::string cp = child(p, "compression");
      const std::string_view expected = "one of none, gzip, zstd";
      std::string s;
      if (!c.IsNull() && !scalar(c, cp, expected, s)) return false;
      if (s == "gzip")
        e.compression = Compression::gzip;
      else if (s == "zstd")
        e.compression = Compression::zstd;
      else if (s == "none" || s.empty())
        e.compression = Compression::none;
      else
        return fail(cp, expected, describe(c));
    }
    if (!get_duration(b, p, "timeout", e.timeout)) return false;
    if (const YAML::Node t = b["tls"]; t && !load_tls(t, child(p, "tls"), e.tls)) return false;
    if (const YAML::Node q = b["sending_queue"];
        q && !load_queue(q, child(p, "sending_queue"), e.sending_queue))
      return false;
    if (const YAML::Node r = b["retry_on_failure"];
        r && !load_retry(r, child(p, "retry_on_failure"), e.retry_on_failure))
      return false;
    return true;
  }

  bool load_exporters(const YAML::Node& n, Config& out) {
    const std::string path = "exporters";
    if (!check_unique_keys(n, path, "a mapping of exporter ids")) return false;
    if (!n) return true;
    for (const auto& kv : n) {
      const std::string& id = kv.first.Scalar();
      const std::string p = child(path, id);
      if (!valid_component_id(id))
        return fail(p, "an id such as otlphttp or otlphttp/name", quote(id));
      Exporter e;
      if (!load_exporter(id, kv.second, p, e)) return false;
      out.exporters.push_back(std::move(e));
    }
    return true;
  }

  // ---- extensions ----

  // extensions.bearertokenauth/<name>: {tenants: [{name, tokens, token_files}], tenant_attribute}.
  bool load_bearertokenauth(const std::string& id, const YAML::Node& b, const std::string& p,
                            BearerTokenAuth& a) {
    a.id = id;
    if (!check_keys(b, p, {"tenants", "tenant_attribute"})) return false;
    const std::string tp = child(p, "tenants");
    const YAML::Node tenants = b.IsMap() ? b["tenants"] : YAML::Node();
    if (!tenants || !tenants.IsSequence() || tenants.size() == 0)
      return fail(tp, "a list of tenants such as [{name: a, tokens: [${env:A_TOKEN}]}]",
                  describe(tenants));
    if (!get_string(b, p, "tenant_attribute", a.tenant_attribute)) return false;
    std::size_t i = 0;
    for (const auto& t : tenants) {
      const std::string ip = child(tp, std::to_string(i++));
      if (!check_keys(t, ip, {"name", "tokens", "token_files"})) return false;
      if (!t.IsMap()) return fail(ip, "a tenant such as {name: a, tokens: [...]}", describe(t));
      Tenant tenant;
      if (!get_string(t, ip, "name", tenant.name)) return false;
      if (tenant.name.empty()) return fail(child(ip, "name"), "a tenant name", describe(t["name"]));
      for (const Tenant& other : a.tenants) {
        if (other.name == tenant.name)
          return fail(child(ip, "name"), "each tenant name once", quote(tenant.name) + " twice");
      }
      if (const YAML::Node tokens = t["tokens"]; tokens && !tokens.IsNull()) {
        const std::string kp = child(ip, "tokens");
        if (!tokens.IsSequence()) return fail(kp, "a list of tokens", describe(tokens));
        std::size_t k = 0;
        for (const auto& token : tokens) {
          const std::string tkp = child(kp, std::to_string(k++));
          std::string v;
          if (!scalar(token, tkp, "a token (${env:NAME} recommended)", v)) return false;
          // describe() shows the raw text, which for ${env:…} never contains the secret.
          if (v.empty()) return fail(tkp, "a non-empty token", describe(token));
          tenant.tokens.push_back(std::move(v));
        }
      }
      std::vector<std::string> files;
      if (!get_list(t, ip, "token_files", files)) return false;
      for (const std::string& f : files) {
        std::string content, why;
        if (!tls::read_file(f, content, &why))
          return fail_raw(child(ip, "token_files"), quote(f) + ": " + why);
        std::size_t before = tenant.tokens.size();
        std::istringstream lines(content);
        for (std::string line; std::getline(lines, line);) {
          const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)); };
          const auto first = std::find_if_not(line.begin(), line.end(), space);
          const auto last = std::find_if_not(line.rbegin(), line.rend(), space).base();
          if (first < last) tenant.tokens.emplace_back(first, last);
        }
        if (tenant.tokens.size() == before)
          return fail_raw(child(ip, "token_files"), quote(f) + ": no token in it (one per line)");
      }
      if (tenant.tokens.empty())
        return fail(child(ip, "tokens"), "at least one token (tokens or token_files)", "none");
      for (const Tenant& other : a.tenants) {
        for (const std::string& token : tenant.tokens) {
          // Named, never printed: a token must say which tenant sent the request.
          if (std::find(other.tokens.begin(), other.tokens.end(), token) != other.tokens.end())
            return fail(child(ip, "tokens"), "tokens of this tenant only",
                        "one that tenant " + quote(other.name) + " has too");
        }
      }
      a.tenants.push_back(std::move(tenant));
    }
    return true;
  }

  bool load_extensions(const YAML::Node& n, Extensions& out) {
    const std::string path = "extensions";
    if (!check_unique_keys(n, path, "a mapping of extension ids")) return false;
    if (!n) return true;
    for (const auto& kv : n) {
      const std::string& id = kv.first.Scalar();
      const std::string p = child(path, id);
      if (!valid_component_id(id)) return fail(p, "an id such as health_check", quote(id));
      if (component_type(id) == "bearertokenauth") {
        BearerTokenAuth a;
        if (!load_bearertokenauth(id, kv.second, p, a)) return false;
        out.authenticators.push_back(std::move(a));
        continue;
      }
      if (component_type(id) != "health_check")
        return fail(p, "an extension of type health_check or bearertokenauth",
                    quote(component_type(id)));
      HealthCheck h;
      if (!check_keys(kv.second, p, {"endpoint", "path"})) return false;
      if (!kv.second.IsNull()) {
        if (!get_host_port(kv.second, p, "endpoint", h.endpoint)) return false;
        if (!get_string(kv.second, p, "path", h.path)) return false;
        if (h.path.empty() || h.path[0] != '/')
          return fail(child(p, "path"), "a path starting with /", describe(kv.second["path"]));
      }
      out.health_checks.emplace_back(id, h);
    }
    return true;
  }

  // ---- service ----

  bool load_telemetry(const YAML::Node& n, const std::string& path, Service& s) {
    if (!check_keys(n, path, {"logs", "metrics"})) return false;
    if (n.IsNull()) return true;
    if (const YAML::Node l = n["logs"]) {
      const std::string lp = child(path, "logs");
      if (!check_keys(l, lp, {"level"})) return false;
      if (!l.IsNull() && !get_enum(l, lp, "level", {"debug", "info", "warn", "error"}, s.log_level))
        return false;
    }
    if (const YAML::Node m = n["metrics"]) {
      const std::string mp = child(path, "metrics");
      if (!check_keys(m, mp, {"level"})) return false;
      if (!m.IsNull() &&
          !get_enum(m, mp, "level", {"none", "basic", "normal", "detailed"}, s.metrics_level))
        return false;
    }
    return true;
  }

  bool load_pipeline(const std::string& id, const YAML::Node& b, const std::string& p,
                     const Config& cfg, Pipeline& out) {
    out.id = id;
    const auto sig = signal_from_name(component_type(id));
    if (!sig || !valid_component_id(id))
      return fail(p, "a pipeline id of metrics, traces or logs, optionally followed by /name",
                  quote(id));
    out.signal = *sig;
    if (!check_keys(b, p, {"receivers", "processors", "exporters", "tenants"})) return false;
    if (b.IsNull()) return fail(child(p, "receivers"), "a non-empty list of receivers", "nothing");
    if (!get_list(b, p, "receivers", out.receivers)) return false;
    if (!get_list(b, p, "processors", out.processors)) return false;
    if (!get_list(b, p, "exporters", out.exporters)) return false;
    if (!get_list(b, p, "tenants", out.tenants)) return false;
    for (const auto& t : out.tenants) {
      const bool known = std::any_of(
          cfg.authenticators.begin(), cfg.authenticators.end(), [&](const BearerTokenAuth& a) {
            return std::any_of(a.tenants.begin(), a.tenants.end(),
                               [&](const Tenant& x) { return x.name == t; });
          });
      if (!known)
        return fail(child(p, "tenants"),
                    "tenants of a bearertokenauth extension listed in service.extensions",
                    quote(t));
    }
    for (const auto& r : out.receivers) {
      // Such a receiver's requests carry no tenant: this pipeline would never take one of them.
      const Receiver* rc = cfg.find_receiver(r);
      const bool authenticates = rc && ((rc->grpc && !rc->grpc->authenticator.empty()) ||
                                        (rc->http && !rc->http->authenticator.empty()));
      if (!out.tenants.empty() && rc && !authenticates)
        return fail(child(p, "receivers"),
                    "receivers with an auth.authenticator (this pipeline has tenants)", quote(r));
    }
    if (out.receivers.empty())
      return fail(child(p, "receivers"), "a non-empty list of receivers", describe(b["receivers"]));
    if (out.exporters.empty())
      return fail(child(p, "exporters"), "a non-empty list of exporters", describe(b["exporters"]));
    for (const auto& r : out.receivers) {
      const Receiver* rc = cfg.find_receiver(r);
      if (!rc) return fail(child(p, "receivers"), "a receiver declared under receivers", quote(r));
      if (rc->type == ReceiverType::awsfirehose && out.signal == Signal::traces)
        return fail(child(p, "receivers"), "receivers of traces (awsfirehose delivers metrics and logs)",
                    quote(r));
    }
    for (const auto& x : out.processors) {
      if (!cfg.find_processor(x))
        return fail(child(p, "processors"), "a processor declared under processors", quote(x));
    }
    for (const auto& x : out.exporters) {
      const Exporter* e = cfg.find_exporter(x);
      if (!e) return fail(child(p, "exporters"), "an exporter declared under exporters", quote(x));
      if (e->type == ExporterType::otlphttp && e->endpoint.empty() &&
          !e->signal_endpoints.count(out.signal)) {
        return fail(
            child(child("exporters", x), std::string(signal_name(out.signal)) + "_endpoint"),
            "an endpoint for " + std::string(signal_name(out.signal)) + " (used by " + p + ")",
            "nothing");
      }
    }
    return true;
  }

  bool load_service(const YAML::Node& n, Config& cfg, const Extensions& extensions) {
    const std::string path = "service";
    if (!n || n.IsNull()) return fail(path, "a mapping with pipelines", "nothing");
    if (!check_keys(n, path,
                    {"extensions", "pipelines", "telemetry", "io_threads", "shutdown_timeout",
                     "memory_limit_mib"}))
      return false;
    Service& s = cfg.service;
    if (!get_list(n, path, "extensions", s.extensions)) return false;
    for (const auto& x : s.extensions) {
      const auto auth = std::find_if(extensions.authenticators.begin(),
                                     extensions.authenticators.end(),
                                     [&](const auto& a) { return a.id == x; });
      if (auth != extensions.authenticators.end()) {
        cfg.authenticators.push_back(*auth);
        continue;
      }
      const auto it = std::find_if(extensions.health_checks.begin(), extensions.health_checks.end(),
                                   [&](const auto& e) { return e.first == x; });
      if (it == extensions.health_checks.end())
        return fail(child(path, "extensions"), "an extension declared under extensions", quote(x));
      if (cfg.health_check)
        return fail(child(path, "extensions"), "one health_check extension",
                    quote(x) + " as a second one");
      cfg.health_check = it->second;
    }
    if (!get_int(n, path, "io_threads", s.io_threads, 0, 1024)) return false;
    if (!get_duration(n, path, "shutdown_timeout", s.shutdown_timeout)) return false;
    if (!get_int(n, path, "memory_limit_mib", s.memory_limit_mib, 0, 1 << 24)) return false;
    if (const YAML::Node t = n["telemetry"]; t && !load_telemetry(t, child(path, "telemetry"), s))
      return false;
    const YAML::Node pipelines = n["pipelines"];
    const std::string pp = child(path, "pipelines");
    if (!check_unique_keys(pipelines, pp, "a mapping of pipeline ids")) return false;
    if (!pipelines || pipelines.size() == 0)
      return fail(pp, "at least one pipeline (metrics, traces or logs)", "none");
    for (const auto& kv : pipelines) {
      Pipeline pl;
      const std::string& id = kv.first.Scalar();
      if (!load_pipeline(id, kv.second, child(pp, id), cfg, pl)) return false;
      s.pipelines.push_back(std::move(pl));
    }
    return true;
  }

 private:
  std::string source_;
  Error& err_;
  std::vector<std::pair<std::string, std::string>> auth_refs_;  // key path, authenticator id
};

}  // namespace

bool load_string(const std::string& yaml, const std::string& source_name, Config& out, Error& err) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks are 0-based; editors count from 1.
    err.message = source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                  std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg;
    return false;
  }
  try {
    Loader loader(source_name, err);
    return loader.load(root, out);
  } catch (const YAML::Exception& e) {
    // Not expected (every access is checked first); kept so a yaml-cpp surprise is a message.
    err.message = source_name + ": invalid configuration: " + e.what();
    return false;
  }
}

bool load_file(const std::string& path, Config& out, Error& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err.message = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    err.message = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  return load_string(text.str(), path, out, err);
}

// [0-9]+(.[0-9]+)?(ns|us|µs|ms|s|m|h), repeated; "0" alone.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s) {
  if (s == "0") return std::chrono::nanoseconds{0};
  if (s.empty()) return std::nullopt;
  double total_ns = 0;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    const std::string num(s.substr(start, i - start));
    if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size()) return std::nullopt;
    const size_t unit_start = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    const std::string_view unit = s.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1e6;
    else if (unit == "s")
      scale = 1e9;
    else if (unit == "m")
      scale = 60e9;
    else if (unit == "h")
      scale = 3600e9;
    else
      return std::nullopt;
    total_ns += v * scale;
  }
  // Beyond what a timeout can mean; also keeps the cast below defined.
  if (!std::isfinite(total_ns) || total_ns > 1e18) return std::nullopt;
  return std::chrono::nanoseconds{static_cast<int64_t>(total_ns)};
}

}  // namespace otlpgate::config
