// OTLP/JSON → protobuf transcoding and the receivers' JSON responses (see json_transcode.h).
#include "core/otlp/json_transcode.h"

#include <simdjson.h>
#include <protozero/buffer_string.hpp>
#include <protozero/varint.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "core/base64.h"
#include "core/otlp/fields.h"
#include "core/wire/cursor.h"

namespace otlpgate::otlp {
namespace {

namespace dom = simdjson::dom;
using wire::WireType;

// --- The schema: one table per OTLP message ---------------------------------------------------

enum class Kind : uint8_t {
  string,
  bytes,  // base64 in JSON
  id,     // a trace or span id: bytes on the wire, hex in JSON
  boolean,
  int64,
  uint32,
  sint32,
  fixed32,
  fixed64,
  sfixed64,
  float64,
  enumeration,  // int32 on the wire; an integer or a value name in JSON
  message,
  packed_uint64,  // repeated scalars, packed on the wire
  packed_fixed64,
  packed_double,
};

struct EnumValue {
  std::string_view name;
  int32_t number;
};

struct Message;

struct Field {
  std::string_view json;   // lowerCamelCase, as OTLP JSON writes it
  std::string_view proto;  // the .proto name, accepted too
  uint32_t number;
  Kind kind;
  bool repeated = false;                   // a JSON array of values (packed kinds excepted)
  const Message* message = nullptr;        // Kind::message
  std::span<const EnumValue> enum_values;  // Kind::enumeration
  uint32_t id_size = 0;                    // Kind::id: 16 (trace) or 8 (span)
};

// Key equality without a call to memcmp: keys are short, and one is compared per JSON member.
inline bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  std::size_t n = a.size();
  uint64_t x, y;
  for (; n >= 8; n -= 8, p += 8, q += 8) {
    std::memcpy(&x, p, 8);
    std::memcpy(&y, q, 8);
    if (x != y) return false;
  }
  for (; n > 0; --n) {
    if (*p++ != *q++) return false;
  }
  return true;
}

struct Message {
  std::span<const Field> fields;

