// Sender: drains one exporter's queue with up to num_consumers attempts at once, retrying with
// backoff on the runtime's timer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/config/config.h"
#include "core/exporter.h"
#include "core/queue/queue.h"

namespace otlpgate::telemetry {
class Registry;
class Counter;
class Gauge;
}  // namespace otlpgate::telemetry

namespace otlpgate::queue {

// Why a request was given up; the `reason` label of otlpgate_exporter_dropped_items_total.
enum class DropReason : uint8_t {
  permanent,        // the backend refused it for good (HTTP 400, gRPC INVALID_ARGUMENT, ...)
  retry_exhausted,  // still failing when retry_on_failure.max_elapsed_time ran out
  retry_disabled,   // a retryable failure with retry_on_failure.enabled = false
  rejected,         // partial success: items the backend said it rejected
  shutdown,         // still queued or in delivery when the drain deadline passed
  queue_full,       // shed by on_full: drop_oldest (the oldest waiting) or drop_newest (the new)
};
inline constexpr int kDropReasons = 6;

// sending_queue.on_full, resolved (the runtime picks the default; see config::SendingQueue).
enum class OnFull : uint8_t { backpressure, drop_oldest, drop_newest };
OnFull on_full_policy(std::string_view name);
std::string_view drop_reason_name(DropReason r);

// Counts since start, for tests and the drain report.
struct SenderStats {
  uint64_t sent_items = 0;         // accepted by the backend
  uint64_t send_failed_items = 0;  // given up after a failure (permanent, retries exhausted/off)
  uint64_t retries = 0;            // attempts that failed retryably and were scheduled again
  uint64_t attempts = 0;
  uint64_t dropped_items[kDropReasons] = {};
  uint64_t dropped(DropReason r) const { return dropped_items[static_cast<int>(r)]; }
};

// One per exporter. Every call to Exporter::send and every backoff timer runs on `io` (the
// runtime's own thread), never on the thread that enqueued, so an exporter that answers inline
// cannot recurse into the sender. An attempt waiting for its backoff keeps its consumer slot, so
// a failing backend holds at most num_consumers requests out of the queue and the queue fills up
// (and then refuses, pushing back to the senders of new requests) instead of spinning.
class Sender : public std::enable_shared_from_this<Sender> {
 public:
  // `exporter` and `io` must outlive every callback; the sender itself is kept alive by the
  // callbacks it hands out. `metrics` may be null. `on_idle` runs (on any thread, with no lock
  // held) whenever the sender becomes idle. `seed` fixes the jitter for tests (0 = random).
  static std::shared_ptr<Sender> create(Exporter& exporter, std::unique_ptr<Queue> queue,
                                        const config::Exporter& cfg, boost::asio::io_context& io,
                                        telemetry::Registry* metrics,
                                        std::function<void()> on_idle = {}, uint64_t seed = 0);
  ~Sender();

  // Queues a request (thread-safe; blocks only for a persistent queue's fsync); false when the
  // sender is stopped, or the queue is full and the policy is backpressure. With drop_oldest /
  // drop_newest a full queue sheds (counted as queue_full) and the request counts as taken. The
  // request is delivered by a later run of `io`.
  bool try_enqueue(const Batch& batch);

  // Whether try_enqueue would take `batch` now (always true unless the policy is backpressure).
  // The runtime asks every exporter of a request first, so that a refusal leaves no copy at the
  // others; another thread may fill the queue in between, so a refusal after this said yes
  // remains possible (rare; the retried request is then a duplicate at the other exporters).
  bool has_room(const Batch& batch) const;
  OnFull on_full() const { return on_full_; }

  // Nothing waiting and no attempt in delivery or backoff.
  bool idle() const;

  // Gives up: refuses new requests, drops (and counts) what waits in the queue, cancels backoff
  // timers (their requests are dropped on `io`), and drops attempts in delivery when the exporter
  // answers them. Call Exporter::shutdown() afterwards so that those answers come.
  void stop();

  SenderStats stats() const;
  std::string_view exporter_id() const { return id_; }
  const Queue& queue() const { return *queue_; }

 private:
  struct Attempt;
  struct Private {};

 public:
  Sender(Private, Exporter& exporter, std::unique_ptr<Queue> queue, const config::Exporter& cfg,
         boost::asio::io_context& io, telemetry::Registry* metrics, std::function<void()> on_idle,
         uint64_t seed);

 private:
  void post_pump_locked();
  void pump();
  // Moves waiting entries into free consumer slots (mu_ held); the caller begins them unlocked.
  void take_locked(std::vector<std::shared_ptr<Attempt>>& starts);
  void begin(const std::shared_ptr<Attempt>& a);
  void on_done(const std::shared_ptr<Attempt>& a, ExportOutcome outcome);
  void handle(const std::shared_ptr<Attempt>& a, const ExportOutcome& outcome);
  void on_timer(const std::shared_ptr<Attempt>& a, bool cancelled);
  // Ends an attempt: acks its entry and frees its consumer slot; `pump` starts the next ones.
  void finish(const std::shared_ptr<Attempt>& a, bool pump_next);
  // Ends an attempt at shutdown without delivering it: dropped, or kept by a persistent queue.
  void give_up_at_shutdown(const std::shared_ptr<Attempt>& a);
  void drop(uint64_t items, DropReason why);
  void count_sent(const Batch& b, uint64_t rejected);
  void count_failed(const Batch& b, DropReason why);
  void log_permanent_once(const ExportOutcome& outcome, uint64_t items);
  void update_gauges();

  Exporter& exporter_;
  std::unique_ptr<Queue> queue_;
  std::string id_;
  config::RetryOnFailure retry_;
  std::size_t max_in_flight_;
  OnFull on_full_;
  boost::asio::io_context& io_;
  std::function<void()> on_idle_;
  uint64_t seed_;

  mutable std::mutex mu_;
  bool stopped_ = false;
  bool pump_posted_ = false;
  std::size_t in_flight_ = 0;  // attempts in delivery or in backoff
  std::unordered_set<std::shared_ptr<Attempt>> attempts_;
  std::set<int> logged_codes_;
  uint64_t attempt_seq_ = 0;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> attempts_total_{0};
  std::atomic<uint64_t> dropped_[kDropReasons] = {};

  // Registry series (null without a registry), per signal where the label has one.
  telemetry::Counter* m_sent_[3] = {};
  telemetry::Counter* m_failed_[3] = {};
  telemetry::Counter* m_retries_[3] = {};
  telemetry::Counter* m_enqueue_failed_[3] = {};
  telemetry::Counter* m_dropped_[kDropReasons] = {};
  telemetry::Gauge* m_queue_size_ = nullptr;
  telemetry::Gauge* m_queue_capacity_ = nullptr;
};

}  // namespace otlpgate::queue
