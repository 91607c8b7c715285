// Edits: what the stages decided to change in one indexed request, for the rewriter to apply.
#pragma once

#include <cstdint>
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

// A list of edits against the nodes of one Index. Reuse one Edits per thread: clear() keeps
// capacity. Bytes passed in are copied into the Edits' own arena, so callers may pass
// temporaries. Several edits of the same node: a drop wins; the last replacement wins; appends
// accumulate in order.
class Edits {
 public:
  enum class Op : uint8_t { drop, replace_payload, append };
  struct Entry {
    uint32_t node;
    Op op;
    uint32_t offset;  // into arena()
    uint32_t length;
  };

  void clear() {
    entries_.clear();
    arena_.clear();
  }
  bool empty() const noexcept { return entries_.empty(); }
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  std::string_view bytes(const Entry& e) const noexcept {
    return std::string_view(arena_).substr(e.offset, e.length);
  }

  // Removes the node's whole field. Parents left without any structural child (a metric without
  // points, a scope without items, a resource without scopes) are removed too.
  void drop(uint32_t node) { entries_.push_back({node, Op::drop, 0, 0}); }
  // Keeps the node's tag, replaces its payload (the length prefix is re-encoded).
  void replace_payload(uint32_t node, std::string_view payload) { push(node, Op::replace_payload, payload); }
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
  // Adds a resource attribute, creating the Resource message when the group has none.
  void add_resource_attribute(const ResourceEntry& r, std::string_view key, std::string_view any_value);
  // Adds a scope attribute, creating the InstrumentationScope when the group has none.
  void add_scope_attribute(const ScopeEntry& s, std::string_view key, std::string_view any_value);
  void rename_metric(const MetricEntry& m, std::string_view new_name);
  // Replaces a log record's body (AnyValue payload), or adds one.
  void set_log_body(const LogRecordEntry& l, std::string_view any_value);

 private:
  void push(uint32_t node, Op op, std::string_view b) {
    entries_.push_back({node, op, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(b.size())});
    arena_.append(b);
  }

  std::vector<Entry> entries_;
  std::string arena_;
  std::string scratch_, kv_;  // reused encoding space, so that edits allocate nothing once warm
};

}  // namespace otlpgate::otlp