  // The field named `key`, looked for from *next on (then from the start): keys mostly come in
  // the table's order, so this usually matches at once. *next moves past the match.
  const Field* find(std::string_view key, std::size_t* next) const {
    const std::size_t n = fields.size();
    for (std::size_t k = 0, i = *next; k < n; ++k, i = i + 1 == n ? 0 : i + 1) {
      const Field& f = fields[i];
      if (same_key(key, f.json) || same_key(key, f.proto)) {
        *next = i + 1 == n ? 0 : i + 1;
        return &f;
      }
    }
    return nullptr;
  }
};

template <typename E>
constexpr Field scalar(std::string_view json, std::string_view proto, E number, Kind kind) {
  return Field{json, proto, num(number), kind};
}
template <typename E>
constexpr Field repeated_scalar(std::string_view json, std::string_view proto, E number,
                                Kind kind) {
  return Field{json, proto, num(number), kind, true};
}
template <typename E>
constexpr Field message(std::string_view json, std::string_view proto, E number, const Message& m) {
  return Field{json, proto, num(number), Kind::message, false, &m};
}
template <typename E>
constexpr Field repeated(std::string_view json, std::string_view proto, E number,
                         const Message& m) {
  return Field{json, proto, num(number), Kind::message, true, &m};
}
template <typename E>
constexpr Field id(std::string_view json, std::string_view proto, E number, uint32_t size) {
  return Field{json, proto, num(number), Kind::id, false, nullptr, {}, size};
}
template <typename E>
constexpr Field enumeration(std::string_view json, std::string_view proto, E number,
                            std::span<const EnumValue> values) {
  return Field{json, proto, num(number), Kind::enumeration, false, nullptr, values};
}

// opentelemetry.proto.common.v1 and resource.v1. AnyValue and KeyValue nest through each other.
extern const Message kAnyValue;
extern const Message kKeyValue;

constexpr Field kArrayValueFields[] = {repeated("values", "values", ArrayValue::values, kAnyValue)};
const Message kArrayValue{kArrayValueFields};
constexpr Field kKeyValueListFields[] = {
    repeated("values", "values", KeyValueList::values, kKeyValue)};
const Message kKeyValueList{kKeyValueListFields};
constexpr Field kAnyValueFields[] = {
    scalar("stringValue", "string_value", AnyValue::string_value, Kind::string),
    scalar("boolValue", "bool_value", AnyValue::bool_value, Kind::boolean),
    scalar("intValue", "int_value", AnyValue::int_value, Kind::int64),
    scalar("doubleValue", "double_value", AnyValue::double_value, Kind::float64),
    message("arrayValue", "array_value", AnyValue::array_value, kArrayValue),
    message("kvlistValue", "kvlist_value", AnyValue::kvlist_value, kKeyValueList),
    scalar("bytesValue", "bytes_value", AnyValue::bytes_value, Kind::bytes),
};
const Message kAnyValue{kAnyValueFields};
constexpr Field kKeyValueFields[] = {
    scalar("key", "key", KeyValue::key, Kind::string),
    message("value", "value", KeyValue::value, kAnyValue),
};
const Message kKeyValue{kKeyValueFields};

constexpr Field kScopeFields[] = {
    scalar("name", "name", InstrumentationScope::name, Kind::string),
    scalar("version", "version", InstrumentationScope::version, Kind::string),
    repeated("attributes", "attributes", InstrumentationScope::attributes, kKeyValue),
    scalar("droppedAttributesCount", "dropped_attributes_count",
           InstrumentationScope::dropped_attributes_count, Kind::uint32),
};
const Message kScope{kScopeFields};

constexpr Field kEntityRefFields[] = {
    scalar("schemaUrl", "schema_url", EntityRef::schema_url, Kind::string),
    scalar("type", "type", EntityRef::type, Kind::string),
    repeated_scalar("idKeys", "id_keys", EntityRef::id_keys, Kind::string),
    repeated_scalar("descriptionKeys", "description_keys", EntityRef::description_keys,
                    Kind::string),
};
const Message kEntityRef{kEntityRefFields};
constexpr Field kResourceFields[] = {
    repeated("attributes", "attributes", Resource::attributes, kKeyValue),
    scalar("droppedAttributesCount", "dropped_attributes_count", Resource::dropped_attributes_count,
           Kind::uint32),
    repeated("entityRefs", "entity_refs", Resource::entity_refs, kEntityRef),
};
const Message kResource{kResourceFields};

// opentelemetry.proto.metrics.v1
constexpr EnumValue kAggregationTemporalities[] = {
    {"AGGREGATION_TEMPORALITY_UNSPECIFIED", 0},
    {"AGGREGATION_TEMPORALITY_DELTA", 1},
    {"AGGREGATION_TEMPORALITY_CUMULATIVE", 2},
};

constexpr Field kExemplarFields[] = {
    repeated("filteredAttributes", "filtered_attributes", Exemplar::filtered_attributes, kKeyValue),
    scalar("timeUnixNano", "time_unix_nano", Exemplar::time_unix_nano, Kind::fixed64),
    scalar("asDouble", "as_double", Exemplar::as_double, Kind::float64),
    id("spanId", "span_id", Exemplar::span_id, 8),
    id("traceId", "trace_id", Exemplar::trace_id, 16),
    scalar("asInt", "as_int", Exemplar::as_int, Kind::sfixed64),
};
const Message kExemplar{kExemplarFields};

constexpr Field kNumberDataPointFields[] = {
    repeated("attributes", "attributes", NumberDataPoint::attributes, kKeyValue),
    scalar("startTimeUnixNano", "start_time_unix_nano", NumberDataPoint::start_time_unix_nano,
           Kind::fixed64),
    scalar("timeUnixNano", "time_unix_nano", NumberDataPoint::time_unix_nano, Kind::fixed64),
    scalar("asDouble", "as_double", NumberDataPoint::as_double, Kind::float64),
    repeated("exemplars", "exemplars", NumberDataPoint::exemplars, kExemplar),
    scalar("asInt", "as_int", NumberDataPoint::as_int, Kind::sfixed64),
    scalar("flags", "flags", NumberDataPoint::flags, Kind::uint32),
};
const Message kNumberDataPoint{kNumberDataPointFields};

constexpr Field kHistogramDataPointFields[] = {
    repeated("attributes", "attributes", HistogramDataPoint::attributes, kKeyValue),
    scalar("startTimeUnixNano", "start_time_unix_nano", HistogramDataPoint::start_time_unix_nano,
           Kind::fixed64),
    scalar("timeUnixNano", "time_unix_nano", HistogramDataPoint::time_unix_nano, Kind::fixed64),
    scalar("count", "count", HistogramDataPoint::count, Kind::fixed64),
    scalar("sum", "sum", HistogramDataPoint::sum, Kind::float64),
    scalar("bucketCounts", "bucket_counts", HistogramDataPoint::bucket_counts,
           Kind::packed_fixed64),
    scalar("explicitBounds", "explicit_bounds", HistogramDataPoint::explicit_bounds,
           Kind::packed_double),
    repeated("exemplars", "exemplars", HistogramDataPoint::exemplars, kExemplar),
    scalar("flags", "flags", HistogramDataPoint::flags, Kind::uint32),
    scalar("min", "min", HistogramDataPoint::min, Kind::float64),
    scalar("max", "max", HistogramDataPoint::max, Kind::float64),
};
const Message kHistogramDataPoint{kHistogramDataPointFields};

constexpr Field kBucketsFields[] = {
    scalar("offset", "offset", ExponentialHistogramBuckets::offset, Kind::sint32),
    scalar("bucketCounts", "bucket_counts", ExponentialHistogramBuckets::bucket_counts,
           Kind::packed_uint64),
};
const Message kBuckets{kBucketsFields};

constexpr Field kExponentialHistogramDataPointFields[] = {
    repeated("attributes", "attributes", ExponentialHistogramDataPoint::attributes, kKeyValue),
    scalar("startTimeUnixNano", "start_time_unix_nano",
           ExponentialHistogramDataPoint::start_time_unix_nano, Kind::fixed64),
    scalar("timeUnixNano", "time_unix_nano", ExponentialHistogramDataPoint::time_unix_nano,
           Kind::fixed64),
    scalar("count", "count", ExponentialHistogramDataPoint::count, Kind::fixed64),
    scalar("sum", "sum", ExponentialHistogramDataPoint::sum, Kind::float64),
    scalar("scale", "scale", ExponentialHistogramDataPoint::scale, Kind::sint32),
    scalar("zeroCount", "zero_count", ExponentialHistogramDataPoint::zero_count, Kind::fixed64),
    message("positive", "positive", ExponentialHistogramDataPoint::positive, kBuckets),
    message("negative", "negative", ExponentialHistogramDataPoint::negative, kBuckets),
    scalar("flags", "flags", ExponentialHistogramDataPoint::flags, Kind::uint32),
    repeated("exemplars", "exemplars", ExponentialHistogramDataPoint::exemplars, kExemplar),
    scalar("min", "min", ExponentialHistogramDataPoint::min, Kind::float64),
    scalar("max", "max", ExponentialHistogramDataPoint::max, Kind::float64),
    scalar("zeroThreshold", "zero_threshold", ExponentialHistogramDataPoint::zero_threshold,
           Kind::float64),
};
const Message kExponentialHistogramDataPoint{kExponentialHistogramDataPointFields};

constexpr Field kValueAtQuantileFields[] = {
    scalar("quantile", "quantile", ValueAtQuantile::quantile, Kind::float64),
    scalar("value", "value", ValueAtQuantile::value, Kind::float64),
};
const Message kValueAtQuantile{kValueAtQuantileFields};

constexpr Field kSummaryDataPointFields[] = {
    repeated("attributes", "attributes", SummaryDataPoint::attributes, kKeyValue),
    scalar("startTimeUnixNano", "start_time_unix_nano", SummaryDataPoint::start_time_unix_nano,
           Kind::fixed64),
    scalar("timeUnixNano", "time_unix_nano", SummaryDataPoint::time_unix_nano, Kind::fixed64),
    scalar("count", "count", SummaryDataPoint::count, Kind::fixed64),
    scalar("sum", "sum", SummaryDataPoint::sum, Kind::float64),
    repeated("quantileValues", "quantile_values", SummaryDataPoint::quantile_values,
             kValueAtQuantile),
    scalar("flags", "flags", SummaryDataPoint::flags, Kind::uint32),
};
const Message kSummaryDataPoint{kSummaryDataPointFields};

// Gauge, Sum, Histogram, ExponentialHistogram and Summary share MetricData's numbering.
constexpr Field kGaugeFields[] = {
    repeated("dataPoints", "data_points", MetricData::data_points, kNumberDataPoint)};
const Message kGauge{kGaugeFields};
constexpr Field kSumFields[] = {
    repeated("dataPoints", "data_points", MetricData::data_points, kNumberDataPoint),
    enumeration("aggregationTemporality", "aggregation_temporality",
                MetricData::aggregation_temporality, kAggregationTemporalities),
    scalar("isMonotonic", "is_monotonic", MetricData::is_monotonic, Kind::boolean),
};
const Message kSum{kSumFields};
constexpr Field kHistogramFields[] = {
    repeated("dataPoints", "data_points", MetricData::data_points, kHistogramDataPoint),
    enumeration("aggregationTemporality", "aggregation_temporality",
                MetricData::aggregation_temporality, kAggregationTemporalities),
};
const Message kHistogram{kHistogramFields};
constexpr Field kExponentialHistogramFields[] = {
    repeated("dataPoints", "data_points", MetricData::data_points, kExponentialHistogramDataPoint),
    enumeration("aggregationTemporality", "aggregation_temporality",
                MetricData::aggregation_temporality, kAggregationTemporalities),
};
const Message kExponentialHistogram{kExponentialHistogramFields};
constexpr Field kSummaryFields[] = {
    repeated("dataPoints", "data_points", MetricData::data_points, kSummaryDataPoint)};
const Message kSummary{kSummaryFields};

constexpr Field kMetricFields[] = {
    scalar("name", "name", Metric::name, Kind::string),
    scalar("description", "description", Metric::description, Kind::string),
    scalar("unit", "unit", Metric::unit, Kind::string),
    message("gauge", "gauge", Metric::gauge, kGauge),
    message("sum", "sum", Metric::sum, kSum),
    message("histogram", "histogram", Metric::histogram, kHistogram),
    message("exponentialHistogram", "exponential_histogram", Metric::exponential_histogram,
            kExponentialHistogram),
    message("summary", "summary", Metric::summary, kSummary),
    repeated("metadata", "metadata", Metric::metadata, kKeyValue),
};
const Message kMetric{kMetricFields};

// opentelemetry.proto.trace.v1
constexpr EnumValue kSpanKinds[] = {
    {"SPAN_KIND_UNSPECIFIED", 0}, {"SPAN_KIND_INTERNAL", 1}, {"SPAN_KIND_SERVER", 2},
    {"SPAN_KIND_CLIENT", 3},      {"SPAN_KIND_PRODUCER", 4}, {"SPAN_KIND_CONSUMER", 5},
};
constexpr EnumValue kStatusCodes[] = {
    {"STATUS_CODE_UNSET", 0}, {"STATUS_CODE_OK", 1}, {"STATUS_CODE_ERROR", 2}};

constexpr Field kSpanEventFields[] = {
    scalar("timeUnixNano", "time_unix_nano", SpanEvent::time_unix_nano, Kind::fixed64),
    scalar("name", "name", SpanEvent::name, Kind::string),
    repeated("attributes", "attributes", SpanEvent::attributes, kKeyValue),
    scalar("droppedAttributesCount", "dropped_attributes_count",
           SpanEvent::dropped_attributes_count, Kind::uint32),
};
const Message kSpanEvent{kSpanEventFields};

constexpr Field kSpanLinkFields[] = {
    id("traceId", "trace_id", SpanLink::trace_id, 16),
    id("spanId", "span_id", SpanLink::span_id, 8),
    scalar("traceState", "trace_state", SpanLink::trace_state, Kind::string),
    repeated("attributes", "attributes", SpanLink::attributes, kKeyValue),
    scalar("droppedAttributesCount", "dropped_attributes_count", SpanLink::dropped_attributes_count,
           Kind::uint32),
    scalar("flags", "flags", SpanLink::flags, Kind::fixed32),
};
const Message kSpanLink{kSpanLinkFields};

constexpr Field kSpanStatusFields[] = {
    scalar("message", "message", SpanStatus::message, Kind::string),
    enumeration("code", "code", SpanStatus::code, kStatusCodes),
};
const Message kSpanStatus{kSpanStatusFields};

constexpr Field kSpanFields[] = {
    id("traceId", "trace_id", Span::trace_id, 16),
    id("spanId", "span_id", Span::span_id, 8),
    scalar("traceState", "trace_state", Span::trace_state, Kind::string),
    id("parentSpanId", "parent_span_id", Span::parent_span_id, 8),
    scalar("flags", "flags", Span::flags, Kind::fixed32),
    scalar("name", "name", Span::name, Kind::string),
    enumeration("kind", "kind", Span::kind, kSpanKinds),
    scalar("startTimeUnixNano", "start_time_unix_nano", Span::start_time_unix_nano, Kind::fixed64),
    scalar("endTimeUnixNano", "end_time_unix_nano", Span::end_time_unix_nano, Kind::fixed64),
    repeated("attributes", "attributes", Span::attributes, kKeyValue),
    scalar("droppedAttributesCount", "dropped_attributes_count", Span::dropped_attributes_count,
           Kind::uint32),
    repeated("events", "events", Span::events, kSpanEvent),
    scalar("droppedEventsCount", "dropped_events_count", Span::dropped_events_count, Kind::uint32),
    repeated("links", "links", Span::links, kSpanLink),
    scalar("droppedLinksCount", "dropped_links_count", Span::dropped_links_count, Kind::uint32),
    message("status", "status", Span::status, kSpanStatus),
};
const Message kSpan{kSpanFields};

// opentelemetry.proto.logs.v1
constexpr EnumValue kSeverityNumbers[] = {
    {"SEVERITY_NUMBER_UNSPECIFIED", 0}, {"SEVERITY_NUMBER_TRACE", 1},
    {"SEVERITY_NUMBER_TRACE2", 2},      {"SEVERITY_NUMBER_TRACE3", 3},
    {"SEVERITY_NUMBER_TRACE4", 4},      {"SEVERITY_NUMBER_DEBUG", 5},
    {"SEVERITY_NUMBER_DEBUG2", 6},      {"SEVERITY_NUMBER_DEBUG3", 7},
    {"SEVERITY_NUMBER_DEBUG4", 8},      {"SEVERITY_NUMBER_INFO", 9},
    {"SEVERITY_NUMBER_INFO2", 10},      {"SEVERITY_NUMBER_INFO3", 11},
    {"SEVERITY_NUMBER_INFO4", 12},      {"SEVERITY_NUMBER_WARN", 13},
    {"SEVERITY_NUMBER_WARN2", 14},      {"SEVERITY_NUMBER_WARN3", 15},
    {"SEVERITY_NUMBER_WARN4", 16},      {"SEVERITY_NUMBER_ERROR", 17},
    {"SEVERITY_NUMBER_ERROR2", 18},     {"SEVERITY_NUMBER_ERROR3", 19},
    {"SEVERITY_NUMBER_ERROR4", 20},     {"SEVERITY_NUMBER_FATAL", 21},
    {"SEVERITY_NUMBER_FATAL2", 22},     {"SEVERITY_NUMBER_FATAL3", 23},
    {"SEVERITY_NUMBER_FATAL4", 24},
};

constexpr Field kLogRecordFields[] = {
    scalar("timeUnixNano", "time_unix_nano", LogRecord::time_unix_nano, Kind::fixed64),
    scalar("observedTimeUnixNano", "observed_time_unix_nano", LogRecord::observed_time_unix_nano,
           Kind::fixed64),
    enumeration("severityNumber", "severity_number", LogRecord::severity_number, kSeverityNumbers),
    scalar("severityText", "severity_text", LogRecord::severity_text, Kind::string),
    message("body", "body", LogRecord::body, kAnyValue),
    repeated("attributes", "attributes", LogRecord::attributes, kKeyValue),
    scalar("droppedAttributesCount", "dropped_attributes_count",
           LogRecord::dropped_attributes_count, Kind::uint32),
    scalar("flags", "flags", LogRecord::flags, Kind::fixed32),
    id("traceId", "trace_id", LogRecord::trace_id, 16),
    id("spanId", "span_id", LogRecord::span_id, 8),
    scalar("eventName", "event_name", LogRecord::event_name, Kind::string),
};
const Message kLogRecord{kLogRecordFields};

// The three requests: Export*ServiceRequest → Resource* → Scope* → items. Only the key names of
// the repeated levels and the item message differ between signals.
struct RequestNames {
  std::string_view resources_json, resources_proto, scopes_json, scopes_proto, items_json,
      items_proto;
};

template <const RequestNames& N, const Message& Item>
struct RequestSchema {
  static constexpr Field kScopeGroupFields[] = {
      message("scope", "scope", ScopeGroup::scope, kScope),
      repeated(N.items_json, N.items_proto, ScopeGroup::items, Item),
      scalar("schemaUrl", "schema_url", ScopeGroup::schema_url, Kind::string),
  };
  static constexpr Message kScopeGroup{kScopeGroupFields};
  static constexpr Field kResourceGroupFields[] = {
      message("resource", "resource", ResourceGroup::resource, kResource),
      repeated(N.scopes_json, N.scopes_proto, ResourceGroup::scope_items, kScopeGroup),
      scalar("schemaUrl", "schema_url", ResourceGroup::schema_url, Kind::string),
  };
  static constexpr Message kResourceGroup{kResourceGroupFields};
  static constexpr Field kRequestFields[] = {
      repeated(N.resources_json, N.resources_proto, ExportRequest::resource_items, kResourceGroup)};
  static constexpr Message kRequest{kRequestFields};
};

constexpr RequestNames kMetricsNames{"resourceMetrics", "resource_metrics", "scopeMetrics",
                                     "scope_metrics",   "metrics",          "metrics"};
constexpr RequestNames kTracesNames{"resourceSpans", "resource_spans", "scopeSpans",
                                    "scope_spans",   "spans",          "spans"};
constexpr RequestNames kLogsNames{"resourceLogs", "resource_logs", "scopeLogs",
                                  "scope_logs",   "logRecords",    "log_records"};

const Message& request_schema(Signal signal) {
  switch (signal) {
    case Signal::metrics:
      return RequestSchema<kMetricsNames, kMetric>::kRequest;
    case Signal::traces:
      return RequestSchema<kTracesNames, kSpan>::kRequest;
    case Signal::logs:
      break;
  }
  return RequestSchema<kLogsNames, kLogRecord>::kRequest;
}

// --- Output: protobuf with nested lengths written at the end ------------------------------------

// Appends fields to a working buffer; a nested message (or packed field) reserves five bytes for
// its length, which take() writes while copying the buffer, without the unused reserved bytes, into
// the exact-size result. Unlike protozero's nested writers this keeps empty messages (their
// presence matters: an empty AnyValue, an empty Status) and copies each byte once rather than once
// per nesting level. The working buffer stays with the writer for the next request.
class ProtoWriter {
 public:
  void clear() {
    size_ = 0;
    slots_.clear();
    open_.clear();
  }

