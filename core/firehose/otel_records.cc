// OpenTelemetry-format Firehose records: framing, the 1.0.0 decoder and 0.7.0 detection.
#include "core/firehose/otel_records.h"

#include "core/otlp/fields.h"
#include "core/otlp/index.h"
#include "core/wire/cursor.h"

namespace otlpgate::firehose {

namespace {

using otlp::num;
using wire::Cursor;
using wire::WireType;

std::string frame_name(const Frame& f) {
  return "message " + std::to_string(f.index + 1) + " (at byte " + std::to_string(f.offset) + ")";
}

// Calls f(payload) for each length-delimited field `field` of the message `m`; stops when f
// returns true and returns true then. Malformed input ends the walk quietly (false).
template <typename F>
bool any_field(std::string_view m, uint32_t field, F&& f) {
  Cursor c(m.data(), 0, static_cast<uint32_t>(m.size()));
  while (c.next()) {
    if (c.field() == field && c.is(WireType::length_delimited) && f(c.bytes())) return true;
  }
  return false;
}

bool has_field(std::string_view m, uint32_t field) {
  return any_field(m, field, [](std::string_view) { return true; });
}

// A v0.7.0 data point (or exemplar, under `exemplars`) with StringKeyValue labels.
bool point_has_labels(std::string_view point, uint32_t exemplars) {
  return has_field(point, num(otlp::v07::NumberDataPoint::labels)) ||
         any_field(point, exemplars, [](std::string_view x) {
           return has_field(x, num(otlp::v07::Exemplar::filtered_labels));
         });
}

bool metric_is_v07(std::string_view metric) {
  namespace v07 = otlp::v07;
  Cursor c(metric.data(), 0, static_cast<uint32_t>(metric.size()));
  while (c.next()) {
    if (!c.is(WireType::length_delimited)) continue;
    const auto f = static_cast<v07::Metric>(c.field());
    if (f == v07::Metric::int_gauge || f == v07::Metric::int_sum || f == v07::Metric::int_histogram)
      return true;  // numbers v1 reserves
    const uint32_t exemplars = f == v07::Metric::double_histogram
                                   ? num(v07::HistogramDataPoint::exemplars)
                                   : num(v07::NumberDataPoint::exemplars);
    if (f == v07::Metric::double_gauge || f == v07::Metric::double_sum ||
        f == v07::Metric::double_histogram || f == v07::Metric::double_summary) {
      if (any_field(c.bytes(), num(otlp::MetricData::data_points),
                    [&](std::string_view p) { return point_has_labels(p, exemplars); }))
        return true;
    }
  }
  return false;
}

}  // namespace

RecordResult for_each_frame(std::string_view record,
                            const std::function<RecordResult(const Frame&)>& on_frame) {
  const char* const begin = record.data();
  const char* const end = begin + record.size();
  const char* p = begin;
  for (std::size_t index = 0; p < end; ++index) {
    const Frame where{{}, index, static_cast<std::size_t>(p - begin)};
    uint64_t len = 0;
    bool too_long = false;
    const char* body = wire::decode_varint(p, end, &len, &too_long);
    if (!body) {
      return record_error(RecordError::otel_framing,
                          frame_name(where) + ": " +
                              (too_long ? "length prefix longer than 10 bytes"
                                        : "length prefix cut off by the end of the record"));
    }
    const auto left = static_cast<uint64_t>(end - body);
    if (len > left) {
      return record_error(RecordError::otel_framing, frame_name(where) + ": length prefix " +
                                                         std::to_string(len) +
                                                         " runs past the end of the record (" +
                                                         std::to_string(left) + " bytes left)");
    }
    const Frame frame{std::string_view(body, static_cast<std::size_t>(len)), index, where.offset};
    if (RecordResult r = on_frame(frame); !r) return r;
    p = body + len;
  }
  return {};
}

RecordResult check_metrics_request(std::string_view request, const Frame& frame, uint64_t* points) {
  thread_local otlp::Index index;
  const otlp::IndexResult r = index.build(Signal::metrics, Bytes::copy_of(request));
  const uint64_t n = r ? index.item_count() : 0;
  index.build(Signal::metrics, Bytes());  // let go of the copy
  if (!r) {
    return record_error(
        RecordError::otel_message,
        frame_name(frame) + ": not a valid ExportMetricsServiceRequest: " + otlp::describe(r));
  }
  *points += n;
  return {};
}

RecordResult append_otel1_record(std::string_view record, std::string& request, uint64_t* points) {
  const std::size_t start = request.size();
  uint64_t n = 0;
  RecordResult r = for_each_frame(record, [&](const Frame& f) {
    RecordResult ok = check_metrics_request(f.message, f, &n);
    if (ok) request.append(f.message);
    return ok;
  });
  if (!r) {
    request.resize(start);
    return r;
  }
  *points += n;
  return r;
}

bool looks_like_otel07(std::string_view record) {
  bool v07 = false;
  for_each_frame(record, [&](const Frame& f) {
    v07 = any_field(f.message, num(otlp::ExportRequest::resource_items), [](std::string_view rm) {
      return any_field(rm, num(otlp::ResourceGroup::scope_items), [](std::string_view ilm) {
        return any_field(ilm, num(otlp::ScopeGroup::items), metric_is_v07);
      });
    });
    // A record comes from one stream, in one format: its first message decides. (The failure
    // only stops the walk.)
    return record_error(RecordError::unknown_format, {});
  });
  return v07;
}

}  // namespace otlpgate::firehose
