// Runtime: the pipelines of one configuration, wired from receivers through the chain to every
// exporter's queue; the Ingest that all receivers hand their requests to.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/exporter.h"
#include "core/pipeline/ingest.h"
#include "core/pipeline/stage.h"
#include "core/telemetry/metrics.h"

namespace otlpgate {

class Runtime : public Ingest {
 public:
  // Builds the transport for one configured exporter; returns nullptr and sets *err on failure.
  using ExporterFactory =
      std::function<std::unique_ptr<Exporter>(const config::Exporter&, std::string* err)>;
  // Builds one processing stage from its config block; nullptr and *err on failure, the error
  // naming its place ("processors.<id>[.<key>]: ...", as filters::make_stage does). May be empty
  // (no stage support): then a pipeline that lists processors is a configuration error.
  using StageFactory =
      std::function<std::unique_ptr<Stage>(const config::Processor&, std::string* err)>;

  // Returns nullptr and sets *err when an exporter or stage cannot be built.
  static std::unique_ptr<Runtime> create(const config::Config& cfg, ExporterFactory make_exporter,
                                         StageFactory make_stage, std::string* err);
  ~Runtime() override;

  // Starts every exporter's senders.
  virtual void start() = 0;

  // Refuses new requests (unavailable) and waits up to `deadline` for the queues to empty, then
  // shuts the exporters down. Returns true when everything queued was delivered or finally failed.
  virtual bool drain(std::chrono::milliseconds deadline) = 0;

  // The gateway's own counters in the Prometheus text exposition format (for /metrics).
  virtual std::string render_metrics() const = 0;

  // The registry render_metrics() shows, where receivers register their own counters at start-up.
  virtual telemetry::Registry& metrics() = 0;

 protected:
  Runtime() = default;
};

}  // namespace otlpgate