  void tag(uint32_t field, WireType w) {
    varint((uint64_t{field} << 3) | static_cast<uint32_t>(w));
  }
  void varint(uint64_t v) {
    char* p = room(10);
    size_ += static_cast<std::size_t>(protozero::write_varint(p, v));
  }
  void fixed32(uint32_t v) {
    char* p = room(4);
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
    size_ += 4;
  }
  void fixed64(uint64_t v) {
    char* p = room(8);
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
    size_ += 8;
  }
  void bytes(uint32_t field, std::string_view s) {
    std::memcpy(reserve_bytes(field, s.size()), s.data(), s.size());
  }
  // A length-delimited field of n bytes, returned for the caller to fill.
  char* reserve_bytes(uint32_t field, std::size_t n) {
    tag(field, WireType::length_delimited);
    varint(n);
    char* p = room(n);
    size_ += n;
    return p;
  }

  void open(uint32_t field) {
    tag(field, WireType::length_delimited);
    open_.push_back(Open{slots_.size(), 0});
    slots_.push_back(Slot{size_, 0});
    room(kReserved);
    size_ += kReserved;
  }
  void close() {
    const Open o = open_.back();
    open_.pop_back();
    Slot& s = slots_[o.slot];
    s.length = size_ - (s.at + kReserved) - o.saved;
    const std::size_t saved = o.saved + kReserved - protozero::length_of_varint(s.length);
    if (!open_.empty()) open_.back().saved += saved;
  }

