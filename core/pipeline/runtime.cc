// Runtime: routes each request from its receiver through the stages of every pipeline it feeds
// and into the queue of every exporter of those pipelines; owns the senders' timer thread.
#include "core/pipeline/runtime.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/otlp/edits.h"
#include "core/otlp/index.h"
#include "core/otlp/rewriter.h"
#include "core/otlp/validate.h"
#include "core/pipeline/run_stages.h"
#include "core/queue/configured_queue.h"
#include "core/queue/sender.h"
#include "core/telemetry/metrics.h"

namespace otlpgate {

Runtime::~Runtime() = default;

namespace {

using Clock = std::chrono::steady_clock;

// What submit() reuses on each I/O thread so that the hot path does not allocate.
struct Scratch {
  otlp::Index index;
  otlp::Edits edits;
  otlp::Rewriter rewriter;
  bool busy = false;  // a submit() on this thread is using it (guards re-entry from `done`)
  // Where each buffer already went, so two pipelines that forward it unchanged to one exporter
  // do not deliver it twice; `outputs` keeps the buffers `pushed` points at alive.
  std::vector<std::pair<queue::Sender*, const Bytes*>> pushed;
  std::vector<Bytes> outputs;
};

// Wakes drain() when a sender goes idle or the last submit leaves. Shared with the senders'
// callbacks, which may outlive the runtime when a broken exporter answers late.
struct IdleSignal {
  std::mutex mu;
  std::condition_variable cv;
  void notify() {
    std::lock_guard lock(mu);
    cv.notify_all();
  }
};

struct PipelineRt {
  std::string id;
  std::vector<std::unique_ptr<Stage>> stages;  // this pipeline's own instances, in listed order
  std::vector<queue::Sender*> senders;
  std::vector<std::string> tenants;  // config::Pipeline::tenants: empty takes every request

  bool takes(std::string_view tenant) const {
    return tenants.empty() || std::find(tenants.begin(), tenants.end(), tenant) != tenants.end();
  }
  // Only stages read attributes: without any, the index of a request can do without them.
  otlp::IndexOptions index_options() const { return {.attributes = !stages.empty()}; }
};

// Items the receivers dropped as invalid before any pipeline (core/otlp/validate.h), by reason;
// the sender hears of them as a partial success.
constexpr telemetry::MetricDef kMetricReceiverRejectedItems{
    "otlpgate_receiver_rejected_items_total",
    "Invalid items (metric without a name, malformed trace or span id) dropped by a receiver and "
    "reported to the sender as rejected in a partial success."};

// The pipelines one receiver feeds for one signal, and that receiver's counters.
struct Route {
  std::vector<const PipelineRt*> pipelines;
  telemetry::Counter* accepted = nullptr;
  telemetry::Counter* refused = nullptr;
  std::array<telemetry::Counter*, otlp::kInvalidReasons> rejected{};  // by otlp::Invalid
};

class RuntimeImpl final : public Runtime {
 public:
  RuntimeImpl() : work_(boost::asio::make_work_guard(io_)), idle_(std::make_shared<IdleSignal>()) {}
  ~RuntimeImpl() override { drain(std::chrono::milliseconds(0)); }

  bool build(const config::Config& cfg, const ExporterFactory& make_exporter,
             const StageFactory& make_stage, std::string* err);

  void submit(std::string_view receiver_id, Signal signal, Bytes body, std::string_view tenant,
              std::function<void(IngestResult)> done) override;
  void start() override;
  bool drain(std::chrono::milliseconds deadline) override;
  std::string render_metrics() const override { return registry_.render(); }
  telemetry::Registry& metrics() override { return registry_; }
  memory::MemoryLimit* memory_limit() override { return memory_.get(); }

 private:
  IngestResult run(const Route& route, Signal signal, const Bytes& body, uint64_t items,
                   std::string_view tenant, Scratch& s);
  // Drops the invalid items of the request indexed in `s` (core/otlp/validate.h) and says which
  // in `out`; `body` and the index become what is left. False when our own rewriter wrote
  // something unreadable (a bug, logged).
  bool drop_invalid(Signal signal, Bytes& body, Scratch& s, otlp::Validation& out);
  bool all_idle() const;
  void shutdown_exporters();

  telemetry::Registry registry_;
  std::shared_ptr<memory::MemoryLimit> memory_;  // reservations may outlive the runtime
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<IdleSignal> idle_;

