// The filter → redact → dedup → relabel chain against a slow reference on libprotobuf objects,
// over seeded random metric requests and random configs.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "filters/dedup.h"
#include "tests/unit/filters/stage_test_util.h"

namespace otlpgate::filters::testing {
namespace {

using opentelemetry::proto::metrics::v1::NumberDataPoint;

const char* const kNames[] = {"http_requests_total", "aws_applicationelb_count", "cpu",
                              "mem_debug"};
const char* const kKeys[] = {"job", "instance", "user.email", "env", "code"};
const char* const kValues[] = {"api", "web", "a@b.co", "dev", "prod"};

struct Config {
  std::string excluded_name;                   // filter: exclude this metric name (strict)
  std::pair<std::string, std::string> bad_kv;  // filter: exclude points with this attribute
  std::string deleted_key;                     // redact: delete_keys
  int rule = 0;                                // relabel: which rule (see rules())
  std::string src, target;
};

std::string yaml_filter(const Config& c) {
  return "metrics:\n  exclude:\n    match_type: strict\n    metric_names: [" + c.excluded_name +
         "]\n" + "    attributes: [{key: " + c.bad_kv.first + ", value: '" + c.bad_kv.second +
         "'}]\n";
}
// Note: with both conditions, a point is excluded only when its metric has that name AND it has
// the attribute (all listed conditions must hold).
std::string yaml_redact(const Config& c) { return "delete_keys: [" + c.deleted_key + "]\n"; }
std::string yaml_relabel(const Config& c) {
  switch (c.rule) {
    case 0:
      return "metric_relabel_configs:\n- {source_labels: [" + c.src +
             "], target_label: " + c.target + "}\n";
    case 1:
      return "metric_relabel_configs:\n- {source_labels: [" + c.src +
             "], regex: 'a.*', action: drop}\n";
    case 2:
      return "metric_relabel_configs:\n- {regex: '" + c.src + "', action: labeldrop}\n";
    default:
      return "metric_relabel_configs:\n- {source_labels: [__name__], regex: '(.*)_total', "
             "target_label: __name__, "
             "replacement: '${1}_count'}\n";
  }
}

MetricsRequest random_request(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  MetricsRequest req;
  const int resources = 1 + pick(3);
  for (int r = 0; r < resources; ++r) {
    auto* rm = req.add_resource_metrics();
    set_attrs(rm->mutable_resource()->mutable_attributes(), {{"service.name", kValues[pick(2)]}});
    if (pick(2))
      set_attrs(rm->mutable_resource()->mutable_attributes(), {{"user.email", "x@y.zz"}});
    const int scopes = 1 + pick(2);
    for (int s = 0; s < scopes; ++s) {
      auto* sm = rm->add_scope_metrics();
      sm->mutable_scope()->set_name("lib" + std::to_string(pick(2)));
      const int metrics = 1 + pick(4);
      for (int m = 0; m < metrics; ++m) {
        auto* metric = sm->add_metrics();
        metric->set_name(kNames[pick(4)]);
        const int points = 1 + pick(4);
        for (int p = 0; p < points; ++p) {
          auto* dp = metric->mutable_gauge()->add_data_points();
          for (int k = 0; k < 5; ++k) {
            if (!pick(2)) continue;
            auto* kv = dp->add_attributes();
            kv->set_key(kKeys[k]);
            if (k == 4)
              kv->mutable_value()->set_int_value(200 + pick(2));
            else
              kv->mutable_value()->set_string_value(kValues[pick(5)]);
          }
          dp->set_time_unix_nano(1 + static_cast<uint64_t>(pick(2)));
          dp->set_as_double(pick(2));
        }
      }
    }
  }
  return req;
}

std::string text_of(const opentelemetry::proto::common::v1::AnyValue& v) {
  return v.has_int_value() ? std::to_string(v.int_value()) : v.string_value();
}

int find_attr(const KVs& kvs, const std::string& key) {
  for (int i = 0; i < kvs.size(); ++i)
    if (kvs[i].key() == key) return i;
  return -1;
}

// Removes points for which `drop` says so (asked in request order), then the metrics, scopes and
// resources left empty.
template <typename Drop>
void remove_points(MetricsRequest& req, Drop&& drop) {
  std::vector<bool> dropped;
  for (const auto& rm : req.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics())
        for (const auto& dp : m.gauge().data_points()) dropped.push_back(drop(rm, sm, m, dp));
  std::size_t next = dropped.size();
  auto* rms = req.mutable_resource_metrics();
  for (int r = rms->size() - 1; r >= 0; --r) {
    auto* sms = rms->Mutable(r)->mutable_scope_metrics();
    for (int s = sms->size() - 1; s >= 0; --s) {
      auto* ms = sms->Mutable(s)->mutable_metrics();
      for (int m = ms->size() - 1; m >= 0; --m) {
        auto* dps = ms->Mutable(m)->mutable_gauge()->mutable_data_points();
        const int before = dps->size();
        for (int p = dps->size() - 1; p >= 0; --p)
          if (dropped[--next]) dps->DeleteSubrange(p, 1);
        if (before > 0 && dps->empty()) ms->DeleteSubrange(m, 1);
      }
      if (ms->empty()) sms->DeleteSubrange(s, 1);
    }
    if (sms->empty()) rms->DeleteSubrange(r, 1);
  }
}

void delete_key(KVs* kvs, const std::string& key) {
  for (int i = kvs->size() - 1; i >= 0; --i)
    if (kvs->Get(i).key() == key) kvs->DeleteSubrange(i, 1);
}

MetricsRequest reference(MetricsRequest req, const Config& c) {
  // filter
  remove_points(req, [&](auto&, auto&, const auto& m, const NumberDataPoint& dp) {
    if (m.name() != c.excluded_name) return false;
    const int i = find_attr(dp.attributes(), c.bad_kv.first);
    return i >= 0 && text_of(dp.attributes(i).value()) == c.bad_kv.second;
  });
  // redact
  for (auto& rm : *req.mutable_resource_metrics()) {
    delete_key(rm.mutable_resource()->mutable_attributes(), c.deleted_key);
    for (auto& sm : *rm.mutable_scope_metrics())
      for (auto& m : *sm.mutable_metrics())
        for (auto& dp : *m.mutable_gauge()->mutable_data_points())
          delete_key(dp.mutable_attributes(), c.deleted_key);
  }
  // dedup (a fresh window): the first of equal points is kept
  std::set<std::string> seen;
  remove_points(req, [&](const auto& rm, const auto& sm, const auto& m, const NumberDataPoint& dp) {
    auto sorted = [](const KVs& kvs) {
      std::vector<std::string> v;
      for (const auto& kv : kvs) v.push_back(kv.key() + "=" + kv.value().SerializeAsString());
      std::sort(v.begin(), v.end());
      std::string s;
      for (auto& x : v) s += x + "\x1f";
      return s;
    };
    NumberDataPoint value = dp;
    value.clear_attributes();
    const std::string key = sorted(rm.resource().attributes()) + "|" + sm.scope().name() + "|" +
                            m.name() + "|" + sorted(dp.attributes()) + "|" +
                            value.SerializeAsString();
    return !seen.insert(key).second;
  });
  // relabel
  std::vector<std::string> names;  // per metric, the new name
  remove_points(req, [&](auto&, auto&, const auto& m, const NumberDataPoint& dp) {
    const std::string v = c.src == "__name__" ? m.name()
                          : find_attr(dp.attributes(), c.src) >= 0
                              ? text_of(dp.attributes(find_attr(dp.attributes(), c.src)).value())
                              : "";
    return c.rule == 1 && !v.empty() && v[0] == 'a';
  });
  for (auto& rm : *req.mutable_resource_metrics())
    for (auto& sm : *rm.mutable_scope_metrics())
      for (auto& m : *sm.mutable_metrics()) {
        const std::string name = m.name();
        for (auto& dp : *m.mutable_gauge()->mutable_data_points()) {
          auto* kvs = dp.mutable_attributes();
          if (c.rule == 0) {
            const int si = find_attr(*kvs, c.src);
            const std::string v = c.src == "__name__" ? name
                                  : si >= 0           ? text_of(kvs->Get(si).value())
                                                      : "";
            const int ti = find_attr(*kvs, c.target);
            if (v.empty()) {
              if (ti >= 0) kvs->DeleteSubrange(ti, 1);
            } else if (ti >= 0) {
              // An unchanged text leaves the value as it was (an int stays an int).
              if (text_of(kvs->Get(ti).value()) != v)
                kvs->Mutable(ti)->mutable_value()->set_string_value(v);
            } else {
              auto* kv = kvs->Add();
              kv->set_key(c.target);
              kv->mutable_value()->set_string_value(v);
            }
          } else if (c.rule == 2) {
            delete_key(kvs, c.src);
          }
        }
        if (c.rule == 3 && name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)
          m.set_name(name.substr(0, name.size() - 6) + "_count");
      }
  return req;
}

MetricsRequest run_chain(const MetricsRequest& in, const Config& c) {
  std::vector<std::unique_ptr<Stage>> chain;
  chain.push_back(stage("filter/f", yaml_filter(c)));
  chain.push_back(stage("redact/r", yaml_redact(c)));
  chain.push_back(stage("dedup/d", "max_series: 4096\n"));
  chain.push_back(stage("relabel/l", yaml_relabel(c)));
  std::string b;
  in.SerializeToString(&b);
  Bytes cur = Bytes::adopt(std::move(b));
  otlp::Index ix;
  otlp::Edits edits;
  otlp::Rewriter rw;
  for (auto& st : chain) {
    EXPECT_TRUE(ix.build(Signal::metrics, cur));
    edits.clear();
    st->process(ix, edits);
    if (!edits.empty()) cur = rw.apply(ix, edits).bytes;
  }
  MetricsRequest out;
  EXPECT_TRUE(out.ParseFromString(std::string(cur.view())));
  return out;
}

TEST(FilterChainReferenceTest, RandomRequestsMatchTheLibprotobufReference) {
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    Config c;
    c.excluded_name = kNames[pick(4)];
    c.bad_kv = {kKeys[pick(4)], kValues[pick(5)]};
    c.deleted_key = kKeys[pick(5)];
    c.rule = pick(4);
    c.src = pick(5) == 0 ? "__name__" : kKeys[pick(5)];
    c.target = kKeys[pick(5)] + std::string(pick(2) ? "" : "_new");
    if (c.rule == 2 && c.src == "__name__") c.src = "job";  // dropping __name__ drops everything
    const MetricsRequest in = random_request(rng);
    const MetricsRequest want = reference(in, c);
    const MetricsRequest got = run_chain(in, c);
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    ASSERT_TRUE(d.Compare(want, got)) << "seed " << seed << "\nfilter:\n"
                                      << yaml_filter(c) << "redact:\n"
                                      << yaml_redact(c) << "relabel:\n"
                                      << yaml_relabel(c) << diff;
  }
}

}  // namespace
}  // namespace otlpgate::filters::testing
