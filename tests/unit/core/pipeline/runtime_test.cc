// Runtime: what a receiver's sender and each backend see when requests go through the pipelines.
#include "core/pipeline/runtime.h"

#include <atomic>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include "core/otlp/index.h"
#include "filters/registry.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "tests/support/random_otlp.h"
#include "tests/unit/core/queue/fake_exporter.h"

namespace otlpgate {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::ExporterLog;
using testing::ExportScript;
using testing::FakeExporter;
using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

// A metrics request with one gauge `name` of `points` data points valued 0..points-1.
Bytes metrics_request(int points, const std::string& name = "requests") {
  MetricsRequest req;
  auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name(name);
  for (int i = 0; i < points; ++i) {
    auto* dp = m->mutable_gauge()->add_data_points();
    dp->set_as_int(i);
    dp->set_time_unix_nano(1000 + i);
  }
  return Bytes::adopt(req.SerializeAsString());
}

config::Exporter exporter_config(std::string id, int consumers = 4, int queue_size = 1000) {
  config::Exporter e;
  e.id = std::move(id);
  e.type = config::ExporterType::otlphttp;
  e.sending_queue.num_consumers = consumers;
  e.sending_queue.queue_size = queue_size;
  e.retry_on_failure.initial_interval = 5ms;
  e.retry_on_failure.max_interval = 20ms;
  e.retry_on_failure.max_elapsed_time = 10s;
  return e;
}

config::Pipeline pipeline(std::string id, std::vector<std::string> receivers,
                          std::vector<std::string> exporters,
                          std::vector<std::string> processors = {}) {
  config::Pipeline p;
  p.id = std::move(id);
  p.signal = Signal::metrics;
  p.receivers = std::move(receivers);
  p.exporters = std::move(exporters);
  p.processors = std::move(processors);
  return p;
}

// One receiver "otlp" feeding exporters "a" and "b" through the "metrics" pipeline.
config::Config fanout_config() {
  config::Config c;
  c.receivers.push_back(config::Receiver{.id = "otlp"});
  c.exporters.push_back(exporter_config("a"));
  c.exporters.push_back(exporter_config("b"));
  c.service.pipelines.push_back(pipeline("metrics", {"otlp"}, {"a", "b"}));
  return c;
}

// Builds FakeExporters with per-id scripts and keeps their logs for the test.
struct Backends {
  std::map<std::string, ExportScript> scripts;
  std::map<std::string, std::shared_ptr<ExporterLog>> logs;
  std::map<std::string, int> built;

  Runtime::ExporterFactory factory() {
    return [this](const config::Exporter& e, std::string*) -> std::unique_ptr<Exporter> {
      auto& log = logs[e.id];
      if (!log) log = std::make_shared<ExporterLog>();
      ++built[e.id];
      return std::make_unique<FakeExporter>(e.id, log, scripts[e.id]);
    };
  }
  ExporterLog& operator[](const std::string& id) { return *logs.at(id); }
};

// Drops the first data point of every request.
class DropFirstPoint final : public Stage {
 public:
  void process(const otlp::Index& request, otlp::Edits& edits) override {
    if (!request.data_points().empty()) edits.drop(request.data_points()[0].node);
  }
  std::string_view name() const override { return "test/drop_first"; }
};

class LooksOnly final : public Stage {
 public:
  void process(const otlp::Index&, otlp::Edits&) override {}
  std::string_view name() const override { return "test/noop"; }
};

// Exporter a delivers one request at a time and queues one more; a full queue refuses.
void one_slot_for_a(config::Config& cfg) {
  cfg.exporters[0] = exporter_config("a", /*consumers=*/1, /*queue_size=*/1);
  cfg.exporters[0].sending_queue.on_full = "backpressure";  // shared: the default sheds
}

// Records how each request it processed ended (finish's `accepted`), and what it was registered as.
struct FinishLog {
  std::vector<bool> finished;
  std::vector<telemetry::Labels> registered;
  std::vector<size_t> attributes_seen;  // in the index of each request processed
  // Run once from inside the next process(): stands in for a request of another I/O thread that
  // lands in a queue while this one is in the chain.
  std::function<void()> on_process;
};
class RecordsFinish final : public Stage {
 public:
  explicit RecordsFinish(std::shared_ptr<FinishLog> log) : log_(std::move(log)) {}
  void process(const otlp::Index& request, otlp::Edits&) override {
    log_->attributes_seen.push_back(request.attributes().size());
    if (auto hook = std::exchange(log_->on_process, nullptr)) hook();
  }
  void finish(bool accepted) override { log_->finished.push_back(accepted); }
  void register_metrics(telemetry::Registry&, const telemetry::Labels& labels) override {
    log_->registered.push_back(labels);
  }
  std::string_view name() const override { return "test/records"; }