  // The finished bytes (every open() closed).
  std::string take() {
    std::size_t saved = 0;
    for (const Slot& s : slots_) saved += kReserved - protozero::length_of_varint(s.length);
    std::string out(size_ - saved, '\0');
    char* w = out.data();
    const char* const d = data_.get();
    std::size_t r = 0;
    for (const Slot& s : slots_) {
      w = copy(w, d + r, s.at - r);
      w += protozero::write_varint(w, s.length);
      r = s.at + kReserved;
    }
    copy(w, d + r, size_ - r);
    if (cap_ > kRetainedBufferCapacity) {  // a rare large request: do not keep its buffer
      data_.reset();
      cap_ = 0;
    }
    return out;
  }

 private:
  static constexpr std::size_t kReserved = 5;  // a varint of any length below 2^35
  static constexpr std::size_t kRetainedBufferCapacity = 8u << 20;

  struct Slot {
    std::size_t at;      // offset of the reserved bytes
    std::size_t length;  // the message's final length
  };
  struct Open {
    std::size_t slot;
    std::size_t saved;  // reserved bytes the nested messages closed so far will give back
  };

  // Most segments between two length prefixes are a few bytes, for which a call to memcpy costs
  // more than the copy: those are copied in (possibly overlapping) fixed-size moves.
  static char* copy(char* w, const char* r, std::size_t n) {
    if (n > 32) {
      std::memcpy(w, r, n);
    } else if (n >= 8) {
      for (std::size_t i = 0; i + 8 < n; i += 8) std::memcpy(w + i, r + i, 8);
      std::memcpy(w + n - 8, r + n - 8, 8);
    } else if (n >= 4) {
      std::memcpy(w, r, 4);
      std::memcpy(w + n - 4, r + n - 4, 4);
    } else if (n > 0) {
      w[0] = r[0];
      w[n / 2] = r[n / 2];
      w[n - 1] = r[n - 1];
    }
    return w + n;
  }

