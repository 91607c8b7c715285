// CountedStage: a Stage that declares its counters (items seen, dropped by reason, edited).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/pipeline/stage.h"

namespace otlpgate::filters {

// Named monotonic counters, declared once when the stage is built and bumped once per request
// (stages tally locally per request, so the shared cache lines are touched rarely).
class CounterSet {
 public:
  // Declares a counter; names are Prometheus-style, e.g. `items_dropped{reason="exclude"}`.
  // Only at build time (not thread-safe against bump()).
  std::size_t add(std::string name) {
    names_.push_back(std::move(name));
    cells_.emplace_back(0);
    return names_.size() - 1;
  }
  void bump(std::size_t i, uint64_t n) {
    if (n) cells_[i].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t get(std::size_t i) const { return cells_[i].load(std::memory_order_relaxed); }
  void set(std::size_t i, uint64_t v) { cells_[i].store(v, std::memory_order_relaxed); }
  std::vector<std::pair<std::string, uint64_t>> snapshot() const {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (std::size_t i = 0; i < names_.size(); ++i) out.emplace_back(names_[i], get(i));
    return out;
  }

 private:
  std::vector<std::string> names_;
  std::deque<std::atomic<uint64_t>> cells_;  // deque: atomics never move
};

// The stages in filters/ all derive from this, so the runtime can render their counters.
class CountedStage : public Stage {
 public:
  // Current values, in declaration order: (name with labels, value).
  std::vector<std::pair<std::string, uint64_t>> counters() const { return counters_.snapshot(); }

 protected:
  CounterSet counters_;
};

}  // namespace otlpgate::filters
