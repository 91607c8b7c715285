// OTLP encoding shared by the Firehose JSON decoders.
#include "core/firehose/encode.h"

#include <limits>

#include "core/otlp/fields.h"
#include "core/wire/writer.h"

namespace otlpgate::firehose {

using otlp::num;

uint64_t unix_nanos(int64_t ms) {
  if (ms <= 0) return 0;
  if (ms > std::numeric_limits<int64_t>::max() / 1'000'000)
    return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(ms) * 1'000'000u;
}

void add_string_attribute(protozero::pbf_writer& w, uint32_t field, std::string_view key,
                          std::string_view value) {
  protozero::pbf_writer kv(w, field);
  kv.add_string(num(otlp::KeyValue::key), key.data(), key.size());
  protozero::pbf_writer any(kv, num(otlp::KeyValue::value));
  any.add_string(num(otlp::AnyValue::string_value), value.data(), value.size());
}

void add_string_list_attribute(protozero::pbf_writer& w, uint32_t field, std::string_view key,
                               std::string_view value) {
  protozero::pbf_writer kv(w, field);
  kv.add_string(num(otlp::KeyValue::key), key.data(), key.size());
  protozero::pbf_writer any(kv, num(otlp::KeyValue::value));
  protozero::pbf_writer array(any, num(otlp::AnyValue::array_value));
  protozero::pbf_writer element(array, num(otlp::ArrayValue::values));
  element.add_string(num(otlp::AnyValue::string_value), value.data(), value.size());
}

namespace {

// Tag and length of a length-delimited field whose payload has `size` bytes.
void append_header(std::string& out, uint32_t field, std::size_t size) {
  wire::append_varint(out, (uint64_t{field} << 3) | 2u);
  wire::append_varint(out, size);
}

std::size_t field_size(uint32_t field, std::size_t payload) {
  return wire::varint_size((uint64_t{field} << 3) | 2u) + wire::varint_size(payload) + payload;
}

}  // namespace

void append_resource_group(std::string& request, std::string_view resource_attributes,
                           std::string_view items) {
  // Written by hand rather than with nested protozero writers so that `items`, the bulk, is
  // copied once, straight into the request.
  const uint32_t resource = num(otlp::ResourceGroup::resource);
  const uint32_t scope_group = num(otlp::ResourceGroup::scope_items);
  const uint32_t scope = num(otlp::ScopeGroup::scope);
  const uint32_t scope_name = num(otlp::InstrumentationScope::name);
  const std::size_t scope_size = field_size(scope_name, kScopeName.size());
  const std::size_t scope_group_size = field_size(scope, scope_size) + items.size();
  const std::size_t group_size =
      field_size(resource, resource_attributes.size()) + field_size(scope_group, scope_group_size);
  request.reserve(request.size() +
                  field_size(num(otlp::ExportRequest::resource_items), group_size));
  append_header(request, num(otlp::ExportRequest::resource_items), group_size);
  append_header(request, resource, resource_attributes.size());
  request.append(resource_attributes);
  append_header(request, scope_group, scope_group_size);
  append_header(request, scope, scope_size);
  append_header(request, scope_name, kScopeName.size());
  request.append(kScopeName);
  request.append(items);
}

}  // namespace otlpgate::firehose
