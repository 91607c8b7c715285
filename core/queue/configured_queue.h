// The queue and full-queue policy a configured exporter gets (sending_queue.*).
#pragma once

#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/queue/queue.h"

namespace otlpgate::queue {

// A DiskQueue under sending_queue.storage, else a MemoryQueue. Returns nullptr and sets *err when
// the storage directory cannot be used.
std::unique_ptr<Queue> make_configured_queue(const config::Exporter& e, std::string* err);

// `e` with sending_queue.on_full resolved when it was not given: backpressure when every pipeline
// listing the exporter has it as its only exporter (refusing then holds back nobody else),
// drop_oldest when it shares a pipeline (a dead backend must not stop the healthy ones; README
// "When a backend is down").
config::Exporter with_resolved_on_full(const config::Exporter& e, const config::Config& cfg);

}  // namespace otlpgate::queue