  // Space for n more bytes at the end of the buffer.
  char* room(std::size_t n) {
    if (cap_ - size_ < n) {
      const std::size_t cap = std::max({2 * cap_, size_ + n, std::size_t{64} << 10});
      auto grown = std::make_unique_for_overwrite<char[]>(cap);
      if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
      data_ = std::move(grown);
      cap_ = cap;
    }
    return data_.get() + size_;
  }

  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0;
  std::size_t size_ = 0;
  std::vector<Slot> slots_;  // in buffer order (opened in order)
  std::vector<Open> open_;
};

// --- JSON values ---------------------------------------------------------------------------------

std::string_view type_name(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "a number";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

constexpr std::array<int8_t, 256> make_hex_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(i);
  for (int i = 0; i < 6; ++i) t['a' + i] = t['A' + i] = static_cast<int8_t>(10 + i);
  return t;
}
constexpr std::array<int8_t, 256> kHex = make_hex_table();


bool parse_decimal(std::string_view s, auto* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

constexpr double kTwoTo63 = 9223372036854775808.0;

// At most `max` bytes of valid UTF-8 `s`, cut at a character boundary (for echoing input).
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  while (max > 0 && (static_cast<unsigned char>(s[max]) & 0xc0u) == 0x80u) --max;
  return s.substr(0, max);
}

// --- The walk ------------------------------------------------------------------------------------

class Transcoder {
 public:
  // Writes `root` as the message `m`; false with error() set on the first problem.
  bool run(dom::element root, const Message& m) {
    out_.clear();
    path_.clear();
    error_.clear();
    return message(root, m);
  }
  std::string take() { return out_.take(); }

