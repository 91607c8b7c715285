// Sender: the delivery loop of one exporter (attempt, classify, back off, retry or drop).
#include "core/queue/sender.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/retry/backoff.h"
#include "core/telemetry/metrics.h"

namespace otlpgate::queue {

using Clock = std::chrono::steady_clock;

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::permanent:
      return "permanent";
    case DropReason::retry_exhausted:
      return "retry_exhausted";
    case DropReason::retry_disabled:
      return "retry_disabled";
    case DropReason::rejected:
      return "rejected";
    case DropReason::shutdown:
      return "shutdown";
    case DropReason::queue_full:
      return "queue_full";
  }
  return "?";
}

OnFull on_full_policy(std::string_view name) {
  if (name == "drop_oldest") return OnFull::drop_oldest;
  if (name == "drop_newest") return OnFull::drop_newest;
  return OnFull::backpressure;
}

// One request on its way out: its entry, its backoff, and the timer it sleeps on between tries.
struct Sender::Attempt {
  Attempt(Entry e, const config::RetryOnFailure& retry, uint64_t seed, boost::asio::io_context& io)
      : entry(std::move(e)), backoff(retry, seed), timer(io) {}
  Entry entry;
  retry::Backoff backoff;
  Clock::time_point first_start{};
  boost::asio::steady_timer timer;  // touched on the io thread only
  bool waiting = false;             // in backoff (guarded by Sender::mu_)
};

std::shared_ptr<Sender> Sender::create(Exporter& exporter, std::unique_ptr<Queue> queue,
                                       const config::Exporter& cfg, boost::asio::io_context& io,
                                       telemetry::Registry* metrics, std::function<void()> on_idle,
                                       uint64_t seed) {
  auto s = std::make_shared<Sender>(Private{}, exporter, std::move(queue), cfg, io, metrics,
                                    std::move(on_idle), seed);
  // A persistent queue may open with entries replayed from the last run: deliver them.
  std::lock_guard lock(s->mu_);
  if (s->queue_->size() > 0) s->post_pump_locked();
  return s;
}

Sender::Sender(Private, Exporter& exporter, std::unique_ptr<Queue> queue,
               const config::Exporter& cfg, boost::asio::io_context& io,
               telemetry::Registry* metrics, std::function<void()> on_idle, uint64_t seed)
    : exporter_(exporter),
      queue_(std::move(queue)),
      id_(cfg.id),
      retry_(cfg.retry_on_failure),
      max_in_flight_(static_cast<std::size_t>(std::max(cfg.sending_queue.num_consumers, 1))),
      on_full_(on_full_policy(cfg.sending_queue.on_full)),
      io_(io),
      on_idle_(std::move(on_idle)),
      seed_(seed) {
  if (metrics) {
    for (Signal sig : kAllSignals) {
      const int i = static_cast<int>(sig);
      const telemetry::Labels labels = {{"exporter", id_},
                                        {"signal", std::string(signal_name(sig))}};
      m_sent_[i] = &metrics->counter(telemetry::kMetricExporterSentItems, labels);
      m_failed_[i] = &metrics->counter(telemetry::kMetricExporterSendFailedItems, labels);
      m_retries_[i] = &metrics->counter(telemetry::kMetricExporterRetries, labels);
      m_enqueue_failed_[i] =
          &metrics->counter(telemetry::kMetricExporterEnqueueFailedItems, labels);
    }
    for (int r = 0; r < kDropReasons; ++r) {
      m_dropped_[r] = &metrics->counter(
          "otlpgate_exporter_dropped_items_total",
          "Items an exporter gave up on, by reason (permanent, retry_exhausted, retry_disabled, "
          "rejected by the backend as partial success, shutdown, queue_full shed by on_full).",
          {{"exporter", id_},
           {"reason", std::string(drop_reason_name(static_cast<DropReason>(r)))}});
    }
    m_queue_size_ = &metrics->gauge(telemetry::kMetricExporterQueueSize, {{"exporter", id_}});
    m_queue_capacity_ =
        &metrics->gauge(telemetry::kMetricExporterQueueCapacity, {{"exporter", id_}});
    m_queue_capacity_->set(static_cast<int64_t>(queue_->capacity()));
    queue_->register_metrics(*metrics, id_);
  }
}

Sender::~Sender() = default;

