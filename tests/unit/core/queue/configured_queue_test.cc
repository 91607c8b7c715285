// The default full-queue policy: backpressure alone, drop_oldest when sharing a pipeline.
#include "core/queue/configured_queue.h"

#include <gtest/gtest.h>

namespace otlpgate::queue {
namespace {

config::Config two_pipelines() {
  config::Config cfg;
  for (const char* id : {"otlp/a", "otlp/b", "otlp/alone"}) {
    config::Exporter e;
    e.id = id;
    cfg.exporters.push_back(e);
  }
  config::Pipeline shared;
  shared.id = "traces";
  shared.exporters = {"otlp/a", "otlp/b"};
  config::Pipeline single;
  single.id = "logs";
  single.exporters = {"otlp/alone"};
  cfg.service.pipelines = {shared, single};
  return cfg;
}

TEST(ConfiguredQueueTest, SharedExporterShedsAloneExporterPushesBack) {
  const config::Config cfg = two_pipelines();
  EXPECT_EQ(with_resolved_on_full(cfg.exporters[0], cfg).sending_queue.on_full, "drop_oldest");
  EXPECT_EQ(with_resolved_on_full(cfg.exporters[2], cfg).sending_queue.on_full, "backpressure");
}

TEST(ConfiguredQueueTest, ExplicitPolicyIsKept) {
  config::Config cfg = two_pipelines();
  cfg.exporters[0].sending_queue.on_full = "backpressure";
  EXPECT_EQ(with_resolved_on_full(cfg.exporters[0], cfg).sending_queue.on_full, "backpressure");
}

}  // namespace
}  // namespace otlpgate::queue
