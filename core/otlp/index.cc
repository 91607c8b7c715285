// The one-pass indexer: walks the request once, validating wire types of known fields.
#include "core/otlp/index.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "core/otlp/fields.h"
#include "core/wire/cursor.h"

namespace otlpgate::otlp {

using wire::Cursor;
using wire::WireType;

namespace {

bool has_scalar(ValueType t) {
  return t == ValueType::string || t == ValueType::bytes || t == ValueType::array ||
         t == ValueType::kvlist;
}

// The number a member holds: a varint (bool, int) or the 8 bytes of a double.
uint64_t member_bits(ValueType t, std::string_view m) {
  uint64_t v = 0;
  if (t == ValueType::floating) {
    if (m.size() == 8) std::memcpy(&v, m.data(), 8);
  } else if (t == ValueType::boolean || t == ValueType::integer) {
    bool too_long = false;
    if (!m.empty() && !wire::decode_varint(m.data(), m.data() + m.size(), &v, &too_long)) v = 0;
  }
  return v;
}

}  // namespace

std::string_view Attribute::far_member() const noexcept {
  ValueType t;
  std::string_view m;
  return read_any_value(value, t, m) ? m : std::string_view();
}

uint64_t Attribute::bits() const noexcept { return member_bits(type, member()); }

double Attribute::as_double() const noexcept { return std::bit_cast<double>(bits()); }

void Attribute::set_member(ValueType t, std::string_view m) noexcept {
  type = t;
  member_begin = 0;
  member_gap = 0;
  if (t == ValueType::empty) return;
  const auto begin = static_cast<std::size_t>(m.data() - value.data());
  const std::size_t gap = value.size() - begin - m.size();
  if (begin < kFar && gap <= 0xff) {
    member_begin = static_cast<uint8_t>(begin);
    member_gap = static_cast<uint8_t>(gap);
  } else {
    member_begin = kFar;
  }
}

std::string_view describe(IndexError e) {
  switch (e) {
    case IndexError::none: return "no error";
    case IndexError::truncated: return "message truncated";
    case IndexError::bad_varint: return "malformed varint";
    case IndexError::length_past_end: return "length prefix past the end of the enclosing message";
    case IndexError::bad_wire_type: return "invalid wire type";
    case IndexError::bad_field_number: return "invalid field number";
    case IndexError::wrong_wire_type: return "known field with the wrong wire type";
    case IndexError::too_deep: return "attribute values nested too deeply";
    case IndexError::too_large: return "request too large to index";
  }
  return "unknown error";
}

std::string describe(const IndexResult& r) {
  std::string s(describe(r.error));
  s += " at byte ";
  s += std::to_string(r.offset);
  return s;
}

uint32_t Index::attribute_field(NodeKind owner, MetricType type) {
  switch (owner) {
    case NodeKind::resource: return num(otlp::Resource::attributes);
    case NodeKind::scope: return num(InstrumentationScope::attributes);
    case NodeKind::data_point:
      switch (type) {
        case MetricType::gauge:
        case MetricType::sum: return num(NumberDataPoint::attributes);
        case MetricType::histogram: return num(HistogramDataPoint::attributes);
        case MetricType::exponential_histogram:
          return num(ExponentialHistogramDataPoint::attributes);
        case MetricType::summary: return num(SummaryDataPoint::attributes);
        case MetricType::none: return 0;
      }
      return 0;
    case NodeKind::span: return num(otlp::Span::attributes);
    case NodeKind::span_event: return num(SpanEvent::attributes);
    case NodeKind::span_link: return num(SpanLink::attributes);
    case NodeKind::log_record: return num(otlp::LogRecord::attributes);
    default: return 0;
  }
}

uint32_t Index::exemplar_field(MetricType type) {
  switch (type) {
    case MetricType::gauge:
    case MetricType::sum: return num(NumberDataPoint::exemplars);
    case MetricType::histogram: return num(HistogramDataPoint::exemplars);
    case MetricType::exponential_histogram: return num(ExponentialHistogramDataPoint::exemplars);
    case MetricType::summary:
    case MetricType::none: return 0;
  }
  return 0;
}

void Index::clear() {
  bytes_ = Bytes();
  nodes_.clear();
  resources_.clear();
  scopes_.clear();
  metrics_.clear();
  points_.clear();
  spans_.clear();
  events_.clear();
  links_.clear();
  logs_.clear();
  attrs_.clear();
  std::memset(key_sigs_, 0, sizeof key_sigs_);
  std::memset(name_starts_, 0, sizeof name_starts_);
  empty_name_ = false;
  attributes_ = true;
}

uint64_t Index::item_count() const noexcept {
  switch (signal_) {
    case Signal::metrics: return points_.size();
    case Signal::traces: return spans_.size();
    case Signal::logs: return logs_.size();
  }
  return 0;
}

// The walk itself. Each method handles one message type; a false return means an error has been
// recorded in err_ and the walk unwinds. Without kAttributes, KeyValues are validated the same
// way but leave no node and no Attribute behind (IndexOptions::attributes).
template <bool kAttributes>
class IndexBuilder {
 public:
  explicit IndexBuilder(Index& ix) : ix_(ix), base_(ix.bytes_.data()) {}
  // Reads loose bytes at `base` (decode_key_value): no node is ever opened.
  IndexBuilder(Index& scratch, const char* base) : ix_(scratch), base_(base) {}

