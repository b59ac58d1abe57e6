// PKCE (RFC 7636) for the native-app login: a verifier from OpenSSL's
// RAND_bytes and its S256 challenge; also the random OAuth2 `state`.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace globusfs::auth {

struct Pkce {
  std::string verifier;   // 43 chars of base64url (32 random bytes)
  std::string challenge;  // base64url(SHA-256(verifier)), no padding
};

Pkce MakePkce();
std::string S256Challenge(std::string_view verifier);
std::string RandomState();  // 16 random bytes, base64url
std::string Base64Encode(std::string_view bytes);     // standard alphabet, padded
std::string Base64UrlEncode(std::string_view bytes);  // URL-safe, no padding
std::string Base64UrlDecode(std::string_view text);  // empty on malformed input

}  // namespace globusfs::auth
