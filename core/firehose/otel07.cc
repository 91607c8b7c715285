// OpenTelemetry 0.7.0 metrics → v1, read with the wire cursor and written with protozero.
#include "core/firehose/otel07.h"

#include <cstring>

#include <protozero/pbf_writer.hpp>

#include "core/firehose/encode.h"
#include "core/firehose/otel_records.h"
#include "core/otlp/fields.h"
#include "core/wire/cursor.h"

namespace otlpgate::firehose {

namespace {

namespace v07 = otlp::v07;
using otlp::num;
using protozero::pbf_writer;
using wire::Cursor;
using wire::WireType;

void add_view(pbf_writer& w, uint32_t field, std::string_view bytes) {
  w.add_bytes(field, bytes.data(), bytes.size());
}

// What a data point's number fields hold: v0.7.0 has an Int and a Double variant of each type.
enum class Kind { int_number, double_number, int_histogram, double_histogram, summary };

class Converter {
 public:
  explicit Converter(std::string_view whole) : base_(whole.data()) {}

  bool request(std::string_view m, pbf_writer& w) {
    return each(m, [&](Cursor& c) {
      if (c.field() != num(otlp::ExportRequest::resource_items)) return true;
      if (!want(c, m, WireType::length_delimited)) return false;
      pbf_writer rm(w, num(otlp::ExportRequest::resource_items));
      return resource_metrics(c.bytes(), rm);
    });
  }

  const std::string& error() const { return error_; }

 private:
  // Calls f(cursor) for each field of `m`; false when f does or the wire data is malformed.
  template <typename F>
  bool each(std::string_view m, F&& f) {
    Cursor c(m.data(), 0, static_cast<uint32_t>(m.size()));
    while (c.next()) {
      if (!f(c)) return false;
    }
    if (c.error() == otlp::IndexError::none) return true;
    return fail(m, c.error_offset(), std::string(otlp::describe(c.error())));
  }

  bool fail(std::string_view m, uint32_t offset, std::string what) {
    if (error_.empty()) {
      error_ =
          what + " at byte " + std::to_string(static_cast<std::size_t>(m.data() - base_) + offset);
    }
    return false;
  }

  // Checks the wire type of a known field of `m`, the message `c` walks.
  bool want(const Cursor& c, std::string_view m, WireType w) {
    if (c.is(w)) return true;
    return fail(m, c.field_begin(),
                "field " + std::to_string(c.field()) + " has the wrong wire type");
  }

  bool resource_metrics(std::string_view m, pbf_writer& w) {
    return each(m, [&](Cursor& c) {
      if (c.field() == num(otlp::ResourceGroup::resource)) {
        if (!want(c, m, WireType::length_delimited)) return false;
        add_view(w, num(otlp::ResourceGroup::resource), c.bytes());  // the same schema in v1
        return true;
      }
      if (c.field() != num(otlp::ResourceGroup::scope_items)) return true;
      if (!want(c, m, WireType::length_delimited)) return false;
      pbf_writer sm(w, num(otlp::ResourceGroup::scope_items));
      return library_metrics(c.bytes(), sm);
    });
  }

  bool library_metrics(std::string_view m, pbf_writer& w) {
    return each(m, [&](Cursor& c) {
      if (c.field() == num(otlp::ScopeGroup::scope)) {
        if (!want(c, m, WireType::length_delimited)) return false;
        add_view(w, num(otlp::ScopeGroup::scope), c.bytes());  // name 1, version 2, as in v1
        return true;
      }
      if (c.field() != num(otlp::ScopeGroup::items)) return true;
      if (!want(c, m, WireType::length_delimited)) return false;
      pbf_writer metric(w, num(otlp::ScopeGroup::items));
      return this->metric(c.bytes(), metric);
    });
  }

