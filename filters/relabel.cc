// RelabelStage: each owner's attributes are loaded into a reusable label set, the rules and
// actions run on it, and the difference becomes edits.
#include "filters/relabel.h"

#include <charconv>
#include <cstring>

#include <openssl/evp.h>
#include <protozero/pbf_writer.hpp>

#include "core/otlp/fields.h"
#include "filters/attribute_text.h"
#include "filters/yaml_reader.h"

namespace otlpgate::filters {

using otlp::Attribute;

// ---------------------------------------------------------------------------------------------
// Go's regexp.Expand template language.

namespace {

bool is_name_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

}  // namespace

void expand_template(std::string_view t, const re2::StringPiece* groups, int ngroups,
                     const std::map<std::string, int>& named, std::string& out) {
  while (!t.empty()) {
    const std::size_t d = t.find('$');
    if (d == std::string_view::npos) {
      out.append(t);
      return;
    }
    out.append(t.substr(0, d));
    t.remove_prefix(d);
    if (t.size() > 1 && t[1] == '$') {
      out += '$';
      t.remove_prefix(2);
      continue;
    }
    // extract(): $name or ${name}; on failure the '$' is literal text.
    bool ok = false;
    std::string_view name, rest;
    if (t.size() >= 2) {
      const bool brace = t[1] == '{';
      std::string_view s = t.substr(brace ? 2 : 1);
      std::size_t i = 0;
      while (i < s.size() && is_name_byte(static_cast<unsigned char>(s[i]))) ++i;
      if (i > 0) {
        name = s.substr(0, i);
        if (!brace) {
          ok = true;
          rest = s.substr(i);
        } else if (i < s.size() && s[i] == '}') {
          ok = true;
          rest = s.substr(i + 1);
        }
      }
    }
    if (!ok) {
      out += '$';
      t.remove_prefix(1);
      continue;
    }
    t = rest;
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;  // Go: no leading zeros
    if (num < 0) {
      auto it = named.find(std::string(name));
      if (it != named.end())
        num = it->second;
      else
        continue;  // unknown name: empty
    }
    if (num < ngroups && groups[num].data() != nullptr)
      out.append(groups[num].data(), groups[num].size());
  }
}

namespace {

// One label of a data point (or one attribute of any owner) while rules and actions run.
struct Label {
  std::string name;
  std::string value;    // text form
  std::string payload;  // AnyValue payload when `typed`
  int32_t attr = -1;    // index into Scratch::attrs; -1 new; -2 the __name__ pseudo-label
  bool deleted = false;
  bool changed = false;
  bool typed = false;
};

constexpr int32_t kNameLabel = -2;

// Per-metric-name outcomes of rules that read only __name__.
// Past these, the value is kNamePlan + an index into the thread's plans.
constexpr uint32_t kNameNoop = 0, kNameDrop = 1, kNameNoName = 2, kNamePlan = 3;

using LabelWrite = RelabelStage::LabelWrite;

// A reusable label set: reset() keeps every string's capacity, so steady state allocates nothing.
class LabelSet {
 public:
  void reset() { n_ = 0; }
  // While set, every set() is also recorded there, net of earlier ones (NamePlan::writes).
  void journal(std::vector<LabelWrite>* j) { journal_ = j; }
  std::size_t size() const { return n_; }
  Label& operator[](std::size_t i) { return v_[i]; }

  Label& push(std::string_view name, int32_t attr) {
    if (n_ == v_.size()) v_.emplace_back();
    Label& l = v_[n_++];
    l.name.assign(name.data(), name.size());
    l.value.clear();
    l.payload.clear();
    l.attr = attr;
    l.deleted = l.changed = l.typed = false;
    return l;
  }
  int find(std::string_view name) const {
    for (std::size_t i = 0; i < n_; ++i)
      if (!v_[i].deleted && v_[i].name == name) return static_cast<int>(i);
    return -1;
  }
  std::string_view get(std::string_view name) const {
    const int i = find(name);
    return i < 0 ? std::string_view() : std::string_view(v_[static_cast<std::size_t>(i)].value);
  }
  void del(std::string_view name) {
    const int i = find(name);
    if (i >= 0) v_[static_cast<std::size_t>(i)].deleted = true;
  }
  // Prometheus Builder.Set: an empty value deletes. `value` must not point into this set.
  void set(std::string_view name, std::string_view value) {
    if (journal_) record(name, value);
    if (value.empty()) return del(name);
    Label& l = slot(name);
    if (l.typed || l.value != value) {
      l.value.assign(value.data(), value.size());
      l.typed = false;
      l.changed = true;
    }
  }
  // Sets a typed value (attribute actions): text for later rules, payload for the wire.
  void set_typed(std::string_view name, std::string_view text, std::string_view payload) {
    Label& l = slot(name);
    l.value.assign(text.data(), text.size());
    l.payload.assign(payload.data(), payload.size());
    l.typed = true;
    l.changed = true;
  }

