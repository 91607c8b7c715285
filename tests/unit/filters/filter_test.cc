// FilterStage: what leaves the stage for each kind of include/exclude rule.
#include "filters/filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/filters/stage_test_util.h"

namespace otlpgate::filters::testing {
namespace {

using ::testing::ElementsAre;

TEST(FilterTest, ExcludeByStrictNameDropsOnlyThatMetric) {
  auto st =
      stage("filter/x", "metrics:\n  exclude:\n    match_type: strict\n    metric_names: [b]\n");
  auto out = run(*st, metrics_request({{"a", {{}}}, {"b", {{}}}, {"c", {{}}}}));
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(counter(*st, "items_dropped{reason=\"excluded\"}"), 1u);
}

TEST(FilterTest, IncludeByRegexpKeepsOnlyMatchingMetrics) {
  auto st = stage("filter/x",
                  "metrics:\n  include:\n    match_type: regexp\n    metric_names: ['^http_']\n");
  auto out = run(
      *st,
      metrics_request({{"http_requests", {{}}}, {"rpc_http_calls", {{}}}, {"http_errors", {{}}}}));
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"http_requests", "http_errors"}));
}

TEST(FilterTest, RegexpIsUnanchoredLikeTheCollector) {
  auto st = stage("filter/x",
                  "metrics:\n  exclude:\n    match_type: regexp\n    metric_names: [debug]\n");
  auto out = run(*st, metrics_request({{"app.debug.count", {{}}}, {"app.count", {{}}}}));
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"app.count"}));
}

TEST(FilterTest, GlobIsAnchored) {
  auto st =
      stage("filter/x",
            "metrics:\n  exclude:\n    match_type: glob\n    metric_names: ['aws_*_count']\n");
  auto out = run(
      *st, metrics_request(
               {{"aws_elb_count", {{}}}, {"aws_elb_count_total", {{}}}, {"x_aws_a_count", {{}}}}));
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"aws_elb_count_total", "x_aws_a_count"}));
}

TEST(FilterTest, DataPointAttributeDropsPointsAndEmptiedMetrics) {
  auto st = stage(
      "filter/x",
      "metrics:\n  exclude:\n    match_type: strict\n    attributes: [{key: env, value: dev}]\n");
  auto out = run(*st, metrics_request({{"mixed", {{{{"env", "dev"}}}, {{{"env", "prod"}}}}},
                                       {"dev_only", {{{{"env", "dev"}}}}}}));
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"mixed"}));
  ASSERT_EQ(point_count(out), 1u);
  EXPECT_EQ(attr_map(out.resource_metrics(0)
                         .scope_metrics(0)
                         .metrics(0)
                         .gauge()
                         .data_points(0)
                         .attributes())["env"],
            "prod");
}

TEST(FilterTest, ResourceAttributesDropWholeResource) {
  auto st = stage("filter/x",
                  "metrics:\n  exclude:\n    match_type: strict\n"
                  "    resource_attributes: [{key: service.name, value: noisy}]\n");
  MetricsRequest req;
  add_resource(req, {{"service.name", "noisy"}}, {{"a", {{}}}});
  add_resource(req, {{"service.name", "quiet"}}, {{"b", {{}}}});
  auto out = run(*st, req);
  ASSERT_EQ(out.resource_metrics_size(), 1);
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"b"}));
}

TEST(FilterTest, AttributeWithoutValueMatchesOnKeyAndIntValuesCompareAsText) {
  auto st = stage("filter/x",
                  "metrics:\n  include:\n    match_type: strict\n    attributes: [{key: code, "
                  "value: '200'}]\n");
  MetricsRequest req = metrics_request({{"m", {{}, {}}}});
  auto* pts = req.mutable_resource_metrics(0)
                  ->mutable_scope_metrics(0)
                  ->mutable_metrics(0)
                  ->mutable_gauge();
  auto* kv = pts->mutable_data_points(0)->add_attributes();
  kv->set_key("code");
  kv->mutable_value()->set_int_value(200);
  kv = pts->mutable_data_points(1)->add_attributes();
  kv->set_key("code");
  kv->mutable_value()->set_int_value(500);
  auto out = run(*st, req);
  ASSERT_EQ(point_count(out), 1u);
  EXPECT_EQ(out.resource_metrics(0)
                .scope_metrics(0)
                .metrics(0)
                .gauge()
                .data_points(0)
                .attributes(0)
                .value()
                .int_value(),
            200);
}

TEST(FilterTest, IncludeAndExcludeTogether) {
  auto st = stage("filter/x",
                  "metrics:\n  include:\n    match_type: glob\n    metric_names: ['app.*']\n"
                  "  exclude:\n    match_type: strict\n    metric_names: [app.secret]\n");
  auto out = run(*st, metrics_request({{"app.a", {{}}}, {"app.secret", {{}}}, {"sys.b", {{}}}}));
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"app.a"}));
  EXPECT_EQ(counter(*st, "items_dropped{reason=\"not_included\"}"), 1u);
  EXPECT_EQ(counter(*st, "items_dropped{reason=\"excluded\"}"), 1u);
}

