// FilterStage: match rules evaluated from the resource down, deciding as high up as possible.
#include "filters/filter.h"

#include <charconv>

#include "filters/attribute_text.h"
#include "filters/yaml_reader.h"

namespace otlpgate::filters {

namespace {

using otlp::Attribute;
using Props = FilterStage::Props;
using AttrCond = FilterStage::AttrCond;

// The verdict of one include/exclude block at one level: the item certainly fails it, certainly
// matches it, or the answer depends on conditions further down.
enum Tri : uint8_t { kNo, kYes, kMaybe };

bool parse_match_type(YamlReader& r, const YAML::Node& n, const std::string& sub, MatchType& out) {
  if (!n["match_type"]) return r.fail(sub + ".match_type", "required: strict, regexp or glob");
  std::string s;
  if (!r.get_enum(n["match_type"], sub + ".match_type", {"strict", "regexp", "glob"}, s))
    return false;
  out = s == "strict" ? MatchType::strict : s == "regexp" ? MatchType::regexp : MatchType::glob;
  return true;
}

bool parse_names(YamlReader& r, const YAML::Node& n, const std::string& sub, MatchType mt,
                 StringMatcher& out, std::string* err) {
  std::vector<std::string> xs;
  if (!r.get_string_list(n, sub, xs)) return false;
  return out.build(mt, xs, r.path(sub), err);
}

bool parse_attrs(YamlReader& r, const YAML::Node& n, const std::string& sub, MatchType mt,
                 std::vector<AttrCond>& out, std::string* err) {
  if (!n.IsSequence()) return r.fail(sub, "expected a list of {key, value}");
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = sub + "[" + std::to_string(i) + "]";
    if (!r.check_keys(n[i], p, {"key", "value"})) return false;
    AttrCond c;
    if (!n[i]["key"]) return r.fail(p + ".key", "required");
    if (!r.get_string(n[i]["key"], p + ".key", c.key)) return false;
    if (n[i]["value"]) {
      std::string v;
      if (!r.get_string(n[i]["value"], p + ".value", v)) return false;
      c.any_value = false;
      if (!c.value.build(mt, {v}, r.path(p + ".value"), err)) return false;
    }
    out.push_back(std::move(c));
  }
  return true;
}

int32_t severity_from_name(const std::string& s) {
  static const std::pair<const char*, int32_t> kBases[] = {
      {"TRACE", 1}, {"DEBUG", 5}, {"INFO", 9}, {"WARN", 13}, {"ERROR", 17}, {"FATAL", 21}};
  std::string up;
  for (char c : s) up += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  for (auto [name, base] : kBases) {
    const std::string n = name;
    if (up == n) return base;
    if (up.size() == n.size() + 1 && up.compare(0, n.size(), n) == 0 && up.back() >= '1' &&
        up.back() <= '4')
      return base + (up.back() - '1');
  }
  int32_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec == std::errc() && res.ptr == s.data() + s.size() && v >= 1 && v <= 24) return v;
  return 0;
}

int32_t span_kind_from_name(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (s.rfind("span_kind_", 0) == 0) s = s.substr(10);
  static const char* kKinds[] = {"unspecified", "internal", "server",
                                 "client",      "producer", "consumer"};
  for (int i = 0; i < 6; ++i)
    if (s == kKinds[i]) return i;
  return -1;
}

