// The chain reference (see chain_reference.h): stage YAML, the libprotobuf implementation, and
// random configs and requests over one vocabulary.
#include "tests/support/chain_reference.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <openssl/evp.h>
#include <re2/re2.h>

#include "core/pipeline/run_stages.h"
#include "filters/registry.h"

namespace otlpgate::testing {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace metrics = opentelemetry::proto::metrics::v1;
using KVs = google::protobuf::RepeatedPtrField<common::KeyValue>;

// Calls fn(points) with the metric's repeated data point field, whatever its type.
template <typename Fn>
void for_points(metrics::Metric& m, Fn&& fn) {
  switch (m.data_case()) {
    case metrics::Metric::kGauge:
      return fn(*m.mutable_gauge()->mutable_data_points());
    case metrics::Metric::kSum:
      return fn(*m.mutable_sum()->mutable_data_points());
    case metrics::Metric::kHistogram:
      return fn(*m.mutable_histogram()->mutable_data_points());
    case metrics::Metric::kExponentialHistogram:
      return fn(*m.mutable_exponential_histogram()->mutable_data_points());
    case metrics::Metric::kSummary:
      return fn(*m.mutable_summary()->mutable_data_points());
    default:
      return;
  }
}

// Removes the points `drop(rm, sm, m, point)` names (asked in request order), then the metrics,
// scopes and resources this left empty (ones that came in empty stay, as the rewriter keeps what
// no edit touched).
template <typename Drop>
void remove_points(MetricsRequest& req, Drop&& drop) {
  auto* rms = req.mutable_resource_metrics();
  for (int r = 0; r < rms->size();) {
    auto& rm = *rms->Mutable(r);
    auto* sms = rm.mutable_scope_metrics();
    const bool had_scopes = !sms->empty();
    for (int s = 0; s < sms->size();) {
      auto& sm = *sms->Mutable(s);
      auto* ms = sm.mutable_metrics();
      const bool had_metrics = !ms->empty();
      for (int mi = 0; mi < ms->size();) {
        auto& m = *ms->Mutable(mi);
        bool emptied = false;
        for_points(m, [&](auto& points) {
          if (points.empty()) return;
          int kept = 0;
          for (int i = 0; i < points.size(); ++i) {
            if (drop(rm, sm, m, points.Get(i))) continue;
            if (kept != i) points.SwapElements(kept, i);
            ++kept;
          }
          points.DeleteSubrange(kept, points.size() - kept);
          emptied = points.empty();
        });
        if (emptied)
          ms->DeleteSubrange(mi, 1);
        else
          ++mi;
      }
      if (had_metrics && ms->empty())
        sms->DeleteSubrange(s, 1);
      else
        ++s;
    }
    if (had_scopes && sms->empty())
      rms->DeleteSubrange(r, 1);
    else
      ++r;
  }
}

// A value as a label: ints in decimal, doubles in shortest round-trip form, bytes in base64;
// arrays, kvlists and no value give "" (filters/attribute_text.h).
std::string text_of(const common::AnyValue& v) {
  switch (v.value_case()) {
    case common::AnyValue::kStringValue:
      return v.string_value();
    case common::AnyValue::kIntValue:
      return std::to_string(v.int_value());
    case common::AnyValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case common::AnyValue::kDoubleValue: {
      char buf[64];
      return std::string(buf, std::to_chars(buf, buf + sizeof buf, v.double_value()).ptr);
    }
    case common::AnyValue::kBytesValue: {
      const std::string& b = v.bytes_value();
      std::string out(4 * ((b.size() + 2) / 3) + 1, '\0');
      const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                    reinterpret_cast<const unsigned char*>(b.data()),
                                    static_cast<int>(b.size()));
      out.resize(static_cast<std::size_t>(n));
      return out;
    }
    default:
      return "";
  }
}

int find_attr(const KVs& kvs, const std::string& key) {
  for (int i = 0; i < kvs.size(); ++i)
    if (kvs[i].key() == key) return i;
  return -1;
}

void delete_key(KVs* kvs, const std::string& key) {
  for (int i = kvs->size() - 1; i >= 0; --i)
    if (kvs->Get(i).key() == key) kvs->DeleteSubrange(i, 1);
}

// The attributes in key order as one string: the dedup key ignores attribute order.
std::string sorted_attrs(const KVs& kvs) {
  std::vector<std::string> v;
  for (const auto& kv : kvs) v.push_back(kv.key() + "=" + kv.value().SerializeAsString());
  std::sort(v.begin(), v.end());
  std::string s;
  for (auto& x : v) s += x + "\x1f";
  return s;
}

// Every field of the point but its attributes and exemplars.
template <typename Point>
std::string point_value(const Point& p) {
  Point v = p;
  v.clear_attributes();
  if constexpr (!std::is_same_v<Point, metrics::SummaryDataPoint>) v.clear_exemplars();
  return v.SerializeAsString();
}