  // "<path>: <problem>", the path written outermost first.
  std::string error() const {
    std::string s;
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
      if (it->is_index) {
        s += '[';
        s += std::to_string(it->index);
        s += ']';
      } else {
        if (!s.empty()) s += '.';
        s += it->key;
      }
    }
    return (s.empty() ? std::string("request") : s) + ": " + error_;
  }

 private:
  struct Segment {
    std::string_view key;  // a view into the parsed document, alive until the call returns
    std::size_t index;
    bool is_index;
  };

  bool fail(std::string what) {
    error_ = std::move(what);
    return false;
  }
  bool expected(std::string_view what, dom::element v) {
    return fail("expected " + std::string(what) + ", got " + std::string(type_name(v.type())));
  }

  bool message(dom::element v, const Message& m) {
    dom::object obj;
    if (v.get_object().get(obj)) return expected("an object", v);
    std::size_t next = 0;
    for (dom::key_value_pair kv : obj) {
      const Field* f = m.find(kv.key, &next);
      if (f == nullptr || kv.value.is_null()) continue;  // unknown keys are ignored
      if (!(f->repeated ? list(*f, kv.value) : value(*f, kv.value))) {
        path_.push_back(Segment{kv.key, 0, false});
        return false;
      }
    }
    return true;
  }

  bool list(const Field& f, dom::element v) {
    dom::array arr;
    if (v.get_array().get(arr)) return expected("an array", v);
    std::size_t i = 0;
    for (dom::element e : arr) {
      if (!value(f, e)) {
        path_.push_back(Segment{{}, i, true});
        return false;
      }
      ++i;
    }
    return true;
  }