 private:
  std::shared_ptr<FinishLog> log_;
};

Runtime::StageFactory test_stages(std::shared_ptr<FinishLog> log = nullptr) {
  return [log](const config::Processor& p, std::string* err) -> std::unique_ptr<Stage> {
    if (p.type == "drop_first") return std::make_unique<DropFirstPoint>();
    if (p.type == "noop") return std::make_unique<LooksOnly>();
    if (p.type == "records" && log) return std::make_unique<RecordsFinish>(log);
    *err = "processors." + p.id + ": unknown processor type " + p.type;
    return nullptr;
  };
}

IngestResult submit(Runtime& rt, const Bytes& body, std::string_view receiver = "otlp",
                    Signal signal = Signal::metrics) {
  std::optional<IngestResult> got;
  int calls = 0;
  rt.submit(receiver, signal, body, "", [&](IngestResult r) {
    ++calls;
    got = std::move(r);
  });
  EXPECT_EQ(calls, 1) << "done must be called exactly once";
  return got.value_or(IngestResult{});
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(RuntimeTest, FanOutDeliversTheSameBufferToEveryExporter) {
  Backends be;
  std::string err;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, &err);
  ASSERT_TRUE(rt) << err;
  rt->start();
  const Bytes body = metrics_request(5);
  const IngestResult r = submit(*rt, body);
  EXPECT_EQ(r.status, IngestResult::Status::ok) << r.message;
  ASSERT_TRUE(
      eventually([&] { return be["a"].delivered_count() == 1 && be["b"].delivered_count() == 1; }));
  const Batch a = be["a"].delivered_copy()[0];
  const Batch b = be["b"].delivered_copy()[0];
  EXPECT_TRUE(a.bytes.same_storage(body)) << "no copy for exporter a";
  EXPECT_TRUE(b.bytes.same_storage(body)) << "no copy for exporter b";
  EXPECT_EQ(a.items, 5u);
  EXPECT_TRUE(rt->drain(5s));
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(
      has_line(m, "otlpgate_receiver_accepted_items_total{receiver=\"otlp\",signal=\"metrics\"} 5"))
      << m;
  EXPECT_TRUE(
      has_line(m, "otlpgate_exporter_sent_items_total{exporter=\"a\",signal=\"metrics\"} 5"))
      << m;
  EXPECT_TRUE(
      has_line(m, "otlpgate_exporter_sent_items_total{exporter=\"b\",signal=\"metrics\"} 5"))
      << m;
}

// A full backpressure queue refuses the request before any exporter takes it, so the sender's
// retry is no duplicate at the other exporter.
TEST(RuntimeTest, FullBackpressureQueueRefusesWithRetryAfterAndTheOtherExporterGetsNoCopy) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int) -> std::optional<ExportOutcome> { return std::nullopt; };
  config::Config cfg = fanout_config();
  cfg.exporters[0] = exporter_config("a", /*consumers=*/1, /*queue_size=*/1);
  cfg.exporters[0].sending_queue.on_full = "backpressure";  // shared: the default sheds
  std::string err;
  auto rt = Runtime::create(cfg, be.factory(), {}, &err);
  ASSERT_TRUE(rt) << err;
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(1)).status, IngestResult::Status::ok);
  ASSERT_TRUE(eventually([&] { return be["a"].try_count() == 1; }));  // in delivery, queue empty
  EXPECT_EQ(submit(*rt, metrics_request(1)).status,
            IngestResult::Status::ok);  // waits in the queue
  const IngestResult r = submit(*rt, metrics_request(2));
  EXPECT_EQ(r.status, IngestResult::Status::overloaded);
  EXPECT_GE(r.retry_after, 1s);
  EXPECT_NE(r.message.find("exporter a"), std::string::npos) << r.message;
  ASSERT_TRUE(eventually([&] { return be["b"].delivered_count() == 2; }));
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(
      has_line(m, "otlpgate_receiver_refused_items_total{receiver=\"otlp\",signal=\"metrics\"} 2"))
      << m;
  EXPECT_TRUE(has_line(m, "otlpgate_exporter_queue_capacity{exporter=\"a\"} 1")) << m;
}

