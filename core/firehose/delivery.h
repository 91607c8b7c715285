// DeliveryDecoder: the records of one Firehose delivery → at most one ExportMetricsServiceRequest
// and one ExportLogsServiceRequest, with every refused record counted by reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/firehose/cwlogs.h"
#include "core/firehose/cwmetrics.h"
#include "core/firehose/format.h"

namespace otlpgate::firehose {

struct DecodedDelivery {
  std::string metrics;  // ExportMetricsServiceRequest bytes; empty when no record held metrics
  std::string logs;     // ExportLogsServiceRequest bytes; empty when no record held logs
  uint64_t data_points = 0;
  uint64_t log_records = 0;
  uint64_t control_messages = 0;  // CloudWatch Logs CONTROL_MESSAGEs, skipped
  // Records decoded, by the format they were read as (auto never appears).
  std::array<uint64_t, kFormatNames.size()> records_by_format{};
  // Refused records by reason; RecordError::cwmetrics_line counts lines, the others records.
  std::array<uint64_t, kRecordErrorNames.size()> refused{};
  uint64_t refused_records = 0;  // records (not lines) refused
  // The first problem in delivery order ("record 3: …"), for the response's errorMessage.
  std::string first_error;
};

class DeliveryDecoder {
 public:
  // `decompress_budget`: what gunzipping CloudWatch Logs records may produce for the delivery.
  DeliveryDecoder(Format format, std::size_t decompress_budget);

  // Decodes record `index`. Empty records are skipped (Firehose allows them).
  void add(std::size_t index, std::string_view data);
  // Counts record `index` as unreadable (its data is not base64).
  void add_unreadable(std::size_t index, std::string_view why);

  // The requests and counts. The decoder is spent afterwards.
  DecodedDelivery finish();

 private:
  void refuse(std::size_t index, RecordResult r);
  void note(std::size_t index, std::string_view message);

  Format format_;
  CwMetricsDecoder cwmetrics_;
  CwLogsDecoder cwlogs_;
  uint64_t skipped_lines_seen_ = 0;
  DecodedDelivery out_;
};

// The format auto-detection chooses for one record (never Format::auto_detect): gzip →
// cwlogs; a JSON object → cwlogs when its first line has "messageType", else cwmetrics; a record
// whose first varint length prefix fits → otel07 when looks_like_otel07(), else otel1; nullopt
// for anything else.
std::optional<Format> detect_format(std::string_view record);

}  // namespace otlpgate::firehose
