// StringMatcher and DecisionCache: name matching (strict, regexp, glob) for the filter stages.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
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
// One thread's map of name -> decision: open addressing over 64-bit XXH3 hashes, the names kept
// in one buffer. A lookup is a hash, one probe in the usual case and one memcmp: names are looked
// up per attribute and per metric, so std::unordered_map's hashing and node chasing showed in the
// chain's profile.
class DecisionMap {
 public:
  static constexpr std::size_t kMaxEntries = 16384;

  template <typename Fn>
  uint32_t get(std::string_view name, Fn&& compute) {
    const uint64_t h = hash(name);
    if (!slots_.empty()) {
      for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.len == kEmpty) break;
        // string_view's ==, not memcmp: an empty name may have no data pointer at all.
        if (s.hash == h && std::string_view(names_.data() + s.off, s.len) == name) return s.value;
      }
    }
    const uint32_t v = compute(name);
    insert(h, name, v);
    return v;
  }
  std::size_t size() const noexcept { return count_; }
  // Forgets every name; keeps the memory.
  void clear() {
    slots_.assign(slots_.size(), Slot{});
    names_.clear();
    count_ = 0;
  }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  struct Slot {
    uint64_t hash;
    uint32_t off;
    uint32_t len = kEmpty;
    uint32_t value;
  };
  static uint64_t hash(std::string_view s) noexcept;
  void insert(uint64_t h, std::string_view name, uint32_t value);

  std::vector<Slot> slots_;
  std::size_t mask_ = 0, count_ = 0;
  std::string names_;
};

// A per-thread cache of one small decision per name (metric names and attribute keys repeat
// across requests): lookups take no lock and, once warm, allocate nothing. Bounded: a cache that
// reaches DecisionMap::kMaxEntries is cleared, so hostile cardinality costs recomputation, not
// memory.
class DecisionCache {
 public:
  using Map = DecisionMap;

  // This thread's map for this cache; fetch once per request.
  Map& local() const { return maps_.local(); }

  template <typename Fn>
  static uint32_t get(Map& m, std::string_view name, Fn&& compute) {
    return m.get(name, std::forward<Fn>(compute));
  }

 private:
  PerThread<Map> maps_;
};

}  // namespace otlpgate::filters
