// Backoff: the delays between delivery attempts of one request (exponential, with jitter).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "core/config/config.h"

namespace otlpgate::retry {

using Millis = std::chrono::milliseconds;

// One Backoff per request being retried, as the collector's exporterhelper does it: the n-th
// retry waits a random delay in interval_n * [1 - randomization_factor, 1 + randomization_factor],
// where interval_0 = initial_interval and interval_{n+1} = min(interval_n * multiplier,
// max_interval). Not thread-safe (the sender touches it from its one timer thread only).
class Backoff {
 public:
  // `seed` makes the jitter reproducible in tests; 0 picks a random seed.
  explicit Backoff(const config::RetryOnFailure& cfg, uint64_t seed = 0);

  // The delay before the next attempt, or nullopt when the request must be given up: the
  // attempt would start after max_elapsed_time (0 = never give up) counted from the first
  // attempt. `elapsed` is the time since the first attempt began. A server-given `retry_after`
  // (Retry-After / RetryInfo) replaces the computed delay, and is subject to the same limit:
  // retrying earlier than the server asked would only be refused again.
  std::optional<Millis> next(Millis elapsed, std::optional<Millis> retry_after = std::nullopt);

  // The un-jittered interval the next computed delay is drawn around.
  Millis current_interval() const { return current_; }

  // `interval` spread by `factor` (0..1) at position `u` (0..1): u = 0 gives the lowest delay,
  // u = 1 the highest. Exposed for tests.
  static Millis jitter(Millis interval, double factor, double u);

 private:
  config::RetryOnFailure cfg_;
  Millis current_;
  std::mt19937_64 rng_;
};

}  // namespace otlpgate::retry
