// Bearer-token authentication (extensions.bearertokenauth/<name>): which tenant, if any, an
// `Authorization: Bearer <token>` value belongs to, found without leaking the tokens via timing.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"

namespace otlpgate::auth {

using Digest = std::array<unsigned char, 32>;  // SHA-256

Digest sha256(std::string_view s);

// Equal digests, compared in constant time (CRYPTO_memcmp): the time taken says nothing about
// where they differ. Tokens are compared as digests so that their lengths do not leak either.
bool digests_equal(const Digest& a, const Digest& b);

class BearerTokenAuth {
 public:
  // The tokens are hashed here; the config's copies are not kept.
  explicit BearerTokenAuth(const config::BearerTokenAuth& cfg);

  // The tenant of an Authorization header (or gRPC `authorization` metadata) value
  // "Bearer <token>" (scheme case-insensitive), or nullopt for none or an unknown token. Every
  // configured token is compared, whichever matches. The view lives as long as this object.
  std::optional<std::string_view> authenticate(std::string_view authorization) const;

  const std::string& id() const { return id_; }
  // The resource attribute set to the tenant's name (empty: none).
  const std::string& tenant_attribute() const { return tenant_attribute_; }

 private:
  struct Entry {
    Digest digest;
    std::size_t tenant;  // index into tenants_
  };
  std::string id_;
  std::string tenant_attribute_;
  std::vector<std::string> tenants_;
  std::vector<Entry> entries_;
};

}  // namespace otlpgate::auth
