// MatchBounds, StringMatcher and DecisionCache: name matching (strict, regexp, glob) for stages.
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

#include "core/otlp/index.h"
#include "filters/per_thread.h"

namespace otlpgate::filters {

enum class MatchType : uint8_t { strict, regexp, glob };

// Two strings between which every match of a pattern lies, so that a string outside them is
// rejected with a comparison or two instead of a hash lookup or a regex run (metric names rarely
// share a first byte with a rule's literal prefix). Unbounded, every string may match.
class MatchBounds {
 public:
  // Every string s with lo <= s <= hi (bytes compared unsigned) may match.
  void set(std::string lo, std::string hi);
  // The range of RE2::PossibleMatchRange for a pattern whose every match is anchored at the
  // start; left unbounded when RE2 cannot give one (a pattern starting with .*).
  void set(const RE2& anchored_at_start);
  bool bounded() const noexcept { return bounded_; }
  bool may_match(std::string_view s) const noexcept {
    if (!bounded_) return true;
    if (s.empty()) return lo_.empty();
    const auto c = static_cast<unsigned char>(s[0]);
    if (c < lo0_ || c > hi0_) return false;
    return s >= lo_ && s <= hi_;
  }
  // Whether a metric or span name of the request, as it came, may match (Index's first bytes).
  bool may_match_a_name_of(const otlp::Index& ix) const noexcept {
    return !bounded_ || ix.may_have_name_between(lo_, hi_);
  }

 private:
  bool bounded_ = false;
  unsigned char lo0_ = 0, hi0_ = 0;  // first bytes (0 for an empty bound)
  std::string lo_, hi_;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

class DecisionMap;

// True when a string equals (strict), contains a match of (regexp, unanchored like the Collector's
// filterset), or fully matches the glob (`*`, `?`, `[...]`) of any of a list of patterns.
// Regexps and globs are compiled once into one RE2 alternation.
class StringMatcher {
 public:
  // Returns false and sets *err (prefixed by `path`) when a pattern does not compile.
  bool build(MatchType type, const std::vector<std::string>& patterns, const std::string& path,
             std::string* err);
  bool empty() const noexcept { return empty_; }
  const MatchBounds& bounds() const noexcept { return bounds_; }
  bool matches(std::string_view s) const;
  // matches(s) through a per-name cache; a string outside the patterns' bounds never reaches it
  // (inline: for most names the bounds answer).
  bool matches(std::string_view s, DecisionMap& cache) const {
    return bounds_.may_match(s) && cached_match(s, cache);
  }

 private:
  MatchType type_ = MatchType::strict;
  bool empty_ = true;
  StringSet strict_;
  std::unique_ptr<RE2> re_;
  MatchBounds bounds_;  // strict and glob; a regexp matches anywhere in a string: unbounded

  bool cached_match(std::string_view s, DecisionMap& cache) const;
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
