// RedactStage: a per-key decision (cached per thread), then value masking with one combined
// regex as the fast path for the common case of nothing to mask.
#include "filters/redact.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "filters/attribute_text.h"
#include "filters/yaml_reader.h"

namespace otlpgate::filters {

namespace {

struct Builtin {
  const char* name;
  const char* re;
  int group;
  bool luhn;
};

// The built-in patterns. Card numbers are 13-19 digits (optionally grouped by spaces or dashes)
// that pass the Luhn check; bearer tokens and key=value secrets keep their label and lose the
// secret; well-known API key prefixes (Stripe, AWS, GitHub, Slack, Google) are masked whole.
constexpr Builtin kBuiltins[] = {
    {"email", R"([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})", 0, false},
    {"credit_card", R"(\b(?:\d[ \-]?){12,18}\d\b)", 0, true},
    {"bearer_token", R"((?i)\bbearer\s+([A-Za-z0-9\-._~+/]+=*))", 1, false},
    {"api_key",
     R"((?i:(?:api[_\-]?key|apikey|access[_\-]?token|secret|password|passwd)["']?\s*[:=]\s*["']?([^\s"'&;,]{6,}))|)"
     R"(\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b|)"
     R"(\bxox[abprs]-[A-Za-z0-9\-]{10,}|\bAIza[0-9A-Za-z_\-]{35})",
     1, false},
};

const char* const kRuleNames[] = {
    "scan",         "ignored_keys", "delete_keys",         "delete_key_patterns",
    "allowed_keys", "hash",         "blocked_key_patterns"};

bool luhn_ok(std::string_view s) {
  int sum = 0, n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (*it < '0' || *it > '9') continue;
    int d = *it - '0';
    if (n++ % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return n >= 13 && n <= 19 && sum % 10 == 0;
}

thread_local std::string t_text, t_masked, t_tmp, t_value;
thread_local std::vector<uint32_t> t_edited;  // item nodes edited in this request (may repeat)

}  // namespace

std::unique_ptr<RedactStage> RedactStage::create(const config::Processor& p, std::string* err) {
  YamlReader r(p, err);
  YAML::Node root;
  if (!r.load(p, root)) return nullptr;
  if (!r.check_keys(root, "",
                    {"levels", "ignored_keys", "delete_keys", "delete_key_patterns", "allowed_keys",
                     "allow_all_keys", "hash_keys", "hash_key_patterns", "hash_key_env", "hash_key",
                     "blocked_key_patterns", "blocked_values", "builtin_patterns", "mask",
                     "log_bodies", "summary"}))
    return nullptr;
  auto st = std::unique_ptr<RedactStage>(new RedactStage());
  st->id_ = p.id;
  std::vector<std::string> xs;
  auto list = [&](const char* key, std::vector<std::string>& out) {
    out.clear();
    return !root[key] || r.get_string_list(root[key], key, out);
  };
  if (root["levels"]) {
    if (!list("levels", xs)) return nullptr;
    for (bool& l : st->levels_) l = false;
    for (auto& x : xs) {
      if (x == "resource")
        st->levels_[0] = true;
      else if (x == "scope")
        st->levels_[1] = true;
      else if (x == "item")
        st->levels_[2] = true;
      else
        return r.fail("levels", "expected resource, scope or item; got \"" + x + "\""), nullptr;
    }
  }
  if (!list("ignored_keys", xs)) return nullptr;
  st->ignored_.insert(xs.begin(), xs.end());
  if (!list("delete_keys", xs)) return nullptr;
  st->delete_.insert(xs.begin(), xs.end());
  if (!list("delete_key_patterns", xs) ||
      !st->delete_patterns_.build(MatchType::regexp, xs, r.path("delete_key_patterns"), err))
    return nullptr;
  if (root["allowed_keys"]) {
    if (!list("allowed_keys", xs)) return nullptr;
    st->allowed_.insert(xs.begin(), xs.end());
    st->allowlist_ = true;
  }
  if (root["allow_all_keys"]) {
    bool all = true;
    if (!r.get_bool(root["allow_all_keys"], "allow_all_keys", all)) return nullptr;
    st->allowlist_ = !all;
  }
  if (!list("hash_keys", xs)) return nullptr;
  st->hash_.insert(xs.begin(), xs.end());
  if (!list("hash_key_patterns", xs) ||
      !st->hash_patterns_.build(MatchType::regexp, xs, r.path("hash_key_patterns"), err))
    return nullptr;
  if (root["hash_key_env"]) {
    std::string env;
    if (!r.get_string(root["hash_key_env"], "hash_key_env", env)) return nullptr;
    const char* v = std::getenv(env.c_str());
    if (!v || !*v)
      return r.fail("hash_key_env", "environment variable " + env + " is not set or empty"),
             nullptr;
    st->hmac_key_ = v;
  }
  if (root["hash_key"] && !r.get_string(root["hash_key"], "hash_key", st->hmac_key_))
    return nullptr;
  if ((!st->hash_.empty() || !st->hash_patterns_.empty()) && st->hmac_key_.empty())
    return r.fail("hash_key_env",
                  "required (a non-empty HMAC key) when hash_keys or hash_key_patterns is given"),
           nullptr;
  if (!list("blocked_key_patterns", xs) ||
      !st->blocked_key_patterns_.build(MatchType::regexp, xs, r.path("blocked_key_patterns"), err))
    return nullptr;
  if (root["mask"] && !r.get_string(root["mask"], "mask", st->mask_)) return nullptr;
  if (root["log_bodies"] && !r.get_bool(root["log_bodies"], "log_bodies", st->log_bodies_))
    return nullptr;
  if (root["summary"]) {  // Collector option; counters replace the summary attributes here
    std::string s;
    if (!r.get_enum(root["summary"], "summary", {"debug", "info", "silent"}, s)) return nullptr;
  }

  RE2::Options opts;
  opts.set_log_errors(false);
  std::string all;
  auto add_pattern = [&](std::string name, const std::string& re, int group, bool luhn,
                         const std::string& where) {
    Pattern pat;
    pat.name = std::move(name);
    pat.re = std::make_unique<RE2>(re, opts);
    if (!pat.re->ok()) return r.fail(where, "invalid pattern \"" + re + "\": " + pat.re->error());
    pat.group = group <= pat.re->NumberOfCapturingGroups() ? group : 0;
    pat.luhn = luhn;
    if (!all.empty()) all += '|';
    all += "(?:" + re + ")";
    st->patterns_.push_back(std::move(pat));
    return true;
  };
  st->c_seen_ = st->counters_.add_seen();
  st->c_edited_ = st->counters_.add_edited();
  for (std::size_t i = 2; i < 7; ++i)  // ignored keys are never redacted: no counter
    st->c_rule_[i] = st->counters_.add("attributes_redacted",
                                       "Attributes a redact stage deleted, hashed or masked whole, "
                                       "by the rule that named the key.",
                                       {{"rule", kRuleNames[i]}});
  if (!list("builtin_patterns", xs)) return nullptr;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Builtin* b = nullptr;
    for (const Builtin& c : kBuiltins)
      if (xs[i] == c.name) b = &c;
    if (!b)
      return r.fail("builtin_patterns[" + std::to_string(i) + "]",
                    "expected one of email, credit_card, bearer_token, api_key; got \"" + xs[i] +
                        "\""),
             nullptr;
    if (!add_pattern(b->name, b->re, b->group, b->luhn, "builtin_patterns")) return nullptr;
  }
  if (!list("blocked_values", xs)) return nullptr;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (!add_pattern("blocked_values[" + std::to_string(i) + "]", xs[i], 0, false,
                     "blocked_values[" + std::to_string(i) + "]"))
      return nullptr;
  for (Pattern& pat : st->patterns_)
    pat.counter = st->counters_.add(
        "values_masked", "Values (attributes, log bodies) in which a redact pattern masked text.",
        {{"pattern", pat.name}});
  if (!all.empty()) {
    opts.set_never_capture(true);
    st->any_pattern_ = std::make_unique<RE2>(all, opts);
    if (!st->any_pattern_->ok())
      return r.fail("blocked_values", "patterns do not compile together"), nullptr;
  }
  // Only exact keys decide anything: a key whose signature none of them has is none of them.
  st->exact_keys_only_ = !st->any_pattern_ && !st->allowlist_ && st->delete_patterns_.empty() &&
                         st->hash_patterns_.empty() && st->blocked_key_patterns_.empty();
  for (const StringSet* set : {&st->delete_, &st->hash_})
    for (const std::string& k : *set) {
      st->key_lengths_ |= length_bit(k.size());
      const unsigned sig = otlp::Attribute::key_signature(k);
      st->key_signatures_[sig / 64] |= uint64_t{1} << (sig % 64);
    }
  return st;
}

bool RedactStage::may_name_any(const otlp::Index& ix) const {
  for (unsigned w = 0; w < 4; ++w)
    for (uint64_t bits = key_signatures_[w]; bits != 0; bits &= bits - 1)
      if (ix.may_have_key_signature(static_cast<uint8_t>(w * 64 + std::countr_zero(bits))))
        return true;
  return false;
}

uint32_t RedactStage::decide(std::string_view key) const {
  if (ignored_.find(key) != ignored_.end()) return kIgnore;
  if (delete_.find(key) != delete_.end()) return kDeleteExact;
  if (delete_patterns_.matches(key)) return kDeletePattern;
  if (allowlist_ && allowed_.find(key) == allowed_.end()) return kDeleteNotAllowed;
  if (hash_.find(key) != hash_.end() || hash_patterns_.matches(key)) return kHash;
  if (blocked_key_patterns_.matches(key)) return kMaskWhole;
  return kScan;
}

bool RedactStage::mask_value(std::string_view in, std::string& out, uint64_t* per_pattern) const {
  if (!any_pattern_ || !RE2::PartialMatch(re2::StringPiece(in.data(), in.size()), *any_pattern_))
    return false;
  bool any = false;
  t_tmp.assign(in.data(), in.size());
  re2::StringPiece groups[2];
  for (std::size_t pi = 0; pi < patterns_.size(); ++pi) {
    const Pattern& pat = patterns_[pi];
    const std::string& cur = t_tmp;
    out.clear();
    std::size_t pos = 0, copied = 0;
    bool hit = false;
    const int n = pat.group > 0 ? 2 : 1;
    while (pos <= cur.size() &&
           pat.re->Match(re2::StringPiece(cur), pos, cur.size(), RE2::UNANCHORED, groups, n)) {
      re2::StringPiece m = groups[0];
      const std::size_t mbeg = static_cast<std::size_t>(m.data() - cur.data());
      const std::size_t mend = mbeg + m.size();
      if (m.empty()) {  // an empty match masks nothing; step past it
        pos = mend + 1;
        continue;
      }
      if (!pat.luhn || luhn_ok(std::string_view(m.data(), m.size()))) {
        re2::StringPiece target =
            (n == 2 && groups[1].data() != nullptr && !groups[1].empty()) ? groups[1] : m;
        const std::size_t tbeg = static_cast<std::size_t>(target.data() - cur.data());
        out.append(cur, copied, tbeg - copied);
        out.append(mask_);
        copied = tbeg + target.size();
        hit = true;
      }
      pos = mend;
    }
    if (!hit) continue;
    out.append(cur, copied, std::string::npos);
    t_tmp.swap(out);
    per_pattern[pi] += 1;
    any = true;
  }
  if (any) out.assign(t_tmp);
  return any;
}

void RedactStage::hash_value(std::string_view text, std::string& out) const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), hmac_key_.data(), static_cast<int>(hmac_key_.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  out.clear();
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
}

void RedactStage::process(const otlp::Index& ix, otlp::Edits& edits) {
  counters_.bump(c_seen_, edits.items_left());
  DecisionCache::Map& cache = key_cache_.local();
  uint64_t by_rule[7] = {};
  uint64_t per_pattern_stack[16] = {};
  // Per-pattern tallies: on the stack for the usual few patterns, a thread_local vector beyond.
  thread_local std::vector<uint64_t> per_pattern_heap;
  uint64_t* per_pattern = per_pattern_stack;
  if (patterns_.size() > 16) {
    per_pattern_heap.assign(patterns_.size(), 0);
    per_pattern = per_pattern_heap.data();
  }
  std::vector<uint32_t>& edited = t_edited;
  edited.clear();
  // One owner's attributes as the earlier stages left them; `item` is the item an edit counts for
  // (a span for its events and links).
  auto set_string = [&](const otlp::Attribute& a, std::string_view text) {
    t_value.clear();
    append_any_value_string(t_value, text);
    edits.set_attribute_value(a, t_value);
  };
  auto redact_owner = [&](int level, uint32_t item, std::span<const otlp::Attribute> attrs) {
    bool changed = false;
    for (const otlp::Attribute& a : attrs) {
      if (exact_keys_only_ && !may_be_named(a)) continue;
      const uint32_t action =
          DecisionCache::get(cache, a.key, [this](std::string_view k) { return decide(k); });
      switch (action) {
        case kIgnore:
          continue;
        case kDeleteExact:
        case kDeletePattern:
        case kDeleteNotAllowed:
          edits.drop_attribute(a);
          ++by_rule[action];
          break;
        case kHash:
          t_text.clear();
          append_attribute_text(a, t_text);
          hash_value(t_text, t_masked);
          set_string(a, t_masked);
          ++by_rule[action];
          break;
        case kMaskWhole:
          set_string(a, mask_);
          ++by_rule[action];
          break;
        default:
          if (a.type != otlp::ValueType::string || !mask_value(a.scalar(), t_masked, per_pattern))
            continue;
          set_string(a, t_masked);
          break;
      }
      changed = true;
    }
    if (changed && level == 2) edited.push_back(item);
  };
  if (edits.empty() && exact_keys_only_) {
    // Nothing changed yet (the index is the request) and only a few keys matter: no pass at all
    // when the request has none of their signatures (the usual case), else one pass over the
    // index's attributes, the owner looked up for the rare candidates.
    const auto nodes = ix.nodes();
    const auto attrs = may_name_any(ix) ? ix.attributes() : std::span<const otlp::Attribute>();
    for (const otlp::Attribute& a : attrs) {
      if (!may_be_named(a)) continue;
      const otlp::Node& owner = nodes[nodes[a.node].parent];
      const int level = owner.kind == otlp::NodeKind::resource ? 0
                        : owner.kind == otlp::NodeKind::scope  ? 1
                                                               : 2;
      if (!levels_[level]) continue;
      // An event's or link's attributes count for their span.
      const bool in_span = owner.kind == otlp::NodeKind::span_event ||
                           owner.kind == otlp::NodeKind::span_link;
      redact_owner(level, in_span ? owner.parent : nodes[a.node].parent, std::span(&a, 1));
    }
  } else {
    if (levels_[0])
      for (const auto& r : ix.resources())
        if (!edits.dropped(r.node)) redact_owner(0, r.node, edits.attributes(r));
    if (levels_[1])
      for (const auto& sc : ix.scopes())
        if (!edits.dropped(sc.node)) redact_owner(1, sc.node, edits.attributes(sc));
    if (levels_[2]) {
      auto items = [&](const auto& entries, auto item_of) {
        for (const auto& e : entries)
          if (!edits.dropped(e.node)) redact_owner(2, item_of(e), edits.attributes(e));
      };
      const auto self = [](const auto& e) { return e.node; };
      switch (ix.signal()) {
        case Signal::metrics: items(ix.data_points(), self); break;
        case Signal::traces:
          items(ix.spans(), self);
          items(ix.span_events(), [&](const otlp::SpanEventEntry& e) { return ix.spans()[e.span].node; });
          items(ix.span_links(), [&](const otlp::SpanLinkEntry& e) { return ix.spans()[e.span].node; });
          break;
        case Signal::logs: items(ix.log_records(), self); break;
      }
    }
  }

  if (log_bodies_ && any_pattern_ && ix.signal() == Signal::logs) {
    for (const otlp::LogRecordEntry& l : ix.log_records()) {
      if (edits.dropped(l.node)) continue;
      const otlp::LogBody body = edits.log_body(l);
      if (body.type != otlp::ValueType::string) continue;
      if (!mask_value(body.scalar, t_masked, per_pattern)) continue;
      t_value.clear();
      append_any_value_string(t_value, t_masked);
      edits.set_log_body(l, t_value);
      edited.push_back(l.node);
    }
  }
  std::sort(edited.begin(), edited.end());
  counters_.bump(c_edited_,
                 static_cast<uint64_t>(std::unique(edited.begin(), edited.end()) - edited.begin()));
  for (std::size_t i = 2; i < 7; ++i) counters_.bump(c_rule_[i], by_rule[i]);
  for (std::size_t i = 0; i < patterns_.size(); ++i)
    counters_.bump(patterns_[i].counter, per_pattern[i]);
}

}  // namespace otlpgate::filters
