// Metrics registry: registration checks and the Prometheus text exposition format.
#include "core/telemetry/metrics.h"

#include <algorithm>
#include <stdexcept>

namespace otlpgate::telemetry {

namespace {

bool name_char(char c, bool first, bool colon_ok) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (alpha || (colon_ok && c == ':')) return true;
  return !first && c >= '0' && c <= '9';
}

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, the same without ':' for label names.
bool valid_name(std::string_view s, bool colon_ok) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!name_char(s[i], i == 0, colon_ok)) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
}

}  // namespace

Registry::Series& Registry::find_or_add(std::string_view name, std::string_view help, Labels labels,
                                        Kind kind, std::function<int64_t()> read) {
  if (!valid_name(name, true))
    throw std::invalid_argument("metric name \"" + std::string(name) + "\" is not valid");
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i].first;
    if (!valid_name(l, false) || l.rfind("__", 0) == 0)
      throw std::invalid_argument("label name \"" + l + "\" of " + std::string(name) +
                                  " is not valid");
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == l)
        throw std::invalid_argument("label \"" + l + "\" given twice for " + std::string(name));
    }
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{std::string(help), kind, {}}).first;
  } else if (it->second.kind != kind) {
    throw std::invalid_argument("metric " + std::string(name) +
                                " is already registered as another kind");
  }
  for (Series& s : it->second.series) {
    if (s.labels != labels) continue;
    if (read) s.read = std::move(read);
    return s;
  }
  Series s;
  s.labels = std::move(labels);
  s.read = std::move(read);
  if (kind == Kind::counter)
    s.counter = std::make_unique<Counter>();
  else
    s.gauge = std::make_unique<Gauge>();
  it->second.series.push_back(std::move(s));
  return it->second.series.back();
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  return *find_or_add(name, help, std::move(labels), Kind::counter).counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  return *find_or_add(name, help, std::move(labels), Kind::gauge).gauge;
}

void Registry::counter_fn(const MetricDef& def, Labels labels, std::function<uint64_t()> read) {
  find_or_add(def.name, def.help, std::move(labels), Kind::counter,
              [read = std::move(read)] { return static_cast<int64_t>(read()); });
}

void Registry::gauge_fn(const MetricDef& def, Labels labels, std::function<int64_t()> read) {
  find_or_add(def.name, def.help, std::move(labels), Kind::gauge, std::move(read));
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, family.help, false);
    out += "\n# TYPE ";
    out += name;
    out += family.kind == Kind::counter ? " counter\n" : " gauge\n";
    for (const Series& s : family.series) {
      out += name;
      if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += s.labels[i].first;
          out += "=\"";
          append_escaped(out, s.labels[i].second, true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      if (s.read && s.counter)
        out += std::to_string(static_cast<uint64_t>(s.read()));
      else if (s.read)
        out += std::to_string(s.read());
      else
        out += s.counter ? std::to_string(s.counter->value()) : std::to_string(s.gauge->value());
      out += '\n';
    }
  }
  return out;
}

}  // namespace otlpgate::telemetry
