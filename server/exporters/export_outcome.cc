// Outcome classification for the OTLP exporters; protobuf answers are read with wire::Cursor.
#include "server/exporters/export_outcome.h"

#include <ctime>
#include <limits>

#include "core/otlp/fields.h"
#include "core/wire/cursor.h"

namespace otlpgate::server {
namespace {

using otlp::num;
using wire::Cursor;
using wire::WireType;

constexpr std::string_view kRetryInfoType = "google.rpc.RetryInfo";

bool fits(std::string_view body) { return body.size() < std::numeric_limits<uint32_t>::max(); }

Cursor cursor_over(std::string_view body) {
  return Cursor(body.data(), 0, static_cast<uint32_t>(body.size()));
}

// google.protobuf.Duration → milliseconds, negative clamped to zero.
bool parse_duration(std::string_view d, std::chrono::milliseconds* out) {
  int64_t seconds = 0;
  int64_t nanos = 0;
  Cursor c = cursor_over(d);
  while (c.next()) {
    if (c.field() == num(otlp::Duration::seconds) && c.is(WireType::varint)) {
      seconds = static_cast<int64_t>(c.value());
    } else if (c.field() == num(otlp::Duration::nanos) && c.is(WireType::varint)) {
      nanos = static_cast<int32_t>(c.value());
    }
  }
  if (c.error() != otlp::IndexError::none) return false;
  constexpr int64_t kMaxSeconds = int64_t{1} << 40;  // keeps the sum below in range
  if (seconds < 0 || (seconds == 0 && nanos < 0)) {
    *out = std::chrono::milliseconds(0);
  } else {
    *out = std::chrono::milliseconds(std::min(seconds, kMaxSeconds) * 1000 + nanos / 1000000);
  }
  return true;
}

// google.protobuf.Any holding google.rpc.RetryInfo → its retry_delay.
std::optional<std::chrono::milliseconds> retry_info_delay(std::string_view any) {
  std::string_view type_url, value;
  Cursor c = cursor_over(any);
  while (c.next()) {
    if (!c.is(WireType::length_delimited)) continue;
    if (c.field() == num(otlp::Any::type_url)) type_url = c.bytes();
    if (c.field() == num(otlp::Any::value)) value = c.bytes();
  }
  if (c.error() != otlp::IndexError::none) return std::nullopt;
  if (type_url.size() < kRetryInfoType.size() ||
      type_url.substr(type_url.size() - kRetryInfoType.size()) != kRetryInfoType) {
    return std::nullopt;
  }
  Cursor r = cursor_over(value);
  std::chrono::milliseconds delay{0};
  bool found = false;
  while (r.next()) {
    if (r.field() == num(otlp::RetryInfo::retry_delay) && r.is(WireType::length_delimited)) {
      found = parse_duration(r.bytes(), &delay);
    }
  }
  if (r.error() != otlp::IndexError::none) return std::nullopt;
  // RetryInfo without a delay still says "retry"; the sender then uses its own backoff.
  return found ? std::optional(delay) : std::optional(std::chrono::milliseconds(0));
}

bool is_text(std::string_view content_type) {
  return content_type.starts_with("text/") || content_type.starts_with("application/json") ||
         content_type.empty();
}

std::string http_message(int status, std::string_view content_type, std::string_view body) {
  std::string m = "HTTP " + std::to_string(status);
  std::string detail;
  RpcStatus st;
  if (!body.empty() && !is_text(content_type) && parse_rpc_status(body, &st)) {
    detail = printable(st.message);
  } else if (!body.empty()) {
    detail = printable(body);
  }
  if (!detail.empty()) m += ": " + detail;
  return m;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  const std::size_t n = std::min(text.size(), max);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    out.push_back(ch < 0x20 || ch == 0x7f ? (ch == '\n' || ch == '\t' ? ' ' : '?')
                                          : static_cast<char>(ch));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (text.size() > max) out += "...";
  return out;
}

bool parse_export_response(std::string_view body, PartialSuccess* out) {
  *out = PartialSuccess{};
  if (!fits(body)) return false;
  Cursor c = cursor_over(body);
  while (c.next()) {
    if (c.field() != num(otlp::ExportResponse::partial_success) ||
        !c.is(WireType::length_delimited)) {
      continue;
    }
    Cursor p(body.data(), c.payload(), c.field_end());
    while (p.next()) {
      if (p.field() == num(otlp::PartialSuccess::rejected) && p.is(WireType::varint)) {
        const auto v = static_cast<int64_t>(p.value());
        out->rejected = v > 0 ? static_cast<uint64_t>(v) : 0;
      } else if (p.field() == num(otlp::PartialSuccess::error_message) &&
                 p.is(WireType::length_delimited)) {
        out->error_message = std::string(p.bytes());
      }
    }
    if (p.error() != otlp::IndexError::none) return false;
  }
  return c.error() == otlp::IndexError::none;
}

bool parse_rpc_status(std::string_view body, RpcStatus* out) {
  *out = RpcStatus{};
  if (!fits(body)) return false;
  Cursor c = cursor_over(body);
  while (c.next()) {
    if (c.field() == num(otlp::RpcStatus::code) && c.is(WireType::varint)) {
      out->code = static_cast<int32_t>(c.value());
    } else if (c.field() == num(otlp::RpcStatus::message) && c.is(WireType::length_delimited)) {
      out->message = std::string(c.bytes());
    } else if (c.field() == num(otlp::RpcStatus::details) && c.is(WireType::length_delimited)) {
      if (auto d = retry_info_delay(c.bytes())) out->retry_delay = d;
    }
  }
  return c.error() == otlp::IndexError::none;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    // delay-seconds; absurd values are clamped rather than overflowing.
    constexpr uint64_t kMaxSeconds = 1ull << 32;
    uint64_t s = 0;
    for (char ch : value) {
      s = s * 10 + static_cast<uint64_t>(ch - '0');
      if (s > kMaxSeconds) {
        s = kMaxSeconds;
        break;
      }
    }
    return std::chrono::milliseconds(static_cast<int64_t>(s) * 1000);
  }
  // HTTP-date. RFC 9110 §5.6.7: recipients accept all three forms. strptime runs in the "C"
  // locale here (the server never calls setlocale), so day and month names are English.
  const std::string text(value);
  static const char* const kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                         "%a %b %e %H:%M:%S %Y"};
  for (const char* fmt : kFormats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), fmt, &tm);
    if (end == nullptr || *end != '\0') continue;
    const time_t at = timegm(&tm);
    if (at == static_cast<time_t>(-1)) continue;
    const auto when = std::chrono::system_clock::from_time_t(at);
    if (when <= now) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
  }
  return std::nullopt;
}