 private:
  // The live label of that name, else a deleted original to revive, else a new one.
  Label& slot(std::string_view name) {
    int i = find(name);
    if (i < 0) {
      for (std::size_t j = 0; j < n_; ++j)
        if (v_[j].deleted && v_[j].attr >= 0 && v_[j].name == name) i = static_cast<int>(j);
      if (i >= 0) {
        Label& l = v_[static_cast<std::size_t>(i)];
        l.deleted = false;
        l.changed = true;
        return l;
      }
      Label& l = push(name, -1);
      l.changed = true;
      return l;
    }
    return v_[static_cast<std::size_t>(i)];
  }

  void record(std::string_view name, std::string_view value) {
    for (LabelWrite& w : *journal_) {
      if (w.name == name) {
        w.value.assign(value.data(), value.size());
        return;
      }
    }
    journal_->push_back({std::string(name), std::string(value), {}});
  }

  std::vector<Label> v_;
  std::size_t n_ = 0;
  std::vector<LabelWrite>* journal_ = nullptr;
};

struct Scratch {
  LabelSet labels;
  std::string val, target, res, tmp, tmp2, payload, new_name;
  std::vector<re2::StringPiece> groups;
  std::vector<LabelWrite> writes;
  // A name plan's writes encoded for the points of the metric at hand, encoded on first use.
  std::vector<otlp::Edits::EncodedAttribute> encoded;
  // The attributes of the owner being relabelled, as the earlier stages left them (Edits' view:
  // valid until the next attributes() call, i.e. for this owner).
  std::span<const Attribute> attrs;
};
thread_local Scratch t_s;

void load_attributes(Scratch& s, std::span<const Attribute> attrs) {
  s.attrs = attrs;
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    const Attribute& a = attrs[i];
    if (s.labels.find(a.key) >= 0) continue;  // a repeated key: the first one is the label
    Label& l = s.labels.push(a.key, static_cast<int32_t>(i));
    append_attribute_text(a, l.value);
  }
}

// The AnyValue payload a label would have on the wire.
void label_payload(std::span<const Attribute> attrs, Label& l, std::string& out) {
  out.clear();
  if (l.typed)
    out.assign(l.payload);
  else if (l.attr >= 0 && !l.changed)
    out.assign(attrs[static_cast<std::size_t>(l.attr)].value);
  else
    append_any_value_string(out, l.value);
}

// Without `capture` RE2 only answers yes or no (its DFA, which allocates nothing once warm);
// with it, `groups` receive the submatches.
bool full_match(const RE2& re, std::string_view s, std::vector<re2::StringPiece>& groups,
                bool capture) {
  const int n = capture ? re.NumberOfCapturingGroups() + 1 : 0;
  if (groups.size() < static_cast<std::size_t>(n)) groups.resize(static_cast<std::size_t>(n));
  return re.Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::ANCHOR_BOTH,
                  groups.data(), n);
}

using MatchMemo = RelabelStage::MatchMemo;

// A capturing full match that remembers each input it saw and where the submatches were (a
// bounded map per rule and thread): the points of a metric give a rule the same __name__ again
// and again, and RE2 allocates to find submatches.
bool memo_match(const RE2& re, MatchMemo& memo, const std::string& in,
                std::vector<re2::StringPiece>& groups) {
  const std::size_t n = static_cast<std::size_t>(re.NumberOfCapturingGroups()) + 1;
  if (groups.size() < n) groups.resize(n);
  auto it = memo.find(std::string_view(in));
  if (it == memo.end()) {
    RelabelStage::MatchSpans m;
    m.matched = full_match(re, in, groups, true);
    for (std::size_t i = 0; m.matched && i < n; ++i)
      m.spans.emplace_back(groups[i].data() ? groups[i].data() - in.data() : -1, groups[i].size());
    if (memo.size() >= RelabelStage::kMemoEntries) memo.clear();
    return memo.emplace(in, std::move(m)).first->second.matched;
  }
  const RelabelStage::MatchSpans& m = it->second;
  for (std::size_t i = 0; m.matched && i < n; ++i)
    groups[i] = m.spans[i].first < 0
                    ? re2::StringPiece()
                    : re2::StringPiece(in.data() + m.spans[i].first, m.spans[i].second);
  return m.matched;
}

