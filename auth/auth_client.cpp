#include "auth/auth_client.h"

#include <cmath>

#include "auth/pkce.h"

namespace globusfs::auth {

using http::ErrorKind;
using http::MakeError;
using json = nlohmann::json;

namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Identity ParseIdentity(const json& j, const char* id_key) {
  Identity i;
  i.id = Str(j, id_key);
  i.username = Str(j, "username");
  i.name = Str(j, "name");
  i.email = Str(j, "email");
  i.identity_provider = Str(j, "identity_provider");
  i.organization = Str(j, "organization");
  i.status = Str(j, "status");
  return i;
}

http::Error Malformed(const std::string& what) {
  return MakeError(ErrorKind::kMalformed, "Globus Auth sent an unexpected " + what);
}

}  // namespace

AuthClient::AuthClient(http::HttpClient& http, std::string auth_base, std::string client_id)
    : http_(http), base_(std::move(auth_base)), client_id_(std::move(client_id)) {
  if (!base_.empty() && base_.back() != '/') base_ += '/';
}

std::string AuthClient::AuthorizeUrl(const AuthorizeParams& p) const {
  http::HeaderList q = {{"client_id", client_id_},
                        {"redirect_uri", p.redirect_uri},
                        {"scope", p.scopes},
                        {"state", p.state},
                        {"response_type", "code"},
                        {"code_challenge", p.code_challenge},
                        {"code_challenge_method", "S256"},
                        {"access_type", "offline"}};
  if (p.prompt_login) q.emplace_back("prompt", "login");
  if (!p.session_required_identities.empty()) {
    q.emplace_back("session_required_identities", Join(p.session_required_identities));
  }
  if (!p.session_required_single_domain.empty()) {
    q.emplace_back("session_required_single_domain", Join(p.session_required_single_domain));
  }
  if (!p.session_required_policies.empty()) {
    q.emplace_back("session_required_policies", Join(p.session_required_policies));
  }
  if (p.session_required_mfa) q.emplace_back("session_required_mfa", "true");
  if (!p.session_message.empty()) q.emplace_back("session_message", p.session_message);
  return base_ + "v2/oauth2/authorize?" + http::FormEncode(q);
}

TokenRecord AuthClient::ParseToken(const json& t, int64_t now) {
  TokenRecord r;
  r.resource_server = Str(t, "resource_server");
  r.access_token = Str(t, "access_token");
  r.refresh_token = Str(t, "refresh_token");
  r.scope = Str(t, "scope");
  r.token_type = Str(t, "token_type").empty() ? "Bearer" : Str(t, "token_type");
  int64_t expires_in = t.contains("expires_in") && t["expires_in"].is_number_integer()
                           ? t["expires_in"].get<int64_t>()
                           : 0;
  r.expires_at = now + expires_in;
  return r;
}

http::Result<TokenResponse> AuthClient::ExchangeCode(const std::string& code,
                                                     const std::string& verifier,
                                                     const std::string& redirect_uri,
                                                     int64_t now) const {
  auto r = http_.PostForm(base_ + "v2/oauth2/token", {{"grant_type", "authorization_code"},
                                                      {"code", code},
                                                      {"code_verifier", verifier},
                                                      {"redirect_uri", redirect_uri},
                                                      {"client_id", client_id_}});
  if (!r) return r.error();
  const json& j = *r;
  if (!j.is_object() || Str(j, "access_token").empty() || Str(j, "resource_server").empty()) {
    return Malformed("token response");
  }
  TokenResponse out;
  out.tokens.push_back(ParseToken(j, now));
  if (j.contains("other_tokens") && j["other_tokens"].is_array()) {
    for (const auto& t : j["other_tokens"]) {
      if (!t.is_object() || Str(t, "access_token").empty() || Str(t, "resource_server").empty()) {
        return Malformed("token in other_tokens");
      }
      out.tokens.push_back(ParseToken(t, now));
    }
  }
  out.id_token = Str(j, "id_token");
  return out;
}

http::Result<TokenRecord> AuthClient::Refresh(const TokenRecord& record, int64_t now) const {
  if (record.refresh_token.empty()) {
    return MakeError(ErrorKind::kHttp, "no refresh token is stored for " + record.resource_server);
  }
  auto r = http_.PostForm(base_ + "v2/oauth2/token", {{"grant_type", "refresh_token"},
                                                      {"refresh_token", record.refresh_token},
                                                      {"client_id", client_id_}});
  if (!r) return r.error();
  if (!r->is_object() || Str(*r, "access_token").empty()) return Malformed("refresh response");
  TokenRecord out = ParseToken(*r, now);
  if (out.resource_server.empty()) out.resource_server = record.resource_server;
  if (out.refresh_token.empty()) out.refresh_token = record.refresh_token;
  if (out.scope.empty()) out.scope = record.scope;
  return out;
}

http::Result<void> AuthClient::Revoke(const std::string& token) const {
  auto r = http_.PostForm(base_ + "v2/oauth2/token/revoke", {{"token", token}, {"client_id", client_id_}});
  if (!r) return r.error();
  return {};
}