ExportOutcome classify_http(int status, std::string_view content_type, std::string_view body,
                            std::string_view retry_after,
                            std::chrono::system_clock::time_point now) {
  ExportOutcome o;
  o.code = status;
  if (status >= 200 && status < 300) {
    o.kind = ExportOutcome::Kind::ok;
    PartialSuccess ps;
    // A JSON or unreadable success body is still a success; only protobuf carries the count.
    if (!is_text(content_type) && parse_export_response(body, &ps)) {
      o.rejected_items = ps.rejected;
      o.message = printable(ps.error_message);
    }
    return o;
  }
  switch (status) {
    case 429:
    case 502:
    case 503:
    case 504:
      o.kind = ExportOutcome::Kind::retryable;
      if (!retry_after.empty()) o.retry_after = parse_retry_after(retry_after, now);
      break;
    default:
      o.kind = ExportOutcome::Kind::permanent;
  }
  o.message = http_message(status, content_type, body);
  return o;
}

ExportOutcome classify_grpc(int code, std::string_view message, std::string_view details,
                            std::string_view response) {
  // grpc::StatusCode values (grpcpp/impl/codegen/status_code_enum.h), stable across versions.
  enum : int {
    kOk = 0,
    kCancelled = 1,
    kDeadlineExceeded = 4,
    kResourceExhausted = 8,
    kAborted = 10,
    kOutOfRange = 11,
    kUnavailable = 14,
    kDataLoss = 15,
  };
  ExportOutcome o;
  o.code = code;
  if (code == kOk) {
    PartialSuccess ps;
    if (parse_export_response(response, &ps)) {
      o.rejected_items = ps.rejected;
      o.message = printable(ps.error_message);
    }
    return o;
  }
  RpcStatus st;
  const bool have_details = !details.empty() && parse_rpc_status(details, &st);
  switch (code) {
    case kCancelled:
    case kDeadlineExceeded:
    case kAborted:
    case kOutOfRange:
    case kUnavailable:
    case kDataLoss:
      o.kind = ExportOutcome::Kind::retryable;
      break;
    case kResourceExhausted:
      o.kind = have_details && st.retry_delay ? ExportOutcome::Kind::retryable
                                              : ExportOutcome::Kind::permanent;
      break;
    default:
      o.kind = ExportOutcome::Kind::permanent;
  }
  if (o.kind == ExportOutcome::Kind::retryable && have_details && st.retry_delay &&
      st.retry_delay->count() > 0) {
    o.retry_after = st.retry_delay;
  }
  o.message = "gRPC status " + std::to_string(code);
  if (!message.empty()) o.message += ": " + printable(message);
  return o;
}

}  // namespace otlpgate::server
