// OpenID Connect id_token handling: decode the claims globusfs uses (sub,
// usernames, the identity_set with last_authentication) and verify the
// token's RS512 signature against Auth's JWKS, its issuer, audience and
// expiry (300 s leeway, as the Globus CLI allows for clock skew).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/http/result.h"

namespace globusfs::auth {

struct IdentityInSession {
  std::string sub;
  std::string username;
  std::string name;
  std::optional<int64_t> last_authentication;  // null: not authenticated in this session
};

struct IdTokenClaims {
  std::string sub;
  std::string preferred_username;
  std::string name;
  std::string email;
  std::string iss;
  std::string aud;
  int64_t exp = 0;
  std::optional<int64_t> last_authentication;
  std::vector<IdentityInSession> identity_set;
  nlohmann::json raw;
};

// Decodes without checking the signature (for a token read back from our
// own store, which was verified when it was stored).
http::Result<IdTokenClaims> DecodeIdToken(const std::string& jwt);

// Decodes and verifies: alg RS512 with a key from `jwks` (by kid, or the
// only key), iss == expected_issuer (trailing slashes aside; the caller
// passes the `issuer` of Auth's OpenID configuration), aud == client_id,
// exp + 300 > now.
http::Result<IdTokenClaims> VerifyIdToken(const std::string& jwt, const nlohmann::json& jwks,
                                          const std::string& expected_issuer,
                                          const std::string& client_id, int64_t now);

}  // namespace globusfs::auth