uint64_t hashmod(std::string_view s, uint64_t modulus) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_md5(), nullptr);
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | md[i];
  return v % modulus;
}

using Rule = RelabelStage::Rule;
using Action = RelabelStage::Action;

// Prometheus relabel.Process over one label set; false when the series is dropped. `wrote` is
// set when any rule set or deleted a label (even one that was absent).
bool apply_rules(const std::vector<Rule>& rules, Scratch& s, std::vector<MatchMemo>& memo,
                 bool* wrote = nullptr) {
  LabelSet& ls = s.labels;
  bool dummy = false;
  bool& w = wrote ? *wrote : dummy;
  memo.resize(rules.size());
  for (std::size_t ri = 0; ri < rules.size(); ++ri) {
    const Rule& r = rules[ri];
    s.val.clear();
    for (std::size_t i = 0; i < r.source_labels.size(); ++i) {
      if (i) s.val += r.separator;
      s.val.append(ls.get(r.source_labels[i]));
    }
    const int ng = r.re->NumberOfCapturingGroups() + 1;
    switch (r.action) {
      case Action::replace: {
        if (!(r.captures ? memo_match(*r.re, memo[ri], s.val, s.groups)
                         : full_match(*r.re, s.val, s.groups, false)))
          break;
        s.target.clear();
        expand_template(r.target_label, s.groups.data(), ng, r.named_groups, s.target);
        if (s.target.empty()) break;  // not a valid label name
        s.res.clear();
        expand_template(r.replacement, s.groups.data(), ng, r.named_groups, s.res);
        ls.set(s.target, s.res);
        w = true;
        break;
      }
      case Action::keep:
        if (!full_match(*r.re, s.val, s.groups, false)) return false;
        break;
      case Action::drop:
        if (full_match(*r.re, s.val, s.groups, false)) return false;
        break;
      case Action::keepequal:
        if (ls.get(r.target_label) != s.val) return false;
        break;
      case Action::dropequal:
        if (ls.get(r.target_label) == s.val) return false;
        break;
      case Action::hashmod: {
        char buf[24];
        auto res = std::to_chars(buf, buf + sizeof buf, hashmod(s.val, r.modulus));
        s.res.assign(buf, res.ptr);
        ls.set(r.target_label, s.res);
        w = true;
        break;
      }
      case Action::lowercase:
      case Action::uppercase: {
        s.res = s.val;
        for (char& c : s.res) {
          if (r.action == Action::lowercase && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
          if (r.action == Action::uppercase && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        }
        ls.set(r.target_label, s.res);
        w = true;
        break;
      }
      case Action::labelmap: {
        const std::size_t n = ls.size();  // labels added here are not revisited (Builder.Range)
        for (std::size_t i = 0; i < n; ++i) {
          if (ls[i].deleted) continue;
          s.tmp = ls[i].name;
          if (!full_match(*r.re, s.tmp, s.groups, r.captures)) continue;
          s.res.clear();
          expand_template(r.replacement, s.groups.data(), ng, r.named_groups, s.res);
          if (s.res.empty()) continue;
          s.tmp2 = ls[i].value;
          ls.set(s.res, s.tmp2);
        }
        break;
      }
      case Action::labeldrop:
      case Action::labelkeep: {
        for (std::size_t i = 0; i < ls.size(); ++i) {
          if (ls[i].deleted) continue;
          s.tmp = ls[i].name;
          const bool m = full_match(*r.re, s.tmp, s.groups, false);
          if (m == (r.action == Action::labeldrop)) ls[i].deleted = true;
        }
        break;
      }
    }
  }
  return true;
}

using AttrAction = RelabelStage::AttrAction;
using AttrOp = RelabelStage::AttrOp;

void apply_actions(const std::vector<AttrAction>& actions, RelabelStage::Level level,
                   Scratch& s) {
  LabelSet& ls = s.labels;
  for (const AttrAction& a : actions) {
    if (a.level != level) continue;
    const int at = ls.find(a.key);
    switch (a.op) {
      case AttrOp::del:
        if (at >= 0) ls[static_cast<std::size_t>(at)].deleted = true;
        continue;
      case AttrOp::rename:
        if (at < 0) continue;
        s.tmp = ls[static_cast<std::size_t>(at)].value;
        label_payload(s.attrs, ls[static_cast<std::size_t>(at)], s.payload);
        ls[static_cast<std::size_t>(at)].deleted = true;
        ls.set_typed(a.new_key, s.tmp, s.payload);
        continue;
      case AttrOp::insert:
        if (at >= 0) continue;
        break;
      case AttrOp::update:
        if (at < 0) continue;
        break;
      case AttrOp::upsert:
        break;
    }
    if (a.has_value) {
      ls.set_typed(a.key, a.value_text, a.value_payload);
    } else {
      const int from = ls.find(a.from_attribute);
      if (from < 0) continue;
      s.tmp = ls[static_cast<std::size_t>(from)].value;
      label_payload(s.attrs, ls[static_cast<std::size_t>(from)], s.payload);
      ls.set_typed(a.key, s.tmp, s.payload);
    }
  }
}

// Writes the label set's differences from the attributes it was loaded from as edits; `add`
// adds a new attribute to the owner. Returns true when anything changed.
template <typename Add>
bool emit(Scratch& s, otlp::Edits& edits, Add&& add) {
  bool changed = false;
  LabelSet& ls = s.labels;
  for (std::size_t i = 0; i < ls.size(); ++i) {
    Label& l = ls[i];
    if (l.attr == kNameLabel) continue;
    if (l.attr >= 0) {
      const Attribute& a = s.attrs[static_cast<std::size_t>(l.attr)];
      if (l.deleted) {
        edits.drop_attribute(a);
        changed = true;
      } else if (l.changed) {
        label_payload(s.attrs, l, s.payload);
        edits.set_attribute_value(a, s.payload);
        changed = true;
      }
    } else if (!l.deleted) {
      label_payload(s.attrs, l, s.payload);
      add(std::string_view(l.name), std::string_view(s.payload));
      changed = true;
    }
  }
  return changed;
}

bool parse_action_name(const std::string& s, Action& out) {
  static const std::pair<const char*, Action> kNames[] = {
      {"replace", Action::replace},     {"keep", Action::keep},
      {"drop", Action::drop},           {"keepequal", Action::keepequal},
      {"dropequal", Action::dropequal}, {"hashmod", Action::hashmod},
      {"labelmap", Action::labelmap},   {"labeldrop", Action::labeldrop},
      {"labelkeep", Action::labelkeep}, {"lowercase", Action::lowercase},
      {"uppercase", Action::uppercase}};
  std::string lower = s;
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  for (auto [n, a] : kNames)
    if (lower == n) {
      out = a;
      return true;
    }
  return false;
}

// A YAML scalar as an AnyValue: plain scalars that read as int, float or bool keep that type.
void typed_value(const YAML::Node& n, std::string& payload, std::string& text) {
  const std::string& s = n.Scalar();
  text = s;
  payload.clear();
  if (n.Tag() != "!") {
    int64_t i = 0;
    auto ri = std::from_chars(s.data(), s.data() + s.size(), i);
    if (!s.empty() && ri.ec == std::errc() && ri.ptr == s.data() + s.size()) {
      protozero::pbf_writer(payload).add_int64(otlp::num(otlp::AnyValue::int_value), i);
      return;
    }
    if (s == "true" || s == "false") {
      protozero::pbf_writer(payload).add_bool(otlp::num(otlp::AnyValue::bool_value), s == "true");
      return;
    }
    double d = 0;
    auto rd = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!s.empty() && rd.ec == std::errc() && rd.ptr == s.data() + s.size()) {
      protozero::pbf_writer(payload).add_double(otlp::num(otlp::AnyValue::double_value), d);
      return;
    }
  }
  append_any_value_string(payload, s);
}

}  // namespace

