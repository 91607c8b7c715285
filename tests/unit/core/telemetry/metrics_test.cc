// Metrics: what /metrics shows for counters and gauges, and the registration mistakes it catches.
#include "core/telemetry/metrics.h"

#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace otlpgate::telemetry {
namespace {

TEST(MetricsTest, RendersHelpTypeAndLabelledValues) {
  Registry r;
  r.counter("otlpgate_items_total", "Items seen.", {{"receiver", "otlp"}, {"signal", "logs"}})
      .add(3);
  r.gauge("otlpgate_queue_size", "Requests waiting.").set(7);
  EXPECT_EQ(r.render(),
            "# HELP otlpgate_items_total Items seen.\n"
            "# TYPE otlpgate_items_total counter\n"
            "otlpgate_items_total{receiver=\"otlp\",signal=\"logs\"} 3\n"
            "# HELP otlpgate_queue_size Requests waiting.\n"
            "# TYPE otlpgate_queue_size gauge\n"
            "otlpgate_queue_size 7\n");
}

TEST(MetricsTest, SameNameAndLabelsIsTheSameSeries) {
  Registry r;
  Counter& a = r.counter("c_total", "h", {{"x", "1"}});
  Counter& b = r.counter("c_total", "h", {{"x", "1"}});
  Counter& c = r.counter("c_total", "h", {{"x", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  a.add(2);
  b.add(3);
  EXPECT_EQ(c.value(), 0u);
  EXPECT_NE(r.render().find("c_total{x=\"1\"} 5\n"), std::string::npos);
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry r;
  r.counter("c_total", "line\\one\nline two", {{"id", "a\"b\\c\nd"}}).add();
  const std::string text = r.render();
  EXPECT_NE(text.find("# HELP c_total line\\\\one\\nline two\n"), std::string::npos) << text;
  EXPECT_NE(text.find("c_total{id=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsTest, GaugeGoesUpAndDown) {
  Registry r;
  Gauge& g = r.gauge(kMetricExporterQueueSize, {{"exporter", "otlp/a"}});
  g.add(5);
  g.add(-7);
  EXPECT_NE(r.render().find("otlpgate_exporter_queue_size{exporter=\"otlp/a\"} -2\n"),
            std::string::npos)
      << r.render();
}

TEST(MetricsTest, RegistrationMistakesAreCaught) {
  Registry r;
  r.counter("ok_total", "h");
  EXPECT_THROW(r.gauge("ok_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("bad-name", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("c_total", "h", {{"x", "1"}, {"x", "2"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("c_total", "h", {{"__reserved", "1"}}), std::invalid_argument);
}

TEST(MetricsTest, ConcurrentAddsAreNotLost) {
  Registry r;
  Counter& c = r.counter("c_total", "h");
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.add();
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.value(), 80000u);
}

}  // namespace
}  // namespace otlpgate::telemetry
