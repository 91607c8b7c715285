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
#include "core/queue/memory_queue.h"
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
  std::vector<Stage*> stages;
  std::vector<queue::Sender*> senders;
};

// The pipelines one receiver feeds for one signal, and that receiver's counters.
struct Route {
  std::vector<const PipelineRt*> pipelines;
  telemetry::Counter* accepted = nullptr;
  telemetry::Counter* refused = nullptr;
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

 private:
  IngestResult run(const Route& route, Signal signal, const Bytes& body, uint64_t items,
                   std::string_view tenant, Scratch& s);
  bool all_idle() const;
  void shutdown_exporters();

  telemetry::Registry registry_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<IdleSignal> idle_;

  std::vector<std::unique_ptr<Exporter>> exporters_;
  std::vector<std::shared_ptr<queue::Sender>> senders_;
  std::map<queue::Sender*, std::chrono::seconds> overload_hint_;  // Retry-After when it refuses
  std::map<std::string, std::unique_ptr<Stage>> stages_;          // one per processor id
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

bool RuntimeImpl::build(const config::Config& cfg, const ExporterFactory& make_exporter,
                        const StageFactory& make_stage, std::string* err) {
  auto fail = [&](std::string m) {
    if (err) *err = std::move(m);
    return false;
  };
  std::map<std::string, queue::Sender*> sender_by_id;
  auto idle = idle_;
  for (const config::Pipeline& p : cfg.service.pipelines) {
    auto rt = std::make_unique<PipelineRt>();
    rt->id = p.id;
    if (!p.processors.empty() && !make_stage) {
      return fail("service.pipelines." + p.id +
                  ".processors: this build has no processing stages, "
                  "so a pipeline cannot list processors");
    }
    for (const std::string& pid : p.processors) {
      auto it = stages_.find(pid);
      if (it == stages_.end()) {
        const config::Processor* pc = nullptr;
        for (const auto& c : cfg.processors) {
          if (c.id == pid) pc = &c;
        }
        if (!pc) {
          return fail("service.pipelines." + p.id + ".processors: '" + pid +
                      "' is not defined under processors");
        }
        std::string e;
        std::unique_ptr<Stage> st = make_stage(*pc, &e);
        if (!st) return fail("processors." + pid + ": " + (e.empty() ? "cannot be built" : e));
        it = stages_.emplace(pid, std::move(st)).first;
      }
      rt->stages.push_back(it->second.get());
    }
    for (const std::string& eid : p.exporters) {
      auto it = sender_by_id.find(eid);
      if (it == sender_by_id.end()) {
        const config::Exporter* ec = nullptr;
        for (const auto& c : cfg.exporters) {
          if (c.id == eid) ec = &c;
        }
        if (!ec) {
          return fail("service.pipelines." + p.id + ".exporters: '" + eid +
                      "' is not defined under exporters");
        }
        std::string e;
        std::unique_ptr<Exporter> ex = make_exporter ? make_exporter(*ec, &e) : nullptr;
        if (!ex) return fail("exporters." + eid + ": " + (e.empty() ? "cannot be built" : e));
        auto q = std::make_unique<queue::MemoryQueue>(
            queue::MemoryQueue::configured_requests(ec->sending_queue),
            queue::MemoryQueue::configured_bytes(ec->sending_queue));
        auto sender = queue::Sender::create(*ex, std::move(q), *ec, io_, &registry_,
                                            [idle] { idle->notify(); });
        exporters_.push_back(std::move(ex));
        overload_hint_[sender.get()] = overload_retry_after(*ec);
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
    const otlp::IndexResult ir = s.index.build(signal, body);
    auto rit = routes_.find(receiver_id);
    const Route* route = rit == routes_.end() ? nullptr : &rit->second[static_cast<int>(signal)];
    if (!ir) {
      result.status = IngestResult::Status::invalid;
      result.message = "not a valid Export" +
                       std::string(signal == Signal::metrics  ? "Metrics"
                                   : signal == Signal::traces ? "Trace"
                                                              : "Logs") +
                       "ServiceRequest: " + otlp::describe(ir);
    } else {
      const uint64_t items = s.index.item_count();
      if (items == 0) {
        // Nothing to deliver; OTLP says an empty request succeeds.
      } else if (!route || route->pipelines.empty()) {
        result.status = IngestResult::Status::unavailable;
        result.message = "receiver '" + std::string(receiver_id) + "' feeds no " +
                         std::string(signal_name(signal)) + " pipeline";
        if (route) route->refused->add(items);
      } else {
        result = run(*route, signal, body, items, tenant, s);
        (result.status == IngestResult::Status::ok ? route->accepted : route->refused)->add(items);
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
  for (const PipelineRt* p : route.pipelines) {
    if (!s.index.bytes().same_storage(body)) s.index.build(signal, body);  // valid: it was before
    Bytes out = body;
    uint64_t out_items = items;
    for (Stage* stage : p->stages) {
      s.edits.clear();
      stage->process(s.index, s.edits);
      if (s.edits.empty()) continue;
      otlp::RewriteResult rw = s.rewriter.apply(s.index, s.edits);
      if (!rw.changed) continue;
      out = std::move(rw.bytes);
      out_items = rw.items;
      if (out_items == 0) break;  // everything dropped: nothing left for later stages
      const otlp::IndexResult ir = s.index.build(signal, out);
      if (!ir) {
        // Our own rewriter wrote something we cannot read back: a bug, never the sender's fault.
        std::fprintf(stderr,
                     "otlpgate: pipeline %s: stage %.*s produced an unreadable request: %s\n",
                     p->id.c_str(), static_cast<int>(stage->name().size()), stage->name().data(),
                     otlp::describe(ir).c_str());
        result.status = IngestResult::Status::unavailable;
        result.message = "internal error in pipeline " + p->id;
        return result;
      }
    }
    if (out_items == 0) continue;  // the stages dropped it all: accepted, nothing to deliver
    outputs.push_back(std::move(out));
    const Bytes& bytes = outputs.back();
    const Batch batch{signal, bytes, out_items, std::string(tenant)};
    for (queue::Sender* sender : p->senders) {
      const bool dup = std::any_of(pushed.begin(), pushed.end(), [&](const auto& e) {
        return e.first == sender && e.second->same_storage(bytes);
      });
      if (dup) continue;
      if (sender->try_enqueue(batch)) {
        pushed.emplace_back(sender, &bytes);
        continue;
      }
      if (draining_.load()) {
        // The drain deadline passed while this request was on its way: the senders are stopped.
        result.status = IngestResult::Status::unavailable;
        result.message = "the gateway is shutting down";
        result.retry_after = std::chrono::seconds(1);
        return result;
      }
      // Keep going: the other exporters take the request now, so a full queue (a slow or dead
      // backend) does not hold back the healthy ones. The sender retries the whole request, so
      // those exporters see it twice; issue 7's spill-to-disk policy is what removes this.
      result.status = IngestResult::Status::overloaded;
      result.retry_after = std::max(result.retry_after, overload_hint_.at(sender));
      if (!result.message.empty()) result.message += "; ";
      result.message += "exporter " + std::string(sender->exporter_id()) + ": queue full";
    }
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
