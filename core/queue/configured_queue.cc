// Picks memory or disk for an exporter's queue, and its default full-queue policy.
#include "core/queue/configured_queue.h"

#include <algorithm>
#include <cstdio>

#include "core/queue/disk_queue.h"
#include "core/queue/memory_queue.h"

namespace otlpgate::queue {

std::unique_ptr<Queue> make_configured_queue(const config::Exporter& e, std::string* err) {
  if (e.sending_queue.storage.empty()) {
    return std::make_unique<MemoryQueue>(MemoryQueue::configured_requests(e.sending_queue),
                                         MemoryQueue::configured_bytes(e.sending_queue));
  }
  std::unique_ptr<DiskQueue> q = DiskQueue::open(DiskQueue::configured(e), err);
  if (q) {
    const DiskQueueStats st = q->stats();
    if (st.replayed || st.corrupt_records || st.torn_tails) {
      std::fprintf(stderr,
                   "otlpgate: exporter %s: persistent queue replays %llu requests (%llu corrupt "
                   "records skipped, %llu torn tails cut)\n",
                   e.id.c_str(), static_cast<unsigned long long>(st.replayed),
                   static_cast<unsigned long long>(st.corrupt_records),
                   static_cast<unsigned long long>(st.torn_tails));
    }
  }
  return q;
}

config::Exporter with_resolved_on_full(const config::Exporter& e, const config::Config& cfg) {
  config::Exporter out = e;
  if (!out.sending_queue.on_full.empty()) return out;
  const bool shares = std::any_of(
      cfg.service.pipelines.begin(), cfg.service.pipelines.end(), [&](const config::Pipeline& p) {
        return std::count(p.exporters.begin(), p.exporters.end(), e.id) > 0 &&
               std::any_of(p.exporters.begin(), p.exporters.end(),
                           [&](const std::string& id) { return id != e.id; });
      });
  out.sending_queue.on_full = shares ? "drop_oldest" : "backpressure";
  return out;
}

}  // namespace otlpgate::queue
