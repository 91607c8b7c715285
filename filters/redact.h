// RedactStage: deletes, allowlists, hashes and masks attribute values (and string log bodies).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "core/config/config.h"
#include "filters/counted_stage.h"
#include "filters/string_matcher.h"

namespace otlpgate::filters {

// Config (key names follow the Collector's redaction processor where it has one):
//
//   redact/pii:                      # type `redact`, or `redaction`
//     levels: [resource, scope, item]   # which attributes (item = point/span/event/link/log)
//     ignored_keys: [k]             # never deleted, hashed or masked
//     delete_keys: [k]              # exact keys removed
//     delete_key_patterns: [re]     # keys matching (RE2, unanchored) removed
//     allowed_keys: [k]             # when given, every other key is removed (fail closed)
//     allow_all_keys: false         # Collector form: false without allowed_keys removes all
//     hash_keys: [k]                # value -> hex HMAC-SHA256(key, text of the value)
//     hash_key_patterns: [re]
//     hash_key_env: NAME            # environment variable holding the HMAC key (or hash_key:)
//     blocked_key_patterns: [re]    # whole value of matching keys replaced by `mask`
//     blocked_values: [re]          # parts of string values matching are replaced by `mask`
//     builtin_patterns: [email, credit_card, bearer_token, api_key]
//     mask: "****"
//     log_bodies: true              # apply the value patterns to string log bodies too
//
// Without allowed_keys and allow_all_keys every key is allowed (a block that only lists
// delete_keys does not silently remove everything else). Rules apply in the order listed above:
// the first that names a key decides. Counters count redactions per rule and per pattern.
class RedactStage final : public CountedStage {
 public:
  static std::unique_ptr<RedactStage> create(const config::Processor& p, std::string* err);

  void process(const otlp::Index& request, otlp::Edits& edits) override;
  std::string_view name() const override { return id_; }

  enum KeyAction : uint32_t {
    kScan,
    kIgnore,
    kDeleteExact,
    kDeletePattern,
    kDeleteNotAllowed,
    kHash,
    kMaskWhole
  };

 private:
  struct Pattern {
    std::string name;
    std::unique_ptr<RE2> re;
    int group = 0;  // capture group to mask when it took part in the match; else the whole match
    bool luhn = false;  // only mask digit runs that pass the Luhn check (card numbers)
    std::size_t counter = 0;
  };

  uint32_t decide(std::string_view key) const;
  // Masks the pattern matches of `in` into `out`; returns true when anything was masked.
  bool mask_value(std::string_view in, std::string& out, uint64_t* per_pattern) const;
  void hash_value(std::string_view text, std::string& out) const;

  std::string id_;
  bool levels_[3] = {true, true, true};  // resource, scope, item
  StringSet ignored_, delete_, allowed_, hash_;
  StringMatcher delete_patterns_, hash_patterns_, blocked_key_patterns_;
  // When every rule names exact keys (the usual delete_keys / hash_keys block), the set of their
  // lengths and of their signatures (otlp::Attribute::key_signature): most attributes are passed
  // over on their length and signature alone, without reading the key or looking it up.
  static uint64_t length_bit(std::size_t n) { return uint64_t{1} << (n < 63 ? n : 63); }
  bool may_be_named(const otlp::Attribute& a) const {
    return (key_lengths_ & length_bit(a.key.size())) != 0 &&
           ((key_signatures_[a.key_sig / 64] >> (a.key_sig % 64)) & 1u) != 0;
  }
  // Whether the signature of one of those keys is among the request's
  // (otlp::Index::may_have_key_signature).
  bool may_name_any(const otlp::Index& ix) const;
  bool exact_keys_only_ = false;
  uint64_t key_lengths_ = 0;
  uint64_t key_signatures_[4] = {};
  bool allowlist_ = false;
  std::string hmac_key_;
  std::vector<Pattern> patterns_;
  std::unique_ptr<RE2> any_pattern_;  // all patterns at once: the fast "nothing to mask" test
  std::string mask_ = "****";
  bool log_bodies_ = true;
  DecisionCache key_cache_;
  std::size_t c_seen_ = 0, c_edited_ = 0, c_rule_[7] = {};
};

}  // namespace otlpgate::filters