  bool value(const Field& f, dom::element v) {
    switch (f.kind) {
      case Kind::message:
        out_.open(f.number);
        if (!message(v, *f.message)) return false;
        out_.close();
        return true;
      case Kind::string: {
        std::string_view s;
        if (v.get_string().get(s)) return expected("a string", v);
        out_.bytes(f.number, s);
        return true;
      }
      case Kind::bytes:
        return base64(f.number, v);
      case Kind::id:
        return hex_id(f, v);
      case Kind::boolean: {
        bool b;
        if (v.get_bool().get(b)) return expected("true or false", v);
        out_.tag(f.number, WireType::varint);
        out_.varint(b ? 1 : 0);
        return true;
      }
      case Kind::enumeration:
      case Kind::sint32: {
        int64_t x;
        if (!(f.kind == Kind::enumeration ? enum_number(f, v, &x) : integer(v, &x))) return false;
        if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
          return fail("value out of range for a 32-bit integer");
        }
        out_.tag(f.number, WireType::varint);
        // An enum is an int32: negative values take ten bytes, as protobuf writes them.
        out_.varint(f.kind == Kind::sint32 ? protozero::encode_zigzag32(static_cast<int32_t>(x))
                                           : static_cast<uint64_t>(x));
        return true;
      }
      case Kind::int64:
      case Kind::sfixed64: {
        int64_t x;
        if (!integer(v, &x)) return false;
        if (f.kind == Kind::int64) {
          out_.tag(f.number, WireType::varint);
          out_.varint(static_cast<uint64_t>(x));
        } else {
          out_.tag(f.number, WireType::fixed64);
          out_.fixed64(static_cast<uint64_t>(x));
        }
        return true;
      }
      case Kind::uint32:
      case Kind::fixed32: {
        uint64_t x;
        if (!integer(v, &x)) return false;
        if (x > std::numeric_limits<uint32_t>::max())
          return fail("value out of range for a 32-bit unsigned integer");
        if (f.kind == Kind::uint32) {
          out_.tag(f.number, WireType::varint);
          out_.varint(x);
        } else {
          out_.tag(f.number, WireType::fixed32);
          out_.fixed32(static_cast<uint32_t>(x));
        }
        return true;
      }
      case Kind::fixed64: {
        uint64_t x;
        if (!integer(v, &x)) return false;
        out_.tag(f.number, WireType::fixed64);
        out_.fixed64(x);
        return true;
      }
      case Kind::float64: {
        double d;
        if (!real(v, &d)) return false;
        out_.tag(f.number, WireType::fixed64);
        out_.fixed64(std::bit_cast<uint64_t>(d));
        return true;
      }
      case Kind::packed_uint64:
      case Kind::packed_fixed64:
      case Kind::packed_double:
        return packed(f, v);
    }
    return fail("unsupported field kind");
  }

  // A repeated scalar written as one packed field; an empty array writes nothing.
  bool packed(const Field& f, dom::element v) {
    dom::array arr;
    if (v.get_array().get(arr)) return expected("an array", v);
    if (!(arr.begin() != arr.end())) return true;
    out_.open(f.number);
    std::size_t i = 0;
    for (dom::element e : arr) {
      bool ok;
      if (f.kind == Kind::packed_double) {
        double d;
        ok = real(e, &d);
        if (ok) out_.fixed64(std::bit_cast<uint64_t>(d));
      } else {
        uint64_t x;
        ok = integer(e, &x);
        if (ok && f.kind == Kind::packed_fixed64) out_.fixed64(x);
        if (ok && f.kind == Kind::packed_uint64) out_.varint(x);
      }
      if (!ok) {
        path_.push_back(Segment{{}, i, true});
        return false;
      }
      ++i;
    }
    out_.close();
    return true;
  }

  bool hex_id(const Field& f, dom::element v) {
    std::string_view s;
    if (v.get_string().get(s)) return expected("a hex string", v);
    if (s.empty()) return true;  // no id: written as protobuf encoders do, not at all
    const std::size_t want = 2 * std::size_t{f.id_size};
    if (s.size() != want) {
      return fail("expected " + std::to_string(want) + " hex characters, got " +
                  std::to_string(s.size()));
    }
    char* p = out_.reserve_bytes(f.number, f.id_size);
    for (std::size_t i = 0; i < f.id_size; ++i) {
      const int hi = kHex[static_cast<unsigned char>(s[2 * i])];
      const int lo = kHex[static_cast<unsigned char>(s[2 * i + 1])];
      if ((hi | lo) < 0) {
        const std::size_t at = hi < 0 ? 2 * i : 2 * i + 1;
        return fail("expected " + std::to_string(want) +
                    " hex characters, got a non-hex character at offset " + std::to_string(at));
      }
      p[i] = static_cast<char>((hi << 4) | lo);
    }
    return true;
  }

  bool base64(uint32_t field, dom::element v) {
    std::string_view s;
    if (v.get_string().get(s)) return expected("a base64 string", v);
    // Standard and URL-safe alphabets, padding optional: what protobuf's JSON parsers accept.
    constexpr Base64Rules kRules{.url_safe = true, .padding_optional = true};
    std::size_t bad = 0;
    char* p = out_.reserve_bytes(field, base64_decoded_size(s, kRules));
    if (base64_decode(s, p, kRules, &bad) != std::string_view::npos) return true;
    if (bad == s.size()) return fail("invalid base64: wrong length");
    return fail("invalid base64: unexpected character at offset " + std::to_string(bad));
  }


  // An int64_t or uint64_t: a JSON integer or an integral number in range, or a decimal string.
  template <typename T>
  bool integer(dom::element v, T* out) {
    constexpr bool is_signed = std::is_signed_v<T>;
    const std::string_view what = is_signed ? "an integer" : "a non-negative integer";
    const char* const out_of_range = is_signed ? "value out of range for a 64-bit integer"
                                               : "value out of range for a 64-bit unsigned integer";
    switch (v.type()) {
      case dom::element_type::INT64: {
        const int64_t x = v.get_int64().value_unsafe();
        if (!is_signed && x < 0) return fail("expected " + std::string(what));
        *out = static_cast<T>(x);
        return true;
      }
      case dom::element_type::UINT64:
        if (is_signed) return fail(out_of_range);
        *out = static_cast<T>(v.get_uint64().value_unsafe());
        return true;
      case dom::element_type::DOUBLE: {
        const double d = v.get_double().value_unsafe();
        if (std::trunc(d) != d) return fail("expected an integer, got a fraction");
        if (!(d >= (is_signed ? -kTwoTo63 : 0.0) && d < (is_signed ? kTwoTo63 : 2 * kTwoTo63))) {
          return fail(out_of_range);
        }
        *out = static_cast<T>(d);
        return true;
      }
      case dom::element_type::STRING:
        if (parse_decimal(v.get_string().value_unsafe(), out)) return true;
        return fail("expected " + std::string(what) + " as a decimal string");
      default:
        return expected(std::string(what) + " (a number or a decimal string)", v);
    }
  }

  // double: any JSON number, "NaN", "Infinity", "-Infinity", or a number in a string.
  bool real(dom::element v, double* out) {
    switch (v.type()) {
      case dom::element_type::INT64:
        *out = static_cast<double>(v.get_int64().value_unsafe());
        return true;
      case dom::element_type::UINT64:
        *out = static_cast<double>(v.get_uint64().value_unsafe());
        return true;
      case dom::element_type::DOUBLE:
        *out = v.get_double().value_unsafe();
        return true;
      case dom::element_type::STRING: {
        const std::string_view s = v.get_string().value_unsafe();
        if (s == "NaN") {
          *out = std::numeric_limits<double>::quiet_NaN();
        } else if (s == "Infinity") {
          *out = std::numeric_limits<double>::infinity();
        } else if (s == "-Infinity") {
          *out = -std::numeric_limits<double>::infinity();
        } else if (!parse_decimal(s, out) || !std::isfinite(*out)) {
          return fail("expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
        }
        return true;
      }
      default:
        return expected("a number", v);
    }
  }

  // An enum: its number, or the name of one of its values.
  bool enum_number(const Field& f, dom::element v, int64_t* out) {
    if (v.type() != dom::element_type::STRING) return integer(v, out);
    const std::string_view s = v.get_string().value_unsafe();
    for (const EnumValue& e : f.enum_values) {
      if (e.name == s) {
        *out = e.number;
        return true;
      }
    }
    if (parse_decimal(s, out)) return true;
    return fail("unknown enum value \"" + std::string(utf8_prefix(s, 64)) +
                "\"; expected an integer or a name like " + std::string(f.enum_values.back().name));
  }

  ProtoWriter out_;
  std::vector<Segment> path_;  // innermost first: filled while the recursion unwinds
  std::string error_;
};

