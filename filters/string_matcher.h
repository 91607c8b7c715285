// StringMatcher and DecisionCache: name matching (strict, regexp, glob) for the filter stages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <re2/re2.h>

#include "filters/per_thread.h"

namespace otlpgate::filters {

enum class MatchType : uint8_t { strict, regexp, glob };

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// True when a string equals (strict), contains a match of (regexp, unanchored like the Collector's
// filterset), or fully matches the glob (`*`, `?`, `[...]`) of any of a list of patterns.
// Regexps and globs are compiled once into one RE2 alternation.
class StringMatcher {
 public:
  // Returns false and sets *err (prefixed by `path`) when a pattern does not compile.
  bool build(MatchType type, const std::vector<std::string>& patterns, const std::string& path,
             std::string* err);
  bool empty() const noexcept { return empty_; }
  bool matches(std::string_view s) const;

 private:
  MatchType type_ = MatchType::strict;
  bool empty_ = true;
  StringSet strict_;
  std::unique_ptr<RE2> re_;
};

// Translates a glob into an RE2 pattern (not anchored; callers anchor).
std::string glob_to_regex(std::string_view glob);

// A per-thread cache of one small decision per name (metric names and attribute keys repeat
// across requests): lookups take no lock and, once warm, allocate nothing. Bounded: a cache that
// reaches kMaxEntries is cleared, so hostile cardinality costs recomputation, not memory.
class DecisionCache {
 public:
  using Map = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;
  static constexpr std::size_t kMaxEntries = 16384;

  // This thread's map for this cache; fetch once per request.
  Map& local() const { return maps_.local(); }

  template <typename Fn>
  static uint32_t get(Map& m, std::string_view name, Fn&& compute) {
    auto it = m.find(name);
    if (it != m.end()) return it->second;
    const uint32_t v = compute(name);
    if (m.size() >= kMaxEntries) m.clear();
    m.emplace(std::string(name), v);
    return v;
  }

 private:
  PerThread<Map> maps_;
};

}  // namespace otlpgate::filters
