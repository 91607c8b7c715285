// ListenerAuth: bearer-token checks shared by the OTLP/HTTP and OTLP/gRPC receivers.
#include "server/receivers/listener_auth.h"

#include "core/otlp/resource_attributes.h"
#include "core/log.h"

namespace otlpgate::server {

namespace {

constexpr telemetry::MetricDef kMetricAuthRefused{
    "otlpgate_receiver_auth_refused_total",
    "Requests refused for their credentials (401 / UNAUTHENTICATED), by reason: missing or "
    "invalid bearer token."};

}  // namespace

ListenerAuth::ListenerAuth(const config::BearerTokenAuth& cfg, telemetry::Registry* metrics,
                           std::string receiver_id, std::string_view protocol)
    : auth_(cfg), receiver_id_(std::move(receiver_id)), protocol_(protocol) {
  if (!metrics) return;
  const auto labels = [&](const char* reason) {
    return telemetry::Labels{
        {"receiver", receiver_id_}, {"protocol", protocol_}, {"reason", reason}};
  };
  missing_ = &metrics->counter(kMetricAuthRefused, labels("missing"));
  invalid_ = &metrics->counter(kMetricAuthRefused, labels("invalid"));
}

std::shared_ptr<const ListenerAuth> ListenerAuth::make(const config::Config& cfg,
                                                       const std::string& authenticator,
                                                       telemetry::Registry* metrics,
                                                       const std::string& receiver_id,
                                                       std::string_view protocol) {
  if (authenticator.empty()) return nullptr;
  const config::BearerTokenAuth* a = cfg.find_authenticator(authenticator);
  if (!a) return nullptr;  // config loading checked every reference
  return std::make_shared<const ListenerAuth>(*a, metrics, receiver_id, protocol);
}

ListenerAuth::Verdict ListenerAuth::authenticate(std::string_view authorization) const {
  Verdict v;
  v.tenant = auth_.authenticate(authorization);
  if (v.tenant) return v;
  const bool missing = authorization.empty();
  if (telemetry::Counter* c = missing ? missing_ : invalid_) c->add();
  // Only whether there was a token, never the token.
  log::debug("otlp " + receiver_id_ + " " + protocol_ +
             ": request refused: " + (missing ? "no credentials" : "unknown bearer token"));
  v.refusal =
      missing ? "missing credentials: send authorization: Bearer <token>" : "invalid credentials";
  return v;
}

Bytes ListenerAuth::with_tenant_attribute(Signal signal, Bytes request,
                                          std::string_view tenant) const {
  if (auth_.tenant_attribute().empty() || tenant.empty() || request.empty()) return request;
  // The same edit as Firehose common attributes: add where missing, never overwrite.
  return otlp::add_missing_resource_attributes(
      signal, std::move(request), {{auth_.tenant_attribute(), std::string(tenant)}});
}

}  // namespace otlpgate::server
