// CwLogsDecoder: CloudWatch Logs subscription records → one ExportLogsServiceRequest, mapped as
// the Collector's awsfirehosereceiver `cwlogs` unmarshaler does.
//
// A record is gzip-compressed JSON (as CloudWatch Logs delivers it), or the same JSON already
// decompressed (Firehose's "decompress source records" option); it may hold several messages, one
// per line. DATA_MESSAGE: one log record per logEvent (time = timestamp in ms, body = message),
// in a resource per (account, region, log group, log stream) with cloud.provider = aws,
// cloud.account.id (the event's extractedFields "@aws.account", else the owner), cloud.region
// (extractedFields "@aws.region", only when given), aws.log.group.names and
// aws.log.stream.names (one-element string arrays); one scope named kScopeName (encode.h).
// CONTROL_MESSAGE (CloudWatch Logs checking the destination): nothing, and no error. Any other
// content makes the whole record invalid: no part of it is forwarded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/firehose/format.h"

namespace otlpgate::firehose {

class CwLogsDecoder {
 public:
  // `decompress_budget`: how many bytes gunzipping all records of one delivery may produce; a
  // record that would go past it is refused as RecordError::too_large (a gzip bomb costs no more).
  explicit CwLogsDecoder(std::size_t decompress_budget);
  ~CwLogsDecoder();
  CwLogsDecoder(const CwLogsDecoder&) = delete;
  CwLogsDecoder& operator=(const CwLogsDecoder&) = delete;

  // Decodes one record; on failure nothing of it is kept.
  RecordResult add_record(std::string_view record);

  uint64_t log_records() const noexcept { return log_records_; }
  uint64_t control_messages() const noexcept { return control_messages_; }

  // Appends every resource group decoded so far to `request` (the bytes of an
  // ExportLogsServiceRequest, possibly empty) and starts over.
  void finish(std::string& request);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::size_t budget_;
  uint64_t log_records_ = 0;
  uint64_t control_messages_ = 0;
};

// True when `record` starts with the gzip magic bytes.
inline bool is_gzip(std::string_view record) {
  return record.size() >= 2 && static_cast<unsigned char>(record[0]) == 0x1f &&
         static_cast<unsigned char>(record[1]) == 0x8b;
}

}  // namespace otlpgate::firehose
