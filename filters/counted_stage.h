// CountedStage: a Stage that declares its counters (items seen, dropped by reason, edited) and
// shows them on /metrics.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/pipeline/stage.h"
#include "core/telemetry/metrics.h"

namespace otlpgate::filters {

// The series of one stage, declared once when it is built and bumped once per request (stages
// tally locally per request, so the shared cache lines are touched rarely). They live in the
// stage until register_in() moves them into the gateway's registry, where /metrics renders them
// as `otlpgate_processor_<name>_total{processor,pipeline,<own labels>}` (gauges without _total).
class CounterSet {
 public:
  enum class Kind { counter, gauge };

  // Declares a series: `name` is the family without prefix or suffix ("items_dropped"), `labels`
  // its own ({{"reason", "excluded"}}). Only at build time (not thread-safe against bump()).
  std::size_t add(std::string name, std::string help, telemetry::Labels labels = {},
                  Kind kind = Kind::counter);
  // The three every stage has (the "seen, dropped by reason, edited").
  std::size_t add_seen();
  std::size_t add_dropped(std::string reason);
  std::size_t add_edited();

  void bump(std::size_t i, uint64_t n) {
    if (n) series_[i].counter->add(n);
  }
  void set(std::size_t i, int64_t v) { series_[i].gauge->set(v); }
  uint64_t get(std::size_t i) const;

  // (name{labels}, value) in declaration order, e.g. ("items_dropped{reason=\"excluded\"}", 3).
  std::vector<std::pair<std::string, uint64_t>> snapshot() const;

  // Makes every series a series of `registry` named as above, with `labels` before its own; the
  // counts so far carry over. Once, before the stage is used (not thread-safe against bump()).
  void register_in(telemetry::Registry& registry, const telemetry::Labels& labels);

 private:
  struct Series {
    std::string name, help;
    telemetry::Labels labels;
    Kind kind;
    telemetry::Counter* counter = nullptr;  // where the value lives: own_* or the registry
    telemetry::Gauge* gauge = nullptr;
  };
  std::vector<Series> series_;
  std::deque<telemetry::Counter> own_counters_;  // deque: they never move
  std::deque<telemetry::Gauge> own_gauges_;
};

// The stages in filters/ all derive from this.
class CountedStage : public Stage {
 public:
  void register_metrics(telemetry::Registry& registry, const telemetry::Labels& labels) override {
    counters_.register_in(registry, labels);
  }
  // Current values, in declaration order: (name with labels, value).
  std::vector<std::pair<std::string, uint64_t>> counters() const { return counters_.snapshot(); }

 protected:
  CounterSet counters_;
};

}  // namespace otlpgate::filters
