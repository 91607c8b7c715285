// RedactStage: what a backend receives after each redaction rule.
#include "filters/redact.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "tests/unit/filters/stage_test_util.h"

namespace otlpgate::filters::testing {
namespace {

const KVs& point_attrs(const MetricsRequest& r, int metric = 0, int point = 0) {
  return r.resource_metrics(0)
      .scope_metrics(0)
      .metrics(metric)
      .gauge()
      .data_points(point)
      .attributes();
}

TEST(RedactTest, DeleteKeysAtItemAndResourceLevel) {
  auto st = stage("redact/x", "delete_keys: [user.email]\n");
  auto out = run(*st, metrics_request({{"m", {{{{"user.email", "a@b.co"}, {"route", "/x"}}}}}},
                                      {{"user.email", "ops@b.co"}, {"service.name", "api"}}));
  EXPECT_EQ(attr_map(point_attrs(out)), (std::map<std::string, std::string>{{"route", "/x"}}));
  EXPECT_EQ(attr_map(out.resource_metrics(0).resource().attributes()),
            (std::map<std::string, std::string>{{"service.name", "api"}}));
  EXPECT_EQ(counter(*st, "attributes_redacted{rule=\"delete_keys\"}"), 2u);
}

TEST(RedactTest, DeleteKeyPatterns) {
  auto st = stage("redact/x", "delete_key_patterns: ['^http\\.request\\.header\\.']\n");
  auto out = run(
      *st,
      metrics_request({{"m", {{{{"http.request.header.cookie", "s=1"}, {"http.route", "/"}}}}}}));
  EXPECT_EQ(attr_map(point_attrs(out)), (std::map<std::string, std::string>{{"http.route", "/"}}));
}

TEST(RedactTest, AllowlistFailsClosed) {
  auto st = stage("redact/x", "allowed_keys: [service.name, route]\nlevels: [resource, item]\n");
  auto out =
      run(*st, metrics_request({{"m", {{{{"route", "/x"}, {"session", "abc"}, {"new.key", "v"}}}}}},
                               {{"service.name", "api"}, {"host.ip", "10.0.0.1"}}));
  EXPECT_EQ(attr_map(point_attrs(out)), (std::map<std::string, std::string>{{"route", "/x"}}));
  EXPECT_EQ(attr_map(out.resource_metrics(0).resource().attributes()),
            (std::map<std::string, std::string>{{"service.name", "api"}}));
  EXPECT_EQ(counter(*st, "attributes_redacted{rule=\"allowed_keys\"}"), 3u);
}

TEST(RedactTest, CollectorAllowAllKeysFalseWithoutListRemovesEverything) {
  auto st = stage("redaction/x", "allow_all_keys: false\nlevels: [item]\n");
  auto out = run(*st, metrics_request({{"m", {{{{"a", "1"}, {"b", "2"}}}}}}));
  EXPECT_EQ(point_attrs(out).size(), 0);
}

TEST(RedactTest, HashIsHexHmacSha256WithTheKeyFromTheEnvironment) {
  ::setenv("OTLPGATE_TEST_HMAC_KEY", "key", 1);
  auto st = stage("redact/x", "hash_keys: [user.id]\nhash_key_env: OTLPGATE_TEST_HMAC_KEY\n");
  auto out = run(
      *st,
      metrics_request({{"m", {{{{"user.id", "The quick brown fox jumps over the lazy dog"}}}}}}));
  // RFC 4231-style published vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy
  // dog").
  EXPECT_EQ(attr_map(point_attrs(out))["user.id"],
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  EXPECT_EQ(counter(*st, "attributes_redacted{rule=\"hash\"}"), 1u);
}

TEST(RedactTest, HashWithoutKeyIsAConfigError) {
  ::unsetenv("OTLPGATE_TEST_NO_KEY");
  EXPECT_NE(stage_error("redact/x", "hash_keys: [a]\nhash_key_env: OTLPGATE_TEST_NO_KEY\n")
                .find("hash_key_env"),
            std::string::npos);
  EXPECT_NE(stage_error("redact/x", "hash_keys: [a]\n").find("required"), std::string::npos);
}

TEST(RedactTest, BuiltinPatternsMaskOnlyTheSensitivePart) {
  auto st = stage("redact/x", "builtin_patterns: [email, credit_card, bearer_token, api_key]\n");
  auto out =
      run(*st, metrics_request({{"m",
                                 {{{
                                     {"msg", "contact alice@example.com now"},
                                     {"card", "paid with 4111 1111 1111 1111."},
                                     {"order", "order 1234567890123"},  // fails Luhn: not a card
                                     {"auth", "Bearer eyJhbGciOi.abc-def"},
                                     {"url", "/cb?api_key=s3cr3tvalue&x=1"},
                                     {"stripe", "key sk_live_abcdefghij1234"},
                                     {"plain", "nothing to see"},
                                 }}}}}));
  auto m = attr_map(point_attrs(out));
  EXPECT_EQ(m["msg"], "contact **** now");
  EXPECT_EQ(m["card"], "paid with ****.");
  EXPECT_EQ(m["order"], "order 1234567890123");
  EXPECT_EQ(m["auth"], "Bearer ****");
  EXPECT_EQ(m["url"], "/cb?api_key=****&x=1");
  EXPECT_EQ(m["stripe"], "key ****");
  EXPECT_EQ(m["plain"], "nothing to see");
  EXPECT_EQ(counter(*st, "values_masked{pattern=\"email\"}"), 1u);
  EXPECT_EQ(counter(*st, "values_masked{pattern=\"credit_card\"}"), 1u);
}

TEST(RedactTest, UserPatternsAndCustomMask) {
  auto st = stage("redact/x", "blocked_values: ['\\d{3}-\\d{2}-\\d{4}']\nmask: '[REDACTED]'\n");
  auto out = run(*st, metrics_request({{"m", {{{{"note", "ssn 123-45-6789 and 987-65-4321"}}}}}}));
  EXPECT_EQ(attr_map(point_attrs(out))["note"], "ssn [REDACTED] and [REDACTED]");
  EXPECT_EQ(counter(*st, "values_masked{pattern=\"blocked_values[0]\"}"), 1u);
}

TEST(RedactTest, IgnoredKeysAreNeverTouched) {
  auto st =
      stage("redact/x", "builtin_patterns: [email]\nignored_keys: [owner]\ndelete_keys: [owner]\n");
  auto out = run(
      *st, metrics_request({{"m", {{{{"owner", "bob@example.com"}, {"x", "bob@example.com"}}}}}}));
  auto m = attr_map(point_attrs(out));
  EXPECT_EQ(m["owner"], "bob@example.com");
  EXPECT_EQ(m["x"], "****");
}

TEST(RedactTest, BlockedKeyPatternsMaskWholeValue) {
  auto st = stage("redact/x", "blocked_key_patterns: ['(?i)password']\n");
  auto out =
      run(*st, metrics_request({{"m", {{{{"db.Password", "hunter2"}, {"db.name", "orders"}}}}}}));
  auto m = attr_map(point_attrs(out));
  EXPECT_EQ(m["db.Password"], "****");
  EXPECT_EQ(m["db.name"], "orders");
}

TEST(RedactTest, LogBodiesAndLogAttributes) {
  auto st = stage("redact/x", "builtin_patterns: [email]\ndelete_keys: [user.email]\n");
  LogsRequest req;
  auto* l = req.add_resource_logs()->add_scope_logs()->add_log_records();
  l->mutable_body()->set_string_value("login by carol@example.org failed");
  set_attrs(l->mutable_attributes(), {{"user.email", "carol@example.org"}, {"outcome", "fail"}});
  auto out = run(*st, req);
  const auto& rec = out.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(rec.body().string_value(), "login by **** failed");
  EXPECT_EQ(attr_map(rec.attributes()), (std::map<std::string, std::string>{{"outcome", "fail"}}));
}

TEST(RedactTest, SpanAndEventAttributes) {
  auto st = stage("redact/x", "delete_keys: [user.email]\n");
  TraceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_trace_id(std::string(16, '\1'));
  s->set_span_id(std::string(8, '\2'));
  set_attrs(s->mutable_attributes(), {{"user.email", "x@y.zz"}, {"k", "v"}});
  set_attrs(s->add_events()->mutable_attributes(), {{"user.email", "x@y.zz"}});
  auto out = run(*st, req);
  const auto& span = out.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(attr_map(span.attributes()), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(span.events(0).attributes_size(), 0);
}

// After an earlier stage's edit redact reads the request owner by owner through the Edits' view
// (without one, a single pass over the index): the same result at every level.
TEST(RedactTest, AfterAnEarlierStageEveryLevelIsStillRedacted) {
  auto st = stage("redact/x", "delete_keys: [user.email]\n");
  TraceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  set_attrs(ss->mutable_scope()->mutable_attributes(), {{"user.email", "s@y.zz"}});
  for (int i = 0; i < 2; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(16, '\1'));
    s->set_span_id(std::string(8, static_cast<char>(2 + i)));
    set_attrs(s->mutable_attributes(), {{"user.email", "x@y.zz"}, {"k", "v"}});
    set_attrs(s->add_events()->mutable_attributes(), {{"user.email", "x@y.zz"}});
    set_attrs(s->add_links()->mutable_attributes(), {{"user.email", "x@y.zz"}, {"l", "1"}});
  }
  const Bytes in = Bytes::adopt(req.SerializeAsString());
  otlp::Index ix;
  ASSERT_TRUE(ix.build(Signal::traces, in));
  otlp::Edits edits;
  edits.reset(ix);
  edits.drop(ix.spans()[1].node);  // as a filter before it would
  st->process(ix, edits);
  otlp::Rewriter rw;
  TraceRequest out;
  ASSERT_TRUE(out.ParseFromString(std::string(rw.apply(ix, edits).bytes.view())));
  const auto& scope = out.resource_spans(0).scope_spans(0);
  EXPECT_EQ(scope.scope().attributes_size(), 0);
  ASSERT_EQ(scope.spans_size(), 1);
  EXPECT_EQ(attr_map(scope.spans(0).attributes()), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(scope.spans(0).events(0).attributes_size(), 0);
  EXPECT_EQ(attr_map(scope.spans(0).links(0).attributes()),
            (std::map<std::string, std::string>{{"l", "1"}}));
}

TEST(RedactTest, LevelsLimitWhereRulesApply) {
  auto st = stage("redact/x", "delete_keys: [host.name]\nlevels: [item]\n");
  auto out = run(*st, metrics_request({{"m", {{{{"host.name", "a"}}}}}}, {{"host.name", "r"}}));
  EXPECT_EQ(point_attrs(out).size(), 0);
  EXPECT_EQ(attr_map(out.resource_metrics(0).resource().attributes())["host.name"], "r");
}

TEST(RedactTest, NothingToRedactLeavesTheVeryInputBytes) {
  auto st =
      stage("redact/x", "delete_keys: [user.email]\nbuiltin_patterns: [email, credit_card]\n");
  MetricsRequest out;
  EXPECT_TRUE(run(*st, metrics_request({{"m", {{{{"route", "/home"}}}}}}), &out).same_storage);
}

// A request none of whose keys has the signature of a key to delete is passed over whole
// (otlp::Index::may_have_key_signature); one that has the key at a single place, however deep,
// is not, and a key that only shares the signature is left alone.
TEST(RedactTest, KeysAnywhereInTheRequestAreFoundAndLookalikesLeftAlone) {
  auto st = stage("redact/x", "delete_keys: [user.email]\n");
  ASSERT_EQ(otlp::Attribute::key_signature("user.mmait"),
            otlp::Attribute::key_signature("user.email"));
  MetricsRequest in = metrics_request({{"m", {{{{"route", "/x"}}}}}}, {{"user.mmait", "r"}});
  MetricsRequest out;
  EXPECT_TRUE(run(*st, in, &out).same_storage);
  EXPECT_EQ(counter(*st, "attributes_redacted{rule=\"delete_keys\"}"), 0u);

  set_attrs(in.mutable_resource_metrics(0)->mutable_scope_metrics(0)->mutable_scope()
                ->mutable_attributes(),
            {{"user.email", "s@y.zz"}, {"k", "v"}});
  EXPECT_FALSE(run(*st, in, &out).same_storage);
  EXPECT_EQ(attr_map(out.resource_metrics(0).scope_metrics(0).scope().attributes()),
            (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(attr_map(out.resource_metrics(0).resource().attributes()),
            (std::map<std::string, std::string>{{"user.mmait", "r"}}));
  EXPECT_EQ(counter(*st, "attributes_redacted{rule=\"delete_keys\"}"), 1u);
}

TEST(RedactTest, ConfigErrors) {
  EXPECT_NE(stage_error("redact/x", "builtin_patterns: [ssn]\n")
                .find("processors.redact/x.builtin_patterns[0]"),
            std::string::npos);
  EXPECT_NE(stage_error("redact/x", "delete_key: [a]\n")
                .find("processors.redact/x.delete_key: unknown key"),
            std::string::npos);
  EXPECT_NE(stage_error("redact/x", "levels: [span]\n").find("processors.redact/x.levels"),
            std::string::npos);
}

}  // namespace
}  // namespace otlpgate::filters::testing