TEST(RuntimeTest, RetryableFailuresThenSuccessDeliverOnce) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int n) -> std::optional<ExportOutcome> {
    return n <= 2 ? testing::retryable_outcome() : testing::ok_outcome();
  };
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(4)).status, IngestResult::Status::ok);
  EXPECT_TRUE(rt->drain(10s));
  EXPECT_EQ(be["a"].delivered_count(), 1u);
  EXPECT_EQ(be["a"].try_count(), 3u);
  EXPECT_EQ(be["b"].try_count(), 1u);
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(has_line(m, "otlpgate_exporter_retries_total{exporter=\"a\",signal=\"metrics\"} 2"))
      << m;
  EXPECT_TRUE(
      has_line(m, "otlpgate_exporter_send_failed_items_total{exporter=\"a\",signal=\"metrics\"} 0"))
      << m;
  EXPECT_TRUE(
      has_line(m, "otlpgate_exporter_sent_items_total{exporter=\"a\",signal=\"metrics\"} 4"))
      << m;
}

TEST(RuntimeTest, PermanentFailureIsDroppedAndCountedNotRetried) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int) -> std::optional<ExportOutcome> {
    return testing::permanent_outcome(400, "bad attribute");
  };
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(3)).status, IngestResult::Status::ok);
  EXPECT_EQ(submit(*rt, metrics_request(2)).status, IngestResult::Status::ok);
  EXPECT_TRUE(rt->drain(10s));
  EXPECT_EQ(be["a"].try_count(), 2u);
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(
      has_line(m, "otlpgate_exporter_dropped_items_total{exporter=\"a\",reason=\"permanent\"} 5"))
      << m;
  EXPECT_TRUE(
      has_line(m, "otlpgate_exporter_dropped_items_total{exporter=\"b\",reason=\"permanent\"} 0"))
      << m;
}

TEST(RuntimeTest, RetryAfterFromTheBackendDelaysTheRetry) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int n) -> std::optional<ExportOutcome> {
    return n == 1 ? testing::retryable_outcome(250ms) : testing::ok_outcome();
  };
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(1)).status, IngestResult::Status::ok);
  EXPECT_TRUE(rt->drain(10s));
  const auto tries = be["a"].tries_copy();
  ASSERT_EQ(tries.size(), 2u);
  EXPECT_GE(tries[1].at - tries[0].at, 250ms);
}

TEST(RuntimeTest, DrainDeliversWhatIsQueued) {
  Backends be;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  // Not started yet: everything waits in the queues.
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(submit(*rt, metrics_request(2)).status, IngestResult::Status::ok);
  EXPECT_EQ(be["a"].try_count(), 0u);
  rt->start();
  EXPECT_TRUE(rt->drain(10s));
  EXPECT_EQ(be["a"].delivered_items(), 100u);
  EXPECT_EQ(be["b"].delivered_items(), 100u);
  EXPECT_TRUE(be["a"].shut_down);
}

TEST(RuntimeTest, DrainWithADeadBackendGivesUpAtTheDeadline) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int) -> std::optional<ExportOutcome> { return std::nullopt; };
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(submit(*rt, metrics_request(3)).status, IngestResult::Status::ok);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(rt->drain(300ms));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(be["b"].delivered_items(), 30u);
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(
      has_line(m, "otlpgate_exporter_dropped_items_total{exporter=\"a\",reason=\"shutdown\"} 30"))
      << m;
  // After the drain, new requests are refused as unavailable.
  const IngestResult r = submit(*rt, metrics_request(1));
  EXPECT_EQ(r.status, IngestResult::Status::unavailable);
}