// simdjson's error for the document as a whole.
std::string describe_parse_error(simdjson::error_code e) {
  switch (e) {
    case simdjson::DEPTH_ERROR:
      return "invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    case simdjson::EMPTY:
      return "invalid JSON: the body is empty";
    case simdjson::UTF8_ERROR:
      return "invalid JSON: not valid UTF-8";
    case simdjson::MEMALLOC:
    case simdjson::CAPACITY:
      return "JSON document too large to parse";
    default:
      return std::string("invalid JSON: ") + simdjson::error_message(e);
  }
}

// Documents up to this size reuse the thread's parser; a larger one gets a parser of its own that
// is freed afterwards, so that a rare large request does not pin its memory to the thread (a
// parser reserves about 15 bytes of address space per input byte, and touches about 2 of them).
constexpr std::size_t kRetainedParserCapacity = 4u << 20;

}  // namespace

JsonTranscodeResult json_to_protobuf(Signal signal, std::string_view json) {
  thread_local std::unique_ptr<dom::parser> retained;
  std::unique_ptr<dom::parser> one_off;
  dom::parser* parser;
  if (json.size() <= kRetainedParserCapacity) {
    if (!retained) {
      retained = std::make_unique<dom::parser>();
      if (const auto e = retained->allocate(64 << 10, kMaxJsonDepth))
        return {{}, describe_parse_error(e)};
    }
    parser = retained.get();
  } else {
    one_off = std::make_unique<dom::parser>();
    if (const auto e = one_off->allocate(json.size(), kMaxJsonDepth))
      return {{}, describe_parse_error(e)};
    parser = one_off.get();
  }

  JsonTranscodeResult r;
  dom::element root;
  // The input is copied into the parser's padded buffer: a string_view promises no padding.
  if (const auto e = parser->parse(json.data(), json.size(), true).get(root)) {
    r.error = describe_parse_error(e);
    return r;
  }
  thread_local Transcoder t;
  if (t.run(root, request_schema(signal))) {
    r.bytes = t.take();
  } else {
    r.error = t.error();
  }
  return r;
}

// --- Responses -----------------------------------------------------------------------------------

std::string valid_utf8(std::string_view s) {
  std::string out(s);
  if (!simdjson::validate_utf8(s.data(), s.size())) {
    for (char& c : out) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
  }
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  const bool utf8 = simdjson::validate_utf8(s.data(), s.size());
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          constexpr char kDigits[] = "0123456789abcdef";
          out += "\\u00";
          out += kDigits[c >> 4];
          out += kDigits[c & 15];
        } else if (c >= 0x80 && !utf8) {
          out += '?';  // as valid_utf8() writes it
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

namespace {

std::string_view rejected_key(Signal s) {
  switch (s) {
    case Signal::metrics:
      return "rejectedDataPoints";
    case Signal::traces:
      return "rejectedSpans";
    case Signal::logs:
      return "rejectedLogRecords";
  }
  return "rejected";
}

}  // namespace

std::string export_response_json(Signal signal, uint64_t rejected, std::string_view error_message) {
  if (rejected == 0 && error_message.empty()) return "{}";
  std::string out = "{\"partialSuccess\":{";
  if (rejected != 0) {
    out += '"';
    out += rejected_key(signal);
    out += "\":\"" + std::to_string(rejected) + '"';  // int64 as a decimal string
  }
  if (!error_message.empty()) {
    if (rejected != 0) out += ',';
    out += "\"errorMessage\":";
    append_json_string(out, error_message);
  }
  out += "}}";
  return out;
}

std::string rpc_status_json(int32_t code, std::string_view message,
                            std::chrono::seconds retry_after) {
  std::string out = "{\"code\":" + std::to_string(code) + ",\"message\":";
  append_json_string(out, message);
  out += ",\"details\":[";
  if (retry_after.count() > 0) {
    out += "{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"" +
           std::to_string(retry_after.count()) + "s\"}";
  }
  out += "]}";
  return out;
}

}  // namespace otlpgate::otlp
