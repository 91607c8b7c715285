// RequestIdWindow: redeliveries of accepted ids, concurrent duplicates, refusals forgotten, and
// both bounds (time and entries).
#include "core/firehose/request_ids.h"

#include <gtest/gtest.h>

namespace otlpgate::firehose {
namespace {

using namespace std::chrono_literals;
using Begin = RequestIdWindow::Begin;

const RequestIdWindow::Clock::time_point t0{};

TEST(RequestIdWindow, AnAcceptedIdIsARedeliveryUntilTheWindowEnds) {
  RequestIdWindow w(2h, 100);
  EXPECT_EQ(w.begin("a", t0), Begin::fresh);
  w.end("a", true, t0);
  EXPECT_EQ(w.begin("a", t0 + 1h), Begin::accepted_before);
  EXPECT_EQ(w.begin("a", t0 + 2h - 1ms), Begin::accepted_before);
  EXPECT_EQ(w.begin("a", t0 + 2h), Begin::fresh);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.evictions(), 0u);
}

TEST(RequestIdWindow, TheSameIdInFlightIsAskedToRetry) {
  RequestIdWindow w(2h, 100);
  EXPECT_EQ(w.begin("a", t0), Begin::fresh);
  EXPECT_EQ(w.begin("a", t0), Begin::in_flight);
  EXPECT_EQ(w.begin("b", t0), Begin::fresh);
  w.end("a", false, t0);  // refused: the retry must be processed again
  EXPECT_EQ(w.begin("a", t0), Begin::fresh);
  w.end("a", true, t0);
  w.end("b", true, t0);
  EXPECT_EQ(w.size(), 2u);
}

TEST(RequestIdWindow, MaxEntriesForgetsTheOldestAndCountsIt) {
  telemetry::Counter evicted;
  RequestIdWindow w(2h, 2, &evicted);
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_EQ(w.begin(id, t0), Begin::fresh);
    w.end(id, true, t0);
  }
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(evicted.value(), 1u);
  EXPECT_EQ(w.evictions(), 1u);
  EXPECT_EQ(w.begin("a", t0), Begin::fresh);
  EXPECT_EQ(w.begin("c", t0), Begin::accepted_before);
}

TEST(RequestIdWindow, AZeroWindowRemembersNothing) {
  RequestIdWindow w(0ms, 10);
  EXPECT_EQ(w.begin("a", t0), Begin::fresh);
  w.end("a", true, t0);
  EXPECT_EQ(w.begin("a", t0), Begin::fresh);
  EXPECT_EQ(w.begin("a", t0), Begin::fresh);
}

}  // namespace
}  // namespace otlpgate::firehose
