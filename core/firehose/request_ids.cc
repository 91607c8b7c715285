// RequestIdWindow: a hash map of accepted ids with their expiry, and a queue in acceptance order
// from which expired (or, over the bound, oldest) ids leave.
#include "core/firehose/request_ids.h"

#include <xxhash.h>

namespace otlpgate::firehose {

RequestIdWindow::RequestIdWindow(std::chrono::milliseconds window, std::size_t max_entries,
                                 telemetry::Counter* evictions)
    : window_(window),
      max_entries_(max_entries == 0 ? 1 : max_entries),
      evictions_(evictions ? evictions : &own_evictions_) {}

RequestIdWindow::Key RequestIdWindow::key_of(std::string_view id) {
  const XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
  return Key{h.low64, h.high64};
}

void RequestIdWindow::expire(Clock::time_point now) {
  while (!order_.empty() && (order_.front().second <= now || accepted_.size() > max_entries_)) {
    const auto [key, expiry] = order_.front();
    order_.pop_front();
    auto it = accepted_.find(key);
    if (it == accepted_.end() || it->second != expiry) continue;  // re-accepted later: newer entry
    if (expiry > now) evictions_->add();
    accepted_.erase(it);
  }
}

RequestIdWindow::Begin RequestIdWindow::begin(std::string_view id, Clock::time_point now) {
  if (window_.count() <= 0) return Begin::fresh;
  const Key key = key_of(id);
  std::lock_guard lock(mu_);
  expire(now);
  if (accepted_.count(key)) return Begin::accepted_before;
  if (!in_flight_.insert(key).second) return Begin::in_flight;
  return Begin::fresh;
}

void RequestIdWindow::end(std::string_view id, bool accepted, Clock::time_point now) {
  if (window_.count() <= 0) return;
  const Key key = key_of(id);
  std::lock_guard lock(mu_);
  in_flight_.erase(key);
  if (!accepted) return;
  const Clock::time_point expiry = now + window_;
  accepted_[key] = expiry;
  order_.emplace_back(key, expiry);
  expire(now);
}

std::size_t RequestIdWindow::size() const {
  std::lock_guard lock(mu_);
  return accepted_.size();
}

}  // namespace otlpgate::firehose
