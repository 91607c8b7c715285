// Edits: what the stages decided to change in one indexed request, for the rewriter to apply.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/otlp/index.h"

namespace otlpgate::otlp {

// Payload of an AnyValue holding a string / an int / a double / a bool.
std::string any_value_string(std::string_view s);
std::string any_value_int(int64_t v);
std::string any_value_double(double v);
std::string any_value_bool(bool v);
// Appends a KeyValue payload: the key field, then the value field (an AnyValue payload).
void key_value_payload(std::string& out, std::string_view key, std::string_view any_value);

// The AnyValue of a log record's body as the edits so far leave it.
struct LogBody {
  ValueType type = ValueType::empty;
  std::string_view scalar;  // the string when `type` is string
};

// The edits all stages of a pipeline make to one indexed request, for the rewriter to apply once.
//
// reset(index) binds the edits to the request; each stage then reads the request *as the edits so
// far leave it* through the view below (dropped items, the effective attributes of an owner with
// replaced, renamed, dropped and added attributes, the effective metric name and log body), so
// that stages compose on one index pass instead of a rewrite and a new index after each.
// Attributes added by an edit get node ids past the index's nodes: a later stage drops or
// replaces them like any other. Several edits of one node: a drop wins, the last replacement wins,
// appends accumulate in order.
//
// An Edits that was never reset() (tests, validation) only records edits; the view then shows the
// request unchanged. Reuse one Edits per thread: reset() keeps every buffer's capacity. Bytes
// passed in are copied into the Edits' own storage, which never moves, so callers may pass
// temporaries and views the Edits handed out stay valid until the next reset().
class Edits {
 public:
  enum class Op : uint8_t { drop, replace_payload, append, none /* cancelled by a later edit */ };
  struct Entry {
    uint32_t node;
    Op op;
    const char* data;
    uint32_t length;
  };

  Edits() = default;
  Edits(const Edits&) = delete;
  Edits& operator=(const Edits&) = delete;

  // Clears and binds to `index` (which must outlive the use of these edits).
  void reset(const Index& index);
  // Clears and unbinds.
  void clear();
  // True when no edit changes anything.
  bool empty() const noexcept { return live_ == 0; }
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  static std::string_view bytes(const Entry& e) noexcept { return {e.data, e.length}; }

  // Removes the node's whole field. Parents left without any structural child (a metric without
  // points, a scope without items, a resource without scopes) are removed too. Returns the items
  // (points, spans, log records) this drop removed that no earlier edit had (0 when unbound).
  uint64_t drop(uint32_t node);
  // Keeps the node's tag, replaces its payload (the length prefix is re-encoded).
  void replace_payload(uint32_t node, std::string_view payload);
  // Adds complete encoded fields (tag, length, payload) at the end of the node's payload.
  void append(uint32_t node, std::string_view fields) { push(node, Op::append, fields); }

  // --- Conveniences in terms of the index's entries ---
  void drop_attribute(const Attribute& a) { drop(a.node); }
  // Replaces an attribute's value, keeping its key. `any_value` is an AnyValue payload.
  void set_attribute_value(const Attribute& a, std::string_view any_value);
  // Renames an attribute, keeping its value.
  void rename_attribute(const Attribute& a, std::string_view new_key);
  // Adds an attribute to the node `owner` (a Resource, InstrumentationScope, data point, span,
  // event, link or log record node). For a data point give the metric's type.
  void add_attribute(NodeKind owner_kind, uint32_t owner, std::string_view key,
                     std::string_view any_value, MetricType type = MetricType::none);
  // An attribute encoded once, to be added to many owners without encoding or copying it again
  // (a label that a rule writes on every point of a metric). Valid until the next reset()/clear().
  struct EncodedAttribute {
    uint32_t field = 0;      // the owner's attribute field
    std::string_view bytes;  // the whole field: tag, length, KeyValue payload
    std::string_view kv;     // its KeyValue payload
  };
  EncodedAttribute encode_attribute(NodeKind owner_kind, std::string_view key,
                                    std::string_view any_value, MetricType type = MetricType::none);
  // add_attribute() with an attribute encode_attribute() made for owners of this kind.
  void add_attribute(uint32_t owner, const EncodedAttribute& a);
  // Adds a resource attribute, creating the Resource message when the group has none.
  void add_resource_attribute(const ResourceEntry& r, std::string_view key, std::string_view any_value);
  // Adds a scope attribute, creating the InstrumentationScope when the group has none.
  void add_scope_attribute(const ScopeEntry& s, std::string_view key, std::string_view any_value);
  void rename_metric(const MetricEntry& m, std::string_view new_name);
  // Replaces a log record's body (AnyValue payload), or adds one.
  void set_log_body(const LogRecordEntry& l, std::string_view any_value);

