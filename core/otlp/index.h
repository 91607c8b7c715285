// Index: a one-pass, zero-copy map of the bytes of one Export{Metrics,Trace,Logs}ServiceRequest.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/otlp/index_error.h"
#include "core/signal.h"

namespace otlpgate::otlp {

inline constexpr uint32_t kNone = 0xffffffffu;

// Kinds of indexed nodes. A node is one length-delimited field of the request whose bytes the
// rewriter may drop, replace or extend.
enum class NodeKind : uint8_t {
  root,            // the request itself (node 0): no tag, payload = the whole buffer
  resource_group,  // ResourceMetrics / ResourceSpans / ResourceLogs
  resource,        // Resource
  scope_group,     // ScopeMetrics / ScopeSpans / ScopeLogs
  scope,           // InstrumentationScope
  metric,          // Metric
  metric_name,     // Metric.name (a leaf, so a rename replaces it)
  metric_data,     // Gauge / Sum / Histogram / ExponentialHistogram / Summary
  data_point,      // *DataPoint
  span,
  span_event,
  span_link,
  log_record,
  log_body,  // LogRecord.body (an AnyValue leaf)
  attribute,  // KeyValue at resource, scope or item level
};

// Node kinds that count toward their parent being "empty" when all are dropped.
constexpr bool is_structural(NodeKind k) {
  switch (k) {
    case NodeKind::resource_group:
    case NodeKind::scope_group:
    case NodeKind::metric:
    case NodeKind::metric_data:
    case NodeKind::data_point:
    case NodeKind::span:
    case NodeKind::log_record: return true;
    default: return false;
  }
}

// One indexed field. Offsets are into Index::bytes(). Nodes are stored in pre-order, so the
// descendants of node i are exactly the nodes [i + 1, subtree_end).
struct Node {
  uint32_t begin;        // offset of the field's tag
  uint32_t header;       // offset of the length varint (== begin + tag length)
  uint32_t payload;      // offset of the first payload byte
  uint32_t end;          // one past the last payload byte
  uint32_t subtree_end;  // index one past this node's last descendant
  uint32_t parent;       // index of the parent node; kNone for the root
  NodeKind kind;
};

enum class MetricType : uint8_t { none, gauge, sum, histogram, exponential_histogram, summary };

enum class ValueType : uint8_t { empty, string, boolean, integer, floating, array, kvlist, bytes };

// A range of entries in Index::attributes().
struct AttrRange {
  uint32_t first = 0;
  uint32_t count = 0;
};

// A KeyValue. `value` is the payload of the AnyValue message; the member that is set (the last
// one, as libprotobuf keeps) is read through scalar() and as_*(). 40 bytes: an index holds one per
// attribute of the request, and stages read them all.
struct Attribute {
  std::string_view key;
  std::string_view value;
  uint32_t node;
  ValueType type;
  // Where the set member's bytes lie in `value`: from `member_begin` to `member_gap` bytes before
  // its end (the string or bytes, the nested list message, the varint or the 8 bytes of a
  // double). kFar when they lie further in than these fields hold: then read `value` anew.
  uint8_t member_begin;
  uint8_t member_gap;
  static constexpr uint8_t kFar = 0xff;
  // key_signature(key): lets a stage looking for a few exact keys pass over most attributes
  // without reading their keys, which lie in the request and have left the cache.
  uint8_t key_sig;

  // One byte of a key: its length, middle and last byte.
  static uint8_t key_signature(std::string_view k) noexcept {
    if (k.empty()) return 0;
    return static_cast<uint8_t>(static_cast<unsigned>(k.size()) * 131u +
                                static_cast<unsigned char>(k.back()) * 31u +
                                static_cast<unsigned char>(k[k.size() / 2]));
  }

  // The string or bytes, or the ArrayValue / KeyValueList message; empty for the other types.
  std::string_view scalar() const noexcept {
    if (type != ValueType::string && type != ValueType::bytes && type != ValueType::array &&
        type != ValueType::kvlist)
      return {};
    return member();
  }
  int64_t as_int() const noexcept { return static_cast<int64_t>(bits()); }
  bool as_bool() const noexcept { return bits() != 0; }
  double as_double() const noexcept;
  // The varint (bool, int) or the 8 bytes of a double.
  uint64_t bits() const noexcept;