std::unique_ptr<RelabelStage> RelabelStage::create(const config::Processor& p, std::string* err) {
  YamlReader r(p, err);
  YAML::Node root;
  if (!r.load(p, root)) return nullptr;
  if (!r.check_keys(root, "",
                    {"metric_relabel_configs", "relabel_configs", "actions", "attributes"}))
    return nullptr;
  // The Collector's resource processor calls its action list `attributes`.
  const char* actions_key = "actions";
  if (root["attributes"]) {
    if (p.type != "resource" || root["actions"])
      return r.fail("attributes", "only for processors of type resource (elsewhere: actions)"),
             nullptr;
    actions_key = "attributes";
  }
  auto st = std::unique_ptr<RelabelStage>(new RelabelStage());
  st->id_ = p.id;
  const Level default_level = p.type == "resource" ? kResource : kItem;
  RE2::Options opts;
  opts.set_log_errors(false);
  for (const char* key : {"metric_relabel_configs", "relabel_configs"}) {
    const YAML::Node list = root[key];
    if (!list) continue;
    if (!list.IsSequence()) return r.fail(key, "expected a list of relabel rules"), nullptr;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      const YAML::Node n = list[i];
      if (!r.check_keys(n, path,
                        {"source_labels", "separator", "regex", "modulus", "target_label",
                         "replacement", "action"}))
        return nullptr;
      Rule rule;
      std::string regex = "(.*)";
      if (n["action"]) {
        std::string a;
        if (!r.get_string(n["action"], path + ".action", a)) return nullptr;
        if (!parse_action_name(a, rule.action))
          return r.fail(path + ".action",
                        "expected one of replace, keep, drop, keepequal, dropequal, hashmod, "
                        "labelmap, labeldrop, "
                        "labelkeep, lowercase, uppercase; got \"" +
                            a + "\""),
                 nullptr;
      }
      if (n["source_labels"] &&
          !r.get_string_list(n["source_labels"], path + ".source_labels", rule.source_labels))
        return nullptr;
      if (n["separator"] && !r.get_string(n["separator"], path + ".separator", rule.separator))
        return nullptr;
      if (n["regex"] && !r.get_string(n["regex"], path + ".regex", regex)) return nullptr;
      if (n["target_label"] &&
          !r.get_string(n["target_label"], path + ".target_label", rule.target_label))
        return nullptr;
      if (n["replacement"] &&
          !r.get_string(n["replacement"], path + ".replacement", rule.replacement))
        return nullptr;
      if (n["modulus"] && !r.get_uint(n["modulus"], path + ".modulus", rule.modulus))
        return nullptr;
      rule.re = std::make_unique<RE2>("^(?s:" + regex + ")$", opts);
      if (!rule.re->ok())
        return r.fail(path + ".regex",
                      "invalid regular expression \"" + regex + "\": " + rule.re->error()),
               nullptr;
      rule.named_groups = rule.re->NamedCapturingGroups();
      rule.captures = rule.replacement.find('$') != std::string::npos ||
                      rule.target_label.find('$') != std::string::npos;
      const Action a = rule.action;
      const bool needs_target = a == Action::replace || a == Action::hashmod ||
                                a == Action::lowercase || a == Action::uppercase ||
                                a == Action::keepequal || a == Action::dropequal;
      if (needs_target && rule.target_label.empty())
        return r.fail(path + ".target_label", "required for this action"), nullptr;
      if (a == Action::hashmod && rule.modulus == 0)
        return r.fail(path + ".modulus", "required (a positive integer) for action hashmod"),
               nullptr;
      if ((a == Action::labeldrop || a == Action::labelkeep) &&
          (n["source_labels"] || n["target_label"]))
        return r.fail(path, "labeldrop and labelkeep take only regex"), nullptr;
      if ((a == Action::keepequal || a == Action::dropequal) && n["regex"])
        return r.fail(path + ".regex", "keepequal and dropequal take no regex"), nullptr;
      st->rules_.push_back(std::move(rule));
    }
  }
  st->name_only_ = !st->rules_.empty();
  bool passive_bounded = true;
  for (Rule& rule : st->rules_) {
    const Action a = rule.action;
    const bool reads_name_only = a == Action::replace || a == Action::keep || a == Action::drop ||
                                 a == Action::hashmod || a == Action::lowercase ||
                                 a == Action::uppercase;
    bool only = reads_name_only;
    for (const auto& src : rule.source_labels) only = only && src == "__name__";
    st->name_only_ = st->name_only_ && only;
    if ((a == Action::replace || a == Action::keep || a == Action::drop) &&
        rule.source_labels.size() == 1 && rule.source_labels[0] == "__name__")
      rule.name_bounds.set(*rule.re);
    passive_bounded = passive_bounded && a != Action::keep && rule.name_bounds.bounded();
  }
  st->passive_bounded_ = st->name_only_ && passive_bounded;
  if (const YAML::Node list = root[actions_key]) {
    if (!list.IsSequence())
      return r.fail(actions_key, "expected a list of attribute actions"), nullptr;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = std::string(actions_key) + "[" + std::to_string(i) + "]";
      const YAML::Node n = list[i];
      if (!r.check_keys(n, path, {"key", "action", "value", "from_attribute", "new_key", "level"}))
        return nullptr;
      AttrAction a;
      a.level = default_level;
      if (!n["key"]) return r.fail(path + ".key", "required"), nullptr;
      if (!r.get_string(n["key"], path + ".key", a.key)) return nullptr;
      if (!n["action"]) return r.fail(path + ".action", "required"), nullptr;
      std::string op;
      if (!r.get_enum(n["action"], path + ".action",
                      {"insert", "update", "upsert", "delete", "rename"}, op))
        return nullptr;
      a.op = op == "insert"   ? AttrOp::insert
             : op == "update" ? AttrOp::update
             : op == "upsert" ? AttrOp::upsert
             : op == "delete" ? AttrOp::del
                              : AttrOp::rename;
      if (n["level"]) {
        std::string lv;
        if (!r.get_enum(n["level"], path + ".level", {"resource", "scope", "item"}, lv))
          return nullptr;
        a.level = lv == "resource" ? kResource : lv == "scope" ? kScope : kItem;
      }
      if (n["value"]) {
        if (!n["value"].IsScalar()) return r.fail(path + ".value", "expected a scalar"), nullptr;
        typed_value(n["value"], a.value_payload, a.value_text);
        a.has_value = true;
      }
      if (n["from_attribute"] &&
          !r.get_string(n["from_attribute"], path + ".from_attribute", a.from_attribute))
        return nullptr;
      if (n["new_key"] && !r.get_string(n["new_key"], path + ".new_key", a.new_key)) return nullptr;
      const bool sets = a.op == AttrOp::insert || a.op == AttrOp::update || a.op == AttrOp::upsert;
      if (sets && a.has_value == !a.from_attribute.empty())
        return r.fail(path, "needs exactly one of value and from_attribute"), nullptr;
      if (a.op == AttrOp::rename && a.new_key.empty())
        return r.fail(path + ".new_key", "required for rename"), nullptr;
      st->has_level_[a.level] = true;
      st->actions_.push_back(std::move(a));
    }
  }
  st->c_seen_ = st->counters_.add_seen();
  st->c_dropped_ = st->counters_.add_dropped("relabel");
  st->c_no_name_ = st->counters_.add_dropped("no_metric_name");
  st->c_edited_ = st->counters_.add_edited();
  st->c_renamed_ = st->counters_.add("metrics_renamed", "Metrics a relabel stage renamed.");
  st->c_conflicts_ = st->counters_.add(
      "metric_name_conflicts",
      "Metrics whose points a relabel stage gave different names (the first point's name kept).");
  return st;
}