  IndexResult run() {
    const auto size = ix_.bytes_.size();
    if (size >= std::numeric_limits<uint32_t>::max()) return {IndexError::too_large, 0};
    ix_.nodes_.push_back(Node{0, 0, 0, static_cast<uint32_t>(size), 0, kNone, NodeKind::root});
    nodes_n_ = static_cast<uint32_t>(ix_.nodes_.size());
    attrs_n_ = static_cast<uint32_t>(ix_.attrs_.size());  // empty: build() cleared it
    Cursor c(base_, 0, static_cast<uint32_t>(size));
    while (c.next()) {
      if (c.field() == num(ExportRequest::resource_items)) {
        if (!expect(c, WireType::length_delimited) || !resource_group(c, 0)) return err_;
      }
    }
    if (!check(c)) return err_;
    ix_.nodes_[0].subtree_end = nodes_n_;
    return {};
  }

 private:
  // Opens a node for the current length-delimited field of `c`; returns its index.
  uint32_t open(const Cursor& c, uint32_t parent, NodeKind kind) {
    const uint32_t i = nodes_n_++;
    ix_.nodes_.push_back(Node{c.field_begin(), c.header(), c.payload(), c.field_end(), i + 1,
                              parent, kind});
    return i;
  }
  void close(uint32_t i) { ix_.nodes_[i].subtree_end = nodes_n_; }

  bool fail(IndexError e, uint32_t offset) {
    err_ = {e, offset};
    return false;
  }
  bool expect(const Cursor& c, WireType w) {
    return c.is(w) || fail(IndexError::wrong_wire_type, c.field_begin());
  }
  // Repeated scalars may be packed (length-delimited) or not.
  bool expect_repeated(const Cursor& c, WireType w) {
    return c.is(w) || c.is(WireType::length_delimited) ||
           fail(IndexError::wrong_wire_type, c.field_begin());
  }
  bool check(const Cursor& c) {
    return c.error() == IndexError::none || fail(c.error(), c.error_offset());
  }
  Cursor inner(const Cursor& c) const { return Cursor(base_, c.payload(), c.field_end()); }

