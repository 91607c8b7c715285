// RelabelStage: Prometheus metric_relabel_configs over data points, and OTel attribute actions.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "core/config/config.h"
#include "filters/counted_stage.h"
#include "filters/per_thread.h"
#include "filters/string_matcher.h"

namespace otlpgate::filters {

// Config:
//
//   relabel/x:                          # type `relabel`; also `attributes` and `resource`
//     metric_relabel_configs:           # (or relabel_configs) Prometheus rules, metrics only
//       - source_labels: [__name__]
//         regex: aws_applicationelb_.*
//         target_label: service
//         replacement: elb
//     actions:                          # OTel attribute actions, every signal
//       - {key: service.name, value: firehose, action: insert, level: resource}
//
// Prometheus rules see one label set per data point: `__name__` is the metric name and the other
// labels are the point's attributes (non-string values in their text form). The semantics are
// Prometheus's model/relabel: defaults action replace, separator ";", regex "(.*)" fully
// anchored (RE2), replacement "$1"; a missing source label is ""; an empty replace result
// deletes the target; keep/drop/keepequal/dropequal drop the data point; hashmod is the MD5 of
// the joined value, last 8 bytes big-endian, mod `modulus`. Label names may be any non-empty
// string (OTel keys contain dots). Changing `__name__` renames the metric; deleting it drops the
// point. Points of one metric that end up with different names keep the first point's name (a
// metric cannot be split in place) and count as a name conflict. lowercase/uppercase are ASCII.
//
// Actions run after the rules: insert (only if absent), update (only if present), upsert,
// delete, rename (to `new_key`); `value` keeps its YAML type (quote it for a string) or
// `from_attribute` copies another attribute; `level` is resource, scope or item (default item;
// the `resource` processor type defaults to resource and, like the Collector's, may name its
// list `attributes:`).
class RelabelStage final : public CountedStage {
 public:
  static std::unique_ptr<RelabelStage> create(const config::Processor& p, std::string* err);

  void process(const otlp::Index& request, otlp::Edits& edits) override;
  std::string_view name() const override { return id_; }

  enum class Action : uint8_t {
    replace,
    keep,
    drop,
    keepequal,
    dropequal,
    hashmod,
    labelmap,
    labeldrop,
    labelkeep,
    lowercase,
    uppercase
  };
  struct Rule {
    Action action = Action::replace;
    std::vector<std::string> source_labels;
    std::string separator = ";";
    std::unique_ptr<RE2> re;
    std::map<std::string, int> named_groups;
    uint64_t modulus = 0;
    std::string target_label;
    std::string replacement = "$1";
    bool captures = true;  // replacement or target_label refer to submatches ($1, ${name})
    // The names `re` may match, for a replace, keep or drop rule whose one source is __name__;
    // unbounded otherwise.
    MatchBounds name_bounds;
  };
  // What a capturing rule's regex made of one input: whether it matched, and where each
  // submatch was (offset, size; offset -1 when the group took no part). Remembered per input.
  struct MatchSpans {
    bool matched = false;
    std::vector<std::pair<std::ptrdiff_t, std::size_t>> spans;
  };
  using MatchMemo = std::unordered_map<std::string, MatchSpans, StringHash, std::equal_to<>>;
  static constexpr std::size_t kMemoEntries = 4096;  // per rule and thread; then cleared
  enum class AttrOp : uint8_t { insert, update, upsert, del, rename };
  enum Level : uint8_t { kResource = 0, kScope = 1, kItem = 2 };
  struct AttrAction {
    AttrOp op = AttrOp::upsert;
    Level level = kItem;
    std::string key;
    std::string new_key;
    std::string from_attribute;
    std::string value_payload;  // AnyValue payload of `value`
    std::string value_text;
    bool has_value = false;
  };

 private:
  std::string id_;
  std::vector<Rule> rules_;
  std::vector<AttrAction> actions_;
  bool has_level_[3] = {false, false, false};
  bool name_only_ = false;  // every rule reads only __name__: outcomes cached per metric name
  // Every rule is a replace or drop with name_bounds: a request none of whose metric names lies
  // within any rule's bounds is left as it is without visiting its metrics.
  bool passive_bounded_ = false;
  DecisionCache name_cache_;
  PerThread<std::vector<MatchMemo>> memo_;  // one per rule

 public:
  // What name-only rules do to every point of a metric of one name: the labels they set (or
  // delete, when `value` is empty), net of each other, in the order they first set them.
  struct LabelWrite {
    std::string name;
    std::string value;    // text; empty deletes (Prometheus Builder.Set)
    std::string payload;  // AnyValue payload of `value`
  };
  struct NamePlan {
    std::string final_name;
    std::vector<LabelWrite> writes;
  };

 private:
  // Plans by metric name, indexed by name_cache_'s value (past the fixed outcomes).
  PerThread<std::vector<NamePlan>> plans_;
  std::size_t c_seen_ = 0, c_dropped_ = 0, c_no_name_ = 0, c_edited_ = 0, c_renamed_ = 0,
              c_conflicts_ = 0;
};

// Go regexp Expand over one match (the $1 / ${1} / $name / ${name} / $$ template language that
// Prometheus replacements use): `groups` are the match's submatches, unmatched ones null.
void expand_template(std::string_view tmpl, const re2::StringPiece* groups, int ngroups,
                     const std::map<std::string, int>& named, std::string& out);

}  // namespace otlpgate::filters