namespace {

using NamePlan = RelabelStage::NamePlan;

// Runs name-only rules on a label set holding only __name__ = `name`, recording what they set.
uint32_t plan_for(std::string_view name, Scratch& s, std::vector<MatchMemo>& memo,
                  const std::vector<Rule>& rules, std::vector<NamePlan>& plans,
                  DecisionCache::Map& cache) {
  LabelSet& ls = s.labels;
  ls.reset();
  ls.push("__name__", kNameLabel).value.assign(name);
  std::vector<LabelWrite>& writes = s.writes;
  writes.clear();
  ls.journal(&writes);
  bool wrote = false;
  const bool kept = apply_rules(rules, s, memo, &wrote);
  ls.journal(nullptr);
  if (!kept) return kNameDrop;
  if (!wrote) return kNameNoop;
  const int ni = ls.find("__name__");
  if (ni < 0) return kNameNoName;
  // Bounded like the cache that indexes the plans: both start again together.
  if (plans.size() >= DecisionMap::kMaxEntries) {
    plans.clear();
    cache.clear();
  }
  NamePlan& plan = plans.emplace_back();
  plan.final_name = ls[static_cast<std::size_t>(ni)].value;
  for (LabelWrite& w : writes) {
    if (w.name == "__name__") continue;
    if (!w.value.empty()) append_any_value_string(w.payload, w.value);
    plan.writes.push_back(std::move(w));
  }
  return kNamePlan + static_cast<uint32_t>(plans.size() - 1);
}

// Whether a rule's bounds admit a metric name of the request as it came.
bool may_match_a_name(const std::vector<Rule>& rules, const otlp::Index& ix) {
  for (const Rule& r : rules)
    if (r.name_bounds.may_match_a_name_of(ix)) return true;
  return false;
}

// What name-only rules make of a name outside every rule's bounds, without running them: no rule
// matches, so each leaves the labels as they were (replace, drop) or drops the point (keep).
// kNameUnknown as soon as a rule might match or has no bounds.
constexpr uint32_t kNameUnknown = ~0u;
uint32_t outcome_by_bounds(const std::vector<Rule>& rules, std::string_view name) {
  for (const Rule& r : rules) {
    if (!r.name_bounds.bounded() || r.name_bounds.may_match(name)) return kNameUnknown;
    if (r.action == Action::keep) return kNameDrop;
  }
  return kNameNoop;
}

// Applies a plan's writes to one owner's attributes as a per-point run of the same rules would
// (the first attribute of a name is the label; a label whose text is already the value is left
// as it is). Returns true when anything changed.
template <typename Add>
bool apply_plan(const NamePlan& plan, std::span<const Attribute> attrs, Scratch& s,
                otlp::Edits& edits, Add&& add) {
  bool changed = false;
  for (const LabelWrite& w : plan.writes) {
    const Attribute* a = nullptr;
    for (const Attribute& x : attrs) {
      if (x.key == w.name) {
        a = &x;
        break;
      }
    }
    if (w.value.empty()) {
      if (a) edits.drop_attribute(*a);
      changed = changed || a;
      continue;
    }
    if (a) {
      s.tmp.clear();
      append_attribute_text(*a, s.tmp);
      if (s.tmp == w.value) continue;
      edits.set_attribute_value(*a, w.payload);
    } else {
      add(w);
    }
    changed = true;
  }
  return changed;
}

}  // namespace