  bool metric(std::string_view m, pbf_writer& w) {
    return each(m, [&](Cursor& c) {
      if (!c.is(WireType::length_delimited)) return true;  // every known field is one
      switch (static_cast<v07::Metric>(c.field())) {
        case v07::Metric::name:
        case v07::Metric::description:
        case v07::Metric::unit:
          add_view(w, c.field(), c.bytes());
          return true;
        case v07::Metric::int_gauge:
          return data(c.bytes(), w, otlp::Metric::gauge, Kind::int_number);
        case v07::Metric::double_gauge:
          return data(c.bytes(), w, otlp::Metric::gauge, Kind::double_number);
        case v07::Metric::int_sum:
          return data(c.bytes(), w, otlp::Metric::sum, Kind::int_number);
        case v07::Metric::double_sum:
          return data(c.bytes(), w, otlp::Metric::sum, Kind::double_number);
        case v07::Metric::int_histogram:
          return data(c.bytes(), w, otlp::Metric::histogram, Kind::int_histogram);
        case v07::Metric::double_histogram:
          return data(c.bytes(), w, otlp::Metric::histogram, Kind::double_histogram);
        case v07::Metric::double_summary:
          return data(c.bytes(), w, otlp::Metric::summary, Kind::summary);
      }
      return true;
    });
  }

  // Gauge / Sum / Histogram / Summary: the points, and the temporality and monotonic flags.
  bool data(std::string_view m, pbf_writer& parent, otlp::Metric field, Kind kind) {
    pbf_writer w(parent, num(field));
    return each(m, [&](Cursor& c) {
      const auto f = static_cast<otlp::MetricData>(c.field());
      if (f == otlp::MetricData::data_points) {
        if (!want(c, m, WireType::length_delimited)) return false;
        pbf_writer p(w, num(otlp::MetricData::data_points));
        return point(c.bytes(), p, kind);
      }
      if (f == otlp::MetricData::aggregation_temporality || f == otlp::MetricData::is_monotonic) {
        if (!want(c, m, WireType::varint)) return false;
        w.add_uint64(c.field(), c.value());
      }
      return true;
    });
  }

  bool fixed64(const Cursor& c, std::string_view m, pbf_writer& w, uint32_t out_field) {
    if (!want(c, m, WireType::fixed64)) return false;
    w.add_fixed64(out_field, c.value());
    return true;
  }

  // A repeated fixed64 / double field, packed or not.
  bool repeated_fixed64(const Cursor& c, std::string_view m, pbf_writer& w) {
    if (c.is(WireType::fixed64)) return fixed64(c, m, w, c.field());
    if (!want(c, m, WireType::length_delimited)) return false;
    if (c.bytes().size() % 8 != 0) {
      return fail(
          m, c.field_begin(),
          "packed field " + std::to_string(c.field()) + " is not a whole number of 8-byte values");
    }
    add_view(w, c.field(), c.bytes());
    return true;
  }

  bool point(std::string_view m, pbf_writer& w, Kind kind) {
    const bool ints = kind == Kind::int_number || kind == Kind::int_histogram;
    const bool histogram = kind == Kind::int_histogram || kind == Kind::double_histogram;
    const uint32_t attributes = histogram               ? num(otlp::HistogramDataPoint::attributes)
                                : kind == Kind::summary ? num(otlp::SummaryDataPoint::attributes)
                                                        : num(otlp::NumberDataPoint::attributes);
    return each(m, [&](Cursor& c) {
      const uint32_t f = c.field();
      if (f == num(v07::NumberDataPoint::labels)) {  // field 1 in every v0.7.0 point
        return want(c, m, WireType::length_delimited) && label(c.bytes(), w, attributes);
      }
      if (f == num(v07::NumberDataPoint::start_time_unix_nano) ||
          f == num(v07::NumberDataPoint::time_unix_nano)) {
        return fixed64(c, m, w, f);  // 2 and 3 in v1 too
      }
      if (kind == Kind::int_number || kind == Kind::double_number) {
        if (f == num(v07::NumberDataPoint::value)) {
          // The same 8 bytes: sfixed64 → as_int, double → as_double.
          return fixed64(
              c, m, w,
              ints ? num(otlp::NumberDataPoint::as_int) : num(otlp::NumberDataPoint::as_double));
        }
        if (f == num(v07::NumberDataPoint::exemplars)) {
          if (!want(c, m, WireType::length_delimited)) return false;
          pbf_writer x(w, num(otlp::NumberDataPoint::exemplars));
          return exemplar(c.bytes(), x, ints);
        }
        return true;
      }
      if (kind == Kind::summary) {
        if (f == num(v07::SummaryDataPoint::count) || f == num(v07::SummaryDataPoint::sum))
          return fixed64(c, m, w, f);  // the same numbers and types in v1
        if (f == num(v07::SummaryDataPoint::quantile_values)) {
          if (!want(c, m, WireType::length_delimited)) return false;
          add_view(w, num(otlp::SummaryDataPoint::quantile_values), c.bytes());
        }
        return true;
      }
      switch (static_cast<v07::HistogramDataPoint>(f)) {
        case v07::HistogramDataPoint::count:
          return fixed64(c, m, w, num(otlp::HistogramDataPoint::count));
        case v07::HistogramDataPoint::sum:
          if (!want(c, m, WireType::fixed64)) return false;
          if (ints) {
            int64_t v;
            const uint64_t bits = c.value();
            std::memcpy(&v, &bits, sizeof v);
            w.add_double(num(otlp::HistogramDataPoint::sum), static_cast<double>(v));
          } else {
            w.add_fixed64(num(otlp::HistogramDataPoint::sum), c.value());
          }
          return true;
        case v07::HistogramDataPoint::bucket_counts:
        case v07::HistogramDataPoint::explicit_bounds:
          return repeated_fixed64(c, m, w);  // 6, 7 in v1
        case v07::HistogramDataPoint::exemplars: {
          if (!want(c, m, WireType::length_delimited)) return false;
          pbf_writer x(w, num(otlp::HistogramDataPoint::exemplars));
          return exemplar(c.bytes(), x, ints);
        }
        default:
          return true;
      }
    });
  }

