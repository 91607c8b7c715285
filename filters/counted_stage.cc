// CounterSet: the stage's series, first its own, then the registry's.
#include "filters/counted_stage.h"

#include <algorithm>

namespace otlpgate::filters {

std::size_t CounterSet::add(std::string name, std::string help, telemetry::Labels labels,
                            Kind kind) {
  Series s{std::move(name), std::move(help), std::move(labels), kind};
  if (kind == Kind::counter)
    s.counter = &own_counters_.emplace_back();
  else
    s.gauge = &own_gauges_.emplace_back();
  series_.push_back(std::move(s));
  return series_.size() - 1;
}

std::size_t CounterSet::add_seen() {
  return add("items_seen", "Items (data points, spans, log records) a processing stage looked at.");
}

std::size_t CounterSet::add_dropped(std::string reason) {
  return add("items_dropped", "Items a processing stage removed on purpose, by reason.",
             {{"reason", std::move(reason)}});
}

std::size_t CounterSet::add_edited() {
  return add("items_edited",
             "Items whose attributes, body or metric a processing stage changed (redacted, "
             "relabelled, renamed).");
}

uint64_t CounterSet::get(std::size_t i) const {
  const Series& s = series_[i];
  return s.counter ? s.counter->value()
                   : static_cast<uint64_t>(std::max<int64_t>(0, s.gauge->value()));
}

std::vector<std::pair<std::string, uint64_t>> CounterSet::snapshot() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (std::size_t i = 0; i < series_.size(); ++i) {
    std::string name = series_[i].name;
    if (!series_[i].labels.empty()) {
      name += '{';
      for (const auto& [k, v] : series_[i].labels) {
        if (name.back() != '{') name += ',';
        name += k + "=\"" + v + "\"";
      }
      name += '}';
    }
    out.emplace_back(std::move(name), get(i));
  }
  return out;
}

void CounterSet::register_in(telemetry::Registry& registry, const telemetry::Labels& labels) {
  for (Series& s : series_) {
    telemetry::Labels all = labels;
    all.insert(all.end(), s.labels.begin(), s.labels.end());
    const std::string family = "otlpgate_processor_" + s.name;
    if (s.kind == Kind::counter) {
      telemetry::Counter& c = registry.counter(family + "_total", s.help, std::move(all));
      c.add(s.counter->value());
      s.counter = &c;
    } else {
      telemetry::Gauge& g = registry.gauge(family, s.help, std::move(all));
      g.add(s.gauge->value());
      s.gauge = &g;
    }
  }
}

}  // namespace otlpgate::filters
