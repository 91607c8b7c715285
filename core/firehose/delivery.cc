// DeliveryDecoder: routes each record to its format's decoder and keeps the counts.
#include "core/firehose/delivery.h"

#include "core/firehose/otel07.h"
#include "core/firehose/otel_records.h"

namespace otlpgate::firehose {

std::optional<Format> detect_format(std::string_view record) {
  if (is_gzip(record)) return Format::cwlogs;
  const auto start = record.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && record[start] == '{') {
    const std::string_view first_line = record.substr(start, record.find('\n', start) - start);
    return first_line.find("\"messageType\"") != std::string_view::npos ? Format::cwlogs
                                                                        : Format::cwmetrics;
  }
  bool framed = false;
  for_each_frame(record, [&](const Frame&) {
    framed = true;
    return record_error(RecordError::unknown_format, {});  // stops after the first message
  });
  if (!framed) return std::nullopt;
  return looks_like_otel07(record) ? Format::otel07 : Format::otel1;
}

DeliveryDecoder::DeliveryDecoder(Format format, std::size_t decompress_budget)
    : format_(format), cwlogs_(decompress_budget) {}

void DeliveryDecoder::note(std::size_t index, std::string_view message) {
  if (out_.first_error.empty())
    out_.first_error = "record " + std::to_string(index) + ": " + std::string(message);
}

void DeliveryDecoder::refuse(std::size_t index, RecordResult r) {
  ++out_.refused[static_cast<std::size_t>(r.error)];
  ++out_.refused_records;
  note(index, r.message);
}

void DeliveryDecoder::add_unreadable(std::size_t index, std::string_view why) {
  refuse(index, record_error(RecordError::base64, std::string(why)));
}

void DeliveryDecoder::add(std::size_t index, std::string_view data) {
  if (data.empty()) return;
  const std::optional<Format> detected =
      format_ == Format::auto_detect ? detect_format(data) : format_;
  if (!detected) {
    return refuse(index, record_error(RecordError::unknown_format,
                                      "neither CloudWatch JSON, CloudWatch Logs nor an "
                                      "OpenTelemetry record"));
  }
  const Format f = *detected;
  RecordResult r;
  switch (f) {
    case Format::cwmetrics:
      r = cwmetrics_.add_record(data);
      if (cwmetrics_.skipped_lines() > skipped_lines_seen_) {
        if (skipped_lines_seen_ == 0) note(index, cwmetrics_.first_skipped());
        out_.refused[static_cast<std::size_t>(RecordError::cwmetrics_line)] +=
            cwmetrics_.skipped_lines() - skipped_lines_seen_;
        skipped_lines_seen_ = cwmetrics_.skipped_lines();
      }
      break;
    case Format::otel1:
      r = append_otel1_record(data, out_.metrics, &out_.data_points);
      break;
    case Format::otel07:
      r = append_otel07_record(data, out_.metrics, &out_.data_points);
      break;
    case Format::cwlogs:
      r = cwlogs_.add_record(data);
      break;
    case Format::auto_detect:
      break;  // detect_format never returns it
  }
  if (r) {
    ++out_.records_by_format[static_cast<std::size_t>(f)];
  } else {
    refuse(index, std::move(r));
  }
}

DecodedDelivery DeliveryDecoder::finish() {
  cwmetrics_.finish(out_.metrics);
  cwlogs_.finish(out_.logs);
  out_.data_points += cwmetrics_.data_points();
  out_.log_records = cwlogs_.log_records();
  out_.control_messages = cwlogs_.control_messages();
  return std::move(out_);
}

}  // namespace otlpgate::firehose