http::Result<UserInfo> AuthClient::GetUserInfo(http::Authorizer* auth) const {
  auto r = http_.GetJson(base_ + "v2/oauth2/userinfo", auth);
  if (!r) return r.error();
  const json& j = *r;
  if (!j.is_object() || Str(j, "sub").empty()) return Malformed("userinfo response");
  UserInfo u;
  u.sub = Str(j, "sub");
  u.preferred_username = Str(j, "preferred_username");
  u.name = Str(j, "name");
  u.email = Str(j, "email");
  if (j.contains("identity_set") && j["identity_set"].is_array()) {
    u.identity_set.emplace();
    for (const auto& i : j["identity_set"]) {
      if (i.is_object()) u.identity_set->push_back(ParseIdentity(i, "sub"));
    }
  }
  u.raw = j;
  return u;
}

http::Result<std::vector<Identity>> AuthClient::GetIdentities(
    http::Authorizer* auth, const std::vector<std::string>& ids,
    const std::vector<std::string>& usernames) const {
  std::string q = !ids.empty() ? "ids=" + http::UrlEncodeComponent(Join(ids))
                               : "usernames=" + http::UrlEncodeComponent(Join(usernames));
  auto r = http_.GetJson(base_ + "v2/api/identities?" + q, auth);
  if (!r) return r.error();
  if (!r->is_object() || !(*r)["identities"].is_array()) return Malformed("identities response");
  std::vector<Identity> out;
  for (const auto& i : (*r)["identities"]) out.push_back(ParseIdentity(i, "id"));
  return out;
}

http::Result<ClientCredentials> AuthClient::CreateTemplatedClient(const std::string& name) const {
  auto r = http_.PostJson(base_ + "v2/api/clients",
                          {{"client", {{"template_id", client_id_}, {"name", name}}}});
  if (!r) return r.error();
  try {
    const json& cred = r->at("included").at("client_credential");
    ClientCredentials c{cred.at("client").get<std::string>(), cred.at("secret").get<std::string>()};
    if (c.client_id.empty() || c.client_secret.empty()) return Malformed("client response");
    return c;
  } catch (const json::exception&) {
    return Malformed("client response");
  }
}

http::Result<SessionInfo> AuthClient::IntrospectSession(const ClientCredentials& creds,
                                                        const std::string& token) const {
  std::string basic = "Basic " + Base64Encode(creds.client_id + ":" + creds.client_secret);
  auto r = http_.PostForm(base_ + "v2/oauth2/token/introspect",
                          {{"token", token}, {"include", "session_info"}}, nullptr,
                          {{"Authorization", basic}});
  if (!r) return r.error();
  const json& j = *r;
  if (!j.is_object()) return Malformed("introspection response");
  if (!j.value("active", false)) {
    return MakeError(ErrorKind::kHttp, "the Auth token is no longer active");
  }
  SessionInfo out;
  auto si = j.find("session_info");
  if (si == j.end() || !si->is_object()) return out;
  out.session_id = Str(*si, "session_id");
  auto auths = si->find("authentications");
  if (auths == si->end() || !auths->is_object()) return out;
  for (const auto& [id, a] : auths->items()) {
    SessionAuthentication s;
    s.identity_id = id;
    if (!a.is_object()) {
      out.authentications.push_back(s);
      continue;
    }
    // Out of int64_t's range the conversion would be undefined: no time then.
    if (a.contains("auth_time") && a["auth_time"].is_number() &&
        std::abs(a["auth_time"].get<double>()) < 0x1p63) {
      s.auth_time = static_cast<int64_t>(a["auth_time"].get<double>());
    }
    s.idp = Str(a, "idp");
    if (auto amr = a.find("amr"); amr != a.end() && amr->is_array()) {
      s.amr.emplace();
      for (const auto& m : *amr) {
        if (m.is_string()) s.amr->push_back(m.get<std::string>());
      }
    }
    out.authentications.push_back(s);
  }
  return out;
}

http::Result<OpenIdConfiguration> AuthClient::GetOpenIdConfiguration() const {
  auto r = http_.GetJson(base_ + ".well-known/openid-configuration");
  if (!r) return r.error();
  if (!r->is_object()) return Malformed("OpenID configuration");
  OpenIdConfiguration c;
  c.issuer = Str(*r, "issuer");
  c.jwks_uri = Str(*r, "jwks_uri");
  if (c.issuer.empty()) return Malformed("OpenID configuration (it names no issuer)");
  if (!c.jwks_uri.starts_with("https://")) {
    return Malformed("OpenID configuration (its jwks_uri is not an https URL)");
  }
  return c;
}

http::Result<json> AuthClient::GetJwks(const std::string& jwks_uri) const {
  auto r = http_.GetJson(jwks_uri);
  if (!r) return r.error();
  if (!r->is_object()) return Malformed("JSON Web Key Set");
  return r;
}

}  // namespace globusfs::auth
