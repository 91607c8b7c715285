// FakeExporter: an in-process Exporter whose answers a test scripts, and that records every try.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/exporter.h"

namespace otlpgate::testing {

// What the fake saw; shared with the test so it outlives the exporter the runtime destroys.
struct ExporterLog {
  struct Try {
    Batch batch;
    std::chrono::steady_clock::time_point at;
  };
  mutable std::mutex mu;
  std::vector<Try> tries;
  std::vector<Batch> delivered;  // tries answered ok
  bool shut_down = false;
  std::vector<std::function<void(ExportOutcome)>> held;  // tries not answered yet

  std::size_t try_count() const {
    std::lock_guard l(mu);
    return tries.size();
  }
  std::size_t delivered_count() const {
    std::lock_guard l(mu);
    return delivered.size();
  }
  uint64_t delivered_items() const {
    std::lock_guard l(mu);
    uint64_t n = 0;
    for (const auto& b : delivered) n += b.items;
    return n;
  }
  std::vector<Batch> delivered_copy() const {
    std::lock_guard l(mu);
    return delivered;
  }
  std::vector<Try> tries_copy() const {
    std::lock_guard l(mu);
    return tries;
  }
  // Answers every held try with `o` (from the calling thread).
  void release_held(const ExportOutcome& o) {
    std::vector<std::function<void(ExportOutcome)>> h;
    {
      std::lock_guard l(mu);
      h.swap(held);
    }
    for (auto& d : h) d(o);
  }
};

// Decides the answer to the n-th try (1-based); nullopt holds the try unanswered until shutdown()
// (a black-holed backend).
using ExportScript = std::function<std::optional<ExportOutcome>(const Batch&, int n)>;

inline ExportOutcome ok_outcome() { return {}; }
inline ExportOutcome retryable_outcome(
    std::optional<std::chrono::milliseconds> after = std::nullopt) {
  ExportOutcome o;
  o.kind = ExportOutcome::Kind::retryable;
  o.code = 503;
  o.message = "unavailable";
  o.retry_after = after;
  return o;
}
inline ExportOutcome permanent_outcome(int code = 400, std::string msg = "bad request") {
  ExportOutcome o;
  o.kind = ExportOutcome::Kind::permanent;
  o.code = code;
  o.message = std::move(msg);
  return o;
}

class FakeExporter final : public Exporter {
 public:
  FakeExporter(std::string id, std::shared_ptr<ExporterLog> log, ExportScript script = {})
      : id_(std::move(id)), log_(std::move(log)), script_(std::move(script)) {}

  std::string_view id() const override { return id_; }

  void send(const Batch& batch, std::function<void(ExportOutcome)> done) override {
    std::optional<ExportOutcome> o;
    {
      std::lock_guard l(log_->mu);
      log_->tries.push_back({batch, std::chrono::steady_clock::now()});
      const int n = static_cast<int>(log_->tries.size());
      o = script_ ? script_(batch, n) : std::optional<ExportOutcome>(ok_outcome());
      if (!o) {
        log_->held.push_back(std::move(done));
        return;
      }
      if (o->kind == ExportOutcome::Kind::ok) log_->delivered.push_back(batch);
    }
    done(*o);  // inline, as an exporter that fails fast does
  }

  void shutdown() override {
    {
      std::lock_guard l(log_->mu);
      log_->shut_down = true;
    }
    log_->release_held(retryable_outcome());
  }

 private:
  std::string id_;
  std::shared_ptr<ExporterLog> log_;
  ExportScript script_;
};

// Polls `pred` until it holds or `timeout` passes; returns its last value.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace otlpgate::testing