// The label value a relabel rule reads for `src` on a point of metric `name`.
std::string label(const std::string& src, const std::string& name, const KVs& kvs) {
  if (src == "__name__") return name;
  const int i = find_attr(kvs, src);
  return i >= 0 ? text_of(kvs.Get(i).value()) : "";
}

// Prometheus replace writing `v` to `target`: an empty result deletes it, an unchanged text leaves
// the value as it was (an int stays an int).
void write_label(KVs* kvs, const std::string& target, const std::string& v) {
  const int ti = find_attr(*kvs, target);
  if (v.empty()) {
    if (ti >= 0) kvs->DeleteSubrange(ti, 1);
  } else if (ti >= 0) {
    if (text_of(kvs->Get(ti).value()) != v) kvs->Mutable(ti)->mutable_value()->set_string_value(v);
  } else {
    auto* kv = kvs->Add();
    kv->set_key(target);
    kv->mutable_value()->set_string_value(v);
  }
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string filter_yaml(const ChainConfig& c) {
  return "metrics:\n  exclude:\n    match_type: strict\n    metric_names: [" + c.excluded_name +
         "]\n    attributes: [{key: " + c.bad_kv.first + ", value: '" + c.bad_kv.second + "'}]\n";
}

std::string redact_yaml(const ChainConfig& c) { return "delete_keys: [" + c.deleted_key + "]\n"; }

std::string dedup_yaml(const ChainConfig& c) {
  return "mode: exact\nwindow: 10m\nmax_series: " + std::to_string(c.max_series) + "\n";
}

std::string relabel_yaml(const ChainConfig& c) {
  const std::string head = "metric_relabel_configs:\n- ";
  switch (c.rule) {
    case 0:
      return head + "{source_labels: [" + c.src + "], target_label: " + c.target + "}\n";
    case 1:
      return head + "{source_labels: [" + c.src + "], regex: 'a.*', action: drop}\n";
    case 2:
      return head + "{regex: '" + c.src + "', action: labeldrop}\n";
    case 3:
      return head +
             "{source_labels: [__name__], regex: '(.*)_total', target_label: __name__, "
             "replacement: '${1}_count'}\n";
    default:
      return head + "{source_labels: [" + c.src + "], regex: '" + RE2::QuoteMeta(c.prefix) +
             ".*', target_label: " + c.target + ", replacement: '" + c.replacement + "'}\n";
  }
}

config::Processor processor_config(const std::string& id, const std::string& yaml) {
  config::Processor p;
  p.id = id;
  p.type = id.substr(0, id.find('/'));
  p.yaml = yaml;
  return p;
}

std::vector<std::unique_ptr<Stage>> build_stages(
    const std::vector<std::pair<std::string, std::string>>& blocks, std::string* err) {
  std::vector<std::unique_ptr<Stage>> chain;
  for (const auto& [id, yaml] : blocks) {
    auto st = filters::make_stage(processor_config(id, yaml), err);
    if (!st) return {};
    chain.push_back(std::move(st));
  }
  return chain;
}

std::vector<std::unique_ptr<Stage>> build_chain(const ChainConfig& c, std::string* err) {
  return build_stages({{"filter/f", filter_yaml(c)},
                       {"redact/r", redact_yaml(c)},
                       {"dedup/d", dedup_yaml(c)},
                       {"relabel/l", relabel_yaml(c)}},
                      err);
}

ChainOutput run_chain(const std::vector<std::unique_ptr<Stage>>& chain, Signal signal,
                      const Bytes& in, ChainScratch& s) {
  ChainOutput out;
  if (!s.index.build(signal, in)) return out;
  StagesResult r = run_stages(chain, s.index, s.edits, s.rewriter);
  out.bytes = std::move(r.bytes);
  out.items = r.items;
  out.ok = true;
  return out;
}

void apply_reference_chain(const ChainConfig& c, MetricsRequest& req) {
  // filter
  remove_points(req, [&](auto&, auto&, const metrics::Metric& m, const auto& p) {
    if (m.name() != c.excluded_name) return false;
    const int i = find_attr(p.attributes(), c.bad_kv.first);
    return i >= 0 && text_of(p.attributes(i).value()) == c.bad_kv.second;
  });
  // redact
  for (auto& rm : *req.mutable_resource_metrics()) {
    // has_*(): a mutable_*() call would add an empty message that was not there.
    if (rm.has_resource()) delete_key(rm.mutable_resource()->mutable_attributes(), c.deleted_key);
    for (auto& sm : *rm.mutable_scope_metrics()) {
      if (sm.has_scope()) delete_key(sm.mutable_scope()->mutable_attributes(), c.deleted_key);
      for (auto& m : *sm.mutable_metrics())
        for_points(m, [&](auto& points) {
          for (auto& p : points) delete_key(p.mutable_attributes(), c.deleted_key);
        });
    }
  }
  // dedup
  std::set<std::string> seen;
  remove_points(req, [&](const auto& rm, const auto& sm, const metrics::Metric& m, const auto& p) {
    const std::string key = sorted_attrs(rm.resource().attributes()) + "|" + sm.scope().name() +
                            "|" + sm.scope().version() + "|" + m.name() + "|" +
                            std::to_string(m.data_case()) + "|" + sorted_attrs(p.attributes()) +
                            "|" + point_value(p);
    return !seen.insert(key).second;
  });
  // relabel: first the points a rule drops, then the label writes and the rename
  remove_points(req, [&](auto&, auto&, const metrics::Metric& m, const auto& p) {
    const std::string v = label(c.src, m.name(), p.attributes());
    return c.rule == 1 && !v.empty() && v[0] == 'a';
  });
  const RE2 drop_names("(?s:" + c.src + ")");
  for (auto& rm : *req.mutable_resource_metrics())
    for (auto& sm : *rm.mutable_scope_metrics())
      for (auto& m : *sm.mutable_metrics()) {
        const std::string name = m.name();
        for_points(m, [&](auto& points) {
          for (auto& p : points) {
            auto* kvs = p.mutable_attributes();
            if (c.rule == 0) {
              write_label(kvs, c.target, label(c.src, name, *kvs));
            } else if (c.rule == 2) {
              for (int i = kvs->size() - 1; i >= 0; --i)  // src is a regex over label names
                if (RE2::FullMatch(kvs->Get(i).key(), drop_names)) kvs->DeleteSubrange(i, 1);
            } else if (c.rule == 4 && starts_with(label(c.src, name, *kvs), c.prefix)) {
              write_label(kvs, c.target, c.replacement);
            }
          }
        });
        if (c.rule == 3 && name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)
          m.set_name(name.substr(0, name.size() - 6) + "_count");
      }
}

ChainConfig random_chain_config(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  ChainConfig c;
  c.excluded_name = kChainNames[pick(4)];
  c.bad_kv = {kChainKeys[pick(4)], kChainValues[pick(5)]};
  c.deleted_key = kChainKeys[pick(5)];
  c.rule = pick(5);
  c.src = pick(5) == 0 ? "__name__" : kChainKeys[pick(5)];
  c.target = kChainKeys[pick(5)] + std::string(pick(2) ? "" : "_new");
  c.prefix = std::string(kChainValues[pick(5)]).substr(0, static_cast<std::size_t>(pick(3)));
  c.replacement = pick(4) ? "elb" : "";
  if (c.rule == 2 && c.src == "__name__") c.src = "job";  // dropping __name__ drops everything
  return c;
}

MetricsRequest random_chain_request(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto set_attrs = [&](KVs* kvs) {
    for (int k = 0; k < 5; ++k) {
      if (!pick(2)) continue;
      auto* kv = kvs->Add();
      kv->set_key(kChainKeys[k]);
      if (k == 4)
        kv->mutable_value()->set_int_value(200 + pick(2));
      else
        kv->mutable_value()->set_string_value(kChainValues[pick(5)]);
    }
  };
  MetricsRequest req;
  for (int r = 1 + pick(3); r > 0; --r) {
    auto* rm = req.add_resource_metrics();
    auto* res = rm->mutable_resource()->mutable_attributes()->Add();
    res->set_key("service.name");
    res->mutable_value()->set_string_value(kChainValues[pick(2)]);
    if (pick(2)) {
      auto* email = rm->mutable_resource()->mutable_attributes()->Add();
      email->set_key("user.email");
      email->mutable_value()->set_string_value("x@y.zz");
    }
    for (int s = 1 + pick(2); s > 0; --s) {
      auto* sm = rm->add_scope_metrics();
      sm->mutable_scope()->set_name("lib" + std::to_string(pick(2)));
      if (pick(3) == 0) sm->mutable_scope()->set_version("1." + std::to_string(pick(2)));
      for (int m = 1 + pick(4); m > 0; --m) {
        auto* metric = sm->add_metrics();
        metric->set_name(kChainNames[pick(4)]);
        const int type = pick(3);
        for (int p = 1 + pick(4); p > 0; --p) {
          const uint64_t time = 1 + static_cast<uint64_t>(pick(2));
          if (type == 2) {
            auto* dp = metric->mutable_histogram()->add_data_points();
            set_attrs(dp->mutable_attributes());
            dp->set_time_unix_nano(time);
            dp->set_count(static_cast<uint64_t>(pick(2)));
            dp->add_bucket_counts(dp->count());
          } else {
            auto* dp = type == 1 ? metric->mutable_sum()->add_data_points()
                                 : metric->mutable_gauge()->add_data_points();
            set_attrs(dp->mutable_attributes());
            dp->set_time_unix_nano(time);
            dp->set_as_double(pick(2));
          }
        }
      }
    }
  }
  return req;
}

}  // namespace otlpgate::testing
