// Edits: encoding of the fields the convenience edits insert.
#include "core/otlp/edits.h"

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

namespace {

// KeyValue payload: key and value fields.
void key_value_payload(std::string& out, std::string_view key, std::string_view any_value) {
  append_bytes_field(out, num(KeyValue::key), key);
  append_bytes_field(out, num(KeyValue::value), any_value);
}

}  // namespace

void Edits::set_attribute_value(const Attribute& a, std::string_view any_value) {
  scratch_.clear();
  key_value_payload(scratch_, a.key, any_value);
  replace_payload(a.node, scratch_);
}

void Edits::rename_attribute(const Attribute& a, std::string_view new_key) {
  scratch_.clear();
  append_bytes_field(scratch_, num(KeyValue::key), new_key);
  // An absent value has a null view; a present but empty AnyValue must stay present.
  if (a.value.data() != nullptr)
    append_bytes_field(scratch_, num(KeyValue::value), a.value);
  replace_payload(a.node, scratch_);
}

void Edits::add_attribute(NodeKind owner_kind, uint32_t owner, std::string_view key,
                          std::string_view any_value, MetricType type) {
  const uint32_t field = Index::attribute_field(owner_kind, type);
  kv_.clear();  // a member, not a local: this runs per item (relabel adds a label to each point)
  key_value_payload(kv_, key, any_value);
  scratch_.clear();
  append_bytes_field(scratch_, field, kv_);
  append(owner, scratch_);
}

void Edits::add_resource_attribute(const ResourceEntry& r, std::string_view key,
                                   std::string_view any_value) {
  if (r.resource_node != kNone) {
    add_attribute(NodeKind::resource, r.resource_node, key, any_value);
    return;
  }
  std::string kv, resource;
  key_value_payload(kv, key, any_value);
  append_bytes_field(resource, num(Resource::attributes), kv);
  scratch_.clear();
  append_bytes_field(scratch_, num(ResourceGroup::resource), resource);
  append(r.node, scratch_);
}

void Edits::add_scope_attribute(const ScopeEntry& s, std::string_view key, std::string_view any_value) {
  if (s.scope_node != kNone) {
    add_attribute(NodeKind::scope, s.scope_node, key, any_value);
    return;
  }
  std::string kv, scope;
  key_value_payload(kv, key, any_value);
  append_bytes_field(scope, num(InstrumentationScope::attributes), kv);
  scratch_.clear();
  append_bytes_field(scratch_, num(ScopeGroup::scope), scope);
  append(s.node, scratch_);
}

void Edits::rename_metric(const MetricEntry& m, std::string_view new_name) {
  if (m.name_node != kNone) {
    replace_payload(m.name_node, new_name);
    return;
  }
  scratch_.clear();
  append_bytes_field(scratch_, num(Metric::name), new_name);
  append(m.node, scratch_);
}

void Edits::set_log_body(const LogRecordEntry& l, std::string_view any_value) {
  if (l.body_node != kNone) {
    replace_payload(l.body_node, any_value);
    return;
  }
  scratch_.clear();
  append_bytes_field(scratch_, num(LogRecord::body), any_value);
  append(l.node, scratch_);
}

}  // namespace otlpgate::otlp