bool Sender::try_enqueue(const Batch& batch) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
  }
  bool pushed = queue_->try_push(batch);
  // drop_oldest: shed waiting entries, oldest first, until the new one fits (a few at most: a
  // request far larger than the others is shed itself rather than emptying the queue for it).
  for (int shed = 0; !pushed && on_full_ == OnFull::drop_oldest && shed < 8; ++shed) {
    std::optional<Entry> oldest = queue_->pop();
    if (!oldest) break;
    drop(oldest->batch.items, DropReason::queue_full);
    queue_->ack(*oldest);
    pushed = queue_->try_push(batch);
  }
  if (!pushed) {
    if (auto* c = m_enqueue_failed_[static_cast<int>(batch.signal)]) c->add(batch.items);
    if (on_full_ == OnFull::backpressure) return false;
    drop(batch.items, DropReason::queue_full);
    return true;
  }
  {
    // The push happened before this check, so either a free slot is seen here or the attempt
    // that frees one pops this entry (finish() pumps under the same lock).
    std::lock_guard lock(mu_);
    if (in_flight_ < max_in_flight_) post_pump_locked();
  }
  update_gauges();
  return true;
}

bool Sender::has_room(const Batch& batch) const {
  if (on_full_ != OnFull::backpressure) return true;
  const uint64_t held = queue_->bytes();
  return queue_->size() < queue_->capacity() &&
         (held == 0 || held + batch.bytes.size() <= queue_->capacity_bytes());
}

void Sender::post_pump_locked() {
  if (pump_posted_ || stopped_) return;
  pump_posted_ = true;
  boost::asio::post(io_, [self = shared_from_this()] { self->pump(); });
}

void Sender::pump() {
  std::vector<std::shared_ptr<Attempt>> starts;
  {
    std::lock_guard lock(mu_);
    pump_posted_ = false;
    if (stopped_) return;
    take_locked(starts);
  }
  if (!starts.empty()) update_gauges();
  for (const auto& a : starts) begin(a);
}

void Sender::take_locked(std::vector<std::shared_ptr<Attempt>>& starts) {
  while (in_flight_ < max_in_flight_) {
    std::optional<Entry> e = queue_->pop();
    if (!e) break;
    // Distinct seeds per attempt keep jitter reproducible in tests without syncing retries.
    const uint64_t seed = seed_ ? seed_ + attempt_seq_ : 0;
    ++attempt_seq_;
    auto a = std::make_shared<Attempt>(std::move(*e), retry_, seed, io_);
    a->first_start = Clock::now();
    attempts_.insert(a);
    ++in_flight_;
    starts.push_back(std::move(a));
  }
}

void Sender::begin(const std::shared_ptr<Attempt>& a) {
  attempts_total_.fetch_add(1, std::memory_order_relaxed);
  exporter_.send(a->entry.batch, [self = shared_from_this(), a](ExportOutcome outcome) {
    self->on_done(a, std::move(outcome));
  });
}

void Sender::on_done(const std::shared_ptr<Attempt>& a, ExportOutcome outcome) {
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      // Handle on the io thread: the exporter may answer inline from send(), and retries and
      // the next pops belong to the one thread that owns the timers.
      boost::asio::post(
          io_, [self = shared_from_this(), a, o = std::move(outcome)] { self->handle(a, o); });
      return;
    }
  }
  // Stopped: the runtime is past its drain deadline and the io thread may be gone.
  if (outcome.kind != ExportOutcome::Kind::ok) return give_up_at_shutdown(a);
  count_sent(a->entry.batch, outcome.rejected_items);
  finish(a, false);
}

void Sender::handle(const std::shared_ptr<Attempt>& a, const ExportOutcome& outcome) {
  const Batch& batch = a->entry.batch;
  switch (outcome.kind) {
    case ExportOutcome::Kind::ok:
      count_sent(batch, outcome.rejected_items);
      finish(a, true);
      return;
    case ExportOutcome::Kind::permanent:
      log_permanent_once(outcome, batch.items);
      count_failed(batch, DropReason::permanent);
      finish(a, true);
      return;
    case ExportOutcome::Kind::retryable:
      break;
  }
  if (!retry_.enabled) {
    count_failed(batch, DropReason::retry_disabled);
    finish(a, true);
    return;
  }
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - a->first_start);
  const std::optional<std::chrono::milliseconds> delay =
      a->backoff.next(elapsed, outcome.retry_after);
  if (!delay) {
    count_failed(batch, DropReason::retry_exhausted);
    finish(a, true);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      retries_.fetch_add(1, std::memory_order_relaxed);
      if (auto* c = m_retries_[static_cast<int>(batch.signal)]) c->add();
      a->waiting = true;
      a->timer.expires_after(*delay);
      a->timer.async_wait([self = shared_from_this(), a](const boost::system::error_code& ec) {
        self->on_timer(a, ec == boost::asio::error::operation_aborted);
      });
      return;
    }
  }
  give_up_at_shutdown(a);
}

