// Tenant routing in the runtime: a pipeline with `tenants` takes only those tenants' requests,
// and a request whose tenant no pipeline of its receiver takes is refused as forbidden.
#include <map>
#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "core/pipeline/runtime.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "tests/unit/core/queue/fake_exporter.h"

namespace otlpgate {
namespace {

using namespace std::chrono_literals;

Bytes one_gauge_point() {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("requests");
  m->mutable_gauge()->add_data_points()->set_as_int(1);
  return Bytes::adopt(req.SerializeAsString());
}

// Receiver "otlp" feeds "metrics/a" (tenant team-a → exporter a) and "metrics/b" (team-b → b).
config::Config tenant_config() {
  config::Config c;
  c.receivers.push_back(config::Receiver{.id = "otlp"});
  for (const char* id : {"a", "b"}) {
    config::Exporter e;
    e.id = id;
    e.type = config::ExporterType::otlphttp;
    c.exporters.push_back(e);
    config::Pipeline p;
    p.id = std::string("metrics/") + id;
    p.receivers = {"otlp"};
    p.exporters = {id};
    p.tenants = {std::string("team-") + id};
    c.service.pipelines.push_back(p);
  }
  return c;
}

struct Fixture {
  std::map<std::string, std::shared_ptr<testing::ExporterLog>> logs;
  std::unique_ptr<Runtime> rt;

  Fixture() {
    std::string err;
    rt = Runtime::create(
        tenant_config(),
        [this](const config::Exporter& e, std::string*) -> std::unique_ptr<Exporter> {
          auto log = logs[e.id] = std::make_shared<testing::ExporterLog>();
          return std::make_unique<testing::FakeExporter>(e.id, log);
        },
        {}, &err);
    EXPECT_TRUE(rt) << err;
    rt->start();
  }
  IngestResult submit(std::string_view tenant) {
    std::optional<IngestResult> got;
    rt->submit("otlp", Signal::metrics, one_gauge_point(), tenant,
               [&](IngestResult r) { got = std::move(r); });
    return got.value_or(IngestResult{});
  }
};

TEST(TenantRoutingTest, EachTenantReachesOnlyItsPipelinesExporters) {
  Fixture f;
  EXPECT_EQ(f.submit("team-a").status, IngestResult::Status::ok);
  EXPECT_EQ(f.submit("team-b").status, IngestResult::Status::ok);
  EXPECT_EQ(f.submit("team-b").status, IngestResult::Status::ok);
  ASSERT_TRUE(f.rt->drain(5s));
  EXPECT_EQ(f.logs["a"]->delivered_count(), 1u);
  EXPECT_EQ(f.logs["b"]->delivered_count(), 2u);
  for (const Batch& b : f.logs["b"]->delivered_copy()) EXPECT_EQ(b.tenant, "team-b");
}

TEST(TenantRoutingTest, TenantNoPipelineTakesIsForbiddenAndDeliveredNowhere) {
  Fixture f;
  const IngestResult other = f.submit("team-c");
  EXPECT_EQ(other.status, IngestResult::Status::forbidden);
  EXPECT_EQ(other.message,
            "tenant 'team-c' is not routed by any metrics pipeline of receiver 'otlp'");
  EXPECT_EQ(f.submit("").status, IngestResult::Status::forbidden) << "no tenant at all";
  ASSERT_TRUE(f.rt->drain(5s));
  EXPECT_EQ(f.logs["a"]->delivered_count(), 0u);
  EXPECT_EQ(f.logs["b"]->delivered_count(), 0u);
}

TEST(TenantRoutingTest, PipelineWithoutTenantsTakesEveryRequest) {
  config::Config c = tenant_config();
  c.service.pipelines[0].tenants.clear();
  std::shared_ptr<testing::ExporterLog> a_log;
  auto rt = Runtime::create(
      c,
      [&](const config::Exporter& e, std::string*) -> std::unique_ptr<Exporter> {
        auto log = std::make_shared<testing::ExporterLog>();
        if (e.id == "a") a_log = log;
        return std::make_unique<testing::FakeExporter>(e.id, log);
      },
      {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  for (std::string_view tenant : {"", "team-b", "team-x"}) {
    std::optional<IngestResult> got;
    rt->submit("otlp", Signal::metrics, one_gauge_point(), tenant,
               [&](IngestResult r) { got = std::move(r); });
    EXPECT_EQ(got->status, IngestResult::Status::ok) << tenant;
  }
  ASSERT_TRUE(rt->drain(5s));
  EXPECT_EQ(a_log->delivered_count(), 3u);
}

}  // namespace
}  // namespace otlpgate