bool parse_props(YamlReader& r, const YAML::Node& n, const std::string& sub, Signal sig, Props& out,
                 std::string* err) {
  bool ok = false;
  switch (sig) {
    case Signal::metrics:
      ok =
          r.check_keys(n, sub, {"match_type", "metric_names", "resource_attributes", "attributes"});
      break;
    case Signal::traces:
      ok = r.check_keys(n, sub,
                        {"match_type", "services", "span_names", "span_kinds", "attributes",
                         "resource_attributes", "resources"});
      break;
    case Signal::logs:
      ok = r.check_keys(n, sub,
                        {"match_type", "resource_attributes", "record_attributes", "attributes",
                         "severity_texts", "severity_number", "bodies", "log_bodies"});
      break;
  }
  if (!ok) return false;
  if (!n.IsMap()) return r.fail(sub, "expected a map");
  MatchType mt = MatchType::strict;
  if (!parse_match_type(r, n, sub, mt)) return false;
  out.present = true;
  bool any = false;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const std::string p = sub + "." + key;
    const YAML::Node& v = kv.second;
    if (key == "match_type") continue;
    any = true;
    if (key == "metric_names" || key == "span_names") {
      if (!parse_names(r, v, p, mt, out.names, err)) return false;
    } else if (key == "services") {
      if (!parse_names(r, v, p, mt, out.services, err)) return false;
    } else if (key == "resource_attributes" || key == "resources") {
      if (!parse_attrs(r, v, p, mt, out.resource_attrs, err)) return false;
    } else if (key == "attributes" || key == "record_attributes") {
      if (!parse_attrs(r, v, p, mt, out.attrs, err)) return false;
    } else if (key == "severity_texts") {
      if (!parse_names(r, v, p, mt, out.severity_texts, err)) return false;
    } else if (key == "bodies" || key == "log_bodies") {
      if (!parse_names(r, v, p, mt, out.bodies, err)) return false;
    } else if (key == "span_kinds") {
      std::vector<std::string> xs;
      if (!r.get_string_list(v, p, xs)) return false;
      for (auto& x : xs) {
        const int32_t k = span_kind_from_name(x);
        if (k < 0)
          return r.fail(
              p, "expected span kinds such as SPAN_KIND_SERVER or client; got \"" + x + "\"");
        out.kinds.push_back(k);
      }
    } else if (key == "severity_number") {
      if (!r.check_keys(v, p, {"min", "match_undefined"})) return false;
      if (!v["min"]) return r.fail(p + ".min", "required");
      std::string s;
      if (!r.get_string(v["min"], p + ".min", s)) return false;
      out.severity_min = severity_from_name(s);
      if (out.severity_min == 0)
        return r.fail(p + ".min",
                      "expected a severity such as INFO, WARN2 or 1..24; got \"" + s + "\"");
      if (v["match_undefined"] &&
          !r.get_bool(v["match_undefined"], p + ".match_undefined", out.match_undefined))
        return false;
      out.has_severity = true;
    }
  }
  if (!any) return r.fail(sub, "needs at least one condition besides match_type");
  return true;
}

bool attrs_match(const std::vector<AttrCond>& conds, std::span<const Attribute> attrs,
                 std::string& scratch) {
  for (const AttrCond& c : conds) {
    bool found = false;
    for (const Attribute& a : attrs) {
      if (a.key != c.key) continue;
      if (c.any_value) {
        found = true;
      } else {
        scratch.clear();
        append_attribute_text(a, scratch);
        found = c.value.matches(scratch);
      }
      break;
    }
    if (!found) return false;
  }
  return true;
}

bool services_match(const Props& p, std::span<const Attribute> attrs, std::string& scratch) {
  if (p.services.empty()) return true;
  for (const Attribute& a : attrs) {
    if (a.key != "service.name") continue;
    scratch.clear();
    append_attribute_text(a, scratch);
    return p.services.matches(scratch);
  }
  return false;
}

bool has_item_conditions(const Props& p) {
  return !p.names.empty() || !p.kinds.empty() || !p.attrs.empty() || !p.severity_texts.empty() ||
         !p.bodies.empty() || p.has_severity;
}

// Exclusion needs every condition, the name among them: an exclude list none of whose names can
// match a name of the request (as it came) drops nothing, and without an include list the stage
// has nothing to do. Without names (or with an unanchored regexp) the bounds admit every name.
bool nothing_to_exclude(const Props& inc, const Props& exc, const otlp::Index& ix,
                        const otlp::Edits& edits) {
  return !inc.present && edits.empty() && !exc.names.bounds().may_match_a_name_of(ix);
}

// Resource level. An absent include block passes everything, an absent exclude block nothing.
Tri resource_tri(const Props& p, bool is_include, std::span<const Attribute> attrs,
                 std::string& scratch) {
  if (!p.present) return is_include ? kYes : kNo;
  if (!attrs_match(p.resource_attrs, attrs, scratch) || !services_match(p, attrs, scratch))
    return kNo;
  return has_item_conditions(p) ? kMaybe : kYes;
}

bool dropped(Tri inc, Tri exc) { return inc == kNo || exc == kYes; }
bool kept(Tri inc, Tri exc) { return inc == kYes && exc == kNo; }

thread_local std::string t_scratch;

}  // namespace