  bool resource_group(const Cursor& outer, uint32_t parent) {
    const uint32_t node = open(outer, parent, NodeKind::resource_group);
    const auto ri = static_cast<uint32_t>(ix_.resources_.size());
    ix_.resources_.push_back(ResourceEntry{node, kNone, {}, static_cast<uint32_t>(ix_.scopes_.size()), 0});
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(ResourceGroup::resource): {
          if (!expect(c, WireType::length_delimited)) return false;
          const uint32_t rn = open(c, node, NodeKind::resource);
          const auto first = attrs_n_;
          Cursor r = inner(c);
          while (r.next()) {
            switch (r.field()) {
              case num(otlp::Resource::attributes):
                if (!expect(r, WireType::length_delimited) || !attribute(r, rn)) return false;
                break;
              case num(otlp::Resource::dropped_attributes_count):
                if (!expect(r, WireType::varint)) return false;
                break;
              case num(otlp::Resource::entity_refs):
                if (!expect(r, WireType::length_delimited)) return false;
                break;
            }
          }
          if (!check(r)) return false;
          close(rn);
          auto& re = ix_.resources_[ri];
          re.resource_node = rn;
          re.attrs = {first, attrs_n_ - first};
          break;
        }
        case num(ResourceGroup::scope_items):
          if (!expect(c, WireType::length_delimited) || !scope_group(c, node, ri)) return false;
          ix_.resources_[ri].scope_count++;
          break;
        case num(ResourceGroup::schema_url):
          if (!expect(c, WireType::length_delimited)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    return true;
  }

  bool scope_group(const Cursor& outer, uint32_t parent, uint32_t resource) {
    const uint32_t node = open(outer, parent, NodeKind::scope_group);
    const auto si = static_cast<uint32_t>(ix_.scopes_.size());
    uint32_t first_item = 0;
    switch (ix_.signal_) {
      case Signal::metrics: first_item = static_cast<uint32_t>(ix_.metrics_.size()); break;
      case Signal::traces: first_item = static_cast<uint32_t>(ix_.spans_.size()); break;
      case Signal::logs: first_item = static_cast<uint32_t>(ix_.logs_.size()); break;
    }
    ix_.scopes_.push_back(ScopeEntry{node, kNone, resource, {}, {}, {}, first_item, 0});
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(ScopeGroup::scope):
          if (!expect(c, WireType::length_delimited) || !scope(c, node, si)) return false;
          break;
        case num(ScopeGroup::items): {
          if (!expect(c, WireType::length_delimited)) return false;
          bool ok = false;
          switch (ix_.signal_) {
            case Signal::metrics: ok = metric(c, node, si); break;
            case Signal::traces: ok = span(c, node, si); break;
            case Signal::logs: ok = log_record(c, node, si); break;
          }
          if (!ok) return false;
          ix_.scopes_[si].item_count++;
          break;
        }
        case num(ScopeGroup::schema_url):
          if (!expect(c, WireType::length_delimited)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    return true;
  }

  bool scope(const Cursor& outer, uint32_t parent, uint32_t si) {
    const uint32_t node = open(outer, parent, NodeKind::scope);
    const auto first = attrs_n_;
    std::string_view name, version;
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(InstrumentationScope::name):
          if (!expect(c, WireType::length_delimited)) return false;
          name = c.bytes();
          break;
        case num(InstrumentationScope::version):
          if (!expect(c, WireType::length_delimited)) return false;
          version = c.bytes();
          break;
        case num(InstrumentationScope::attributes):
          if (!expect(c, WireType::length_delimited) || !attribute(c, node)) return false;
          break;
        case num(InstrumentationScope::dropped_attributes_count):
          if (!expect(c, WireType::varint)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    auto& se = ix_.scopes_[si];
    se.scope_node = node;
    se.name = name;
    se.version = version;
    se.attrs = {first, attrs_n_ - first};
    return true;
  }

  bool metric(const Cursor& outer, uint32_t parent, uint32_t si) {
    const uint32_t node = open(outer, parent, NodeKind::metric);
    const auto mi = static_cast<uint32_t>(ix_.metrics_.size());
    ix_.metrics_.push_back(MetricEntry{node, kNone, kNone, si, {}, {}, {}, MetricType::none,
                                       static_cast<uint32_t>(ix_.points_.size()), 0});
    Cursor c = inner(outer);
    while (c.next()) {
      MetricType type = MetricType::none;
      switch (c.field()) {
        case num(Metric::name): {
          if (!expect(c, WireType::length_delimited)) return false;
          const uint32_t n = open(c, node, NodeKind::metric_name);
          close(n);
          ix_.metrics_[mi].name_node = n;
          ix_.metrics_[mi].name = c.bytes();
          note_name(c.bytes());  // a repeated name field notes both: "may have" stays true
          break;
        }
        case num(Metric::description):
          if (!expect(c, WireType::length_delimited)) return false;
          ix_.metrics_[mi].description = c.bytes();
          break;
        case num(Metric::unit):
          if (!expect(c, WireType::length_delimited)) return false;
          ix_.metrics_[mi].unit = c.bytes();
          break;
        case num(Metric::metadata):
          if (!expect(c, WireType::length_delimited)) return false;
          break;
        case num(Metric::gauge): type = MetricType::gauge; break;
        case num(Metric::sum): type = MetricType::sum; break;
        case num(Metric::histogram): type = MetricType::histogram; break;
        case num(Metric::exponential_histogram): type = MetricType::exponential_histogram; break;
        case num(Metric::summary): type = MetricType::summary; break;
      }
      if (type != MetricType::none) {
        if (!expect(c, WireType::length_delimited) || !metric_data(c, node, mi, type)) return false;
      }
    }
    if (!check(c)) return false;
    close(node);
    if (ix_.metrics_[mi].name_node == kNone) ix_.empty_name_ = true;
    return true;
  }

  bool metric_data(const Cursor& outer, uint32_t parent, uint32_t mi, MetricType type) {
    const uint32_t node = open(outer, parent, NodeKind::metric_data);
    ix_.metrics_[mi].data_node = node;
    ix_.metrics_[mi].type = type;
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(MetricData::data_points):
          if (!expect(c, WireType::length_delimited) || !data_point(c, node, mi, type)) return false;
          ix_.metrics_[mi].point_count++;
          break;
        case num(MetricData::aggregation_temporality):
          if (type == MetricType::gauge || type == MetricType::summary) break;
          if (!expect(c, WireType::varint)) return false;
          break;
        case num(MetricData::is_monotonic):
          if (type != MetricType::sum) break;
          if (!expect(c, WireType::varint)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    return true;
  }

  // Wire types of the known fields of each data point type, indexed by field number (0xff: an
  // unknown field), and the repeated scalars (packed or not) as a bit per field number. Looked up
  // once per point, not per field.
  struct PointFields {
    uint8_t wire[16];
    uint32_t count;
    uint32_t repeated;
  };
  static const PointFields& point_fields(MetricType type) {
    constexpr uint8_t V = 0, F64 = 1, LD = 2, X = 0xff;
    static constexpr PointFields none{{X}, 0, 0};
    static constexpr PointFields number{{X, X, F64, F64, F64, LD, F64, LD, V}, 9, 0};
    static constexpr PointFields histogram{
        {X, X, F64, F64, F64, F64, F64, F64, LD, LD, V, F64, F64}, 13, (1u << 6) | (1u << 7)};
    static constexpr PointFields exponential{
        {X, LD, F64, F64, F64, F64, V, F64, LD, LD, V, LD, F64, F64, F64}, 15, 0};
    static constexpr PointFields summary{{X, X, F64, F64, F64, F64, LD, LD, V}, 9, 0};
    switch (type) {
      case MetricType::gauge:
      case MetricType::sum: return number;
      case MetricType::histogram: return histogram;
      case MetricType::exponential_histogram: return exponential;
      case MetricType::summary: return summary;
      case MetricType::none: break;
    }
    return none;
  }

  bool data_point(const Cursor& outer, uint32_t parent, uint32_t mi, MetricType type) {
    const uint32_t node = open(outer, parent, NodeKind::data_point);
    const auto first = attrs_n_;
    const uint32_t attr_field = Index::attribute_field(NodeKind::data_point, type);
    const uint32_t ex_field = Index::exemplar_field(type);
    const PointFields& fields = point_fields(type);
    uint64_t start = 0, time = 0;
    uint32_t last_field = 0;
    bool in_order = true;
    plain_kv_ = true;
    Cursor c = inner(outer);
    while (c.next()) {
      if constexpr (kAttributes) {  // DataPointEntry::plain means nothing without attributes
        in_order &= c.field() >= last_field && c.field() != ex_field;
        last_field = c.field();
      }
      const uint32_t f = c.field();
      const uint8_t wire = f < fields.count ? fields.wire[f] : 0xff;
      if (wire != 0xff) {
        const auto w = static_cast<WireType>(wire);
        if (!((fields.repeated >> f) & 1u ? expect_repeated(c, w) : expect(c, w))) return false;
      }
      if (c.field() == attr_field) {
        if (!attribute_inline(c, node)) return false;
      } else if (c.field() == num(NumberDataPoint::start_time_unix_nano)) {
        start = c.value();
      } else if (c.field() == num(NumberDataPoint::time_unix_nano)) {
        time = c.value();
      }
    }
    if (!check(c)) return false;
    close(node);
    ix_.points_.push_back(DataPointEntry{node, mi,
                                         {first, attrs_n_ - first},
                                         start, time, kAttributes && in_order && plain_kv_});
    return true;
  }

  bool span(const Cursor& outer, uint32_t parent, uint32_t si) {
    const uint32_t node = open(outer, parent, NodeKind::span);
    const auto sp = static_cast<uint32_t>(ix_.spans_.size());
    const auto first_attr = attrs_n_;
    const auto first_event = static_cast<uint32_t>(ix_.events_.size());
    const auto first_link = static_cast<uint32_t>(ix_.links_.size());
    SpanEntry e{node, si, {}, {}, {}, {}, 0, {first_attr, 0}, first_event, 0, first_link, 0};
    uint32_t own_attrs = 0;
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(Span::trace_id):
          if (!expect(c, WireType::length_delimited)) return false;
          e.trace_id = c.bytes();
          break;
        case num(Span::span_id):
          if (!expect(c, WireType::length_delimited)) return false;
          e.span_id = c.bytes();
          break;
        case num(Span::trace_state):
          if (!expect(c, WireType::length_delimited)) return false;
          break;
        case num(Span::parent_span_id):
          if (!expect(c, WireType::length_delimited)) return false;
          e.parent_span_id = c.bytes();
          break;
        case num(Span::name):
          if (!expect(c, WireType::length_delimited)) return false;
          e.name = c.bytes();
          break;
        case num(Span::kind):
          if (!expect(c, WireType::varint)) return false;
          e.kind = static_cast<int32_t>(c.value());
          break;
        case num(Span::start_time_unix_nano):
        case num(Span::end_time_unix_nano):
          if (!expect(c, WireType::fixed64)) return false;
          break;
        case num(Span::attributes):
          if (!expect(c, WireType::length_delimited) || !attribute(c, node)) return false;
          if constexpr (kAttributes) own_attrs++;
          break;
        case num(Span::dropped_attributes_count):
        case num(Span::dropped_events_count):
        case num(Span::dropped_links_count):
          if (!expect(c, WireType::varint)) return false;
          break;
        case num(Span::events):
          if (!expect(c, WireType::length_delimited) || !span_event(c, node, sp)) return false;
          e.event_count++;
          break;
        case num(Span::links):
          if (!expect(c, WireType::length_delimited) || !span_link(c, node, sp)) return false;
          e.link_count++;
          break;
        case num(Span::status):
          if (!expect(c, WireType::length_delimited)) return false;
          break;
        case num(Span::flags):
          if (!expect(c, WireType::fixed32)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    e.attrs.count = own_attrs;
    if (attrs_n_ - first_attr != own_attrs) {
      group_span_attributes(node, first_attr, first_event, first_link);
    }
    note_name(e.name);
    ix_.spans_.push_back(e);
    return true;
  }

  // Records a metric or span name for may_have_name_between (its first byte lies next to the
  // length just read).
  void note_name(std::string_view name) {
    if (name.empty())
      ix_.empty_name_ = true;
    else
      ix_.name_starts_[static_cast<unsigned char>(name[0])] = 1;
  }

  // A span's own attributes came interleaved with its events' or links' (legal, if unusual):
  // move the span's first, keeping order, and point each event and link at its new range.
  void group_span_attributes(uint32_t span_node, uint32_t first_attr, uint32_t first_event,
                             uint32_t first_link) {
    auto begin = ix_.attrs_.begin() + first_attr;
    auto own_end = std::stable_partition(
        begin, ix_.attrs_.end(), [&](const Attribute& a) { return ix_.nodes_[a.node].parent == span_node; });
    auto pos = static_cast<uint32_t>(own_end - ix_.attrs_.begin());
    // Events and links own the rest in byte order: merge the two lists by node index.
    size_t ei = first_event, li = first_link;
    while (ei < ix_.events_.size() || li < ix_.links_.size()) {
      const bool take_event = li >= ix_.links_.size() ||
                              (ei < ix_.events_.size() && ix_.events_[ei].node < ix_.links_[li].node);
      AttrRange& r = take_event ? ix_.events_[ei++].attrs : ix_.links_[li++].attrs;
      r.first = pos;
      pos += r.count;
    }
  }

  bool span_event(const Cursor& outer, uint32_t parent, uint32_t sp) {
    const uint32_t node = open(outer, parent, NodeKind::span_event);
    const auto first = attrs_n_;
    std::string_view name;
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(SpanEvent::time_unix_nano):
          if (!expect(c, WireType::fixed64)) return false;
          break;
        case num(SpanEvent::name):
          if (!expect(c, WireType::length_delimited)) return false;
          name = c.bytes();
          break;
        case num(SpanEvent::attributes):
          if (!expect(c, WireType::length_delimited) || !attribute(c, node)) return false;
          break;
        case num(SpanEvent::dropped_attributes_count):
          if (!expect(c, WireType::varint)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    ix_.events_.push_back(SpanEventEntry{node, sp, name, {first, attrs_n_ - first}});
    return true;
  }

  bool span_link(const Cursor& outer, uint32_t parent, uint32_t sp) {
    const uint32_t node = open(outer, parent, NodeKind::span_link);
    const auto first = attrs_n_;
    std::string_view trace_id, span_id;
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(SpanLink::trace_id):
          if (!expect(c, WireType::length_delimited)) return false;
          trace_id = c.bytes();
          break;
        case num(SpanLink::span_id):
          if (!expect(c, WireType::length_delimited)) return false;
          span_id = c.bytes();
          break;
        case num(SpanLink::trace_state):
          if (!expect(c, WireType::length_delimited)) return false;
          break;
        case num(SpanLink::attributes):
          if (!expect(c, WireType::length_delimited) || !attribute(c, node)) return false;
          break;
        case num(SpanLink::dropped_attributes_count):
          if (!expect(c, WireType::varint)) return false;
          break;
        case num(SpanLink::flags):
          if (!expect(c, WireType::fixed32)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    ix_.links_.push_back(SpanLinkEntry{node, sp, trace_id, span_id, {first, attrs_n_ - first}});
    return true;
  }

  bool log_record(const Cursor& outer, uint32_t parent, uint32_t si) {
    const uint32_t node = open(outer, parent, NodeKind::log_record);
    const auto first = attrs_n_;
    LogRecordEntry e{node, si, kNone, 0, {}, {}, ValueType::empty, {}, {}, {}, {}};
    Cursor c = inner(outer);
    while (c.next()) {
      switch (c.field()) {
        case num(LogRecord::time_unix_nano):
        case num(LogRecord::observed_time_unix_nano):
          if (!expect(c, WireType::fixed64)) return false;
          break;
        case num(LogRecord::severity_number):
          if (!expect(c, WireType::varint)) return false;
          e.severity_number = static_cast<int32_t>(c.value());
          break;
        case num(LogRecord::severity_text):
          if (!expect(c, WireType::length_delimited)) return false;
          e.severity_text = c.bytes();
          break;
        case num(LogRecord::body): {
          if (!expect(c, WireType::length_delimited)) return false;
          const uint32_t b = open(c, node, NodeKind::log_body);
          close(b);
          std::string_view member;
          if (!any_value(c.payload(), c.field_end(), 0, &e.body_type, &member)) return false;
          if (has_scalar(e.body_type)) e.body_scalar = member;
          e.body_node = b;
          e.body = c.bytes();
          break;
        }
        case num(LogRecord::attributes):
          if (!expect(c, WireType::length_delimited) || !attribute(c, node)) return false;
          break;
        case num(LogRecord::dropped_attributes_count):
          if (!expect(c, WireType::varint)) return false;
          break;
        case num(LogRecord::flags):
          if (!expect(c, WireType::fixed32)) return false;
          break;
        case num(LogRecord::trace_id):
          if (!expect(c, WireType::length_delimited)) return false;
          e.trace_id = c.bytes();
          break;
        case num(LogRecord::span_id):
          if (!expect(c, WireType::length_delimited)) return false;
          e.span_id = c.bytes();
          break;
        case num(LogRecord::event_name):
          if (!expect(c, WireType::length_delimited)) return false;
          break;
      }
    }
    if (!check(c)) return false;
    close(node);
    e.attrs = {first, attrs_n_ - first};
    ix_.logs_.push_back(e);
    return true;
  }

  // A KeyValue at resource, scope or item level: indexed as a node and an Attribute, or only
  // validated. Clears plain_kv_ unless the KeyValue has the shape scalar_key_value reads and a
  // one-byte length prefix.
  [[gnu::noinline]] bool attribute(const Cursor& outer, uint32_t parent) {
    return attribute_inline(outer, parent);
  }
  // The same, inlined where most attributes are: a data point's loop over its fields, where the
  // call's saving and restoring of registers was 4 % of the metrics index's instructions.
  // (Inlined into the span and log loops too, it made those 8 % slower: more spills there.)
  [[gnu::always_inline]] bool attribute_inline(const Cursor& outer, uint32_t parent) {
    if constexpr (!kAttributes) {
      plain_kv_ = false;  // not looked at
      return key_value(outer.payload(), outer.field_end(), 0, nullptr);
    }
    const uint32_t node = open(outer, parent, NodeKind::attribute);
    // Filled where it lies: one built aside and copied in is read back, whole, from the small
    // stores that built it, which the CPU cannot forward (it showed as a fifth of the index).
    Attribute& a = ix_.attrs_.emplace_back();
    ++attrs_n_;
    a.node = node;
    if (scalar_key_value(outer.payload(), outer.field_end(), &a)) {
      plain_kv_ &= outer.payload() - outer.header() == 1;
    } else {
      plain_kv_ = false;
      if (!key_value(outer.payload(), outer.field_end(), 0, &a)) return false;  // the build fails
    }
    a.key_sig = Attribute::key_signature(a.key);  // its bytes were just read
    ix_.key_sigs_[a.key_sig] = 1;
    close(node);
    return true;
  }

  // A one-byte tag for field `f` of wire type `w` (fields 1..15).
  template <typename F>
  static constexpr uint8_t tag_byte(F f, WireType w) {
    return static_cast<uint8_t>((num(f) << 3) | static_cast<uint8_t>(w));
  }

  // The common shape of a KeyValue, decoded without cursors: a key and a value of under 128 bytes
  // each, in field order, the value holding one string, int, bool or double (or nothing). Any
  // other shape (lists, long strings, unknown fields, repeated fields) returns false and takes
  // the general path, which gives the same result for these shapes.
  bool scalar_key_value(uint32_t begin, uint32_t end, Attribute* out) const {
    const auto* p = reinterpret_cast<const uint8_t*>(base_) + begin;
    const auto* const e = reinterpret_cast<const uint8_t*>(base_) + end;
    if (e - p < 4 || p[0] != tag_byte(KeyValue::key, WireType::length_delimited) || p[1] >= 0x80)
      return false;
    const auto* k = p + 2;
    const auto* q = k + p[1];
    if (e - q < 2 || q[0] != tag_byte(KeyValue::value, WireType::length_delimited) || q[1] >= 0x80 ||
        q + 2 + q[1] != e)
      return false;
    const auto* v = q + 2;
    ValueType type = ValueType::empty;
    const uint8_t* member = v + 1;  // after the member's tag
    if (v != e) {
      const uint8_t t = v[0];
      if (t == tag_byte(AnyValue::string_value, WireType::length_delimited)) {
        if (e - v < 2 || v[1] >= 0x80 || v + 2 + v[1] != e) return false;
        type = ValueType::string;
        member = v + 2;
      } else if (t == tag_byte(AnyValue::int_value, WireType::varint) ||
                 t == tag_byte(AnyValue::bool_value, WireType::varint)) {
        uint64_t bits;
        bool too_long = false;
        const char* after = wire::decode_varint(reinterpret_cast<const char*>(v + 1),
                                                reinterpret_cast<const char*>(e), &bits, &too_long);
        if (after != reinterpret_cast<const char*>(e)) return false;
        type = t == tag_byte(AnyValue::int_value, WireType::varint) ? ValueType::integer
                                                                    : ValueType::boolean;
      } else if (t == tag_byte(AnyValue::double_value, WireType::fixed64)) {
        if (e - v != 9) return false;
        type = ValueType::floating;
      } else {
        return false;
      }
    }
    if (out) {
      out->key = std::string_view(reinterpret_cast<const char*>(k), p[1]);
      out->value = std::string_view(reinterpret_cast<const char*>(q + 2), q[1]);
      // The member runs to the end of the value; an empty value has none.
      out->type = type;
      out->member_begin = type == ValueType::empty ? 0 : static_cast<uint8_t>(member - (q + 2));
      out->member_gap = 0;
    }
    return true;
  }

  friend bool decode_key_value(std::string_view, Attribute&);
  friend bool read_any_value(std::string_view, ValueType&, std::string_view&);

  // Validates a KeyValue in [begin, end); fills `out` when given (top-level attributes only).
  bool key_value(uint32_t begin, uint32_t end, int depth, Attribute* out) {
    if (scalar_key_value(begin, end, out)) return true;
    Cursor c(base_, begin, end);
    while (c.next()) {
      switch (c.field()) {
        case num(KeyValue::key):
          if (!expect(c, WireType::length_delimited)) return false;
          if (out) out->key = c.bytes();
          break;
        case num(KeyValue::value): {
          if (!expect(c, WireType::length_delimited)) return false;
          ValueType t;
          std::string_view member;
          if (!any_value(c.payload(), c.field_end(), depth, &t, &member)) return false;
          if (out) {
            out->value = c.bytes();
            out->set_member(t, member);
          }
          break;
        }
      }
    }
    return check(c);
  }

  // Validates an AnyValue in [begin, end) and reports which oneof member is set (the last one,
  // as libprotobuf would keep) and its bytes: the string or bytes, the nested list message, the
  // varint or the 8 bytes of a double.
  bool any_value(uint32_t begin, uint32_t end, int depth, ValueType* type,
                 std::string_view* member) {
    if (depth > kMaxNesting) return fail(IndexError::too_deep, begin);
    *type = ValueType::empty;
    Cursor c(base_, begin, end);
    while (c.next()) {
      switch (c.field()) {
        case num(AnyValue::string_value):
        case num(AnyValue::bytes_value):
          if (!expect(c, WireType::length_delimited)) return false;
          *type = c.field() == num(AnyValue::string_value) ? ValueType::string : ValueType::bytes;
          *member = c.bytes();
          break;
        case num(AnyValue::bool_value):
        case num(AnyValue::int_value):
          if (!expect(c, WireType::varint)) return false;
          *type = c.field() == num(AnyValue::bool_value) ? ValueType::boolean : ValueType::integer;
          *member = c.bytes();  // the varint
          break;
        case num(AnyValue::double_value):
          if (!expect(c, WireType::fixed64)) return false;
          *type = ValueType::floating;
          *member = c.bytes();  // the 8 bytes
          break;
        case num(AnyValue::array_value):
        case num(AnyValue::kvlist_value): {
          if (!expect(c, WireType::length_delimited)) return false;
          const bool is_array = c.field() == num(AnyValue::array_value);
          *type = is_array ? ValueType::array : ValueType::kvlist;
          *member = c.bytes();
          Cursor list(base_, c.payload(), c.field_end());
          while (list.next()) {
            if (list.field() != num(ArrayValue::values)) continue;
            if (!expect(list, WireType::length_delimited)) return false;
            ValueType t;
            std::string_view m;
            const bool ok = is_array
                                ? any_value(list.payload(), list.field_end(), depth + 1, &t, &m)
                                : key_value(list.payload(), list.field_end(), depth + 1, nullptr);
            if (!ok) return false;
          }
          if (!check(list)) return false;
          break;
        }
      }
    }
    return check(c);
  }

  Index& ix_;
  const char* base_;
  // ix_.nodes_.size() and ix_.attrs_.size(), kept as counts: a vector's size is a division by
  // the element size (28, 40 bytes), and every node and attribute asks for it.
  uint32_t nodes_n_ = 0, attrs_n_ = 0;
  IndexResult err_;
  bool plain_kv_ = true;  // every KeyValue since data_point() began is plain (DataPointEntry)
};

bool decode_key_value(std::string_view payload, Attribute& out) {
  Index unused;
  IndexBuilder<true> b(unused, payload.data());
  out.key = out.value = {};
  out.set_member(ValueType::empty, {});
  const bool ok = b.key_value(0, static_cast<uint32_t>(payload.size()), 0, &out);
  out.key_sig = Attribute::key_signature(out.key);
  return ok;
}

bool read_any_value(std::string_view payload, ValueType& type, std::string_view& member) {
  Index unused;
  IndexBuilder<true> b(unused, payload.data());
  member = {};
  return b.any_value(0, static_cast<uint32_t>(payload.size()), 0, &type, &member);
}

bool decode_any_value(std::string_view payload, ValueType& type, std::string_view& scalar,
                      uint64_t& bits) {
  std::string_view member;
  if (!read_any_value(payload, type, member)) return false;
  scalar = has_scalar(type) ? member : std::string_view();
  bits = member_bits(type, member);
  return true;
}

IndexResult Index::build(Signal signal, Bytes bytes, IndexOptions options) {
  clear();
  signal_ = signal;
  bytes_ = std::move(bytes);
  IndexResult r = options.attributes ? IndexBuilder<true>(*this).run()
                                     : IndexBuilder<false>(*this).run();
  if (!r) {
    Bytes keep = std::move(bytes_);
    clear();
    bytes_ = std::move(keep);
  }
  attributes_ = options.attributes;
  return r;
}

bool Index::may_have_name_between(std::string_view lo, std::string_view hi) const noexcept {
  if (lo.empty() && empty_name_) return true;
  if (hi.empty()) return false;  // only the empty name lies in ["", ""]
  const unsigned last = static_cast<unsigned char>(hi[0]);
  for (unsigned c = lo.empty() ? 0 : static_cast<unsigned char>(lo[0]); c <= last; ++c)
    if (name_starts_[c]) return true;
  return false;
}

}  // namespace otlpgate::otlp
