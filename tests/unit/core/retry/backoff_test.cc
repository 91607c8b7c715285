// Backoff: the delays a failing request waits between attempts.
#include "core/retry/backoff.h"

#include <set>

#include <gtest/gtest.h>

namespace otlpgate::retry {
namespace {

using namespace std::chrono_literals;

config::RetryOnFailure no_jitter() {
  config::RetryOnFailure r;
  r.initial_interval = 100ms;
  r.max_interval = 500ms;
  r.multiplier = 1.5;
  r.randomization_factor = 0;
  r.max_elapsed_time = 0ms;
  return r;
}

TEST(BackoffTest, GrowsByTheMultiplierUpToMaxInterval) {
  Backoff b(no_jitter(), 1);
  std::vector<int64_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(b.next(0ms)->count());
  EXPECT_EQ(got, (std::vector<int64_t>{100, 150, 225, 337, 500, 500}));
}

TEST(BackoffTest, JitterStaysWithinTheRandomizationFactor) {
  config::RetryOnFailure r = no_jitter();
  r.randomization_factor = 0.5;
  r.multiplier = 1.0;  // interval stays 100 ms
  Backoff b(r, 42);
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const int64_t d = b.next(0ms)->count();
    EXPECT_GE(d, 50);
    EXPECT_LE(d, 150);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 20u) << "delays are not spread";
}

TEST(BackoffTest, JitterEndsOfTheRange) {
  EXPECT_EQ(Backoff::jitter(1000ms, 0.5, 0.0), 500ms);
  EXPECT_EQ(Backoff::jitter(1000ms, 0.5, 1.0), 1500ms);
  EXPECT_EQ(Backoff::jitter(1000ms, 0.0, 0.7), 1000ms);
}

TEST(BackoffTest, GivesUpWhenTheNextAttemptWouldPassMaxElapsedTime) {
  config::RetryOnFailure r = no_jitter();
  r.max_elapsed_time = 1000ms;
  Backoff b(r, 1);
  EXPECT_EQ(b.next(0ms), 100ms);
  EXPECT_EQ(b.next(850ms), 150ms);  // attempt at 1000 ms: still allowed
  EXPECT_EQ(b.next(900ms), std::nullopt);
}

TEST(BackoffTest, MaxElapsedZeroRetriesForever) {
  Backoff b(no_jitter(), 1);
  EXPECT_EQ(b.next(std::chrono::hours(24 * 365)), 100ms);
}

TEST(BackoffTest, RetryAfterReplacesTheComputedDelay) {
  Backoff b(no_jitter(), 1);
  EXPECT_EQ(b.next(0ms, 7000ms), 7000ms);
  EXPECT_EQ(b.next(0ms, 10ms), 10ms);  // shorter than the backoff: the server knows best
  EXPECT_EQ(b.next(0ms), 100ms);       // the server's hints did not grow the interval
}

TEST(BackoffTest, RetryAfterNeverGoesPastMaxElapsedTime) {
  config::RetryOnFailure r = no_jitter();
  r.max_elapsed_time = 5000ms;
  Backoff b(r, 1);
  EXPECT_EQ(b.next(1000ms, 4000ms), 4000ms);
  EXPECT_EQ(b.next(1000ms, 4001ms), std::nullopt);
}

}  // namespace
}  // namespace otlpgate::retry