  std::vector<std::unique_ptr<Exporter>> exporters_;
  std::vector<std::shared_ptr<queue::Sender>> senders_;
  std::map<queue::Sender*, std::chrono::seconds> overload_hint_;  // Retry-After when it refuses
  std::vector<std::unique_ptr<PipelineRt>> pipelines_;
  std::map<std::string, std::array<Route, 3>, std::less<>> routes_;

  std::atomic<bool> draining_{false};
  std::atomic<int> active_submits_{0};
  std::mutex drain_mu_;  // one drain at a time; guards the two below
  bool stopped_ = false;
  bool drained_ = false;
  std::atomic<bool> started_{false};
};

// The Retry-After a refusing queue suggests: about when one backoff step may have freed room.
std::chrono::seconds overload_retry_after(const config::Exporter& e) {
  const auto ms = e.retry_on_failure.initial_interval.count();
  const auto s = (ms + 999) / 1000;
  return std::chrono::seconds(std::clamp<int64_t>(s, 1, 30));
}

// The configured processor or exporter with that id (the last, should one be listed twice).
template <typename T>
const T* find_by_id(const std::vector<T>& list, const std::string& id) {
  const T* found = nullptr;
  for (const T& c : list)
    if (c.id == id) found = &c;
  return found;
}

bool RuntimeImpl::build(const config::Config& cfg, const ExporterFactory& make_exporter,
                        const StageFactory& make_stage, std::string* err) {
  auto fail = [&](std::string m) {
    if (err) *err = std::move(m);
    return false;
  };
  std::map<std::string, queue::Sender*> sender_by_id;
  auto idle = idle_;
  memory_ = memory::MemoryLimit::create(cfg.service.memory_limit_mib << 20);
  registry_.gauge_fn(telemetry::kMetricMemoryUsed, {},
                     [m = memory_] { return static_cast<int64_t>(m->used()); });
  registry_.gauge_fn(telemetry::kMetricMemoryLimit, {},
                     [m = memory_] { return static_cast<int64_t>(m->limit()); });
  registry_.counter_fn(telemetry::kMetricMemoryRefusals, {},
                       [m = memory_] { return m->refusals(); });
  uint64_t queued_mib = 0;  // what the in-memory queues may hold at most, for the warning below
  for (const config::Pipeline& p : cfg.service.pipelines) {
    auto rt = std::make_unique<PipelineRt>();
    rt->id = p.id;
    rt->tenants = p.tenants;
    if (!p.processors.empty() && !make_stage) {
      return fail("service.pipelines." + p.id +
                  ".processors: this build has no processing stages, "
                  "so a pipeline cannot list processors");
    }
    for (const std::string& pid : p.processors) {
      const config::Processor* pc = find_by_id(cfg.processors, pid);
      if (!pc) {
        return fail("service.pipelines." + p.id + ".processors: '" + pid +
                    "' is not defined under processors");
      }
      // One instance per pipeline, as in the Collector: a dedup window listed by two pipelines
      // fed by one receiver must not drop the second pipeline's copy as a duplicate.
      std::string e;
      std::unique_ptr<Stage> st = make_stage(*pc, &e);
      if (!st) return fail(e.empty() ? "processors." + pid + ": cannot be built" : e);
      st->register_metrics(registry_, {{"processor", pid}, {"pipeline", p.id}});
      rt->stages.push_back(std::move(st));
    }
    for (const std::string& eid : p.exporters) {
      auto it = sender_by_id.find(eid);
      if (it == sender_by_id.end()) {
        const config::Exporter* ec = find_by_id(cfg.exporters, eid);
        if (!ec) {
          return fail("service.pipelines." + p.id + ".exporters: '" + eid +
                      "' is not defined under exporters");
        }
        std::string e;
        std::unique_ptr<Exporter> ex = make_exporter ? make_exporter(*ec, &e) : nullptr;
        if (!ex) return fail("exporters." + eid + ": " + (e.empty() ? "cannot be built" : e));
        std::unique_ptr<queue::Queue> q = queue::make_configured_queue(*ec, &e);
        if (!q) return fail("exporters." + eid + ".sending_queue.storage: " + e);
        auto sender = queue::Sender::create(*ex, std::move(q),
                                            queue::with_resolved_on_full(*ec, cfg), io_,
                                            &registry_, [idle] { idle->notify(); });
        exporters_.push_back(std::move(ex));
        overload_hint_[sender.get()] = overload_retry_after(*ec);
        if (ec->sending_queue.storage.empty()) queued_mib += ec->sending_queue.queue_size_mib;
        it = sender_by_id.emplace(eid, sender.get()).first;
        senders_.push_back(std::move(sender));
      }
      // Listing an exporter twice in one pipeline still delivers once.
      if (std::find(rt->senders.begin(), rt->senders.end(), it->second) == rt->senders.end()) {
        rt->senders.push_back(it->second);
      }
    }
    pipelines_.push_back(std::move(rt));
  }
  if (cfg.service.memory_limit_mib && queued_mib >= cfg.service.memory_limit_mib) {
    // Not an error (queues shared by fan-out count once), but full queues could then hold the
    // whole budget and every request would be refused, the healthy backends' too.
    std::fprintf(stderr,
                 "otlpgate: warning: the in-memory exporter queues may hold %llu MiB "
                 "(sending_queue.queue_size_mib), not below service.memory_limit_mib %llu\n",
                 static_cast<unsigned long long>(queued_mib),
                 static_cast<unsigned long long>(cfg.service.memory_limit_mib));
  }

  // Routes: every receiver gets counters for every signal, even where it feeds no pipeline, so
  // that what it has to refuse is visible.
  auto route_of = [&](const std::string& rid) -> std::array<Route, 3>& {
    auto it = routes_.find(rid);
    if (it != routes_.end()) return it->second;
    auto& routes = routes_[rid];
    for (Signal s : kAllSignals) {
      const telemetry::Labels labels = {{"receiver", rid}, {"signal", std::string(signal_name(s))}};
      auto& r = routes[static_cast<int>(s)];
      r.accepted = &registry_.counter(telemetry::kMetricReceiverAcceptedItems, labels);
      r.refused = &registry_.counter(telemetry::kMetricReceiverRefusedItems, labels);
      for (std::size_t why = 0; why < otlp::kInvalidReasons; ++why) {
        telemetry::Labels with_reason = labels;
        with_reason.emplace_back("reason", otlp::reason_name(static_cast<otlp::Invalid>(why)));
        r.rejected[why] = &registry_.counter(kMetricReceiverRejectedItems, std::move(with_reason));
      }
    }
    return routes;
  };
  for (const auto& r : cfg.receivers) route_of(r.id);
  for (std::size_t i = 0; i < cfg.service.pipelines.size(); ++i) {
    const config::Pipeline& p = cfg.service.pipelines[i];
    for (const std::string& rid : p.receivers) {
      route_of(rid)[static_cast<int>(p.signal)].pipelines.push_back(pipelines_[i].get());
    }
  }
  return true;
}

void RuntimeImpl::submit(std::string_view receiver_id, Signal signal, Bytes body,
                         std::string_view tenant, std::function<void(IngestResult)> done) {
  // Counted before the draining check, so drain() can wait for submits that passed it.
  active_submits_.fetch_add(1);
  IngestResult result;
  if (draining_.load()) {
    result.status = IngestResult::Status::unavailable;
    result.message = "the gateway is shutting down";
    result.retry_after = std::chrono::seconds(1);
  } else {
    thread_local Scratch tls;
    std::optional<Scratch> nested;  // only when `done` re-enters submit() on this thread
    Scratch& s = tls.busy ? nested.emplace() : tls;
    s.busy = true;
    auto rit = routes_.find(receiver_id);
    const Route* route = rit == routes_.end() ? nullptr : &rit->second[static_cast<int>(signal)];
    // Attributes are indexed only when a pipeline this request goes through has a stage to read
    // them; validation and item counts do not need them.
    const bool read_attributes =
        route && std::any_of(route->pipelines.begin(), route->pipelines.end(),
                             [&](const PipelineRt* p) {
                               return p->takes(tenant) && p->index_options().attributes;
                             });
    const otlp::IndexResult ir = s.index.build(signal, body, {.attributes = read_attributes});
    if (!ir) {
      result.status = IngestResult::Status::invalid;
      result.message = "not a valid Export" +
                       std::string(signal == Signal::metrics  ? "Metrics"
                                   : signal == Signal::traces ? "Trace"
                                                              : "Logs") +
                       "ServiceRequest: " + otlp::describe(ir);
    } else {
      const uint64_t received = s.index.item_count();
      // Invalid items leave before any pipeline; the sender hears of them as a partial success.
      otlp::Validation invalid;
      const bool readable = drop_invalid(signal, body, s, invalid);
      const uint64_t items = s.index.item_count();
      if (!readable) {
        result.status = IngestResult::Status::unavailable;
        result.message = "internal error while dropping invalid items";
      } else if (items == 0) {
        // Nothing (valid) to deliver; OTLP says an empty request succeeds.
      } else if (!route || route->pipelines.empty()) {
        result.status = IngestResult::Status::unavailable;
        result.message = "receiver '" + std::string(receiver_id) + "' feeds no " +
                         std::string(signal_name(signal)) + " pipeline";
        if (route) route->refused->add(received);
      } else if (std::none_of(route->pipelines.begin(), route->pipelines.end(),
                              [&](const PipelineRt* p) { return p->takes(tenant); })) {
        // A tenant no pipeline takes: permanent (the Collector's 403 for PermissionDenied), so
        // the sender does not retry what the configuration will never route.
        result.status = IngestResult::Status::forbidden;
        result.message = (tenant.empty() ? std::string("requests without a tenant are")
                                         : "tenant '" + std::string(tenant) + "' is") +
                         " not routed by any " + std::string(signal_name(signal)) +
                         " pipeline of receiver '" + std::string(receiver_id) + "'";
        route->refused->add(received);
      } else {
        result = run(*route, signal, body, items, tenant, s);
        if (result.status == IngestResult::Status::ok) {
          route->accepted->add(items);
        } else {
          route->refused->add(received);  // the sender sends it all again, the invalid too
        }
      }
      if (result.status == IngestResult::Status::ok && !invalid.message.empty()) {
        result.rejected_items = invalid.rejected;
        result.message = std::move(invalid.message);
        for (std::size_t why = 0; route && why < otlp::kInvalidReasons; ++why) {
          route->rejected[why]->add(invalid.by_reason[why]);
        }
      }
    }
    // Let go of the request's buffer now rather than at this thread's next request.
    s.index.build(signal, Bytes());
    s.busy = false;
  }
  done(std::move(result));
  // Nothing of `this` may be touched after this decrement: drain() may return and the runtime
  // go away as soon as it reads zero.
  active_submits_.fetch_sub(1);
}

bool RuntimeImpl::drop_invalid(Signal signal, Bytes& body, Scratch& s, otlp::Validation& out) {
  s.edits.clear();
  out = otlp::validate(s.index, s.edits);
  if (s.edits.empty()) return true;
  body = s.rewriter.apply(s.index, s.edits).bytes.charged_to(memory_.get());
  const otlp::IndexResult ir =
      s.index.build(signal, body, {.attributes = s.index.has_attributes()});
  if (!ir) {
    std::fprintf(stderr, "otlpgate: dropping invalid items produced an unreadable request: %s\n",
                 otlp::describe(ir).c_str());
  }
  return static_cast<bool>(ir);
}

IngestResult RuntimeImpl::run(const Route& route, Signal signal, const Bytes& body, uint64_t items,
                              std::string_view tenant, Scratch& s) {
  IngestResult result;
  auto& pushed = s.pushed;
  auto& outputs = s.outputs;
  pushed.clear();
  outputs.clear();
  outputs.reserve(route.pipelines.size());  // `pushed` points into it: it must not reallocate
  struct Release {  // the buffers must not stay alive in the thread's scratch
    Scratch& s;
    ~Release() { s.outputs.clear(); }
  } release{s};
  // Refuse up front when a queue with the backpressure policy has no room, so that the retried
  // request does not reach the other exporters twice. The stages shrink requests, never grow
  // them, so the received size is the bound to check.
  const Batch received{signal, body, items, {}};
  for (const PipelineRt* p : route.pipelines) {
    if (!p->takes(tenant)) continue;
    for (queue::Sender* sender : p->senders) {
      if (sender->has_room(received) || draining_.load()) continue;
      result.status = IngestResult::Status::overloaded;
      result.retry_after = std::max(result.retry_after, overload_hint_.at(sender));
      result.message = "exporter " + std::string(sender->exporter_id()) + ": queue full";
      return result;
    }
  }
  for (const PipelineRt* p : route.pipelines) {
    if (!p->takes(tenant)) continue;
    // Indexed again (valid: it was before) with attributes for this pipeline's stages, or after
    // invalid items were dropped.
    if (!s.index.bytes().same_storage(body) ||
        (p->index_options().attributes && !s.index.has_attributes())) {
      s.index.build(signal, body, p->index_options());
    }
    // Every stage that processed the request hears whether this pipeline's queues took it.
    const StagesResult run = run_stages(p->stages, s.index, s.edits, s.rewriter);
    auto settle = [&](bool accepted) {
      for (std::size_t i = 0; i < run.ran; ++i) p->stages[i]->finish(accepted);
    };
    // A new buffer is queued in place of the received bytes: charge it.
    Bytes out = run.bytes.same_storage(body) ? body : run.bytes.charged_to(memory_.get());
    const uint64_t out_items = run.items;
    if (out_items == 0) {  // the stages dropped it all: accepted, nothing to deliver
      settle(true);
      continue;
    }
    outputs.push_back(std::move(out));
    const Bytes& bytes = outputs.back();
    const Batch batch{signal, bytes, out_items, std::string(tenant)};
    bool refused = false;
    for (queue::Sender* sender : p->senders) {
      const bool dup = std::any_of(pushed.begin(), pushed.end(), [&](const auto& e) {
        return e.first == sender && e.second->same_storage(bytes);
      });
      if (dup) continue;
      if (sender->try_enqueue(batch)) {
        pushed.emplace_back(sender, &bytes);
        continue;
      }
      refused = true;
      if (draining_.load()) {
        // The drain deadline passed while this request was on its way: the senders are stopped.
        settle(false);
        result.status = IngestResult::Status::unavailable;
        result.message = "the gateway is shutting down";
        result.retry_after = std::chrono::seconds(1);
        return result;
      }
      // Only a backpressure queue refuses, and has_room() above said it had room: another
      // request filled it in between. Keep going (the other exporters take this one); the
      // sender's retry reaches them twice, which is rare and counted as their duplicates.
      result.status = IngestResult::Status::overloaded;
      result.retry_after = std::max(result.retry_after, overload_hint_.at(sender));
      if (!result.message.empty()) result.message += "; ";
      result.message += "exporter " + std::string(sender->exporter_id()) + ": queue full";
    }
    // Refused by one queue: the retry must reach it, so the stages forget this request (the
    // queues that took it may see it twice, as above).
    settle(!refused);
  }
  return result;
}

void RuntimeImpl::start() {
  if (started_.exchange(true)) return;
  std::lock_guard lock(drain_mu_);
  if (stopped_) return;
  thread_ = std::thread([this] { io_.run(); });
}

bool RuntimeImpl::all_idle() const {
  if (active_submits_.load() != 0) return false;
  return std::all_of(senders_.begin(), senders_.end(), [](const auto& s) { return s->idle(); });
}

bool RuntimeImpl::drain(std::chrono::milliseconds deadline) {
  std::lock_guard drain_lock(drain_mu_);
  if (stopped_) return drained_;
  draining_.store(true);
  const auto until = Clock::now() + deadline;
  bool ok = false;
  {
    std::unique_lock lock(idle_->mu);
    while (!(ok = all_idle()) && Clock::now() < until) {
      // Woken by every sender that goes idle; the short cap covers the last submit leaving,
      // which does not signal (it must not touch the runtime after leaving).
      idle_->cv.wait_until(lock, std::min(until, Clock::now() + std::chrono::milliseconds(20)));
    }
  }
  // Requests already past the draining check finish their enqueueing first (submit never
  // blocks), so nothing lands in a queue after its sender stopped.
  while (active_submits_.load() != 0) std::this_thread::yield();
  for (const auto& s : senders_) {
    if (!s->idle()) {
      std::fprintf(stderr,
                   "otlpgate: exporter %.*s: drain deadline passed with %zu requests queued and "
                   "some in delivery; giving them up\n",
                   static_cast<int>(s->exporter_id().size()), s->exporter_id().data(),
                   s->queue().size());
    }
    s->stop();
  }
  shutdown_exporters();
  work_.reset();
  if (thread_.joinable()) thread_.join();
  stopped_ = true;
  drained_ = ok;
  return ok;
}

void RuntimeImpl::shutdown_exporters() {
  auto shutdown_all = [this] {
    for (const auto& e : exporters_) e->shutdown();
  };
  if (!thread_.joinable()) {
    shutdown_all();
    return;
  }
  // On the io thread, after every send already started there: no send follows the shutdown.
  std::promise<void> finished;
  boost::asio::post(io_, [&] {
    shutdown_all();
    finished.set_value();
  });
  finished.get_future().wait();
}

}  // namespace

std::unique_ptr<Runtime> Runtime::create(const config::Config& cfg, ExporterFactory make_exporter,
                                         StageFactory make_stage, std::string* err) {
  auto rt = std::make_unique<RuntimeImpl>();
  if (!rt->build(cfg, make_exporter, make_stage, err)) return nullptr;
  return rt;
}

}  // namespace otlpgate