TEST(RuntimeTest, InvalidBytesAreRefusedWithTheReason) {
  Backends be;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  // Field 1 (resource_metrics), length 127, but only 2 bytes follow.
  const IngestResult r = submit(*rt, Bytes::copy_of(std::string("\x0a\x7f\x01\x02", 4)));
  EXPECT_EQ(r.status, IngestResult::Status::invalid);
  EXPECT_NE(r.message.find("at byte"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("ExportMetricsServiceRequest"), std::string::npos) << r.message;
  EXPECT_TRUE(rt->drain(5s));
  EXPECT_EQ(be["a"].try_count(), 0u);
}

TEST(RuntimeTest, EmptyRequestSucceedsWithoutReachingABackend) {
  Backends be;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  EXPECT_EQ(submit(*rt, Bytes()).status, IngestResult::Status::ok);
  EXPECT_TRUE(rt->drain(5s));
  EXPECT_EQ(be["a"].try_count(), 0u);
}

TEST(RuntimeTest, InvalidItemsAreDroppedCountedAndReportedAsPartialSuccess) {
  Backends be;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  MetricsRequest req;
  ASSERT_TRUE(req.ParseFromString(std::string(metrics_request(2).view())));
  auto* nameless = req.mutable_resource_metrics(0)->mutable_scope_metrics(0)->add_metrics();
  for (int i = 0; i < 3; ++i) nameless->mutable_gauge()->add_data_points()->set_as_int(i);
  const IngestResult r = submit(*rt, Bytes::adopt(req.SerializeAsString()));
  EXPECT_EQ(r.status, IngestResult::Status::ok);
  EXPECT_EQ(r.rejected_items, 3u);
  EXPECT_NE(r.message.find("without a name"), std::string::npos) << r.message;
  EXPECT_TRUE(rt->drain(5s));
  EXPECT_EQ(be["a"].delivered_items(), 2u);
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(has_line(m, "otlpgate_receiver_rejected_items_total{receiver=\"otlp\",signal=\"metrics\","
                          "reason=\"metric_name_missing\"} 3"))
      << m;
  EXPECT_TRUE(has_line(
      m, "otlpgate_receiver_accepted_items_total{receiver=\"otlp\",signal=\"metrics\"} 2"))
      << m;
}

TEST(RuntimeTest, RequestWithOnlyInvalidItemsSucceedsWithoutReachingABackend) {
  Backends be;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  const IngestResult r = submit(*rt, metrics_request(4, ""));
  EXPECT_EQ(r.status, IngestResult::Status::ok);
  EXPECT_EQ(r.rejected_items, 4u);
  EXPECT_TRUE(rt->drain(5s));
  EXPECT_EQ(be["a"].try_count(), 0u);
}

TEST(RuntimeTest, UnknownReceiverOrSignalWithoutPipelineIsUnavailable) {
  Backends be;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  EXPECT_EQ(submit(*rt, metrics_request(1), "otlp/other").status,
            IngestResult::Status::unavailable);
  testing::LogsRequest logs;
  logs.add_resource_logs()->add_scope_logs()->add_log_records()->set_severity_text("INFO");
  const IngestResult r = submit(*rt, Bytes::adopt(logs.SerializeAsString()), "otlp", Signal::logs);
  EXPECT_EQ(r.status, IngestResult::Status::unavailable);
  EXPECT_NE(r.message.find("logs"), std::string::npos) << r.message;
}

TEST(RuntimeTest, StageThatDropsAnItemForwardsTheRewrittenRequest) {
  Backends be;
  config::Config cfg = fanout_config();
  cfg.processors.push_back({"drop_first/x", "drop_first", ""});
  cfg.service.pipelines[0].processors = {"drop_first/x"};
  std::string err;
  auto rt = Runtime::create(cfg, be.factory(), test_stages(), &err);
  ASSERT_TRUE(rt) << err;
  rt->start();
  const Bytes body = metrics_request(3);
  EXPECT_EQ(submit(*rt, body).status, IngestResult::Status::ok);
  EXPECT_TRUE(rt->drain(5s));
  const auto a = be["a"].delivered_copy();
  const auto b = be["b"].delivered_copy();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_FALSE(a[0].bytes.same_storage(body));
  EXPECT_TRUE(a[0].bytes.same_storage(b[0].bytes)) << "the rewritten buffer is shared too";
  EXPECT_EQ(a[0].items, 2u);
  MetricsRequest got;
  ASSERT_TRUE(got.ParseFromString(std::string(a[0].bytes.view())));
  const auto& points = got.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points();
  ASSERT_EQ(points.size(), 2);
  EXPECT_EQ(points[0].as_int(), 1);
  EXPECT_EQ(points[1].as_int(), 2);
}

TEST(RuntimeTest, ARewrittenRequestCountsOnceAgainstTheMemoryLimitWhileHeld) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int) -> std::optional<ExportOutcome> { return std::nullopt; };
  config::Config cfg = fanout_config();
  cfg.processors.push_back({"drop_first/x", "drop_first", ""});
  cfg.service.pipelines[0].processors = {"drop_first/x"};
  cfg.service.memory_limit_mib = 3;
  std::string err;
  auto rt = Runtime::create(cfg, be.factory(), test_stages(), &err);
  ASSERT_TRUE(rt) << err;
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(3)).status, IngestResult::Status::ok);
  ASSERT_TRUE(eventually([&] { return be["b"].delivered_count() == 1; }));
  const Batch b = be["b"].delivered_copy()[0];
  // Exporter a holds the rewritten buffer in delivery, b's log and `b` hold it too: counted once.
  EXPECT_EQ(rt->memory_limit()->used(), b.bytes.size());
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(has_line(m, "otlpgate_memory_used_bytes " + std::to_string(b.bytes.size()))) << m;
  EXPECT_TRUE(has_line(m, "otlpgate_memory_limit_bytes " + std::to_string(3 << 20))) << m;
  EXPECT_TRUE(has_line(m, "otlpgate_memory_refusals_total 0")) << m;
}

