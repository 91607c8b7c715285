// CwMetricsDecoder: CloudWatch Metric Streams JSON → OTLP Summary data points.
#include "core/firehose/cwmetrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <protozero/pbf_writer.hpp>

#include "core/firehose/encode.h"
#include "core/firehose/json_doc.h"
#include "core/otlp/fields.h"
#include "core/wire/writer.h"

namespace otlpgate::firehose {

namespace ondemand = simdjson::ondemand;
using otlp::num;

namespace {

// One line's fields, as views into the parser's buffer (valid until the next line is parsed).
struct Line {
  std::string_view stream, account, region, ns, name, unit;
  int64_t timestamp_ms = 0;
  bool has_value = false;
  double min = 0, max = 0, sum = 0, count = 0;
};

struct Metric {
  std::string name;
  std::string unit;
  std::string points;  // encoded Summary.data_points fields
};

struct Resource {
  std::string stream, ns, account, region;
  std::vector<Metric> metrics;
  std::unordered_map<std::string, uint32_t> by_name_unit;
};

// The grouping key of several strings: each followed by a NUL.
std::string join_key(std::initializer_list<std::string_view> parts) {
  std::string k;
  for (auto p : parts) {
    k.append(p);
    k.push_back('\0');
  }
  return k;
}

// The Collector's toServiceAttributes: "AWS/EC2" → ("AWS", "EC2"); anything else → ("", ns).
std::pair<std::string_view, std::string_view> service_of(std::string_view ns) {
  const auto slash = ns.find('/');
  if (slash != std::string_view::npos && slash == 3) {
    const std::string_view before = ns.substr(0, 3);
    const bool aws = std::equal(before.begin(), before.end(), "aws",
                                [](char a, char b) { return (a | 0x20) == b; });
    if (aws) return {before, ns.substr(slash + 1)};
  }
  return {std::string_view(), ns};
}

// "p99.9" → 0.999; nullopt for keys that are not a percentile strictly between 0 and 100.
std::optional<double> percentile_quantile(std::string_view key) {
  if (key.size() < 2 || key[0] != 'p') return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(key.data() + 1, key.data() + key.size(), v);
  if (ec != std::errc() || ptr != key.data() + key.size() || !std::isfinite(v)) return std::nullopt;
  if (v <= 0 || v >= 100) return std::nullopt;  // p0 / p100 would repeat min / max
  return v / 100.0;
}

// A string field: Go's encoding/json leaves a string at "" for null and fails on other types.
simdjson::error_code get_string_or_null(ondemand::value& v, std::string_view& out) {
  bool null = false;
  if (auto e = v.is_null().get(null)) return e;
  if (null) return simdjson::SUCCESS;
  return v.get_string().get(out);
}

uint64_t count_of(double c) {
  if (!(c > 0)) return 0;  // negative, zero, NaN
  if (c >= 18446744073709551615.0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(c);
}

}  // namespace

struct CwMetricsDecoder::State {
  JsonDoc json;
  std::vector<Resource> resources;
  std::unordered_map<std::string, uint32_t> by_resource;
  // Per-line scratch, reused.
  std::vector<std::pair<std::string_view, std::string_view>> dims;
  std::vector<std::pair<double, double>> quantiles;
  std::string point;

