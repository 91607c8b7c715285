// MatchBounds: the strings between which every match of a pattern lies, used to decide names
// without the per-name cache. A bound that rejects a string the pattern matches would silently
// change what a filter or relabel rule does, so the property is checked on random patterns.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "filters/string_matcher.h"

namespace otlpgate::filters {
namespace {

// A random pattern over a small alphabet, with the constructs that make PossibleMatchRange
// approximate: repetition, alternation, classes, case folding, escapes.
std::string random_pattern(std::mt19937& rng, int depth = 0) {
  static const char* atoms[] = {"a", "b", "c", ".", "[ab]", "[^a]", "\\.", "h", "\xc3\xa9"};
  std::string p;
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) {
    const unsigned k = rng() % 10;
    if (k < 6 || depth > 2) {
      p += atoms[rng() % std::size(atoms)];
    } else if (k < 8) {
      p += "(" + random_pattern(rng, depth + 1) + "|" + random_pattern(rng, depth + 1) + ")";
    } else {
      p += "(" + random_pattern(rng, depth + 1) + ")";
    }
    static const char* reps[] = {"", "", "", "*", "+", "?", "{2}", "{1,3}"};
    p += reps[rng() % std::size(reps)];
  }
  return p;
}

std::string random_string(std::mt19937& rng) {
  static const char* parts[] = {"a", "b", "c", "A", "B", ".", "h", "\xc3\xa9", "\xff", "z", ""};
  std::string s;
  const int n = static_cast<int>(rng() % 7);
  for (int i = 0; i < n; ++i) s += parts[rng() % std::size(parts)];
  return s;
}

TEST(MatchBounds, NeverRejectsAStringThePatternMatches) {
  std::mt19937 rng(20261202);
  RE2::Options opts;
  opts.set_log_errors(false);
  int matched = 0, rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string pat = random_pattern(rng);
    if (rng() % 4 == 0) pat = "(?i)" + pat;
    const RE2 re("^(?s:" + pat + ")$", opts);
    ASSERT_TRUE(re.ok()) << pat;
    MatchBounds b;
    b.set(re);
    for (int i = 0; i < 60; ++i) {
      const std::string s = random_string(rng);
      const bool m = RE2::FullMatch(s, re);
      matched += m;
      rejected += !b.may_match(s);
      ASSERT_TRUE(!m || b.may_match(s))
          << "pattern " << pat << " matches \"" << s << "\" but its bounds reject it";
    }
  }
  // The property is not vacuous: many strings matched, and the bounds rejected many others.
  EXPECT_GT(matched, 5000);
  EXPECT_GT(rejected, 50000);
}

TEST(MatchBounds, ALiteralPrefixRejectsOtherNamesAndALeadingWildcardRejectsNone) {
  MatchBounds b;
  b.set(RE2("^(?s:http\\.server\\..*)$"));
  ASSERT_TRUE(b.bounded());
  EXPECT_TRUE(b.may_match("http.server.duration"));
  EXPECT_TRUE(b.may_match("http.server."));
  EXPECT_FALSE(b.may_match("http.client.duration"));
  EXPECT_FALSE(b.may_match("go_gc_duration_seconds"));
  EXPECT_FALSE(b.may_match("rpc.server.duration"));
  EXPECT_FALSE(b.may_match(""));

  MatchBounds any;  // a leading wildcard: any name may end in _total
  any.set(RE2("^(?s:.*_total)$"));
  for (const char* name : {"_total", "a_total", "zzz_total", "\xc3\xa9_total", "\x01"})
    EXPECT_TRUE(any.may_match(name)) << name;

  MatchBounds none;  // never set: everything may match
  EXPECT_TRUE(none.may_match("x"));
}

TEST(MatchBounds, StrictNamesAreBoundedByTheirSmallestAndLargest) {
  StringMatcher m;
  std::string err;
  ASSERT_TRUE(m.build(MatchType::strict, {"http.b", "http.a", "\xc3\xa9t\xc3\xa9"}, "p", &err));
  EXPECT_TRUE(m.matches("http.a"));
  EXPECT_TRUE(m.matches("\xc3\xa9t\xc3\xa9"));  // bytes compare unsigned: \xc3 is past 'h'
  EXPECT_FALSE(m.matches("http.c"));
  EXPECT_FALSE(m.matches("aaa"));
  EXPECT_FALSE(m.matches(""));
  DecisionMap cache;
  EXPECT_TRUE(m.matches("http.b", cache));
  EXPECT_FALSE(m.matches("go_gc", cache));
  EXPECT_EQ(cache.size(), 1u);  // a name outside the bounds never reached the cache

  StringMatcher empty_name;
  ASSERT_TRUE(empty_name.build(MatchType::strict, {""}, "p", &err));
  EXPECT_TRUE(empty_name.matches(""));
  EXPECT_FALSE(empty_name.matches("a"));
}

TEST(MatchBounds, GlobsAreBoundedAndRegexpsMatchAnywhere) {
  StringMatcher glob, regexp;
  std::string err;
  ASSERT_TRUE(glob.build(MatchType::glob, {"aws_*_count", "k8s.pod.*"}, "p", &err));
  ASSERT_TRUE(regexp.build(MatchType::regexp, {"count"}, "p", &err));
  DecisionMap cache;
  EXPECT_TRUE(glob.matches("aws_elb_count", cache));
  EXPECT_TRUE(glob.matches("k8s.pod.cpu", cache));
  EXPECT_FALSE(glob.matches("a.count", cache));
  EXPECT_FALSE(glob.matches("zz", cache));
  EXPECT_EQ(cache.size(), 2u);
  DecisionMap cache2;
  EXPECT_TRUE(regexp.matches("http.count", cache2));  // unanchored: no bounds
  EXPECT_TRUE(regexp.matches("a.count.b", cache2));
  EXPECT_FALSE(regexp.matches("zz", cache2));
  EXPECT_EQ(cache2.size(), 3u);
}

}  // namespace
}  // namespace otlpgate::filters