TEST(RuntimeTest, StagesWithoutEditsForwardTheVeryBytesReceived) {
  Backends be;
  config::Config cfg = fanout_config();
  cfg.processors.push_back({"noop", "noop", ""});
  cfg.service.pipelines[0].processors = {"noop"};
  auto rt = Runtime::create(cfg, be.factory(), test_stages(), nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  const Bytes body = metrics_request(3);
  EXPECT_EQ(submit(*rt, body).status, IngestResult::Status::ok);
  EXPECT_TRUE(rt->drain(5s));
  ASSERT_EQ(be["a"].delivered_count(), 1u);
  EXPECT_TRUE(be["a"].delivered_copy()[0].bytes.same_storage(body));
}

TEST(RuntimeTest, StagesHearWhetherTheirPipelineQueuedTheRequest) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int) -> std::optional<ExportOutcome> { return std::nullopt; };
  config::Config cfg = fanout_config();
  one_slot_for_a(cfg);
  cfg.processors.push_back({"records", "records", ""});
  cfg.service.pipelines[0].processors = {"records"};
  auto log = std::make_shared<FinishLog>();
  std::string err;
  auto rt = Runtime::create(cfg, be.factory(), test_stages(log), &err);
  ASSERT_TRUE(rt) << err;
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(1)).status, IngestResult::Status::ok);
  ASSERT_TRUE(eventually([&] { return be["a"].try_count() == 1; }));  // in delivery, queue empty
  // a had room when this request came in, but another one took it while the chain ran.
  log->on_process = [&] {
    EXPECT_EQ(submit(*rt, metrics_request(1)).status, IngestResult::Status::ok);
  };
  EXPECT_EQ(submit(*rt, metrics_request(2)).status, IngestResult::Status::overloaded);
  // Refused before the chain ran: the stages never see it.
  EXPECT_EQ(submit(*rt, metrics_request(1)).status, IngestResult::Status::overloaded);
  EXPECT_EQ(log->finished, (std::vector<bool>{true, true, false}));
  const telemetry::Labels want = {{"processor", "records"}, {"pipeline", "metrics"}};
  EXPECT_EQ(log->registered, std::vector<telemetry::Labels>{want});
}