void Sender::count_sent(const Batch& b, uint64_t rejected) {
  rejected = std::min(rejected, b.items);
  sent_.fetch_add(b.items - rejected, std::memory_order_relaxed);
  if (auto* c = m_sent_[static_cast<int>(b.signal)]) c->add(b.items - rejected);
  if (rejected) drop(rejected, DropReason::rejected);
}

void Sender::count_failed(const Batch& b, DropReason why) {
  failed_.fetch_add(b.items, std::memory_order_relaxed);
  if (auto* c = m_failed_[static_cast<int>(b.signal)]) c->add(b.items);
  drop(b.items, why);
}

void Sender::on_timer(const std::shared_ptr<Attempt>& a, bool /*cancelled*/) {
  bool stopped;
  {
    std::lock_guard lock(mu_);
    a->waiting = false;
    stopped = stopped_;
  }
  // Timers are only cancelled by stop(), so a cancelled wait always sees `stopped`. Sends only
  // ever start on the io thread, and the runtime shuts the exporter down on that thread after
  // stop(), so no send can follow the shutdown.
  if (!stopped) {
    begin(a);
    return;
  }
  give_up_at_shutdown(a);
}

void Sender::give_up_at_shutdown(const std::shared_ptr<Attempt>& a) {
  if (queue_->persistent()) {
    // Not dropped: the queue replays it at the next start.
    {
      std::lock_guard lock(mu_);
      if (attempts_.erase(a) == 0) return;
      queue_->release(a->entry);
      --in_flight_;
    }
    if (idle() && on_idle_) on_idle_();
    return;
  }
  drop(a->entry.batch.items, DropReason::shutdown);
  finish(a, false);
}

void Sender::finish(const std::shared_ptr<Attempt>& a, bool pump_next) {
  bool now_idle = false;
  std::vector<std::shared_ptr<Attempt>> starts;
  {
    std::lock_guard lock(mu_);
    if (attempts_.erase(a) == 0)
      return;  // already finished (a misbehaving exporter answered twice)
    queue_->ack(a->entry);
    --in_flight_;
    if (pump_next && !stopped_) {
      take_locked(starts);
    }
    now_idle = in_flight_ == 0 && queue_->size() == 0;
  }
  update_gauges();
  for (const auto& s : starts) begin(s);
  if (now_idle && on_idle_) on_idle_();
}

void Sender::drop(uint64_t items, DropReason why) {
  const int r = static_cast<int>(why);
  dropped_[r].fetch_add(items, std::memory_order_relaxed);
  if (m_dropped_[r]) m_dropped_[r]->add(items);
}

void Sender::log_permanent_once(const ExportOutcome& outcome, uint64_t items) {
  {
    std::lock_guard lock(mu_);
    if (!logged_codes_.insert(outcome.code).second) return;
  }
  // Once per (exporter, code): a backend that refuses everything must not flood the log; the
  // dropped-items counter keeps the count.
  std::fprintf(stderr,
               "otlpgate: exporter %s: permanent failure (code %d), dropping %llu items; further "
               "failures with this code are only counted: %s\n",
               id_.c_str(), outcome.code, static_cast<unsigned long long>(items),
               outcome.message.c_str());
}

void Sender::stop() {
  std::vector<std::shared_ptr<Attempt>> waiting;
  uint64_t dropped_items = 0;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    // A persistent queue keeps what waits for the next start; a memory queue can only drop it.
    while (std::optional<Entry> e =
               queue_->persistent() ? std::nullopt : queue_->pop()) {
      dropped_items += e->batch.items;
      queue_->ack(*e);
    }
    for (const auto& a : attempts_) {
      if (a->waiting) waiting.push_back(a);
    }
  }
  if (dropped_items) drop(dropped_items, DropReason::shutdown);
  update_gauges();
  if (!waiting.empty()) {
    // Timers belong to the io thread; their handlers see stopped_ and drop.
    boost::asio::post(io_, [waiting = std::move(waiting)] {
      for (const auto& a : waiting) a->timer.cancel();
    });
  }
  if (idle() && on_idle_) on_idle_();
}

bool Sender::idle() const {
  std::lock_guard lock(mu_);
  return in_flight_ == 0 && queue_->size() == 0;
}

SenderStats Sender::stats() const {
  SenderStats s;
  s.sent_items = sent_.load(std::memory_order_relaxed);
  s.send_failed_items = failed_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.attempts = attempts_total_.load(std::memory_order_relaxed);
  for (int r = 0; r < kDropReasons; ++r)
    s.dropped_items[r] = dropped_[r].load(std::memory_order_relaxed);
  return s;
}

void Sender::update_gauges() {
  if (m_queue_size_) m_queue_size_->set(static_cast<int64_t>(queue_->size()));
}

}  // namespace otlpgate::queue
