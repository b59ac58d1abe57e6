// Globus Auth API calls for a native app (globus-api.md §4): the authorize
// URL, code exchange, refresh, revoke, userinfo, identity lookup, token
// introspection (with a templated confidential client), the templated
// client's creation, and the OpenID configuration with its JWKS (what an
// id_token is checked against: the document's issuer and jwks_uri, never
// the service URL's text). Responses are parsed into plain structs here; nothing
// in this file logs, and no error message ever carries a token (the HTTP
// core parses token-endpoint errors to their `error` code only).
//
// Thread-safety: stateless apart from the HttpClient, which is thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/http/http_client.h"
#include "auth/token_store.h"

namespace globusfs::auth {

struct AuthorizeParams {
  std::string redirect_uri;
  std::string scopes;  // space-separated, dependent scopes in brackets
  std::string state;
  std::string code_challenge;
  bool prompt_login = true;
  std::vector<std::string> session_required_identities;
  std::vector<std::string> session_required_single_domain;
  std::vector<std::string> session_required_policies;
  bool session_required_mfa = false;
  std::string session_message;
};

struct TokenResponse {
  std::vector<TokenRecord> tokens;  // one per resource server
  std::string id_token;             // empty unless openid was granted
};

struct Identity {
  std::string id;
  std::string username;
  std::string name;
  std::string email;
  std::string identity_provider;
  std::string organization;
  std::string status;
};

struct UserInfo {
  std::string sub;
  std::string preferred_username;
  std::string name;
  std::string email;
  std::optional<std::vector<Identity>> identity_set;  // nullopt: not consented
  nlohmann::json raw;
};

struct SessionAuthentication {
  std::string identity_id;
  int64_t auth_time = 0;
  std::string idp;
  std::optional<std::vector<std::string>> amr;  // how it authenticated (e.g. "mfa"); nullopt: null
};

// Introspection's session_info.
struct SessionInfo {
  std::string session_id;  // empty when Auth sent none
  std::vector<SessionAuthentication> authentications;
};

// GET /.well-known/openid-configuration, reduced to what id_token checks
// need. Invariants of a returned one: issuer is non-empty; jwks_uri is an
// https URL.
struct OpenIdConfiguration {
  std::string issuer;    // e.g. "https://auth.globus.org"
  std::string jwks_uri;  // e.g. "https://auth.globus.org/jwk.json"
};

class AuthClient {
 public:
  // `auth_base` ends with '/', e.g. "https://auth.globus.org/".
  AuthClient(http::HttpClient& http, std::string auth_base, std::string client_id);

  const std::string& client_id() const { return client_id_; }
  const std::string& base() const { return base_; }
  // The page that shows the code for copy-and-paste logins.
  std::string AuthCodePageUrl() const { return base_ + "v2/web/auth-code"; }

  std::string AuthorizeUrl(const AuthorizeParams& p) const;
  http::Result<TokenResponse> ExchangeCode(const std::string& code, const std::string& verifier,
                                           const std::string& redirect_uri, int64_t now) const;
  // A refresh answers for one resource server; refresh_token is kept when
  // Auth does not rotate it.
  http::Result<TokenRecord> Refresh(const TokenRecord& record, int64_t now) const;
  http::Result<void> Revoke(const std::string& token) const;
  // `auth` supplies the Auth token (and refreshes it after a 401).
  http::Result<UserInfo> GetUserInfo(http::Authorizer* auth) const;
  http::Result<std::vector<Identity>> GetIdentities(http::Authorizer* auth,
                                                    const std::vector<std::string>& ids,
                                                    const std::vector<std::string>& usernames) const;
  // POST /v2/api/clients with template_id = our client id (the CLI's way).
  http::Result<ClientCredentials> CreateTemplatedClient(const std::string& name) const;
  // Introspection with session_info; needs client credentials.
  http::Result<SessionInfo> IntrospectSession(const ClientCredentials& creds,
                                              const std::string& token) const;
  // Auth's OpenID configuration (kMalformed when it names no issuer or no
  // https jwks_uri), and the JSON Web Key Set at its jwks_uri.
  http::Result<OpenIdConfiguration> GetOpenIdConfiguration() const;
  http::Result<nlohmann::json> GetJwks(const std::string& jwks_uri) const;

  static TokenRecord ParseToken(const nlohmann::json& t, int64_t now);

 private:
  http::HttpClient& http_;
  std::string base_;
  std::string client_id_;
};

}  // namespace globusfs::auth