std::unique_ptr<FilterStage> FilterStage::create(const config::Processor& p, std::string* err) {
  YamlReader r(p, err);
  YAML::Node root;
  if (!r.load(p, root)) return nullptr;
  if (!r.check_keys(root, "", {"metrics", "spans", "traces", "logs", "error_mode"})) return nullptr;
  auto st = std::unique_ptr<FilterStage>(new FilterStage());
  st->id_ = p.id;
  if (root["error_mode"]) {  // accepted for Collector configs; nothing here can fail per item
    std::string s;
    if (!r.get_enum(root["error_mode"], "error_mode", {"ignore", "silent", "propagate"}, s))
      return nullptr;
  }
  struct Section {
    const char* key;
    Signal sig;
    SignalRules* rules;
  };
  const Section sections[] = {{"metrics", Signal::metrics, &st->metrics_},
                              {"spans", Signal::traces, &st->spans_},
                              {"traces", Signal::traces, &st->spans_},
                              {"logs", Signal::logs, &st->logs_}};
  for (const Section& s : sections) {
    const YAML::Node n = root[s.key];
    if (!n) continue;
    if (!r.check_keys(n, s.key, {"include", "exclude"})) return nullptr;
    if (n["include"] && !parse_props(r, n["include"], std::string(s.key) + ".include", s.sig,
                                     s.rules->include, err))
      return nullptr;
    if (n["exclude"] && !parse_props(r, n["exclude"], std::string(s.key) + ".exclude", s.sig,
                                     s.rules->exclude, err))
      return nullptr;
  }
  st->c_seen_ = st->counters_.add_seen();
  st->c_drop_include_ = st->counters_.add_dropped("not_included");
  st->c_drop_exclude_ = st->counters_.add_dropped("excluded");
  return st;
}

void FilterStage::process(const otlp::Index& ix, otlp::Edits& edits) {
  switch (ix.signal()) {
    case Signal::metrics:
      process_metrics(ix, edits);
      break;
    case Signal::traces:
      process_spans(ix, edits);
      break;
    case Signal::logs:
      process_logs(ix, edits);
      break;
  }
}

void FilterStage::process_metrics(const otlp::Index& ix, otlp::Edits& edits) {
  counters_.bump(c_seen_, edits.items_left());
  const Props& inc = metrics_.include;
  const Props& exc = metrics_.exclude;
  if ((!inc.present && !exc.present) || nothing_to_exclude(inc, exc, ix, edits)) return;
  std::string& scratch = t_scratch;
  DecisionCache::Map* inc_names =
      inc.present && !inc.names.empty() ? &inc.name_cache.local() : nullptr;
  DecisionCache::Map* exc_names =
      exc.present && !exc.names.empty() ? &exc.name_cache.local() : nullptr;
  uint64_t by_inc = 0, by_exc = 0;
  auto tally = [&](Tri i, uint64_t n) { (i == kNo ? by_inc : by_exc) += n; };
  // Metric level: the name decides, unless point attributes remain to be checked.
  auto metric_tri = [&](const Props& p, Tri above, DecisionCache::Map* cache,
                        std::string_view name) {
    if (above != kMaybe) return above;
    if (cache && !p.names.matches(name, *cache)) return kNo;
    return p.attrs.empty() ? kYes : kMaybe;
  };
  const auto metrics = ix.metrics();
  const auto points = ix.data_points();
  for (const auto& r : ix.resources()) {
    if (edits.dropped(r.node)) continue;
    const auto rattrs = edits.attributes(r);
    const Tri ri = resource_tri(inc, true, rattrs, scratch);
    const Tri re = resource_tri(exc, false, rattrs, scratch);
    if (kept(ri, re)) continue;
    if (dropped(ri, re)) {
      tally(ri, edits.drop(r.node));
      continue;
    }
    for (uint32_t s = r.first_scope; s < r.first_scope + r.scope_count; ++s) {
      const auto& sc = ix.scopes()[s];
      for (uint32_t mi = sc.first_item; mi < sc.first_item + sc.item_count; ++mi) {
        const auto& m = metrics[mi];
        if (edits.dropped(m.node)) continue;
        const std::string_view name = edits.metric_name(m);
        const Tri mi_inc = metric_tri(inc, ri, inc_names, name);
        const Tri mi_exc = metric_tri(exc, re, exc_names, name);
        if (kept(mi_inc, mi_exc)) continue;
        if (dropped(mi_inc, mi_exc)) {
          tally(mi_inc, edits.drop(m.node));
          continue;
        }
        for (uint32_t pi = m.first_point; pi < m.first_point + m.point_count; ++pi) {
          if (edits.dropped(points[pi].node)) continue;
          const auto pattrs = edits.attributes(points[pi]);
          const Tri p_inc =
              mi_inc == kMaybe ? (attrs_match(inc.attrs, pattrs, scratch) ? kYes : kNo) : mi_inc;
          const Tri p_exc =
              mi_exc == kMaybe ? (attrs_match(exc.attrs, pattrs, scratch) ? kYes : kNo) : mi_exc;
          if (dropped(p_inc, p_exc)) {
            edits.drop(points[pi].node);
            tally(p_inc, 1);
          }
        }
      }
    }
  }
  counters_.bump(c_drop_include_, by_inc);
  counters_.bump(c_drop_exclude_, by_exc);
}

