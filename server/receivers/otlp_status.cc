// Encoders for the receivers' response messages.
#include "server/receivers/otlp_status.h"

#include <protozero/pbf_writer.hpp>

#include "core/otlp/fields.h"
#include "core/otlp/json_transcode.h"

namespace otlpgate::server {

using otlp::num;

std::string encode_export_response(uint64_t rejected, std::string_view error_message) {
  std::string out;
  if (rejected == 0 && error_message.empty()) return out;
  protozero::pbf_writer w(out);
  protozero::pbf_writer ps(w, num(otlp::ExportResponse::partial_success));
  if (rejected != 0) ps.add_int64(num(otlp::PartialSuccess::rejected), static_cast<int64_t>(rejected));
  if (!error_message.empty()) ps.add_string(num(otlp::PartialSuccess::error_message), otlp::valid_utf8(error_message));
  ps.commit();
  return out;
}

std::string encode_rpc_status(int32_t code, std::string_view message, std::chrono::seconds retry_after) {
  std::string out;
  protozero::pbf_writer w(out);
  if (code != 0) w.add_int32(num(otlp::RpcStatus::code), code);
  if (!message.empty()) w.add_string(num(otlp::RpcStatus::message), otlp::valid_utf8(message));
  if (retry_after.count() > 0) {
    std::string retry;
    {
      protozero::pbf_writer r(retry);
      protozero::pbf_writer d(r, num(otlp::RetryInfo::retry_delay));
      d.add_int64(num(otlp::Duration::seconds), retry_after.count());
    }
    protozero::pbf_writer any(w, num(otlp::RpcStatus::details));
    any.add_string(num(otlp::Any::type_url), "type.googleapis.com/google.rpc.RetryInfo");
    any.add_bytes(num(otlp::Any::value), retry);
  }
  return out;
}

}  // namespace otlpgate::server
