// Validate: one pass over the index's metrics, spans or log records; the message is built only
// when something was rejected.
#include "core/otlp/validate.h"

#include <algorithm>

namespace otlpgate::otlp {

namespace {

constexpr std::size_t kTraceIdBytes = 16;
constexpr std::size_t kSpanIdBytes = 8;

bool all_zero(std::string_view id) {
  return std::all_of(id.begin(), id.end(), [](char c) { return c == '\0'; });
}
// Required ids (a span's own): exactly n bytes, not all zero (the spec's "invalid" id).
bool bad_required(std::string_view id, std::size_t n) { return id.size() != n || all_zero(id); }
// Optional ids (a parent span, a log's trace context): absent, or exactly n bytes.
bool bad_optional(std::string_view id, std::size_t n) { return !id.empty() && id.size() != n; }

// What each reason says in the message, after the item count.
constexpr std::array<std::string_view, kInvalidReasons> kWhat = {
    "without a name",
    "with a trace_id that is not 16 bytes or is all zero",
    "with a span_id that is not 8 bytes or is all zero",
    "with a parent_span_id that is not 8 bytes",
    "with a link whose trace_id is not 16 bytes or whose span_id is not 8 bytes",
    "with a trace_id that is not 16 bytes",
    "with a span_id that is not 8 bytes",
};

// The first offender of each reason, for the message.
struct First {
  uint32_t item = kNone;  // index into metrics(), spans() or logs()
  std::size_t got = 0;    // the offending id's size in bytes
  bool has_size = false;  // whether `got` means anything (not for names and links)
};

class Validator {
 public:
  Validator(const Index& ix, Edits& edits) : ix_(ix), edits_(edits) {}

  Validation run() {
    switch (ix_.signal()) {
      case Signal::metrics:
        metrics();
        break;
      case Signal::traces:
        spans();
        break;
      case Signal::logs:
        logs();
        break;
    }
    if (entries_ != 0) out_.message = message();
    return std::move(out_);
  }

 private:
  void metrics() {
    const auto ms = ix_.metrics();
    for (uint32_t i = 0; i < ms.size(); ++i) {
      if (!ms[i].name.empty()) continue;
      reject(ms[i].node, i, Invalid::metric_name_missing, ms[i].point_count, {});
    }
  }

  void spans() {
    const auto ss = ix_.spans();
    for (uint32_t i = 0; i < ss.size(); ++i) {
      const SpanEntry& s = ss[i];
      if (bad_required(s.trace_id, kTraceIdBytes)) {
        reject(s.node, i, Invalid::span_trace_id, 1, s.trace_id);
      } else if (bad_required(s.span_id, kSpanIdBytes)) {
        reject(s.node, i, Invalid::span_span_id, 1, s.span_id);
      } else if (bad_optional(s.parent_span_id, kSpanIdBytes)) {
        reject(s.node, i, Invalid::span_parent_span_id, 1, s.parent_span_id);
      } else if (bad_link(s)) {
        reject(s.node, i, Invalid::span_link_id, 1, {});
      }
    }
  }

  bool bad_link(const SpanEntry& s) const {
    const auto links = ix_.span_links().subspan(s.first_link, s.link_count);
    return std::any_of(links.begin(), links.end(), [](const SpanLinkEntry& l) {
      return bad_required(l.trace_id, kTraceIdBytes) || bad_required(l.span_id, kSpanIdBytes);
    });
  }

  void logs() {
    const auto ls = ix_.log_records();
    for (uint32_t i = 0; i < ls.size(); ++i) {
      if (bad_optional(ls[i].trace_id, kTraceIdBytes)) {
        reject(ls[i].node, i, Invalid::log_trace_id, 1, ls[i].trace_id);
      } else if (bad_optional(ls[i].span_id, kSpanIdBytes)) {
        reject(ls[i].node, i, Invalid::log_span_id, 1, ls[i].span_id);
      }
    }
  }

  // `id` is the offending id (for its size in the message), empty for names and links.
  void reject(uint32_t node, uint32_t item, Invalid why, uint64_t items, std::string_view id) {
    edits_.drop(node);
    const auto r = static_cast<std::size_t>(why);
    out_.rejected += items;
    out_.by_reason[r] += items;
    ++entries_by_reason_[r];
    ++entries_;
    if (first_[r].item == kNone) {
      first_[r] = {item, id.size(),
                   why != Invalid::metric_name_missing && why != Invalid::span_link_id};
    }
  }

  // "resourceSpans[0].scopeSpans[1].spans[3]": where item `i` sits, as OTLP JSON names it.
  std::string path(uint32_t item) const {
    static constexpr std::array<std::array<std::string_view, 3>, 3> kNames = {{
        {"resourceMetrics", "scopeMetrics", "metrics"},
        {"resourceSpans", "scopeSpans", "spans"},
        {"resourceLogs", "scopeLogs", "logRecords"},
    }};
    uint32_t scope = 0;
    switch (ix_.signal()) {
      case Signal::metrics:
        scope = ix_.metrics()[item].scope;
        break;
      case Signal::traces:
        scope = ix_.spans()[item].scope;
        break;
      case Signal::logs:
        scope = ix_.log_records()[item].scope;
        break;
    }
    const ScopeEntry& se = ix_.scopes()[scope];
    const ResourceEntry& re = ix_.resources()[se.resource];
    const auto& n = kNames[static_cast<std::size_t>(ix_.signal())];
    return std::string(n[0]) + '[' + std::to_string(se.resource) + "]." + std::string(n[1]) + '[' +
           std::to_string(scope - re.first_scope) + "]." + std::string(n[2]) + '[' +
           std::to_string(item - se.first_item) + ']';
  }

  std::string message() const {
    const std::string items(signal_item_name(ix_.signal()));
    std::string m = "rejected " + std::to_string(out_.rejected) + " of " +
                    std::to_string(ix_.item_count()) + ' ' + items + ':';
    const char* sep = " ";
    for (std::size_t r = 0; r < kInvalidReasons; ++r) {
      if (entries_by_reason_[r] == 0) continue;
      m += sep;
      sep = "; ";
      if (static_cast<Invalid>(r) == Invalid::metric_name_missing) {
        m += std::to_string(out_.by_reason[r]) + ' ' + items + " in " +
             std::to_string(entries_by_reason_[r]) +
             (entries_by_reason_[r] == 1 ? " metric" : " metrics");
      } else {
        m += std::to_string(out_.by_reason[r]);
      }
      m += ' ';
      m += kWhat[r];
      m += " (first: " + path(first_[r].item);
      if (first_[r].has_size) m += ", " + std::to_string(first_[r].got) + " bytes";
      m += ')';
    }
    return m;
  }

  const Index& ix_;
  Edits& edits_;
  Validation out_;
  uint64_t entries_ = 0;  // metrics, spans or log records dropped
  std::array<uint64_t, kInvalidReasons> entries_by_reason_{};
  std::array<First, kInvalidReasons> first_{};
};

}  // namespace

std::string_view reason_name(Invalid r) {
  switch (r) {
    case Invalid::metric_name_missing:
      return "metric_name_missing";
    case Invalid::span_trace_id:
      return "span_trace_id";
    case Invalid::span_span_id:
      return "span_span_id";
    case Invalid::span_parent_span_id:
      return "span_parent_span_id";
    case Invalid::span_link_id:
      return "span_link_id";
    case Invalid::log_trace_id:
      return "log_trace_id";
    case Invalid::log_span_id:
      return "log_span_id";
  }
  return "unknown";
}

Validation validate(const Index& index, Edits& edits) { return Validator(index, edits).run(); }

}  // namespace otlpgate::otlp
