// RequestIdWindow: the request ids of Firehose deliveries already accepted, so that a
// redelivery (Firehose retries with the same id, and AWS suggests the id for deduplication) is
// answered without being forwarded twice. Bounded in time and in entries; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/telemetry/metrics.h"

namespace otlpgate::firehose {

class RequestIdWindow {
 public:
  using Clock = std::chrono::steady_clock;

  // Ids are remembered for `window` after their delivery was accepted (0: nothing is remembered
  // and begin() always answers fresh) and at most `max_entries` at once, the oldest forgotten
  // first. An entry costs about 64 bytes (ids are kept as 128-bit hashes). `evictions`, when
  // given, counts what evictions() counts (it must outlive the window).
  RequestIdWindow(std::chrono::milliseconds window, std::size_t max_entries,
                  telemetry::Counter* evictions = nullptr);

  enum class Begin {
    fresh,            // not seen: process it, then call end() exactly once
    accepted_before,  // a redelivery of an accepted delivery: answer success, forward nothing
    in_flight,        // the same id is being processed right now: ask Firehose to retry later
  };
  Begin begin(std::string_view id, Clock::time_point now = Clock::now());

  // Ends what begin() answered `fresh` for: `accepted` remembers the id, otherwise it is
  // forgotten so that the retry is processed again.
  void end(std::string_view id, bool accepted, Clock::time_point now = Clock::now());

  std::size_t size() const;
  // Ids forgotten before their window ended, because max_entries was reached.
  uint64_t evictions() const noexcept { return evictions_->value(); }

 private:
  struct Key {
    uint64_t lo, hi;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(k.lo ^ k.hi);
    }
  };
  static Key key_of(std::string_view id);
  void expire(Clock::time_point now);  // with mu_ held

  const std::chrono::milliseconds window_;
  const std::size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<Key, Clock::time_point, KeyHash> accepted_;  // id → when it expires
  std::deque<std::pair<Key, Clock::time_point>> order_;           // in acceptance order
  std::unordered_set<Key, KeyHash> in_flight_;
  telemetry::Counter own_evictions_;
  telemetry::Counter* evictions_;
};

}  // namespace otlpgate::firehose