TEST(RuntimeTest, EachPipelineGetsItsOwnStageInstance) {
  Backends be;
  config::Config cfg = fanout_config();
  cfg.service.pipelines.push_back(pipeline("metrics/2", {"otlp"}, {"a"}));
  cfg.processors.push_back({"records", "records", ""});
  cfg.service.pipelines[0].processors = {"records"};
  cfg.service.pipelines[1].processors = {"records"};
  auto log = std::make_shared<FinishLog>();
  auto rt = Runtime::create(cfg, be.factory(), test_stages(log), nullptr);
  ASSERT_TRUE(rt);
  const telemetry::Labels one = {{"processor", "records"}, {"pipeline", "metrics"}};
  const telemetry::Labels two = {{"processor", "records"}, {"pipeline", "metrics/2"}};
  EXPECT_EQ(log->registered, (std::vector<telemetry::Labels>{one, two}));
}

// The runtime indexes attributes only for pipelines with stages; a stage still sees them all
// after a pipeline without stages indexed the request without them, and after invalid items
// were dropped.
TEST(RuntimeTest, StagesSeeAttributesWhereAnotherPipelineNeedsNone) {
  Backends be;
  config::Config cfg = fanout_config();
  cfg.processors.push_back({"drop_first", "drop_first", ""});
  cfg.processors.push_back({"noop", "noop", ""});
  cfg.processors.push_back({"records", "records", ""});
  // Two stages, so the first pipeline indexes its rewritten request; the second indexes the
  // received one again, without attributes; the third needs them back.
  cfg.service.pipelines[0].processors = {"drop_first", "noop"};
  cfg.service.pipelines.push_back(pipeline("metrics/2", {"otlp"}, {"b"}));
  cfg.service.pipelines.push_back(pipeline("metrics/3", {"otlp"}, {"a"}, {"records"}));
  auto log = std::make_shared<FinishLog>();
  auto rt = Runtime::create(cfg, be.factory(), test_stages(log), nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  rm->mutable_resource()->add_attributes()->set_key("service.name");
  auto* sm = rm->add_scope_metrics();
  auto* m = sm->add_metrics();
  m->set_name("requests");
  for (int i = 0; i < 3; ++i) {
    auto* dp = m->mutable_gauge()->add_data_points();
    dp->add_attributes()->set_key("a");
    dp->add_attributes()->set_key("b");
  }
  for (bool with_invalid : {false, true}) {
    if (with_invalid) sm->add_metrics()->mutable_gauge()->add_data_points();  // no name
    const IngestResult r = submit(*rt, Bytes::adopt(req.SerializeAsString()));
    EXPECT_EQ(r.status, IngestResult::Status::ok) << r.message;
    EXPECT_EQ(r.rejected_items, with_invalid ? 1u : 0u);
  }
  EXPECT_EQ(log->attributes_seen, (std::vector<size_t>{7, 7}));
  EXPECT_TRUE(rt->drain(5s));
}

// The real stages of filters/ in a pipeline "metrics" (filter/debug, then dedup) to a and b.
config::Config config_with_filters() {
  config::Config cfg = fanout_config();
  cfg.processors.push_back(
      {"filter/debug", "filter",
       "metrics:\n  exclude:\n    match_type: strict\n    metric_names: [debug.x]\n"});
  cfg.processors.push_back({"dedup", "dedup", ""});
  cfg.service.pipelines[0].processors = {"filter/debug", "dedup"};
  return cfg;
}

TEST(RuntimeTest, StageCountersAreOnMetricsByProcessorAndPipeline) {
  Backends be;
  std::string err;
  auto rt = Runtime::create(config_with_filters(), be.factory(), &filters::make_stage, &err);
  ASSERT_TRUE(rt) << err;
  EXPECT_EQ(submit(*rt, metrics_request(5)).status, IngestResult::Status::ok);
  EXPECT_EQ(submit(*rt, metrics_request(5)).status, IngestResult::Status::ok);
  EXPECT_EQ(submit(*rt, metrics_request(2, "debug.x")).status, IngestResult::Status::ok);
  const std::string m = rt->render_metrics();
  const std::string filter = "{processor=\"filter/debug\",pipeline=\"metrics\"";
  const std::string dedup = "{processor=\"dedup\",pipeline=\"metrics\"";
  EXPECT_TRUE(has_line(m, "otlpgate_processor_items_seen_total" + filter + "} 12")) << m;
  EXPECT_TRUE(has_line(
      m, "otlpgate_processor_items_dropped_total" + filter + ",reason=\"excluded\"} 2"))
      << m;
  EXPECT_TRUE(has_line(m, "otlpgate_processor_items_seen_total" + dedup + "} 10")) << m;
  EXPECT_TRUE(has_line(
      m, "otlpgate_processor_items_dropped_total" + dedup + ",reason=\"duplicate\"} 5"))
      << m;
  EXPECT_TRUE(has_line(m, "# TYPE otlpgate_processor_dedup_window_keys gauge")) << m;
  EXPECT_TRUE(has_line(m, "otlpgate_processor_dedup_window_keys" + dedup + "} 5")) << m;
}

TEST(RuntimeTest, DedupDoesNotTakeTheRetryOfARefusedRequestForADuplicate) {
  Backends be;
  be.scripts["a"] = [](const Batch&, int n) -> std::optional<ExportOutcome> {
    if (n == 1) return std::nullopt;  // held until the test releases it
    return testing::ok_outcome();
  };
  config::Config cfg = config_with_filters();
  one_slot_for_a(cfg);
  cfg.processors.push_back({"records", "records", ""});
  cfg.service.pipelines[0].processors.insert(cfg.service.pipelines[0].processors.begin(),
                                             "records");
  auto log = std::make_shared<FinishLog>();
  auto stages = [log](const config::Processor& p, std::string* err) -> std::unique_ptr<Stage> {
    if (p.type == "records") return std::make_unique<RecordsFinish>(log);
    return filters::make_stage(p, err);
  };
  auto rt = Runtime::create(cfg, be.factory(), stages, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(1, "first")).status, IngestResult::Status::ok);
  ASSERT_TRUE(eventually([&] { return be["a"].try_count() == 1; }));  // in delivery, queue empty
  // "second" takes a's last slot while the batch is in the chain: dedup has seen the batch's
  // points by the time a refuses it.
  log->on_process = [&] {
    EXPECT_EQ(submit(*rt, metrics_request(1, "second")).status, IngestResult::Status::ok);
  };
  const Bytes batch = metrics_request(3);
  ASSERT_EQ(submit(*rt, batch).status, IngestResult::Status::overloaded);
  be["a"].release_held(testing::ok_outcome());  // "first" is done; "second" goes out
  ASSERT_TRUE(eventually([&] { return be["a"].delivered_count() == 1; }));
  EXPECT_EQ(submit(*rt, batch).status, IngestResult::Status::ok) << "the sender's retry";
  ASSERT_TRUE(eventually([&] { return be["a"].delivered_count() == 2; }));  // a's queue is free
  EXPECT_EQ(submit(*rt, batch).status, IngestResult::Status::ok) << "a true duplicate";
  EXPECT_TRUE(rt->drain(5s));
  // "second" and the retry's 3 points reached a; the duplicate did not.
  EXPECT_EQ(be["a"].delivered_items(), 4u);
  EXPECT_EQ(be["a"].delivered_count(), 2u);
}

