// DedupStage: duplicates are dropped, distinct points are never dropped.
#include "filters/dedup.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/point_forms.h"
#include "tests/unit/filters/stage_test_util.h"

namespace otlpgate::filters::testing {
namespace {

struct FakeClock {
  std::shared_ptr<std::atomic<uint64_t>> ns = std::make_shared<std::atomic<uint64_t>>(1);
  DedupStage::Clock fn() const {
    auto p = ns;
    return [p] { return p->load(); };
  }
  void advance(std::chrono::nanoseconds d) { ns->fetch_add(static_cast<uint64_t>(d.count())); }
};

std::unique_ptr<DedupStage> dedup(const std::string& yaml, const FakeClock& clock) {
  std::string err;
  auto s = DedupStage::create(processor("dedup/t", yaml), &err, clock.fn());
  EXPECT_TRUE(s) << err;
  return s;
}

// One request of `count` points of metric "m", each with the one attribute key=<its number>,
// numbered from `from`: distinct series, value 1 at time 1.
MetricsRequest numbered(const std::string& key, int from, int count) {
  std::vector<Point> pts;
  for (int i = from; i < from + count; ++i) pts.push_back({{{key, std::to_string(i)}}, 1, 1});
  return metrics_request({{"m", pts}});
}

MetricsRequest batch() {
  return metrics_request({{"cpu", {{{{"core", "0"}}, 0.5, 1000}, {{{"core", "1"}}, 0.7, 1000}}},
                          {"mem", {{{}, 42, 1000}}}},
                         {{"service.name", "node"}});
}

TEST(DedupTest, SameBatchTwiceArrivesOnce) {
  FakeClock clock;
  auto st = dedup("mode: exact\n", clock);
  MetricsRequest first;
  EXPECT_TRUE(run(*st, batch(), &first).same_storage) << "first sighting passes untouched";
  EXPECT_EQ(point_count(first), 3u);
  auto second = run(*st, batch());
  EXPECT_EQ(point_count(second), 0u);
  EXPECT_EQ(second.resource_metrics_size(), 0);
  EXPECT_EQ(counter(*st, "items_dropped{reason=\"duplicate\"}"), 3u);
  EXPECT_EQ(counter(*st, "dedup_window_keys"), 3u);
}

TEST(DedupTest, NewTimeOrValueIsNotADuplicate) {
  FakeClock clock;
  auto st = dedup("", clock);
  run(*st, metrics_request({{"cpu", {{{{"core", "0"}}, 0.5, 1000}}}}));
  auto later = run(*st, metrics_request({{"cpu", {{{{"core", "0"}}, 0.5, 2000}}}}));
  auto other_value = run(*st, metrics_request({{"cpu", {{{{"core", "0"}}, 0.6, 1000}}}}));
  auto other_start = run(*st, metrics_request({{"cpu", {{{{"core", "0"}}, 0.5, 1000, 5}}}}));
  auto other_series = run(*st, metrics_request({{"cpu", {{{{"core", "1"}}, 0.5, 1000}}}}));
  auto other_name = run(*st, metrics_request({{"cpu2", {{{{"core", "0"}}, 0.5, 1000}}}}));
  auto other_resource =
      run(*st, metrics_request({{"cpu", {{{{"core", "0"}}, 0.5, 1000}}}}, {{"host", "b"}}));
  for (const auto* r :
       {&later, &other_value, &other_start, &other_series, &other_name, &other_resource})
    EXPECT_EQ(point_count(*r), 1u);
}

TEST(DedupTest, DuplicatesInsideOneRequestAndAttributeOrder) {
  FakeClock clock;
  auto st = dedup("", clock);
  auto out = run(*st, metrics_request({{"m",
                                        {{{{"a", "1"}, {"b", "2"}}, 1, 10},
                                         {{{"b", "2"}, {"a", "1"}}, 1, 10},
                                         {{{"a", "1"}, {"b", "2"}}, 2, 10}}}}));
  EXPECT_EQ(point_count(out), 2u);
}

// Items left after running `st` over request bytes written by hand.
uint64_t items_after(Stage& st, std::string request) {
  otlp::Index ix;
  EXPECT_TRUE(ix.build(Signal::metrics, Bytes::adopt(std::move(request))));
  otlp::Edits edits;
  edits.reset(ix);
  st.process(ix, edits);
  otlp::Rewriter rw;
  return rw.apply(ix, edits).items;
}

TEST(DedupTest, HowAPointIsWrittenDoesNotMakeItAnotherPoint) {
  using otlpgate::testing::metrics_request_with_point;
  using otlpgate::testing::PointForm;
  const Attrs in_order = {{"a", "1"}, {"b", "2"}, {"c", ""}};
  const Attrs reversed = {{"c", ""}, {"b", "2"}, {"a", "1"}};
  FakeClock clock;
  auto st = dedup("", clock);
  ASSERT_EQ(items_after(*st, metrics_request_with_point({in_order})), 1u);
  PointForm value_first{reversed};
  value_first.value_first = true;
  PointForm no_empty_value{in_order};
  no_empty_value.absent_empty_values = true;
  PointForm exemplar{reversed};
  exemplar.exemplar = true;
  for (const PointForm& f : {PointForm{reversed}, value_first, no_empty_value, exemplar})
    EXPECT_EQ(items_after(*st, metrics_request_with_point(f)), 0u)
        << "value_first " << f.value_first << " absent_empty_values " << f.absent_empty_values
        << " exemplar " << f.exemplar << " first attribute " << f.attrs[0].first;
  // and what does make another point
  PointForm other_value{reversed};
  other_value.value = 2.5;
  EXPECT_EQ(items_after(*st, metrics_request_with_point(other_value)), 1u);
  EXPECT_EQ(items_after(*st, metrics_request_with_point({{{"a", "1"}, {"b", "2"}}})), 1u);
  EXPECT_EQ(items_after(*st, metrics_request_with_point({{{"a", "1"}, {"b", "2"}, {"c", "3"}}})), 1u);
  // Keys too long for the one-byte shape take the general path, in either order.
  const std::string long_key(200, 'k');
  EXPECT_EQ(items_after(*st, metrics_request_with_point({{{long_key, "x"}, {"a", "1"}}})), 1u);
  EXPECT_EQ(items_after(*st, metrics_request_with_point({{{"a", "1"}, {long_key, "x"}}})), 0u);
}

TEST(DedupTest, ScopeVersionIsPartOfTheSeries) {
  FakeClock clock;
  auto st = dedup("", clock);
  MetricsRequest a, b;
  add_resource(a, {}, {{"m", {{}}}}, "lib", "1.0");
  add_resource(b, {}, {{"m", {{}}}}, "lib", "2.0");
  run(*st, a);
  EXPECT_EQ(point_count(run(*st, b)), 1u);
}

TEST(DedupTest, WindowExpires) {
  FakeClock clock;
  auto st = dedup("window: 10m\n", clock);
  run(*st, batch());
  clock.advance(std::chrono::minutes(9));
  EXPECT_EQ(point_count(run(*st, batch())), 0u) << "still inside the window";
  clock.advance(std::chrono::minutes(15));
  EXPECT_EQ(point_count(run(*st, batch())), 3u) << "forgotten after the window";
}

TEST(DedupTest, AnEarlierClockReadingFromAnotherThreadForgetsNothing) {
  // Threads read the clock before taking a shard's lock, so a shard can see time step back a bit.
  FakeClock clock;
  clock.advance(std::chrono::hours(1));
  auto st = dedup("window: 10m\n", clock);
  run(*st, batch());
  clock.ns->fetch_sub(1);
  EXPECT_EQ(point_count(run(*st, batch())), 0u);
}

TEST(DedupTest, ReplicasModeIgnoresTheReplicaAttribute) {
  FakeClock clock;
  auto st = dedup("mode: replicas\nignore_attributes: [replica, collector.id]\n", clock);
  auto a = run(*st, metrics_request({{"up", {{{{"replica", "a"}, {"job", "x"}}, 1, 5}}}},
                                    {{"collector.id", "c1"}}));
  auto b = run(*st, metrics_request({{"up", {{{{"replica", "b"}, {"job", "x"}}, 1, 5}}}},
                                    {{"collector.id", "c2"}}));
  auto other_job = run(*st, metrics_request({{"up", {{{{"replica", "b"}, {"job", "y"}}, 1, 5}}}}));
  EXPECT_EQ(point_count(a), 1u) << "first come is forwarded";
  EXPECT_EQ(point_count(b), 0u) << "the other replica's copy is dropped";
  EXPECT_EQ(point_count(other_job), 1u);
}

TEST(DedupTest, ExactModeKeepsReplicasApart) {
  FakeClock clock;
  auto st = dedup("mode: exact\n", clock);
  run(*st, metrics_request({{"up", {{{{"replica", "a"}}, 1, 5}}}}));
  EXPECT_EQ(point_count(run(*st, metrics_request({{"up", {{{{"replica", "b"}}, 1, 5}}}}))), 1u);
}

TEST(DedupTest, MaxSeriesBoundsMemoryWithoutFalseDrops) {
  FakeClock clock;
  auto st = dedup("max_series: 2048\n", clock);
  // 20000 distinct points: far over the bound; none may be dropped, and the window stays bounded.
  for (int batch_no = 0; batch_no < 20; ++batch_no) {
    EXPECT_EQ(point_count(run(*st, numbered("i", batch_no * 1000, 1000))), 1000u);
  }
  EXPECT_LE(counter(*st, "dedup_window_keys"), 2048u + 64u * 8u);
  EXPECT_GT(counter(*st, "dedup_window_evictions{reason=\"max_series\"}"), 0u);
}

TEST(DedupTest, EvictionsKeepTheNewerKeysFindable) {
  // 8 keys per shard and bucket: the oldest bucket is forgotten every few batches; the previous
  // batch must still be found every time.
  FakeClock clock;
  auto st = dedup("max_series: 2048\n", clock);
  auto batch_no = [](int n) { return numbered("i", n * 100, 100); };
  for (int n = 0; n < 60; ++n) {
    ASSERT_EQ(point_count(run(*st, batch_no(n))), 100u) << "batch " << n;
    if (n > 0) {
      ASSERT_EQ(point_count(run(*st, batch_no(n - 1))), 0u) << "batch " << n - 1 << " again";
    }
  }
  EXPECT_GT(counter(*st, "dedup_window_evictions{reason=\"max_series\"}"), 0u);
}

TEST(DedupTest, KeysFromLongAgoStayForgottenOnceTheGenerationCounterWrapsRound) {
  // The window tags keys with a 16-bit generation: an old tag must not read as current when the
  // counter comes round to it again. One point, sent every hour, moves its shard's counter on 4
  // generations each time; the others, sent once at the start, share that shard with it.
  FakeClock clock;
  auto st = dedup("max_series: 2048\n", clock);
  const MetricsRequest old_points = numbered("other", 0, 1000);
  const MetricsRequest one = metrics_request({{"m", {{{{"one", "1"}}, 1, 1}}}});
  run(*st, old_points);
  for (int i = 0; i < 65536 / 4 - 1; ++i) {
    clock.advance(std::chrono::hours(1));
    run(*st, one);
  }
  clock.advance(std::chrono::hours(1));
  EXPECT_EQ(point_count(run(*st, old_points)), 1000u);
}

TEST(DedupTest, ConcurrentSendersForwardEachPointOnce) {
  FakeClock clock;
  auto st = dedup("", clock);
  const MetricsRequest req = numbered("i", 0, 500);
  std::atomic<std::size_t> forwarded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int k = 0; k < 3; ++k) forwarded += point_count(run(*st, req));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(forwarded.load(), 500u);
}

TEST(DedupTest, ARefusedRequestIsForgottenSoItsRetryPasses) {
  FakeClock clock;
  auto st = dedup("", clock);
  EXPECT_EQ(point_count(run(*st, batch())), 3u);
  st->finish(false);  // the runtime could not queue it: the sender will retry
  EXPECT_EQ(counter(*st, "dedup_window_keys"), 0u);
  EXPECT_EQ(point_count(run(*st, batch())), 3u) << "the retry is not a duplicate";
  st->finish(true);
  EXPECT_EQ(point_count(run(*st, batch())), 0u) << "once accepted, a resend is";
  st->finish(false);  // refusing a request that added nothing forgets nothing
  EXPECT_EQ(point_count(run(*st, batch())), 0u);
}

TEST(DedupTest, ForgettingOneRequestKeepsEveryOtherKeyFindable) {
  // A small table (32 keys per generation, 64 lines of 3 slots) so that keys go past full lines
  // and a forgotten slot lies on other keys' way.
  FakeClock clock;
  auto st = dedup("max_series: 8192\n", clock);
  auto points = [](int from) { return numbered("i", from, 600); };
  EXPECT_EQ(point_count(run(*st, points(0))), 600u);
  st->finish(true);
  EXPECT_EQ(point_count(run(*st, points(10000))), 600u);
  st->finish(false);
  EXPECT_EQ(point_count(run(*st, points(20000))), 600u);
  st->finish(true);
  ASSERT_EQ(counter(*st, "dedup_window_evictions{reason=\"max_series\"}"), 0u);
  EXPECT_EQ(counter(*st, "dedup_window_keys"), 1200u);
  EXPECT_EQ(point_count(run(*st, points(0))), 0u);
  EXPECT_EQ(point_count(run(*st, points(20000))), 0u);
  EXPECT_EQ(point_count(run(*st, points(10000))), 600u) << "the refused request's points";
}

// Random traffic on a small window (8 keys per shard and generation, 16 lines of 3 slots): points
// seen again, refused requests, the clock stepping on, evictions. Checks every verdict against a
// model of what was remembered when.
class RandomTraffic {
 public:
  static constexpr std::chrono::nanoseconds kWindow = std::chrono::seconds(30);
  // A key lives at most 4 generations of window / 3.
  static constexpr std::chrono::nanoseconds kMaxLife = kWindow * 4 / 3;

