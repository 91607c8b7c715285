// DecisionMap: the per-thread name -> decision cache of the stages.
#include <gtest/gtest.h>

#include <string>

#include "filters/string_matcher.h"

namespace otlpgate::filters {
namespace {

TEST(DecisionMap, ComputesOncePerNameAndAnswersFromTheCache) {
  DecisionMap m;
  int computed = 0;
  auto decide = [&](std::string_view n) {
    ++computed;
    return static_cast<uint32_t>(n.size());
  };
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(m.get("name." + std::to_string(i), decide), ("name." + std::to_string(i)).size());
  EXPECT_EQ(computed, 1000);
  // Names that share a prefix or differ only in length are different names.
  EXPECT_EQ(m.get("", decide), 0u);
  EXPECT_EQ(m.get(std::string_view("name.1\0", 7), decide), 7u);
}

TEST(DecisionMap, HostileCardinalityIsBounded) {
  DecisionMap m;
  for (std::size_t i = 0; i < 3 * DecisionMap::kMaxEntries; ++i) {
    const std::string n = "k" + std::to_string(i);
    EXPECT_EQ(m.get(n, [&](std::string_view) { return static_cast<uint32_t>(i % 7); }), i % 7);
    ASSERT_LE(m.size(), DecisionMap::kMaxEntries);
  }
  // Still right after the clears.
  EXPECT_EQ(m.get("k5", [](std::string_view) { return 5u; }), 5u);
  EXPECT_EQ(m.get("k5", [](std::string_view) { return 99u; }), 5u);
}

}  // namespace
}  // namespace otlpgate::filters