  // Sets type and member location from the bytes of the member (inside `value`).
  void set_member(ValueType t, std::string_view member_bytes) noexcept;

 private:
  std::string_view member() const noexcept {
    if (member_begin == kFar) return far_member();
    return std::string_view(value.data() + member_begin, value.size() - member_begin - member_gap);
  }
  std::string_view far_member() const noexcept;
};
static_assert(sizeof(Attribute) == 40);

struct ResourceEntry {
  uint32_t node;           // the resource_group node
  uint32_t resource_node;  // the Resource message node, or kNone when absent
  AttrRange attrs;
  uint32_t first_scope;
  uint32_t scope_count;
};

struct ScopeEntry {
  uint32_t node;        // the scope_group node
  uint32_t scope_node;  // the InstrumentationScope node, or kNone when absent
  uint32_t resource;    // index into resources()
  std::string_view name;
  std::string_view version;
  AttrRange attrs;
  uint32_t first_item;  // index into metrics(), spans() or logs(), by signal
  uint32_t item_count;
};

struct MetricEntry {
  uint32_t node;
  uint32_t name_node;  // kNone when the metric has no name field
  uint32_t data_node;  // kNone when no data is set
  uint32_t scope;
  std::string_view name;
  std::string_view description;
  std::string_view unit;
  MetricType type;
  uint32_t first_point;
  uint32_t point_count;
};

struct DataPointEntry {
  uint32_t node;
  uint32_t metric;
  AttrRange attrs;
  uint64_t start_time_unix_nano;
  uint64_t time_unix_nano;
  // The point is written as libprotobuf writes it: fields in field-number order, no exemplars,
  // and every attribute a KeyValue of a key then a value (a string, int, bool or double) whose
  // length prefixes (the KeyValue's, the key's, the value's) are one byte each. Such a point's
  // payload is the canonical form dedup hashes (meaningful with IndexOptions::attributes).
  bool plain;
};

struct SpanEntry {
  uint32_t node;
  uint32_t scope;
  std::string_view trace_id;
  std::string_view span_id;
  std::string_view parent_span_id;
  std::string_view name;
  int32_t kind;
  AttrRange attrs;
  uint32_t first_event;
  uint32_t event_count;
  uint32_t first_link;
  uint32_t link_count;
};

struct SpanEventEntry {
  uint32_t node;
  uint32_t span;
  std::string_view name;
  AttrRange attrs;
};

struct SpanLinkEntry {
  uint32_t node;
  uint32_t span;
  std::string_view trace_id;
  std::string_view span_id;
  AttrRange attrs;
};

struct LogRecordEntry {
  uint32_t node;
  uint32_t scope;
  uint32_t body_node;  // kNone when there is no body
  int32_t severity_number;
  std::string_view severity_text;
  std::string_view body;  // AnyValue payload
  ValueType body_type;
  std::string_view body_scalar;  // the string when body_type is string
  std::string_view trace_id;
  std::string_view span_id;
  AttrRange attrs;
};

// What Index::build records besides the structure. Validation is the same either way: a request
// refused with attributes is refused without, with the same error at the same offset.
struct IndexOptions {
  // Attribute entries and their nodes, at every level. Without them attributes() is empty,
  // every AttrRange is {0, 0} and no node is an attribute: enough for validation, item counts and
  // a rewrite that only drops items, which is all a pipeline without processors needs.
  bool attributes = true;
};

// Builds and holds the index of one request. Reuse one Index per thread: build() clears the
// previous contents but keeps the vectors' capacity, so the hot path does not allocate.
//
// Lifetime: every string_view handed out points into bytes(); the Index holds a reference to
// that buffer, so the views stay valid until the next build() or the Index's destruction.
class Index {
 public:
  // Indexes `bytes` as the Export*ServiceRequest of `signal`. On error the index is left empty
  // (no nodes) and the error says what was wrong and at which byte offset.
  IndexResult build(Signal signal, Bytes bytes, IndexOptions options = {});