  RandomTraffic() : st_(dedup("window: 30s\nmax_series: 2048\n", clock_)) {}

  DedupStage& stage() { return *st_; }
  void advance(std::chrono::nanoseconds d) { clock_.advance(d); }

  // One request of a few distinct points out of 2000; false once a verdict contradicts the model.
  bool step() {
    std::vector<int> ids;
    const int n = 1 + static_cast<int>(rng_() % 8);
    while (static_cast<int>(ids.size()) < n) {
      const int id = static_cast<int>(rng_() % 2000);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    std::vector<Point> pts;
    for (int id : ids) pts.push_back({{{"i", std::to_string(id)}}, 1, 1});
    const uint64_t evictions = counter(*st_, "dedup_window_evictions{reason=\"max_series\"}");
    const MetricsRequest out = run(*st_, metrics_request({{"m", pts}}));
    std::set<int> kept;
    for (const auto& rm : out.resource_metrics())
      for (const auto& sm : rm.scope_metrics())
        for (const auto& m : sm.metrics())
          for (const auto& dp : m.gauge().data_points())
            kept.insert(std::stoi(attr_map(dp.attributes()).at("i")));
    const uint64_t now = clock_.ns->load();
    const bool accepted = rng_() % 4 != 0;
    st_->finish(accepted);
    for (int id : ids) {
      const auto it = remembered_.find(id);
      const bool known = it != remembered_.end();
      const uint64_t age = known ? now - it->second.ns : 0;
      if (!kept.count(id)) {
        // Never a false duplicate.
        if (!known || age >= static_cast<uint64_t>(kMaxLife.count())) return false;
      } else if (known && age < static_cast<uint64_t>(kWindow.count()) &&
                 it->second.evictions == evictions) {
        return false;  // forgotten within the window, though nothing was evicted since
      }
    }
    for (int id : kept) {
      if (accepted)
        remembered_[id] = {now, evictions};
      else
        remembered_.erase(id);
    }
    return true;
  }

 private:
  struct Remembered {
    uint64_t ns;
    uint64_t evictions;  // the eviction counter then
  };
  FakeClock clock_;
  std::unique_ptr<DedupStage> st_;
  std::mt19937 rng_{7};
  std::map<int, Remembered> remembered_;
};

TEST(DedupTest, RandomTrafficAgreesWithAModelOfTheWindow) {
  RandomTraffic t;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(t.step()) << "step " << i;
    t.advance(std::chrono::milliseconds(i % 7 * 40));
  }
  EXPECT_GT(counter(t.stage(), "dedup_window_evictions{reason=\"max_series\"}"), 0u);
}

TEST(DedupTest, TheKeyCountStaysExactUnderRandomTraffic) {
  RandomTraffic t;
  for (int i = 0; i < 20000; ++i) {
    t.step();
    t.advance(std::chrono::milliseconds(i % 7 * 40));
  }
  // Once all that has expired, the window holds what one more request (touching every shard)
  // brings.
  t.advance(RandomTraffic::kMaxLife);
  run(t.stage(), numbered("fresh", 0, 1000));
  EXPECT_EQ(counter(t.stage(), "dedup_window_keys"), 1000u);
}

TEST(DedupTest, OtherSignalsPassUntouched) {
  FakeClock clock;
  auto st = dedup("", clock);
  LogsRequest logs;
  logs.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body()->set_string_value(
      "x");
  LogsRequest out;
  EXPECT_TRUE(run(*st, logs, &out).same_storage);
  EXPECT_TRUE(run(*st, logs, &out).same_storage);
}

TEST(DedupTest, ConfigErrors) {
  EXPECT_NE(stage_error("dedup/t", "mode: replicas\n")
                .find("processors.dedup/t.ignore_attributes: required"),
            std::string::npos);
  EXPECT_NE(
      stage_error("dedup/t", "ignore_attributes: [replica]\n").find("only with mode: replicas"),
      std::string::npos);
  EXPECT_NE(stage_error("dedup/t", "window: soon\n")
                .find("processors.dedup/t.window: expected a duration"),
            std::string::npos);
  EXPECT_NE(stage_error("dedup/t", "mode: fuzzy\n").find("expected one of exact, replicas"),
            std::string::npos);
}

}  // namespace
}  // namespace otlpgate::filters::testing
