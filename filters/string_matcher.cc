// StringMatcher implementation.
#include "filters/string_matcher.h"

#include <algorithm>

#include <xxhash.h>

namespace otlpgate::filters {

std::string glob_to_regex(std::string_view glob) {
  std::string re;
  for (std::size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*') {
      re += ".*";
    } else if (c == '?') {
      re += '.';
    } else if (c == '[') {
      const std::size_t close = glob.find(']', i + 2);
      if (close == std::string_view::npos) {
        re += "\\[";
        continue;
      }
      re += '[';
      std::size_t j = i + 1;
      if (glob[j] == '!' || glob[j] == '^') {
        re += '^';
        ++j;
      }
      for (; j < close; ++j) {
        if (glob[j] == '\\' || glob[j] == '[') re += '\\';
        re += glob[j];
      }
      re += ']';
      i = close;
    } else {
      re += RE2::QuoteMeta(std::string_view(&glob[i], 1));
    }
  }
  return re;
}

void MatchBounds::set(std::string lo, std::string hi) {
  lo_ = std::move(lo);
  hi_ = std::move(hi);
  lo0_ = lo_.empty() ? 0 : static_cast<unsigned char>(lo_[0]);
  // An empty upper bound admits only the empty string, which may_match answers before this.
  hi0_ = hi_.empty() ? 0 : static_cast<unsigned char>(hi_[0]);
  bounded_ = true;
}

void MatchBounds::set(const RE2& anchored_at_start) {
  // Longer bounds reject more, but past a rule's literal prefix they add little.
  constexpr int kMaxLen = 32;
  std::string lo, hi;
  if (anchored_at_start.PossibleMatchRange(&lo, &hi, kMaxLen))
    set(std::move(lo), std::move(hi));
  else
    *this = MatchBounds();
}

bool StringMatcher::build(MatchType type, const std::vector<std::string>& patterns,
                          const std::string& path, std::string* err) {
  type_ = type;
  empty_ = patterns.empty();
  strict_.clear();
  re_.reset();
  bounds_ = MatchBounds();
  if (empty_) return true;
  if (type == MatchType::strict) {
    strict_.insert(patterns.begin(), patterns.end());
    const auto [lo, hi] = std::minmax_element(patterns.begin(), patterns.end());
    bounds_.set(*lo, *hi);
    return true;
  }
  std::string all;
  RE2::Options opts;
  opts.set_log_errors(false);
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const std::string one =
        type == MatchType::glob ? "^(?s:" + glob_to_regex(patterns[i]) + ")$" : patterns[i];
    RE2 probe(one, opts);
    if (!probe.ok()) {
      if (err)
        *err = path + "[" + std::to_string(i) + "]: invalid pattern \"" + patterns[i] +
               "\": " + probe.error();
      return false;
    }
    if (!all.empty()) all += '|';
    all += "(?:" + one + ")";
  }
  opts.set_never_capture(true);
  re_ = std::make_unique<RE2>(all, opts);
  if (!re_->ok()) {
    if (err) *err = path + ": patterns do not compile together: " + re_->error();
    return false;
  }
  if (type == MatchType::glob) bounds_.set(*re_);
  return true;
}

bool StringMatcher::matches(std::string_view s) const {
  if (empty_ || !bounds_.may_match(s)) return false;
  if (type_ == MatchType::strict) return strict_.find(s) != strict_.end();
  return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re_);
}

bool StringMatcher::cached_match(std::string_view s, DecisionMap& cache) const {
  return cache.get(s, [this](std::string_view n) { return matches(n) ? 1u : 0u; }) != 0;
}

uint64_t DecisionMap::hash(std::string_view s) noexcept { return XXH3_64bits(s.data(), s.size()); }

void DecisionMap::insert(uint64_t h, std::string_view name, uint32_t value) {
  if (count_ >= kMaxEntries) clear();  // hostile cardinality: start again rather than grow
  if (2 * (count_ + 1) > slots_.size()) {  // keep the load at most 1/2
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(64, 2 * old.size()), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.len == kEmpty) continue;
      std::size_t i = s.hash & mask_;
      while (slots_[i].len != kEmpty) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }
  std::size_t i = h & mask_;
  while (slots_[i].len != kEmpty) i = (i + 1) & mask_;
  slots_[i] = Slot{h, static_cast<uint32_t>(names_.size()), static_cast<uint32_t>(name.size()), value};
  names_.append(name);
  ++count_;
}

}  // namespace otlpgate::filters