TEST(RuntimeTest, ProcessorsWithoutStageSupportAreAConfigError) {
  Backends be;
  config::Config cfg = fanout_config();
  cfg.processors.push_back({"noop", "noop", ""});
  cfg.service.pipelines[0].processors = {"noop"};
  std::string err;
  EXPECT_FALSE(Runtime::create(cfg, be.factory(), {}, &err));
  EXPECT_NE(err.find("service.pipelines.metrics.processors"), std::string::npos) << err;
}

// A processor's own error already names its place (processors.<id>.<key>): said once.
TEST(RuntimeTest, ProcessorThatCannotBeBuiltIsNamedOnce) {
  Backends be;
  config::Config cfg = fanout_config();
  cfg.processors.push_back({"dedup", "dedup", "max_series: 0\n"});
  cfg.service.pipelines[0].processors = {"dedup"};
  std::string err;
  EXPECT_FALSE(Runtime::create(cfg, be.factory(), filters::make_stage, &err));
  EXPECT_EQ(err, "processors.dedup.max_series: must be positive");
}

TEST(RuntimeTest, ExporterThatCannotBeBuiltIsNamed) {
  std::string err;
  auto rt = Runtime::create(
      fanout_config(),
      [](const config::Exporter&, std::string* e) -> std::unique_ptr<Exporter> {
        *e = "bad endpoint";
        return nullptr;
      },
      {}, &err);
  EXPECT_FALSE(rt);
  EXPECT_NE(err.find("exporters.a: bad endpoint"), std::string::npos) << err;
}