  // --- The request as the edits so far leave it (meaningful once reset()) ---
  // The node, or one of its ancestors, is dropped.
  bool dropped(uint32_t node) const noexcept {
    return node < flags_.size() && (flags_[node] & kDropped) != 0;
  }
  // Items (points, spans, log records) not dropped.
  uint64_t items_left() const noexcept;
  // The attributes of an owner: the index's own span when none of them changed, else a span over
  // scratch storage that the next attributes() call reuses. Attributes added by edits come last.
  std::span<const Attribute> attributes(const ResourceEntry& r) {
    return attributes(r.resource_node != kNone ? r.resource_node : r.node, r.attrs);
  }
  std::span<const Attribute> attributes(const ScopeEntry& s) {
    return attributes(s.scope_node != kNone ? s.scope_node : s.node, s.attrs);
  }
  template <typename Item>  // DataPointEntry, SpanEntry, SpanEventEntry, SpanLinkEntry, LogRecordEntry
  std::span<const Attribute> attributes(const Item& item) {
    return attributes(item.node, item.attrs);
  }
  std::string_view metric_name(const MetricEntry& m) const noexcept {
    return live_ == 0 ? m.name : edited_metric_name(m);  // inline for an unedited request
  }
  LogBody log_body(const LogRecordEntry& l) const noexcept;

 private:
  std::string_view edited_metric_name(const MetricEntry& m) const noexcept;
  // Per-node flags of the view.
  enum : uint8_t {
    kDropped = 1,       // the node or an ancestor is dropped
    kReplaced = 2,      // replaced_[node] is the entry of its last replacement
    kAttrsEdited = 4,   // an owner some of whose attributes changed or were added
    kHasAdds = 8,       // first_add_ / last_add_[node] head and end the owner's added attributes
    kAddedField = 16,   // a metric whose name / a log record whose body an append set: replaced_
  };
  // An attribute an edit added, under node id index.nodes().size() + its position here.
  struct Added {
    uint32_t owner;   // the node whose attributes() show it (a missing Resource/Scope: its group)
    uint32_t entry;   // the append entry that writes it
    uint32_t next;    // the owner's next added attribute, or kNone
    uint32_t field;   // its field number in the owner; 0 when it lives in a created Resource/Scope
    std::string_view kv;  // the KeyValue payload
    bool dead;
  };

  // Inline for the usual case, an owner whose attributes no stage touched: every stage asks for
  // every item's attributes.
  std::span<const Attribute> attributes(uint32_t owner, AttrRange r) {
    if (ix_ && (flags_[owner] & kAttrsEdited) == 0) return ix_->attributes(r);
    return edited_attributes(owner, r);
  }
  std::span<const Attribute> edited_attributes(uint32_t owner, AttrRange r);
  uint32_t push(uint32_t node, Op op, std::string_view b);
  std::string_view store(std::string_view b);
  void cancel(uint32_t entry);
  // Points `entry` at a copy of `b`; returns the copy.
  std::string_view rewrite_entry(uint32_t entry, std::string_view b);
  // The one `field` of `owner` whose payload an edit sets: the index's node `leaf`, or else a
  // field appended once and rewritten by later edits.
  void set_field(uint32_t owner, uint32_t leaf, uint32_t field, std::string_view payload);
  // Sets the attribute node `node` (of the index or added) to the KeyValue payload `kv`.
  void replace_key_value(uint32_t node, std::string_view kv);
  // Records an added attribute for the view: `entry` appends it (kNone: it lives in a created
  // message), `kv` is its KeyValue payload.
  void link_added(uint32_t view_owner, uint32_t entry, uint32_t field, std::string_view kv);
  // Adds a resource / scope attribute to `message`, or when the group has none to the message
  // created for it.
  void add_group_attribute(uint32_t group, uint32_t message, NodeKind kind, std::string_view key,
                           std::string_view any_value);
  // Writes the Resource/Scope created in a group from its live added attributes.
  void rewrite_created(uint32_t group);
  void mark_owner(uint32_t attribute_node);

  const Index* ix_ = nullptr;
  std::vector<Entry> entries_;
  uint64_t live_ = 0;  // entries whose op is not none
  uint64_t dropped_items_ = 0;
  std::vector<uint8_t> flags_;
  std::vector<uint32_t> replaced_;   // valid where kReplaced / kAddedField
  std::vector<uint32_t> first_add_, last_add_;  // valid where kHasAdds
  std::vector<Added> added_;
  std::vector<Attribute> view_;
  // Storage: blocks that never move, kept across reset().
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::size_t> block_sizes_;
  std::size_t block_ = 0, used_ = 0;
  std::string scratch_, kv_;  // reused encoding space, so that edits allocate nothing once warm
};

}  // namespace otlpgate::otlp