void RelabelStage::process(const otlp::Index& ix, otlp::Edits& edits) {
  counters_.bump(c_seen_, edits.items_left());
  Scratch& s = t_s;
  LabelSet& ls = s.labels;
  std::vector<MatchMemo>& memo = memo_.local();
  if (has_level_[kResource]) {
    for (const auto& r : ix.resources()) {
      if (edits.dropped(r.node)) continue;
      ls.reset();
      load_attributes(s, edits.attributes(r));
      apply_actions(actions_, kResource, s);
      emit(s, edits,
           [&](std::string_view k, std::string_view v) { edits.add_resource_attribute(r, k, v); });
    }
  }
  if (has_level_[kScope]) {
    for (const auto& sc : ix.scopes()) {
      if (edits.dropped(sc.node)) continue;
      ls.reset();
      load_attributes(s, edits.attributes(sc));
      apply_actions(actions_, kScope, s);
      emit(s, edits,
           [&](std::string_view k, std::string_view v) { edits.add_scope_attribute(sc, k, v); });
    }
  }
  uint64_t dropped = 0, no_name = 0, edited = 0, renamed = 0, conflicts = 0;
  const bool items = has_level_[kItem];
  switch (ix.signal()) {
    case Signal::metrics: {
      if (rules_.empty() && !items) break;
      if (passive_bounded_ && !items && edits.empty() && !may_match_a_name(rules_, ix)) break;
      const auto points = ix.data_points();
      DecisionCache::Map* by_name = name_only_ && !items ? &name_cache_.local() : nullptr;
      std::vector<NamePlan>* plans = by_name ? &plans_.local() : nullptr;
      for (const auto& m : ix.metrics()) {
        if (edits.dropped(m.node)) continue;
        const std::string_view name = edits.metric_name(m);
        if (by_name) {
          // The rules read only the metric name: decide once per name whether they leave its
          // points alone (the usual case), drop them all, or write the same labels on each.
          uint32_t d = outcome_by_bounds(rules_, name);
          if (d == kNameUnknown)
            d = DecisionCache::get(*by_name, name, [&](std::string_view n) {
              return plan_for(n, s, memo, rules_, *plans, *by_name);
            });
          if (d == kNameNoop) continue;
          if (d == kNameDrop || d == kNameNoName) {
            // The points go (and with them the metric); a metric without any has none to drop.
            if (m.point_count > 0) (d == kNameDrop ? dropped : no_name) += edits.drop(m.node);
            continue;
          }
          const NamePlan& plan = (*plans)[d - kNamePlan];
          bool any = false;
          s.encoded.assign(plan.writes.size(), {});
          for (uint32_t pi = m.first_point; pi < m.first_point + m.point_count; ++pi) {
            const auto& pt = points[pi];
            if (edits.dropped(pt.node)) continue;
            any = true;
            edited += apply_plan(plan, edits.attributes(pt), s, edits, [&](const LabelWrite& w) {
              auto& e = s.encoded[static_cast<std::size_t>(&w - plan.writes.data())];
              if (e.bytes.empty())
                e = edits.encode_attribute(otlp::NodeKind::data_point, w.name, w.payload, m.type);
              edits.add_attribute(pt.node, e);
            });
          }
          // Renamed even without a point (its data of a type this build does not read): the
          // backend must not see the old name. Without a point left it is pruned anyway.
          if (plan.final_name != name) {
            edits.rename_metric(m, plan.final_name);
            renamed += any || m.point_count == 0;
          }
          continue;
        }
        bool have_name = false, conflict = false;
        for (uint32_t pi = m.first_point; pi < m.first_point + m.point_count; ++pi) {
          const auto& pt = points[pi];
          if (edits.dropped(pt.node)) continue;
          ls.reset();
          ls.push("__name__", kNameLabel).value.assign(name);
          load_attributes(s, edits.attributes(pt));
          if (!apply_rules(rules_, s, memo)) {
            edits.drop(pt.node);
            ++dropped;
            continue;
          }
          const int ni = ls.find("__name__");
          if (ni < 0) {
            edits.drop(pt.node);
            ++no_name;
            continue;
          }
          ls[static_cast<std::size_t>(ni)].attr = kNameLabel;  // a rule may have re-created it
          if (items) apply_actions(actions_, kItem, s);
          const std::string& final_name = ls[static_cast<std::size_t>(ni)].value;
          if (!have_name) {
            s.new_name = final_name;
            have_name = true;
          } else if (final_name != s.new_name) {
            conflict = true;
          }
          const bool changed = emit(s, edits, [&](std::string_view k, std::string_view v) {
            edits.add_attribute(otlp::NodeKind::data_point, pt.node, k, v, m.type);
          });
          edited += changed;
        }
        conflicts += conflict;
        if (have_name && s.new_name != name) {
          edits.rename_metric(m, s.new_name);
          ++renamed;
        }
      }
      break;
    }
    case Signal::traces:
      if (!items) break;
      for (const auto& sp : ix.spans()) {
        if (edits.dropped(sp.node)) continue;
        ls.reset();
        load_attributes(s, edits.attributes(sp));
        apply_actions(actions_, kItem, s);
        edited += emit(s, edits, [&](std::string_view k, std::string_view v) {
          edits.add_attribute(otlp::NodeKind::span, sp.node, k, v);
        });
      }
      break;
    case Signal::logs:
      if (!items) break;
      for (const auto& l : ix.log_records()) {
        if (edits.dropped(l.node)) continue;
        ls.reset();
        load_attributes(s, edits.attributes(l));
        apply_actions(actions_, kItem, s);
        edited += emit(s, edits, [&](std::string_view k, std::string_view v) {
          edits.add_attribute(otlp::NodeKind::log_record, l.node, k, v);
        });
      }
      break;
  }
  counters_.bump(c_dropped_, dropped);
  counters_.bump(c_no_name_, no_name);
  counters_.bump(c_edited_, edited);
  counters_.bump(c_renamed_, renamed);
  counters_.bump(c_conflicts_, conflicts);
}

}  // namespace otlpgate::filters
