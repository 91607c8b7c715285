// Backoff: exponential delays with jitter, capped by max_interval and max_elapsed_time.
#include "core/retry/backoff.h"

#include <algorithm>
#include <cmath>

namespace otlpgate::retry {
namespace {

// A fresh seed per Backoff without a std::random_device read per request (which costs a
// syscall-sized initialisation): one random_device read per thread, then SplitMix64 steps.
uint64_t next_seed() {
  thread_local uint64_t state = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

Backoff::Backoff(const config::RetryOnFailure& cfg, uint64_t seed)
    : cfg_(cfg),
      current_(std::max(cfg.initial_interval, Millis(0))),
      rng_(seed ? seed : next_seed()) {}

Millis Backoff::jitter(Millis interval, double factor, double u) {
  factor = std::clamp(factor, 0.0, 1.0);
  u = std::clamp(u, 0.0, 1.0);
  const double base = static_cast<double>(interval.count());
  const double lo = base * (1.0 - factor);
  const double hi = base * (1.0 + factor);
  return Millis(static_cast<int64_t>(std::llround(lo + (hi - lo) * u)));
}

std::optional<Millis> Backoff::next(Millis elapsed, std::optional<Millis> retry_after) {
  Millis delay;
  if (retry_after) {
    delay = std::max(*retry_after, Millis(0));
  } else {
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    delay = jitter(current_, cfg_.randomization_factor, dist(rng_));
    // Grow the interval for the attempt after this one; a double keeps multiplier 1.5 exact
    // enough and the cap stops it from overflowing.
    const double grown = static_cast<double>(current_.count()) * std::max(cfg_.multiplier, 1.0);
    const double cap =
        static_cast<double>(std::max(cfg_.max_interval, cfg_.initial_interval).count());
    current_ = Millis(static_cast<int64_t>(std::min(grown, cap)));
  }
  if (cfg_.max_elapsed_time.count() > 0 && elapsed + delay > cfg_.max_elapsed_time) {
    return std::nullopt;
  }
  return delay;
}

}  // namespace otlpgate::retry
