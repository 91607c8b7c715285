// A receiver listener's authentication (auth.authenticator): the tenant a request's bearer token
// names, the refusals counted and logged without the token, and the tenant written into the
// request as a resource attribute when the authenticator asks for it.
//
// Counters (registered at construction):
//   otlpgate_receiver_auth_refused_total{receiver,protocol,reason}  requests refused for their
//                                                                   credentials (missing|invalid)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/auth/bearer_token.h"
#include "core/bytes.h"
#include "core/config/config.h"
#include "core/signal.h"
#include "core/telemetry/metrics.h"

namespace otlpgate::server {

class ListenerAuth {
 public:
  // `protocol`: "grpc" or "http", for the counters' labels. `metrics` may be null (tests).
  ListenerAuth(const config::BearerTokenAuth& cfg, telemetry::Registry* metrics,
               std::string receiver_id, std::string_view protocol);

  // The listener's ListenerAuth for the authenticator id it names, or nullptr for none.
  static std::shared_ptr<const ListenerAuth> make(const config::Config& cfg,
                                                  const std::string& authenticator,
                                                  telemetry::Registry* metrics,
                                                  const std::string& receiver_id,
                                                  std::string_view protocol);

  struct Verdict {
    std::optional<std::string_view> tenant;  // set when accepted; lives as long as this object
    std::string refusal;                     // else what to tell the sender (never the token)
  };
  // Checks an Authorization header / `authorization` metadata value; counts and logs (at debug)
  // a refusal.
  Verdict authenticate(std::string_view authorization) const;

  // `request` with tenant_attribute set to `tenant` on every resource that does not have it yet;
  // `request` itself when there is nothing to set or it is not a valid request (the runtime then
  // refuses it).
  Bytes with_tenant_attribute(Signal signal, Bytes request, std::string_view tenant) const;

 private:
  auth::BearerTokenAuth auth_;
  std::string receiver_id_;
  std::string protocol_;
  telemetry::Counter* missing_ = nullptr;
  telemetry::Counter* invalid_ = nullptr;
};

}  // namespace otlpgate::server