  Signal signal() const noexcept { return signal_; }
  // Whether the last build() recorded attributes (IndexOptions::attributes).
  bool has_attributes() const noexcept { return attributes_; }
  const Bytes& bytes() const noexcept { return bytes_; }
  std::string_view data() const noexcept { return bytes_.view(); }

  std::span<const Node> nodes() const noexcept { return nodes_; }
  std::span<const ResourceEntry> resources() const noexcept { return resources_; }
  std::span<const ScopeEntry> scopes() const noexcept { return scopes_; }
  std::span<const MetricEntry> metrics() const noexcept { return metrics_; }
  std::span<const DataPointEntry> data_points() const noexcept { return points_; }
  std::span<const SpanEntry> spans() const noexcept { return spans_; }
  std::span<const SpanEventEntry> span_events() const noexcept { return events_; }
  std::span<const SpanLinkEntry> span_links() const noexcept { return links_; }
  std::span<const LogRecordEntry> log_records() const noexcept { return logs_; }
  std::span<const Attribute> attributes() const noexcept { return attrs_; }
  std::span<const Attribute> attributes(AttrRange r) const noexcept {
    return std::span<const Attribute>(attrs_).subspan(r.first, r.count);
  }
  // Whether an attribute of the request (a KeyValue at resource, scope or item level) may have a
  // key of this signature (Attribute::key_signature): false means none has. A stage looking for
  // a few exact keys passes over a request that has none of them without reading its attributes.
  // Always true when the build did not record attributes.
  bool may_have_key_signature(uint8_t sig) const noexcept {
    return !attributes_ || key_sigs_[sig] != 0;
  }
  // Whether a metric or span name of the request may lie between `lo` and `hi` (bytes compared
  // unsigned), judged by first bytes: false means none does. A stage whose rules can match only
  // names between two bounds passes over a request whose names all start elsewhere without
  // reading them. The names as the request has them, before any edit.
  bool may_have_name_between(std::string_view lo, std::string_view hi) const noexcept;

  // Items as OTLP counts them: data points, spans or log records.
  uint64_t item_count() const noexcept;

  // The field number under which a KeyValue is stored in a node of this kind (Resource, Scope,
  // data point of the given metric type, span, event, link, log record); 0 if it has none.
  static uint32_t attribute_field(NodeKind owner, MetricType type = MetricType::none);
  // The field number of a data point's exemplars for the metric type; 0 if it has none.
  static uint32_t exemplar_field(MetricType type);

 private:
  template <bool kAttributes>
  friend class IndexBuilder;
  void clear();

  Signal signal_ = Signal::metrics;
  bool attributes_ = true;
  Bytes bytes_;
  std::vector<Node> nodes_;
  std::vector<ResourceEntry> resources_;
  std::vector<ScopeEntry> scopes_;
  std::vector<MetricEntry> metrics_;
  std::vector<DataPointEntry> points_;
  std::vector<SpanEntry> spans_;
  std::vector<SpanEventEntry> events_;
  std::vector<SpanLinkEntry> links_;
  std::vector<LogRecordEntry> logs_;
  std::vector<Attribute> attrs_;
  // One byte per key signature, set by each attribute the build records: a plain store, with no
  // read of the byte before it, so that marking costs the index no chain of dependent updates.
  uint8_t key_sigs_[256] = {};
  uint8_t name_starts_[256] = {};  // 1 where a metric or span name starts with that byte
  bool empty_name_ = false;        // a metric or span without a name
};

// Reads a KeyValue payload / an AnyValue payload held anywhere in memory (the bytes an edit
// recorded), as the index reads the request's: the views point into `payload`. False when the
// bytes are not a valid KeyValue / AnyValue.
bool decode_key_value(std::string_view payload, Attribute& out);
// Reads an AnyValue payload: which member is set (the last one) and its bytes, as
// Attribute::set_member takes them. False when the bytes are not a valid AnyValue.
bool read_any_value(std::string_view payload, ValueType& type, std::string_view& member);
bool decode_any_value(std::string_view payload, ValueType& type, std::string_view& scalar,
                      uint64_t& bits);

}  // namespace otlpgate::otlp
