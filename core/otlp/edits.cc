// Edits: encoding of the fields the convenience edits insert.
#include "core/otlp/edits.h"

#include <algorithm>
#include <cstring>

#include <protozero/pbf_reader.hpp>

#include "core/otlp/fields.h"
#include "core/wire/writer.h"

namespace otlpgate::otlp {

using wire::append_bytes_field;

std::string any_value_string(std::string_view s) {
  std::string out;
  append_bytes_field(out, num(AnyValue::string_value), s);
  return out;
}

std::string any_value_int(int64_t v) {
  std::string out;
  protozero::pbf_writer(out).add_int64(num(AnyValue::int_value), v);
  return out;
}

std::string any_value_double(double v) {
  std::string out;
  protozero::pbf_writer(out).add_double(num(AnyValue::double_value), v);
  return out;
}

std::string any_value_bool(bool v) {
  std::string out;
  protozero::pbf_writer(out).add_bool(num(AnyValue::bool_value), v);
  return out;
}

void key_value_payload(std::string& out, std::string_view key, std::string_view any_value) {
  append_bytes_field(out, num(KeyValue::key), key);
  append_bytes_field(out, num(KeyValue::value), any_value);
}

namespace {

// The payload of the one length-delimited field `field` holds (tag and length skipped).
std::string_view field_payload(std::string_view field) {
  protozero::pbf_reader r(field.data(), field.size());
  if (!r.next()) return {};
  const protozero::data_view v = r.get_view();
  return {v.data(), v.size()};
}

constexpr bool is_item(NodeKind k) {
  return k == NodeKind::data_point || k == NodeKind::span || k == NodeKind::log_record;
}

constexpr std::size_t kBlockSize = 64 * 1024;

// Where an attribute added to a group without its Resource / InstrumentationScope goes.
struct CreatedFields {
  uint32_t message;    // the Resource / scope field of the group
  uint32_t attribute;  // the attributes field of that message
};
CreatedFields created_fields(bool resource) {
  if (resource) return {num(ResourceGroup::resource), num(Resource::attributes)};
  return {num(ScopeGroup::scope), num(InstrumentationScope::attributes)};
}

}  // namespace

// --- Storage and bookkeeping ---

void Edits::clear() {
  ix_ = nullptr;
  entries_.clear();
  live_ = 0;
  dropped_items_ = 0;
  flags_.clear();
  added_.clear();
  block_ = 0;
  used_ = 0;
}

void Edits::reset(const Index& index) {
  clear();
  ix_ = &index;
  const std::size_t n = index.nodes().size();
  flags_.assign(n, 0);
  // Valid only where a flag says so: growing them is all reset() needs.
  if (replaced_.size() < n) replaced_.resize(n);
  if (first_add_.size() < n) {
    first_add_.resize(n);
    last_add_.resize(n);
  }
}

std::string_view Edits::store(std::string_view b) {
  if (b.empty()) return {};
  for (;; ++block_, used_ = 0) {
    if (block_ == blocks_.size()) {
      const std::size_t size = std::max(kBlockSize, b.size());
      blocks_.push_back(std::make_unique<char[]>(size));
      block_sizes_.push_back(size);
    }
    if (block_sizes_[block_] - used_ >= b.size()) break;
  }
  char* p = blocks_[block_].get() + used_;
  std::memcpy(p, b.data(), b.size());
  used_ += b.size();
  return {p, b.size()};
}

uint32_t Edits::push(uint32_t node, Op op, std::string_view b) {
  const std::string_view kept = store(b);
  entries_.push_back({node, op, kept.data(), static_cast<uint32_t>(kept.size())});
  ++live_;
  return static_cast<uint32_t>(entries_.size() - 1);
}

void Edits::cancel(uint32_t entry) {
  if (entries_[entry].op == Op::none) return;
  entries_[entry].op = Op::none;
  --live_;
}

void Edits::mark_owner(uint32_t attribute_node) {
  const auto nodes = ix_->nodes();
  if (nodes[attribute_node].kind == NodeKind::attribute)
    flags_[nodes[attribute_node].parent] |= kAttrsEdited;
}

uint64_t Edits::items_left() const noexcept {
  return ix_ ? ix_->item_count() - dropped_items_ : 0;
}

// --- Edits ---

uint64_t Edits::drop(uint32_t node) {
  if (!ix_) {
    push(node, Op::drop, {});
    return 0;
  }
  const auto nodes = ix_->nodes();
  if (node >= nodes.size()) {  // an added attribute
    Added& a = added_[node - nodes.size()];
    if (a.dead) return 0;
    a.dead = true;
    if (a.field != 0) {
      cancel(a.entry);
    } else {
      rewrite_created(a.owner);
    }
    return 0;
  }
  if (flags_[node] & kDropped) return 0;
  push(node, Op::drop, {});
  uint64_t items = 0;
  for (uint32_t i = node; i < nodes[node].subtree_end; ++i) {
    if (flags_[i] & kDropped) continue;
    flags_[i] |= kDropped;
    items += is_item(nodes[i].kind);
  }
  dropped_items_ += items;
  mark_owner(node);
  return items;
}

void Edits::replace_payload(uint32_t node, std::string_view payload) {
  if (!ix_) {
    push(node, Op::replace_payload, payload);
    return;
  }
  const auto nodes = ix_->nodes();
  if (node >= nodes.size()) {  // an added attribute: only its KeyValue can be replaced
    replace_key_value(node, payload);
    return;
  }
  const uint32_t e = push(node, Op::replace_payload, payload);
  flags_[node] |= kReplaced;
  replaced_[node] = e;
  mark_owner(node);
}

void Edits::replace_key_value(uint32_t node, std::string_view kv) {
  Added& a = added_[node - ix_->nodes().size()];
  if (a.dead) return;
  if (a.field == 0) {
    a.kv = store(kv);
    rewrite_created(a.owner);
    return;
  }
  scratch_.clear();
  append_bytes_field(scratch_, a.field, kv);
  a.kv = field_payload(rewrite_entry(a.entry, scratch_));
}

void Edits::link_added(uint32_t view_owner, uint32_t entry, uint32_t field, std::string_view kv) {
  const auto id = static_cast<uint32_t>(added_.size());
  added_.push_back({view_owner, entry, kNone, field, kv, false});
  if (flags_[view_owner] & kHasAdds) {
    added_[last_add_[view_owner]].next = id;
  } else {
    first_add_[view_owner] = id;
  }
  last_add_[view_owner] = id;
  flags_[view_owner] |= kHasAdds | kAttrsEdited;
  if (field == 0) rewrite_created(view_owner);
}

Edits::EncodedAttribute Edits::encode_attribute(NodeKind owner_kind, std::string_view key,
                                                std::string_view any_value, MetricType type) {
  EncodedAttribute a;
  a.field = Index::attribute_field(owner_kind, type);
  kv_.clear();
  key_value_payload(kv_, key, any_value);
  scratch_.clear();
  append_bytes_field(scratch_, a.field, kv_);
  a.bytes = store(scratch_);
  a.kv = a.bytes.substr(a.bytes.size() - kv_.size());
  return a;
}

void Edits::add_attribute(uint32_t owner, const EncodedAttribute& a) {
  // Entries may share stored bytes: nothing stored is ever written again (rewrite_entry stores
  // anew).
  entries_.push_back({owner, Op::append, a.bytes.data(), static_cast<uint32_t>(a.bytes.size())});
  ++live_;
  if (ix_) link_added(owner, static_cast<uint32_t>(entries_.size() - 1), a.field, a.kv);
}

void Edits::rewrite_created(uint32_t group) {
  const CreatedFields f = created_fields(ix_->nodes()[group].kind == NodeKind::resource_group);
  kv_.clear();
  for (uint32_t k = first_add_[group]; k != kNone; k = added_[k].next)
    if (!added_[k].dead) append_bytes_field(kv_, f.attribute, added_[k].kv);
  const bool have = (flags_[group] & kAddedField) != 0;
  if (kv_.empty()) {  // every attribute of the created message was dropped again
    if (have) cancel(replaced_[group]);
    return;
  }
  scratch_.clear();
  append_bytes_field(scratch_, f.message, kv_);
  if (!have || entries_[replaced_[group]].op == Op::none) {
    replaced_[group] = push(group, Op::append, scratch_);
    flags_[group] |= kAddedField;
    return;
  }
  rewrite_entry(replaced_[group], scratch_);
}

std::string_view Edits::rewrite_entry(uint32_t entry, std::string_view b) {
  const std::string_view kept = store(b);
  entries_[entry].data = kept.data();
  entries_[entry].length = static_cast<uint32_t>(kept.size());
  return kept;
}

void Edits::set_attribute_value(const Attribute& a, std::string_view any_value) {
  scratch_.clear();
  key_value_payload(scratch_, a.key, any_value);
  kv_.assign(scratch_);
  replace_payload(a.node, kv_);
}

void Edits::rename_attribute(const Attribute& a, std::string_view new_key) {
  kv_.clear();
  append_bytes_field(kv_, num(KeyValue::key), new_key);
  // An absent value has a null view; a present but empty AnyValue must stay present.
  if (a.value.data() != nullptr)
    append_bytes_field(kv_, num(KeyValue::value), a.value);
  replace_payload(a.node, kv_);
}

void Edits::add_attribute(NodeKind owner_kind, uint32_t owner, std::string_view key,
                          std::string_view any_value, MetricType type) {
  add_attribute(owner, encode_attribute(owner_kind, key, any_value, type));
}

void Edits::add_resource_attribute(const ResourceEntry& r, std::string_view key,
                                   std::string_view any_value) {
  add_group_attribute(r.node, r.resource_node, NodeKind::resource, key, any_value);
}

void Edits::add_scope_attribute(const ScopeEntry& s, std::string_view key, std::string_view any_value) {
  add_group_attribute(s.node, s.scope_node, NodeKind::scope, key, any_value);
}

void Edits::add_group_attribute(uint32_t group, uint32_t message, NodeKind kind, std::string_view key,
                                std::string_view any_value) {
  if (message != kNone) {
    add_attribute(kind, message, key, any_value);
    return;
  }
  kv_.clear();
  key_value_payload(kv_, key, any_value);
  if (ix_) {
    link_added(group, kNone, 0, store(kv_));
    return;
  }
  // Unbound: one created message per added attribute (parsers merge them).
  const CreatedFields f = created_fields(kind == NodeKind::resource);
  std::string message_bytes;
  append_bytes_field(message_bytes, f.attribute, kv_);
  scratch_.clear();
  append_bytes_field(scratch_, f.message, message_bytes);
  append(group, scratch_);
}

// A metric without a name field / a log record without a body gets one appended; a second edit
// replaces that appended field rather than adding another.
void Edits::set_field(uint32_t owner, uint32_t leaf, uint32_t field, std::string_view payload) {
  if (leaf != kNone) {
    replace_payload(leaf, payload);
    return;
  }
  scratch_.clear();
  append_bytes_field(scratch_, field, payload);
  if (ix_ && (flags_[owner] & kAddedField)) {
    rewrite_entry(replaced_[owner], scratch_);
    return;
  }
  const uint32_t e = push(owner, Op::append, scratch_);
  if (!ix_) return;
  replaced_[owner] = e;
  flags_[owner] |= kAddedField;
}

void Edits::rename_metric(const MetricEntry& m, std::string_view new_name) {
  set_field(m.node, m.name_node, num(Metric::name), new_name);
}

void Edits::set_log_body(const LogRecordEntry& l, std::string_view any_value) {
  set_field(l.node, l.body_node, num(LogRecord::body), any_value);
}

// --- The view ---

std::span<const Attribute> Edits::edited_attributes(uint32_t owner, AttrRange r) {
  if (!ix_) return {};  // attributes() answered an index's untouched owner itself
  const auto original = ix_->attributes(r);
  view_.clear();
  for (const Attribute& a : original) {
    const uint8_t f = flags_[a.node];
    if (f & kDropped) continue;
    if ((f & kReplaced) == 0) {
      view_.push_back(a);
      continue;
    }
    Attribute b{};
    decode_key_value(bytes(entries_[replaced_[a.node]]), b);
    b.node = a.node;
    view_.push_back(b);
  }
  if (flags_[owner] & kHasAdds) {
    const auto n = static_cast<uint32_t>(ix_->nodes().size());
    for (uint32_t k = first_add_[owner]; k != kNone; k = added_[k].next) {
      if (added_[k].dead) continue;
      Attribute b{};
      decode_key_value(added_[k].kv, b);
      b.node = n + k;
      view_.push_back(b);
    }
  }
  return view_;
}

std::string_view Edits::edited_metric_name(const MetricEntry& m) const noexcept {
  if (!ix_) return m.name;
  if (m.name_node != kNone)
    return (flags_[m.name_node] & kReplaced) ? bytes(entries_[replaced_[m.name_node]]) : m.name;
  if (flags_[m.node] & kAddedField) return field_payload(bytes(entries_[replaced_[m.node]]));
  return m.name;
}

LogBody Edits::log_body(const LogRecordEntry& l) const noexcept {
  LogBody b{l.body_type, l.body_scalar};
  if (!ix_) return b;
  std::string_view any;
  if (l.body_node != kNone && (flags_[l.body_node] & kReplaced))
    any = bytes(entries_[replaced_[l.body_node]]);
  else if (l.body_node == kNone && (flags_[l.node] & kAddedField))
    any = field_payload(bytes(entries_[replaced_[l.node]]));
  else
    return b;
  uint64_t bits = 0;
  if (!decode_any_value(any, b.type, b.scalar, bits)) b = {};
  return b;
}

}  // namespace otlpgate::otlp