  // Parses one line into `m` (and dims / quantiles). Returns what is wrong, or "" when it is a
  // metric.
  std::string parse(std::string_view text, Line& m);
  void add(const Line& m);
};

// The string fields of a line, by key.
constexpr std::pair<std::string_view, std::string_view Line::*> kStringFields[] = {
    {"metric_stream_name", &Line::stream},
    {"account_id", &Line::account},
    {"region", &Line::region},
    {"namespace", &Line::ns},
    {"metric_name", &Line::name},
    {"unit", &Line::unit},
};

std::string CwMetricsDecoder::State::parse(std::string_view text, Line& m) {
  dims.clear();
  quantiles.clear();
  std::string why =
      each_field(json, text, [&](std::string_view key, ondemand::value& v) -> std::string {
        simdjson::error_code e = simdjson::SUCCESS;
        bool null = false;
        const auto string_field = std::find_if(std::begin(kStringFields), std::end(kStringFields),
                                               [&](const auto& f) { return f.first == key; });
        if (string_field != std::end(kStringFields)) {
          e = get_string_or_null(v, m.*(string_field->second));
        } else if (key == "timestamp") {
          e = v.is_null().get(null);
          if (!e && !null) e = v.get_int64().get(m.timestamp_ms);
        } else if (key == "dimensions") {
          e = v.is_null().get(null);
          ondemand::object d;
          if (!e && !null && !(e = v.get_object().get(d))) {
            for (auto dim_result : d) {
              ondemand::field dim;
              std::string_view name, value;
              if ((e = read_field(std::move(dim_result), dim, name)) ||
                  (e = dim.value().get_string().get(value)))
                break;
              // A key given twice: the last value wins, as in the Collector's map.
              auto it = std::find_if(dims.begin(), dims.end(),
                                     [&](const auto& p) { return p.first == name; });
              if (it != dims.end())
                it->second = value;
              else
                dims.emplace_back(name, value);
            }
          }
          if (e) return "dimensions: expected an object of strings: " + std::string(json_error(e));
        } else if (key == "value") {
          e = v.is_null().get(null);
          ondemand::object val;
          if (!e && !null && !(e = v.get_object().get(val))) {
            m.has_value = true;
            for (auto stat_result : val) {
              ondemand::field stat;
              std::string_view name;
              ondemand::json_type type;
              if ((e = read_field(std::move(stat_result), stat, name)) ||
                  (e = stat.value().type().get(type)))
                break;
              if (type != ondemand::json_type::number)
                continue;  // the Collector ignores non-numbers
              double x = 0;
              if ((e = stat.value().get_double().get(x))) break;
              if (name == "min")
                m.min = x;
              else if (name == "max")
                m.max = x;
              else if (name == "sum")
                m.sum = x;
              else if (name == "count")
                m.count = x;
              else if (auto q = percentile_quantile(name))
                quantiles.emplace_back(*q, x);
            }
          }
          if (e) return "value: expected an object of numbers: " + std::string(json_error(e));
        }
        if (e) return std::string(key) + ": " + std::string(json_error(e));
        return {};
      });
  if (!why.empty()) return why;
  if (m.name.empty() || m.ns.empty() || m.unit.empty() || !m.has_value)
    return "not a CloudWatch metric (metric_name, namespace, unit and value are required)";
  return {};
}

void CwMetricsDecoder::State::add(const Line& m) {
  const std::string rkey = join_key({m.stream, m.ns, m.account, m.region});
  auto [rit, new_resource] = by_resource.try_emplace(rkey, static_cast<uint32_t>(resources.size()));
  if (new_resource) {
    resources.push_back(Resource{std::string(m.stream),
                                 std::string(m.ns),
                                 std::string(m.account),
                                 std::string(m.region),
                                 {},
                                 {}});
  }
  Resource& r = resources[rit->second];
  auto [mit, new_metric] = r.by_name_unit.try_emplace(join_key({m.name, m.unit}),
                                                      static_cast<uint32_t>(r.metrics.size()));
  if (new_metric) r.metrics.push_back(Metric{std::string(m.name), std::string(m.unit), {}});
  Metric& metric = r.metrics[mit->second];

  point.clear();
  {
    protozero::pbf_writer w(point);
    w.add_fixed64(num(otlp::SummaryDataPoint::time_unix_nano), unix_nanos(m.timestamp_ms));
    for (const auto& [name, value] : dims) {
      add_string_attribute(w, num(otlp::SummaryDataPoint::attributes),
                           name == "InstanceId" ? std::string_view("service.instance.id") : name,
                           value);
    }
    w.add_fixed64(num(otlp::SummaryDataPoint::count), count_of(m.count));
    w.add_double(num(otlp::SummaryDataPoint::sum), m.sum);
    quantiles.emplace_back(0.0, m.min);
    quantiles.emplace_back(1.0, m.max);
    std::stable_sort(quantiles.begin(), quantiles.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [q, value] : quantiles) {
      protozero::pbf_writer qv(w, num(otlp::SummaryDataPoint::quantile_values));
      qv.add_double(num(otlp::ValueAtQuantile::quantile), q);
      qv.add_double(num(otlp::ValueAtQuantile::value), value);
    }
  }
  wire::append_bytes_field(metric.points, num(otlp::MetricData::data_points), point);
}

CwMetricsDecoder::CwMetricsDecoder() : state_(std::make_unique<State>()) {}
CwMetricsDecoder::~CwMetricsDecoder() = default;

RecordResult CwMetricsDecoder::add_record(std::string_view record) {
  uint64_t good = 0;
  uint64_t bad = 0;
  std::string first_error;
  for_each_line(record, [&](std::string_view line, std::size_t line_no) {
    Line m;
    std::string why = state_->parse(line, m);
    if (why.empty()) {
      state_->add(m);
      ++good;
    } else if (bad++ == 0) {
      first_error = "line " + std::to_string(line_no) + ": " + why;
    }
  });
  if (good == 0) {
    return record_error(RecordError::cwmetrics, first_error.empty()
                                                    ? "the record holds no CloudWatch metric"
                                                    : first_error);
  }
  points_ += good;
  if (bad > 0) {
    if (skipped_lines_ == 0) first_skipped_ = first_error;
    skipped_lines_ += bad;
  }
  return {};
}

void CwMetricsDecoder::finish(std::string& request) {
  std::string attrs;
  std::string items;
  for (const Resource& r : state_->resources) {
    attrs.clear();
    items.clear();
    {
      protozero::pbf_writer w(attrs);
      const uint32_t field = num(otlp::Resource::attributes);
      const auto [service_ns, service_name] = service_of(r.ns);
      add_string_attribute(w, field, "cloud.provider", "aws");
      add_string_attribute(w, field, "cloud.account.id", r.account);
      add_string_attribute(w, field, "cloud.region", r.region);
      if (!service_ns.empty()) add_string_attribute(w, field, "service.namespace", service_ns);
      add_string_attribute(w, field, "service.name", service_name);
      add_string_attribute(w, field, "aws.cloudwatch.metric_stream_name", r.stream);
    }
    {
      protozero::pbf_writer w(items);
      for (const Metric& m : r.metrics) {
        protozero::pbf_writer mw(w, num(otlp::ScopeGroup::items));
        mw.add_string(num(otlp::Metric::name), m.name);
        mw.add_string(num(otlp::Metric::unit), m.unit);
        mw.add_bytes(num(otlp::Metric::summary), m.points);
      }
    }
    append_resource_group(request, attrs, items);
  }
  state_ = std::make_unique<State>();
}

}  // namespace otlpgate::firehose