  bool exemplar(std::string_view m, pbf_writer& w, bool ints) {
    return each(m, [&](Cursor& c) {
      switch (static_cast<v07::Exemplar>(c.field())) {
        case v07::Exemplar::filtered_labels:
          return want(c, m, WireType::length_delimited) &&
                 label(c.bytes(), w, num(otlp::Exemplar::filtered_attributes));
        case v07::Exemplar::time_unix_nano:
          return fixed64(c, m, w, num(otlp::Exemplar::time_unix_nano));
        case v07::Exemplar::value:
          return fixed64(c, m, w,
                         ints ? num(otlp::Exemplar::as_int) : num(otlp::Exemplar::as_double));
        case v07::Exemplar::span_id:
        case v07::Exemplar::trace_id:  // 4 and 5 in v1 too
          if (!want(c, m, WireType::length_delimited)) return false;
          add_view(w, c.field(), c.bytes());
          return true;
      }
      return true;
    });
  }

  // StringKeyValue {key, value} → KeyValue {key, AnyValue{string_value}} as field `field`.
  bool label(std::string_view m, pbf_writer& w, uint32_t field) {
    std::string_view key, value;
    const bool ok = each(m, [&](Cursor& c) {
      const uint32_t f = c.field();
      if (f != num(v07::StringKeyValue::key) && f != num(v07::StringKeyValue::value)) return true;
      if (!want(c, m, WireType::length_delimited)) return false;
      (f == num(v07::StringKeyValue::key) ? key : value) = c.bytes();
      return true;
    });
    if (ok) add_string_attribute(w, field, key, value);
    return ok;
  }

  const char* base_;  // of the whole request, for error offsets
  std::string error_;
};

}  // namespace

bool convert_otel07_request(std::string_view request, std::string& out, std::string* error) {
  Converter conv(request);
  bool ok;
  {
    pbf_writer w(out);
    ok = conv.request(request, w);
  }
  if (!ok && error) *error = conv.error();
  return ok;
}

RecordResult append_otel07_record(std::string_view record, std::string& request, uint64_t* points) {
  const std::size_t start = request.size();
  std::string converted;
  uint64_t n = 0;
  RecordResult r = for_each_frame(record, [&](const Frame& f) {
    converted.clear();
    std::string why;
    if (!convert_otel07_request(f.message, converted, &why)) {
      return record_error(RecordError::otel_message, "message " + std::to_string(f.index + 1) +
                                                         " (at byte " + std::to_string(f.offset) +
                                                         "): not a valid OpenTelemetry 0.7.0 "
                                                         "ExportMetricsServiceRequest: " +
                                                         why);
    }
    RecordResult ok = check_metrics_request(converted, f, &n);
    if (ok) request.append(converted);
    return ok;
  });
  if (!r) {
    request.resize(start);
    return r;
  }
  *points += n;
  return r;
}

}  // namespace otlpgate::firehose
