// Validate: which items are rejected, what the message says, and what the rewriter leaves.
#include "core/otlp/validate.h"

#include <gtest/gtest.h>

#include "core/otlp/rewriter.h"
#include "tests/support/random_otlp.h"

namespace otlpgate::otlp {
namespace {

using testing::LogsRequest;
using testing::MetricsRequest;
using testing::TraceRequest;

const std::string kTrace(16, '\x11');
const std::string kSpan(8, '\x22');

// Indexes `bytes`, validates, applies the drops; the rewritten request is in `out`.
struct Validated {
  Index ix;
  Edits edits;
  Validation v;
  Bytes out;
  uint64_t items_left = 0;

  Validated(Signal signal, const std::string& bytes) {
    EXPECT_TRUE(ix.build(signal, Bytes::copy_of(bytes)));
    v = validate(ix, edits);
    Rewriter rw;
    RewriteResult r = rw.apply(ix, edits);
    out = r.bytes;
    items_left = r.items;
  }
  uint64_t reason(Invalid why) const { return v.by_reason[static_cast<std::size_t>(why)]; }
};

opentelemetry::proto::trace::v1::Span* add_span(TraceRequest& req, const std::string& name,
                                                int scope = 0) {
  if (req.resource_spans_size() == 0) req.add_resource_spans();
  auto* rs = req.mutable_resource_spans(0);
  while (rs->scope_spans_size() <= scope) rs->add_scope_spans();
  auto* s = rs->mutable_scope_spans(scope)->add_spans();
  s->set_name(name);
  s->set_trace_id(kTrace);
  s->set_span_id(kSpan);
  return s;
}

std::vector<std::string> span_names(const Bytes& bytes) {
  TraceRequest got;
  EXPECT_TRUE(got.ParseFromString(std::string(bytes.view())));
  std::vector<std::string> names;
  for (const auto& rs : got.resource_spans())
    for (const auto& ss : rs.scope_spans())
      for (const auto& s : ss.spans()) names.push_back(s.name());
  return names;
}

TEST(Validate, ValidSpansAreLeftAlone) {
  TraceRequest req;
  add_span(req, "a");
  add_span(req, "b")->set_parent_span_id(kSpan);
  Validated r(Signal::traces, req.SerializeAsString());
  EXPECT_EQ(r.v.rejected, 0u);
  EXPECT_TRUE(r.v.message.empty());
  EXPECT_TRUE(r.edits.empty());
}

TEST(Validate, SpansWithMalformedIdsAreDroppedAndTheRestKept) {
  TraceRequest req;
  add_span(req, "ok-1");
  add_span(req, "short-trace")->set_trace_id(std::string(15, '\x01'));
  add_span(req, "no-span-id")->clear_span_id();
  add_span(req, "zero-trace")->set_trace_id(std::string(16, '\0'));
  add_span(req, "bad-parent")->set_parent_span_id(std::string(4, '\x03'));
  auto* linked = add_span(req, "bad-link");
  linked->add_links()->set_trace_id(kTrace);  // the link has no span_id
  add_span(req, "ok-2", 1);
  Validated r(Signal::traces, req.SerializeAsString());
  EXPECT_EQ(r.v.rejected, 5u);
  EXPECT_EQ(r.reason(Invalid::span_trace_id), 2u);
  EXPECT_EQ(r.reason(Invalid::span_span_id), 1u);
  EXPECT_EQ(r.reason(Invalid::span_parent_span_id), 1u);
  EXPECT_EQ(r.reason(Invalid::span_link_id), 1u);
  EXPECT_EQ(r.items_left, 2u);
  EXPECT_EQ(span_names(r.out), (std::vector<std::string>{"ok-1", "ok-2"}));
}

TEST(Validate, MessageSaysHowManyWhyAndWhere) {
  TraceRequest req;
  add_span(req, "ok");
  add_span(req, "ok", 1);
  add_span(req, "short", 1)->set_trace_id(std::string(15, '\x01'));
  Validated r(Signal::traces, req.SerializeAsString());
  EXPECT_EQ(r.v.message,
            "rejected 1 of 3 spans: 1 with a trace_id that is not 16 bytes or is all zero "
            "(first: resourceSpans[0].scopeSpans[1].spans[1], 15 bytes)");
}

TEST(Validate, EveryItemInvalidLeavesAnEmptyRequest) {
  TraceRequest req;
  add_span(req, "a")->clear_trace_id();
  add_span(req, "b", 1)->clear_trace_id();
  Validated r(Signal::traces, req.SerializeAsString());
  EXPECT_EQ(r.v.rejected, 2u);
  EXPECT_EQ(r.items_left, 0u);
  EXPECT_TRUE(span_names(r.out).empty());
}

TEST(Validate, MetricWithoutANameRejectsItsDataPoints) {
  MetricsRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* named = sm->add_metrics();
  named->set_name("requests");
  named->mutable_gauge()->add_data_points()->set_as_int(1);
  auto* nameless = sm->add_metrics();
  for (int i = 0; i < 3; ++i) nameless->mutable_sum()->add_data_points()->set_as_int(i);
  Validated r(Signal::metrics, req.SerializeAsString());
  EXPECT_EQ(r.v.rejected, 3u);
  EXPECT_EQ(r.reason(Invalid::metric_name_missing), 3u);
  EXPECT_EQ(r.v.message,
            "rejected 3 of 4 data points: 3 data points in 1 metric without a name "
            "(first: resourceMetrics[0].scopeMetrics[0].metrics[1])");
  MetricsRequest got;
  ASSERT_TRUE(got.ParseFromString(std::string(r.out.view())));
  ASSERT_EQ(got.resource_metrics(0).scope_metrics(0).metrics_size(), 1);
  EXPECT_EQ(got.resource_metrics(0).scope_metrics(0).metrics(0).name(), "requests");
}

TEST(Validate, LogIdsAreOptionalButMustHaveTheirLengthWhenPresent) {
  LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  sl->add_log_records()->set_severity_text("no ids");
  auto* both = sl->add_log_records();
  both->set_trace_id(kTrace);
  both->set_span_id(kSpan);
  sl->add_log_records()->set_trace_id(std::string(3, '\x01'));
  auto* bad_span = sl->add_log_records();
  bad_span->set_trace_id(kTrace);
  bad_span->set_span_id(std::string(9, '\x01'));
  Validated r(Signal::logs, req.SerializeAsString());
  EXPECT_EQ(r.v.rejected, 2u);
  EXPECT_EQ(r.reason(Invalid::log_trace_id), 1u);
  EXPECT_EQ(r.reason(Invalid::log_span_id), 1u);
  EXPECT_EQ(r.items_left, 2u);
  EXPECT_NE(r.v.message.find("logRecords[2], 3 bytes"), std::string::npos) << r.v.message;
}

// Random requests: whatever is rejected, the rest is readable, complete and valid.
TEST(Validate, RandomRequestsLoseExactlyTheRejectedItems) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    for (Signal signal : kAllSignals) {
      const std::string bytes = testing::random_request_bytes(signal, seed);
      Validated r(signal, bytes);
      EXPECT_EQ(r.items_left + r.v.rejected, r.ix.item_count()) << seed;
      EXPECT_EQ(r.v.message.empty(), r.edits.empty()) << seed;
      Index again;
      ASSERT_TRUE(again.build(signal, r.out)) << seed;
      EXPECT_EQ(again.item_count(), r.items_left) << seed;
      Edits none;
      EXPECT_EQ(validate(again, none).rejected, 0u) << seed;
      EXPECT_TRUE(none.empty()) << seed;
    }
  }
}

}  // namespace
}  // namespace otlpgate::otlp
