// Stages composed by run_stages on one index: each sees what the earlier ones did, on every
// signal, as it would have seen a rewritten request.
#include <gtest/gtest.h>

#include "tests/support/chain_reference.h"
#include "tests/unit/filters/stage_test_util.h"

namespace otlpgate::filters::testing {
namespace {

using otlpgate::testing::build_stages;
using otlpgate::testing::ChainOutput;
using otlpgate::testing::ChainScratch;
using otlpgate::testing::run_chain;

template <typename Req>
Req run_blocks(const std::vector<std::pair<std::string, std::string>>& blocks, const Req& in,
               uint64_t* items = nullptr) {
  std::string err;
  const auto chain = build_stages(blocks, &err);
  EXPECT_FALSE(chain.empty()) << err;
  ChainScratch scratch;
  const ChainOutput out = run_chain(chain, signal_of<Req>(), Bytes::adopt(in.SerializeAsString()), scratch);
  EXPECT_TRUE(out.ok);
  if (items) *items = out.items;
  Req r;
  EXPECT_TRUE(r.ParseFromString(std::string(out.bytes.view())));
  return r;
}

TEST(ChainCompose, FilterSeesTheLogBodyRedactMasked) {
  LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  sl->add_log_records()->mutable_body()->set_string_value("mail to a@b.co");
  sl->add_log_records()->mutable_body()->set_string_value("all good");
  uint64_t items = 0;
  const LogsRequest out = run_blocks(
      {{"redact/r", "builtin_patterns: [email]\n"},
       {"filter/f", "logs: {exclude: {match_type: regexp, bodies: ['\\*\\*\\*\\*']}}\n"}},
      req, &items);
  ASSERT_EQ(out.resource_logs(0).scope_logs(0).log_records_size(), 1);
  EXPECT_EQ(out.resource_logs(0).scope_logs(0).log_records(0).body().string_value(), "all good");
  EXPECT_EQ(items, 1u);
}

TEST(ChainCompose, DedupSeesWhatRedactDeletedAndRelabelRunsOnWhatIsLeft) {
  // Two points that differ only in user.email: redact deletes it, so dedup sees the same series
  // twice and keeps the first; relabel then copies job into team on what is left.
  MetricsRequest req = metrics_request(
      {{"m", {{{{"job", "api"}, {"user.email", "a@b.co"}}}, {{{"job", "api"}, {"user.email", "c@d.co"}}}}}});
  uint64_t items = 0;
  const MetricsRequest out = run_blocks(
      {{"redact/r", "delete_keys: [user.email]\n"},
       {"dedup/d", "max_series: 1000\n"},
       {"relabel/l", "metric_relabel_configs:\n- {source_labels: [job], target_label: team}\n"}},
      req, &items);
  EXPECT_EQ(items, 1u);
  ASSERT_EQ(point_count(out), 1u);
  EXPECT_EQ(attr_map(out.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points(0).attributes()),
            (std::map<std::string, std::string>{{"job", "api"}, {"team", "api"}}));
}

// The index notes the names a request came with, and a stage whose rules cannot match any of them
// passes over it; a name an earlier stage gave must still be seen by the later ones.
TEST(ChainCompose, NamesAnEarlierStageGaveAreSeenByTheLaterOnes) {
  const MetricsRequest req = metrics_request({{"app_requests_total", {{}}}, {"app_up", {{}}}});
  const std::string rename =
      "metric_relabel_configs:\n- {source_labels: [__name__], regex: 'app_(.*)', "
      "target_label: __name__, replacement: 'svc_$1'}\n";
  // relabel, then filter on a new name
  const MetricsRequest filtered = run_blocks(
      {{"relabel/l", rename},
       {"filter/f", "metrics: {exclude: {match_type: strict, metric_names: [svc_up]}}\n"}},
      req);
  EXPECT_EQ(metric_names(filtered), std::vector<std::string>{"svc_requests_total"});
  // relabel, then relabel again on the new names
  const MetricsRequest twice =
      run_blocks({{"relabel/a", rename},
                  {"relabel/b",
                   "metric_relabel_configs:\n- {source_labels: [__name__], regex: 'svc_up', "
                   "action: drop}\n"}},
                 req);
  EXPECT_EQ(metric_names(twice), std::vector<std::string>{"svc_requests_total"});
  // and on the names the request came with, before any edit, the later rules see nothing to do
  const MetricsRequest untouched = run_blocks(
      {{"filter/f", "metrics: {exclude: {match_type: strict, metric_names: [svc_up]}}\n"},
       {"relabel/b",
        "metric_relabel_configs:\n- {source_labels: [__name__], regex: 'svc_up', "
        "action: drop}\n"}},
      req);
  EXPECT_EQ(metric_names(untouched), (std::vector<std::string>{"app_requests_total", "app_up"}));
}

TEST(ChainCompose, ALaterStageEditsWhatAnEarlierOneAdded) {
  TraceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_trace_id(std::string(16, '\1'));
  s->set_span_id(std::string(8, '\2'));
  set_attrs(s->mutable_attributes(), {{"k", "v"}});
  const TraceRequest out = run_blocks(
      {{"relabel/a", "actions: [{key: secret, value: 'password=abcdef123456', action: insert}]\n"},
       {"redact/r", "builtin_patterns: [api_key]\n"},
       {"relabel/b", "actions: [{key: secret, new_key: hidden, action: rename}]\n"}},
      req);
  EXPECT_EQ(attr_map(out.resource_spans(0).scope_spans(0).spans(0).attributes()),
            (std::map<std::string, std::string>{{"k", "v"}, {"hidden", "password=****"}}));
}

}  // namespace
}  // namespace otlpgate::filters::testing
