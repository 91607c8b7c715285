// The Firehose delivery body and response: simdjson on-demand over the padded body, the record
// data decoded from base64, and the JSON response.
#include "core/firehose/request.h"

#include <utility>

#include "core/firehose/json_doc.h"
#include "core/otlp/json_transcode.h"

namespace otlpgate::firehose {

namespace ondemand = simdjson::ondemand;

namespace {

std::string body_error(std::string_view what, simdjson::error_code e) {
  return std::string(what) + ": " + simdjson::error_message(e);
}

}  // namespace

std::string parse_delivery(std::string& body, DeliveryBody& out, const OnRecord& on_record) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  // A parser per delivery: deliveries are few and large, and its buffers should not outlive one.
  ondemand::parser parser;
  ondemand::document doc;
  ondemand::object obj;
  if (auto e = parser.iterate(body.data(), body.size(), body.capacity()).get(doc))
    return body_error("invalid JSON body", e);
  if (auto e = doc.get_object().get(obj)) return body_error("the body is not a JSON object", e);
  std::string decoded;
  for (auto field_result : obj) {
    ondemand::field field;
    std::string_view key;
    if (auto e = read_field(std::move(field_result), field, key))
      return body_error("invalid JSON body", e);
    ondemand::value& v = field.value();
    if (key == "requestId") {
      std::string_view id;
      if (auto e = v.get_string().get(id)) return body_error("requestId", e);
      out.request_id.assign(id);
    } else if (key == "timestamp") {
      if (auto e = v.get_int64().get(out.timestamp_ms)) return body_error("timestamp", e);
    } else if (key == "records") {
      ondemand::array records;
      if (auto e = v.get_array().get(records)) return body_error("records", e);
      for (auto record_result : records) {
        const std::size_t index = out.records++;
        ondemand::object record;
        if (auto e = record_result.get_object().get(record)) return body_error("records", e);
        bool has_data = false;
        for (auto rf_result : record) {
          ondemand::field rf;
          std::string_view name, data;
          if (auto e = read_field(std::move(rf_result), rf, name)) return body_error("records", e);
          if (name != "data" || has_data) continue;
          has_data = true;
          if (rf.value().get_string().get(data)) {
            on_record(index, {}, "data is not a string");
            continue;
          }
          decoded.clear();
          std::size_t bad = 0;
          if (!base64_decode(data, decoded, kRecordBase64, &bad)) {
            on_record(index, {}, "data is not base64 (at character " + std::to_string(bad) + ")");
            continue;
          }
          on_record(index, decoded, {});
        }
        if (!has_data) on_record(index, {}, "no data");
      }
    }
  }
  if (!at_end(doc)) return "invalid JSON body: content after the object";
  return {};
}

std::string encode_response(std::string_view request_id, int64_t timestamp_ms,
                            std::string_view error_message) {
  std::string out = "{\"requestId\":";
  otlp::append_json_string(out, request_id);
  out += ",\"timestamp\":" + std::to_string(timestamp_ms);
  if (!error_message.empty()) {
    if (error_message.size() > kMaxErrorMessage) {
      std::size_t cut = kMaxErrorMessage;
      while (cut > 0 && (static_cast<unsigned char>(error_message[cut]) & 0xc0) == 0x80) --cut;
      error_message = error_message.substr(0, cut);
    }
    out += ",\"errorMessage\":";
    otlp::append_json_string(out, error_message);
  }
  out += '}';
  return out;
}

}  // namespace otlpgate::firehose