TEST(RuntimeTest, ExporterSharedByPipelinesHasOneQueue) {
  Backends be;
  config::Config cfg;
  cfg.receivers.push_back(config::Receiver{.id = "otlp"});
  cfg.receivers.push_back(config::Receiver{.id = "otlp/2"});
  cfg.exporters.push_back(exporter_config("a"));
  cfg.service.pipelines.push_back(pipeline("metrics", {"otlp"}, {"a"}));
  cfg.service.pipelines.push_back(pipeline("metrics/2", {"otlp/2", "otlp"}, {"a"}));
  auto rt = Runtime::create(cfg, be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  EXPECT_EQ(be.built["a"], 1);
  rt->start();
  EXPECT_EQ(submit(*rt, metrics_request(1), "otlp/2").status, IngestResult::Status::ok);
  // Both pipelines take "otlp"'s request unchanged to "a": it is delivered once.
  EXPECT_EQ(submit(*rt, metrics_request(1), "otlp").status, IngestResult::Status::ok);
  EXPECT_TRUE(rt->drain(5s));
  EXPECT_EQ(be["a"].delivered_count(), 2u);
}

TEST(RuntimeTest, EightThreadsSubmittingConcurrently) {
  Backends be;
  auto rt = Runtime::create(fanout_config(), be.factory(), {}, nullptr);
  ASSERT_TRUE(rt);
  rt->start();
  constexpr int kThreads = 8, kPerThread = 100;
  // Random requests carry invalid UTF-8 on purpose; keep debug libprotobuf from logging each one.
  google::protobuf::LogHandler* previous = google::protobuf::SetLogHandler(nullptr);
  std::vector<Bytes> bodies;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    bodies.push_back(
        Bytes::adopt(testing::random_metrics(static_cast<uint64_t>(i) + 1).SerializeAsString()));
  }
  google::protobuf::SetLogHandler(previous);
  std::atomic<uint64_t> items{0};  // valid ones: random metrics sometimes lack a name
  std::atomic<int> not_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      otlp::Index ix;
      for (int i = 0; i < kPerThread; ++i) {
        const Bytes& body = bodies[static_cast<std::size_t>(t * kPerThread + i)];
        ASSERT_TRUE(ix.build(Signal::metrics, body));
        const uint64_t sent = ix.item_count();
        rt->submit("otlp", Signal::metrics, body, "", [&](IngestResult r) {
          if (r.status != IngestResult::Status::ok) ++not_ok;
          items += sent - r.rejected_items;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(not_ok.load(), 0);
  EXPECT_TRUE(rt->drain(20s));
  EXPECT_EQ(be["a"].delivered_items(), items.load());
  EXPECT_EQ(be["b"].delivered_items(), items.load());
  const std::string m = rt->render_metrics();
  EXPECT_TRUE(
      has_line(m, "otlpgate_receiver_accepted_items_total{receiver=\"otlp\",signal=\"metrics\"} " +
                      std::to_string(items.load())))
      << m;
}

}  // namespace
}  // namespace otlpgate
