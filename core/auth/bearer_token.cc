// BearerTokenAuth: SHA-256 digests of the configured tokens, compared in constant time.
#include "core/auth/bearer_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace otlpgate::auth {

Digest sha256(std::string_view s) {
  Digest d{};
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

bool digests_equal(const Digest& a, const Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

BearerTokenAuth::BearerTokenAuth(const config::BearerTokenAuth& cfg)
    : id_(cfg.id), tenant_attribute_(cfg.tenant_attribute) {
  for (const config::Tenant& t : cfg.tenants) {
    tenants_.push_back(t.name);
    for (const std::string& token : t.tokens)
      entries_.push_back({sha256(token), tenants_.size() - 1});
  }
}

std::optional<std::string_view> BearerTokenAuth::authenticate(
    std::string_view authorization) const {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != kScheme[i]) return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  const Digest got = sha256(token);
  // No early exit: every entry is compared, so the time does not say which one matched.
  std::optional<std::size_t> found;
  for (const Entry& e : entries_) {
    if (digests_equal(got, e.digest) && !found) found = e.tenant;
  }
  if (!found) return std::nullopt;
  return std::string_view(tenants_[*found]);
}

}  // namespace otlpgate::auth
