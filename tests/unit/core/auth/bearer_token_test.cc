// BearerTokenAuth: tenants by token, the Bearer scheme, and the constant-time digest compare.
#include "core/auth/bearer_token.h"

#include <gtest/gtest.h>

namespace otlpgate::auth {
namespace {

config::BearerTokenAuth two_tenants() {
  config::BearerTokenAuth c;
  c.id = "bearertokenauth/clients";
  c.tenant_attribute = "tenant";
  c.tenants = {{"team-a", {"token-a1", "token-a2"}}, {"team-b", {"token-b"}}};
  return c;
}

TEST(BearerTokenAuthTest, EachTokenNamesItsTenant) {
  const BearerTokenAuth a(two_tenants());
  EXPECT_EQ(a.authenticate("Bearer token-a1"), "team-a");
  EXPECT_EQ(a.authenticate("Bearer token-a2"), "team-a");
  EXPECT_EQ(a.authenticate("Bearer token-b"), "team-b");
  EXPECT_EQ(a.tenant_attribute(), "tenant");
}

TEST(BearerTokenAuthTest, SchemeIsCaseInsensitiveAndTheTokenIsNot) {
  const BearerTokenAuth a(two_tenants());
  EXPECT_EQ(a.authenticate("bearer token-b"), "team-b");
  EXPECT_EQ(a.authenticate("BEARER  token-b "), "team-b");
  EXPECT_EQ(a.authenticate("Bearer TOKEN-B"), std::nullopt);
}

TEST(BearerTokenAuthTest, MissingWrongOrOtherSchemeIsRefused) {
  const BearerTokenAuth a(two_tenants());
  EXPECT_EQ(a.authenticate(""), std::nullopt);
  EXPECT_EQ(a.authenticate("Bearer"), std::nullopt);
  EXPECT_EQ(a.authenticate("Bearer "), std::nullopt);
  EXPECT_EQ(a.authenticate("Bearer token-a"), std::nullopt) << "a prefix of a token";
  EXPECT_EQ(a.authenticate("Bearer token-a1x"), std::nullopt) << "a token plus one byte";
  EXPECT_EQ(a.authenticate("Basic token-a1"), std::nullopt);
  EXPECT_EQ(a.authenticate("token-a1"), std::nullopt);
}

TEST(DigestsEqualTest, ComparesWholeDigests) {
  const Digest x = sha256("secret");
  Digest y = x;
  EXPECT_TRUE(digests_equal(x, y));
  y.back() ^= 1;  // differs only in the last byte
  EXPECT_FALSE(digests_equal(x, y));
  y = x;
  y.front() ^= 0x80;
  EXPECT_FALSE(digests_equal(x, y));
  // Tokens of different lengths become digests of one length.
  EXPECT_EQ(sha256("a").size(), sha256(std::string(1000, 'a')).size());
  EXPECT_FALSE(digests_equal(sha256("a"), sha256("aa")));
}

}  // namespace
}  // namespace otlpgate::auth
