// The debug exporter's summary line and its unconditional success.
#include "server/exporters/debug_exporter.h"

#include <gtest/gtest.h>

#include "tests/support/random_otlp.h"

namespace otlpgate::server {
namespace {

TEST(DebugExporter, SummaryNamesSignalItemsAndBytes) {
  config::Exporter c;
  c.id = "debug";
  DebugExporter d(c);
  Batch b;
  b.signal = Signal::metrics;
  b.items = 12;
  b.bytes = Bytes::copy_of(std::string(345, 'x'));
  EXPECT_EQ(d.summary(b), "exporter debug: metrics: 12 data points, 345 bytes");
  bool called = false;
  d.send(b, [&](ExportOutcome o) {
    called = true;
    EXPECT_EQ(o.kind, ExportOutcome::Kind::ok);
  });
  EXPECT_TRUE(called);
}

TEST(DebugExporter, DetailedCountsResources) {
  config::Exporter c;
  c.id = "debug/detailed";
  c.verbosity = "detailed";
  DebugExporter d(c);
  testing::RandomOptions o;
  const auto req = testing::random_logs(3, o);
  Batch b;
  b.signal = Signal::logs;
  b.bytes = Bytes::adopt(req.SerializeAsString());
  const std::string line = d.summary(b);
  EXPECT_NE(line.find(", " + std::to_string(req.resource_logs_size()) + " resources"),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace otlpgate::server
