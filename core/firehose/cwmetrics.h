// CwMetricsDecoder: CloudWatch Metric Streams JSON records → one ExportMetricsServiceRequest,
// mapped and grouped as the Collector's awsfirehosereceiver `cwmetrics` unmarshaler does, so
// that a switch from the Collector changes nothing a dashboard sees.
//
// Mapping (one JSON object per line; one data point per object):
//   resource per (metric_stream_name, namespace, account_id, region): cloud.provider = aws,
//     cloud.account.id, cloud.region, service.namespace + service.name (the namespace split at
//     its first '/' when it starts with "AWS/", else service.name = namespace alone),
//     aws.cloudwatch.metric_stream_name; one scope named kScopeName (encode.h)
//   metric per (metric_name, unit) in a resource: a Summary
//   data point: time = timestamp (ms), count, sum, quantile 0 = min, 1 = max, pNN = NN/100;
//     the dimensions as string attributes, InstanceId renamed service.instance.id
// A line is a metric when it is a JSON object with non-empty metric_name, namespace and unit and
// a `value` object. Where the Collector differs, we are stricter or more exact, never lossier:
// quantiles are written in increasing order (OTLP requires it; the Collector's order is random)
// and p0/p100 are dropped as duplicates of min/max.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/firehose/format.h"

namespace otlpgate::firehose {

class CwMetricsDecoder {
 public:
  CwMetricsDecoder();
  ~CwMetricsDecoder();
  CwMetricsDecoder(const CwMetricsDecoder&) = delete;
  CwMetricsDecoder& operator=(const CwMetricsDecoder&) = delete;

  // Decodes the newline-separated lines of one record. A line that is not a metric is skipped
  // and counted in skipped_lines() (the first such message is kept); the record as a whole fails
  // (RecordError::cwmetrics) only when none of its lines is a metric. Blank lines are ignored.
  RecordResult add_record(std::string_view record);

  uint64_t data_points() const noexcept { return points_; }
  // Lines skipped in records that were otherwise accepted, and why the first one was.
  uint64_t skipped_lines() const noexcept { return skipped_lines_; }
  const std::string& first_skipped() const noexcept { return first_skipped_; }

  // Appends every resource group decoded so far to `request` (the bytes of an
  // ExportMetricsServiceRequest, possibly empty) and starts over.
  void finish(std::string& request);

 private:
  struct State;
  std::unique_ptr<State> state_;
  uint64_t points_ = 0;
  uint64_t skipped_lines_ = 0;
  std::string first_skipped_;
};

}  // namespace otlpgate::firehose