namespace {

bool span_matches(const Props& p, otlp::Edits& edits, const otlp::SpanEntry& s,
                  DecisionCache::Map* names, std::string& scratch) {
  if (names && !p.names.matches(s.name, *names)) return false;
  if (!p.kinds.empty()) {
    bool any = false;
    for (int32_t k : p.kinds) any = any || k == s.kind;
    if (!any) return false;
  }
  return attrs_match(p.attrs, edits.attributes(s), scratch);
}

bool log_matches(const Props& p, otlp::Edits& edits, const otlp::LogRecordEntry& l,
                 std::string& scratch) {
  if (p.has_severity) {
    const bool ok =
        l.severity_number == 0 ? p.match_undefined : l.severity_number >= p.severity_min;
    if (!ok) return false;
  }
  if (!p.severity_texts.empty() && !p.severity_texts.matches(l.severity_text)) return false;
  if (!p.bodies.empty()) {
    const otlp::LogBody b = edits.log_body(l);
    const std::string_view body = b.type == otlp::ValueType::string ? b.scalar : std::string_view();
    if (!p.bodies.matches(body)) return false;
  }
  return attrs_match(p.attrs, edits.attributes(l), scratch);
}

// Shared walk for spans and log records: resource level first, then each item.
template <typename Items, typename Match>
void filter_items(const otlp::Index& ix, const Props& inc, const Props& exc, const Items& items,
                  otlp::Edits& edits, uint64_t& by_inc, uint64_t& by_exc, Match&& match) {
  std::string& scratch = t_scratch;
  for (const auto& r : ix.resources()) {
    if (edits.dropped(r.node)) continue;
    const auto rattrs = edits.attributes(r);
    const Tri ri = resource_tri(inc, true, rattrs, scratch);
    const Tri re = resource_tri(exc, false, rattrs, scratch);
    if (kept(ri, re)) continue;
    if (dropped(ri, re)) {
      (ri == kNo ? by_inc : by_exc) += edits.drop(r.node);
      continue;
    }
    for (uint32_t s = r.first_scope; s < r.first_scope + r.scope_count; ++s) {
      const auto& sc = ix.scopes()[s];
      for (uint32_t i = sc.first_item; i < sc.first_item + sc.item_count; ++i) {
        if (edits.dropped(items[i].node)) continue;
        const Tri ii = ri == kMaybe ? (match(inc, items[i], true) ? kYes : kNo) : ri;
        const Tri ie = re == kMaybe ? (match(exc, items[i], false) ? kYes : kNo) : re;
        if (dropped(ii, ie)) {
          edits.drop(items[i].node);
          (ii == kNo ? by_inc : by_exc) += 1;
        }
      }
    }
  }
}

}  // namespace

void FilterStage::process_spans(const otlp::Index& ix, otlp::Edits& edits) {
  counters_.bump(c_seen_, edits.items_left());
  const Props& inc = spans_.include;
  const Props& exc = spans_.exclude;
  if ((!inc.present && !exc.present) || nothing_to_exclude(inc, exc, ix, edits)) return;
  DecisionCache::Map* inc_names =
      inc.present && !inc.names.empty() ? &inc.name_cache.local() : nullptr;
  DecisionCache::Map* exc_names =
      exc.present && !exc.names.empty() ? &exc.name_cache.local() : nullptr;
  uint64_t by_inc = 0, by_exc = 0;
  filter_items(ix, inc, exc, ix.spans(), edits, by_inc, by_exc,
               [&](const Props& p, const otlp::SpanEntry& s, bool is_inc) {
                 return span_matches(p, edits, s, is_inc ? inc_names : exc_names, t_scratch);
               });
  counters_.bump(c_drop_include_, by_inc);
  counters_.bump(c_drop_exclude_, by_exc);
}

void FilterStage::process_logs(const otlp::Index& ix, otlp::Edits& edits) {
  counters_.bump(c_seen_, edits.items_left());
  const Props& inc = logs_.include;
  const Props& exc = logs_.exclude;
  if (!inc.present && !exc.present) return;
  uint64_t by_inc = 0, by_exc = 0;
  filter_items(ix, inc, exc, ix.log_records(), edits, by_inc, by_exc,
               [&](const Props& p, const otlp::LogRecordEntry& l, bool) {
                 return log_matches(p, edits, l, t_scratch);
               });
  counters_.bump(c_drop_include_, by_inc);
  counters_.bump(c_drop_exclude_, by_exc);
}

}  // namespace otlpgate::filters