TEST(FilterTest, NothingMatchedLeavesTheVeryInputBytes) {
  auto st =
      stage("filter/x", "metrics:\n  exclude:\n    match_type: strict\n    metric_names: [nope]\n");
  MetricsRequest out;
  auto r = run(*st, metrics_request({{"a", {{}}}}), &out);
  EXPECT_TRUE(r.same_storage);
  EXPECT_EQ(metric_names(out), (std::vector<std::string>{"a"}));
}

TEST(FilterTest, SpansByNameKindAndService) {
  auto st = stage("filter/x",
                  "spans:\n  exclude:\n    match_type: strict\n    span_names: [healthcheck]\n"
                  "    span_kinds: [SPAN_KIND_SERVER]\n    services: [web]\n");
  TraceRequest req;
  auto* rs = req.add_resource_spans();
  set_attrs(rs->mutable_resource()->mutable_attributes(), {{"service.name", "web"}});
  auto* ss = rs->add_scope_spans();
  auto add = [&](const std::string& name, int kind) {
    auto* s = ss->add_spans();
    s->set_name(name);
    s->set_kind(static_cast<opentelemetry::proto::trace::v1::Span::SpanKind>(kind));
    s->set_trace_id(std::string(16, '\1'));
    s->set_span_id(std::string(8, '\2'));
  };
  add("healthcheck", 2);  // server: dropped
  add("healthcheck", 3);  // client: kept
  add("checkout", 2);
  auto out = run(*st, req);
  std::vector<std::string> names;
  for (const auto& s : out.resource_spans(0).scope_spans(0).spans())
    names.push_back(s.name() + "/" + std::to_string(s.kind()));
  EXPECT_THAT(names, ElementsAre("healthcheck/3", "checkout/2"));
}

TEST(FilterTest, LogsBySeverityAndBody) {
  auto st = stage("filter/x",
                  "logs:\n  include:\n    match_type: regexp\n    severity_number: {min: WARN}\n"
                  "  exclude:\n    match_type: regexp\n    bodies: ['^ignore']\n");
  LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  auto add = [&](int sev, const std::string& body) {
    auto* l = sl->add_log_records();
    l->set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(sev));
    l->mutable_body()->set_string_value(body);
  };
  add(9, "info line");        // below WARN
  add(13, "warn line");       // kept
  add(17, "ignore this");     // excluded by body
  add(0, "undefined level");  // match_undefined is false
  auto out = run(*st, req);
  ASSERT_EQ(out.resource_logs_size(), 1);
  ASSERT_EQ(out.resource_logs(0).scope_logs(0).log_records_size(), 1);
  EXPECT_EQ(out.resource_logs(0).scope_logs(0).log_records(0).body().string_value(), "warn line");
}

TEST(FilterTest, AllItemsDroppedLeavesAnEmptyRequest) {
  auto st =
      stage("filter/x", "metrics:\n  exclude:\n    match_type: glob\n    metric_names: ['*']\n");
  auto out = run(*st, metrics_request({{"a", {{}}}, {"b", {{}}}}));
  EXPECT_EQ(out.resource_metrics_size(), 0);
}

TEST(FilterTest, OtherSignalsPassUntouched) {
  auto st =
      stage("filter/x", "metrics:\n  exclude:\n    match_type: glob\n    metric_names: ['*']\n");
  LogsRequest req;
  req.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body()->set_string_value(
      "x");
  LogsRequest out;
  EXPECT_TRUE(run(*st, req, &out).same_storage);
}

TEST(FilterTest, ConfigErrorsNameTheKey) {
  EXPECT_EQ(
      stage_error("filter/x", "metrics:\n  include:\n    match_type: foo\n    metric_names: [a]\n"),
      "processors.filter/x.metrics.include.match_type: expected one of strict, regexp, glob; got "
      "\"foo\"");
  EXPECT_NE(stage_error("filter/x",
                        "metrics:\n  include:\n    match_type: strict\n    metric_name: [a]\n")
                .find("processors.filter/x.metrics.include.metric_name: unknown key"),
            std::string::npos);
  EXPECT_NE(stage_error("filter/x",
                        "metrics:\n  exclude:\n    match_type: regexp\n    metric_names: ['(']\n")
                .find("processors.filter/x.metrics.exclude.metric_names[0]: invalid pattern"),
            std::string::npos);
  EXPECT_NE(stage_error("filter/x", "metrics:\n  exclude:\n    match_type: strict\n")
                .find("needs at least one"),
            std::string::npos);
  EXPECT_NE(stage_error("nosuch/x", "").find("unknown processor type \"nosuch\""),
            std::string::npos);
}

}  // namespace
}  // namespace otlpgate::filters::testing
