#include "auth_service.h"

#include <algorithm>
#include <set>

#include "emulator.h"
#include "id_token.h"
#include "scopes.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

namespace {

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string FormValue(const std::multimap<std::string, std::string>& form, const std::string& k) {
  auto it = form.find(k);
  return it == form.end() ? std::string() : it->second;
}

// The tokens one login yields: per resource server, its scopes and dependents.
struct Grant {
  std::string resource_server;
  std::vector<std::string> scopes;
  std::vector<std::string> dependent_scopes;
};

}  // namespace

Response AuthService::Handle(Request& req, const std::string& route) {
  if (route == "auth.authorize" && req.method == "GET") return Authorize(req);
  if (route == "auth.auth_code_page" && req.method == "GET") return AuthCodePage(req);
  if (route == "auth.token" && req.method == "POST") return Token(req);
  if (route == "auth.revoke" && req.method == "POST") return Revoke(req);
  if (route == "auth.introspect" && req.method == "POST") return Introspect(req, false);
  if (route == "auth.validate" && req.method == "POST") return Introspect(req, true);
  if (route == "auth.userinfo" && (req.method == "GET" || req.method == "POST")) return UserInfo(req);
  if (route == "auth.identities" && req.method == "GET") return Identities(req);
  if (route == "auth.clients" && req.method == "POST") return CreateClient(req);
  if (route == "auth.openid_configuration" && req.method == "GET") return OpenIdConfiguration();
  if (route == "auth.jwks" && req.method == "GET") return Jwks();
  if (route == "auth.other") return AuthError(404, "NOT_FOUND", "No such resource: " + req.raw_path);
  return AuthError(405, "METHOD_NOT_ALLOWED", "Method not allowed");
}

// ---------------------------------------------------------------- token

Response AuthService::Token(Request& req) {
  auto body = req.ReadAllBody(1 << 16);
  if (!body) return OAuthError(400, "invalid_request", "Unreadable body");
  auto form = ParseUrlEncoded(*body);
  std::string grant_type = FormValue(form, "grant_type");

  // Client authentication: HTTP Basic (confidential) or client_id in the body (native).
  std::string client_id = FormValue(form, "client_id");
  bool basic_ok = false;
  if (auto h = req.headers.Get("authorization"); h && h->rfind("Basic ", 0) == 0) {
    std::string decoded = Base64Decode(h->substr(6));
    auto colon = decoded.find(':');
    std::string id = decoded.substr(0, colon), secret = colon == std::string::npos ? "" : decoded.substr(colon + 1);
    basic_ok = emu_.state().With([&](StateData& d) {
      auto it = d.clients.find(id);
      return it != d.clients.end() && !it->second.secret.empty() && it->second.secret == secret;
    });
    if (!basic_ok) return OAuthError(401, "invalid_client", "Client authentication failed");
    client_id = id;
  }
  bool client_known = emu_.state().With([&](StateData& d) { return d.clients.count(client_id) > 0; });
  if (client_id.empty() || !client_known) {
    return OAuthError(401, "invalid_client", "Client authentication failed");
  }

  int64_t now = NowEpoch();
  int64_t lifetime = emu_.config().token_lifetime_s;
  const Identity& primary = emu_.config().identity;

  if (grant_type == "refresh_token") {
    std::string rt = FormValue(form, "refresh_token");
    auto out = emu_.state().With([&](StateData& d) -> std::optional<json> {
      auto it = d.refresh_tokens.find(rt);
      if (it == d.refresh_tokens.end() || it->second.client_id != client_id) return std::nullopt;
      const RefreshToken& r = it->second;
      std::vector<std::string> deps = r.resource_server == kTransferResourceServer
                                          ? d.consents[client_id]
                                          : r.dependent_scopes;
      AccessToken at{NewToken("emu-at-"), client_id, r.sub, r.resource_server, r.scopes,
                     deps, now, now + lifetime, rt};
      d.access_tokens[at.token] = at;
      return json{{"access_token", at.token},
                  {"scope", Join(at.scopes, " ")},
                  {"expires_in", lifetime},
                  {"token_type", "Bearer"},
                  {"resource_server", at.resource_server},
                  {"refresh_token", rt},
                  {"other_tokens", json::array()}};
    });
    if (!out) return OAuthError(401, "invalid_grant", "Invalid or revoked refresh token");
    emu_.state().Save();
    return JsonResponse(200, *out);
  }

  if (grant_type != "authorization_code") {
    return OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
  }
  std::string code = FormValue(form, "code"), verifier = FormValue(form, "code_verifier");
  std::string redirect_uri = FormValue(form, "redirect_uri");
  auto ac = emu_.state().With([&](StateData& d) -> std::optional<AuthCode> {
    auto it = d.codes.find(code);
    if (it == d.codes.end() || it->second.used || it->second.expires_at < now) return std::nullopt;
    if (it->second.client_id != client_id || it->second.redirect_uri != redirect_uri) return std::nullopt;
    if (verifier.size() < 43 || verifier.size() > 128) return std::nullopt;
    for (char c : verifier) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' && c != '~') {
        return std::nullopt;
      }
    }
    if (Base64Url(Sha256(verifier)) != it->second.code_challenge) return std::nullopt;
    it->second.used = true;
    return it->second;
  });
  if (!ac) return OAuthError(401, "invalid_grant", "Invalid, expired or already used authorization code");

  // Group the granted scopes by resource server.
  std::vector<Grant> grants;
  auto grant_for = [&](const std::string& rs) -> Grant& {
    for (auto& g : grants) {
      if (g.resource_server == rs) return g;
    }
    grants.push_back(Grant{rs, {}, {}});
    return grants.back();
  };
  bool openid = false, identity_set = false;
  auto granted = ParseScopes(ac->scope);  // validated at authorize time
  for (const auto& s : *granted) {
    if (IsAuthScope(s.name)) {
      grant_for(kAuthResourceServer).scopes.push_back(s.name);
      openid = openid || s.name == "openid";
      identity_set = identity_set || s.name == "urn:globus:auth:scope:auth.globus.org:view_identity_set";
    } else if (s.name == kTransferScope) {
      Grant& g = grant_for(kTransferResourceServer);
      g.scopes.push_back(s.name);
      for (const auto& c : s.children) g.dependent_scopes.push_back(c.name);
    } else {
      auto id = CollectionScopeId(s.name, "https");
      if (!id) id = CollectionScopeId(s.name, "data_access");
      grant_for(*id).scopes.push_back(s.name);
    }
  }

  json tokens = json::array();
  emu_.state().With([&](StateData& d) {
    for (const auto& g : grants) {
      std::vector<std::string> deps = g.dependent_scopes;
      if (g.resource_server == kTransferResourceServer) {
        auto& granted = d.consents[client_id];
        for (const auto& dep : g.dependent_scopes) {
          if (std::find(granted.begin(), granted.end(), dep) == granted.end()) granted.push_back(dep);
        }
        deps = granted;
      }
      std::string rt = ac->offline ? NewToken("emu-rt-") : "";
      AccessToken at{NewToken("emu-at-"), client_id, primary.id, g.resource_server, g.scopes,
                     deps, now, now + lifetime, rt};
      d.access_tokens[at.token] = at;
      if (!rt.empty()) {
        d.refresh_tokens[rt] = RefreshToken{rt, client_id, primary.id, g.resource_server, g.scopes,
                                            g.dependent_scopes};
      }
      json t = {{"access_token", at.token},
                {"scope", Join(g.scopes, " ")},
                {"expires_in", lifetime},
                {"token_type", "Bearer"},
                {"resource_server", g.resource_server},
                {"state", "_default"}};
      if (!rt.empty()) t["refresh_token"] = rt;
      tokens.push_back(t);
    }
    // Expired access tokens are kept a day (so a late use still gets a clear 401), then dropped.
    for (auto it = d.access_tokens.begin(); it != d.access_tokens.end();) {
      it = it->second.expires_at + 86400 < now ? d.access_tokens.erase(it) : std::next(it);
    }
  });

  // The Auth token (if any) is the top-level one; the rest go in other_tokens.
  size_t top = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i]["resource_server"] == kAuthResourceServer) top = i;
  }
  json resp = tokens[top];
  resp["other_tokens"] = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i != top) resp["other_tokens"].push_back(tokens[i]);
  }
  if (openid) {
    auto times = emu_.state().With([&](StateData& d) { return d.session.auth_times; });
    auto last_auth = [&](const std::string& id) -> json {
      auto it = times.find(id);
      return it == times.end() ? json(nullptr) : json(it->second);
    };
    json claims = {{"sub", primary.id},
                   {"organization", primary.organization},
                   {"name", primary.name},
                   {"preferred_username", primary.username},
                   {"identity_provider", primary.idp_id},
                   {"identity_provider_display_name", primary.idp_name},
                   {"email", primary.email},
                   {"last_authentication", last_auth(primary.id)},
                   {"iss", emu_.Issuer()},
                   {"aud", client_id},
                   {"exp", now + lifetime},
                   {"iat", now},
                   {"at_hash", Base64Url(Sha512(resp["access_token"].get<std::string>()).substr(0, 32))}};
    if (identity_set) {
      json set = json::array();
      for (const auto& id : emu_.IdentitySet()) {
        set.push_back({{"sub", id.id},
                       {"organization", id.organization},
                       {"name", id.name},
                       {"username", id.username},
                       {"identity_provider", id.idp_id},
                       {"identity_provider_display_name", id.idp_name},
                       {"email", id.email},
                       {"last_authentication", last_auth(id.id)}});
      }
      claims["identity_set"] = set;
    }
    resp["id_token"] = emu_.signer().Sign(claims);
  }
  emu_.state().Save();
  return JsonResponse(200, resp);
}

// ---------------------------------------------------------------- revoke / introspect

Response AuthService::Revoke(Request& req) {
  auto body = req.ReadAllBody(1 << 16);
  if (!body) return OAuthError(400, "invalid_request", "Unreadable body");
  auto form = ParseUrlEncoded(*body);
  std::string client_id = FormValue(form, "client_id");
  if (auto h = req.headers.Get("authorization"); h && h->rfind("Basic ", 0) == 0) {
    std::string decoded = Base64Decode(h->substr(6));
    client_id = decoded.substr(0, decoded.find(':'));
  }
  bool known = emu_.state().With([&](StateData& d) { return d.clients.count(client_id) > 0; });
  if (!known) return OAuthError(401, "invalid_client", "Client authentication failed");
  std::string token = FormValue(form, "token");
  emu_.state().With([&](StateData& d) {
    if (d.access_tokens.erase(token)) return;
    auto it = d.refresh_tokens.find(token);
    if (it == d.refresh_tokens.end()) return;
    // Revoking a refresh token also invalidates the access tokens issued from it (RFC 7009 §2.1).
    for (auto at = d.access_tokens.begin(); at != d.access_tokens.end();) {
      at = at->second.refresh_token == token ? d.access_tokens.erase(at) : std::next(at);
    }
    d.refresh_tokens.erase(it);
  });
  emu_.state().Save();
  return JsonResponse(200, {{"active", false}});
}

Response AuthService::Introspect(Request& req, bool validate_only) {
  // Needs client credentials: a templated (confidential) client of the native app.
  auto h = req.headers.Get("authorization");
  std::string template_of;
  if (h && h->rfind("Basic ", 0) == 0) {
    std::string decoded = Base64Decode(h->substr(6));
    auto colon = decoded.find(':');
    std::string id = decoded.substr(0, colon), secret = colon == std::string::npos ? "" : decoded.substr(colon + 1);
    template_of = emu_.state().With([&](StateData& d) -> std::string {
      auto it = d.clients.find(id);
      if (it == d.clients.end() || it->second.secret.empty() || it->second.secret != secret) return "";
      return it->second.template_id.empty() ? it->second.id : it->second.template_id;
    });
  }
  if (template_of.empty()) return AuthError(401, "UNAUTHORIZED", "Call must be authenticated");
  auto body = req.ReadAllBody(1 << 16);
  if (!body) return AuthError(400, "INVALID_PARAMETERS", "Unreadable body");
  auto form = ParseUrlEncoded(*body);
  std::string token = FormValue(form, "token");
  auto includes = SplitComma(FormValue(form, "include"));
  int64_t now = NowEpoch();
  struct Found {
    AccessToken at;
    bool refresh = false;
    AuthSession session;
  };
  auto found = emu_.state().With([&](StateData& d) -> std::optional<Found> {
    if (auto it = d.access_tokens.find(token); it != d.access_tokens.end()) {
      if (it->second.expires_at <= now) return std::nullopt;
      return Found{it->second, false, d.session};
    }
    if (auto it = d.refresh_tokens.find(token); it != d.refresh_tokens.end()) {
      const RefreshToken& r = it->second;
      return Found{AccessToken{r.token, r.client_id, r.sub, r.resource_server, r.scopes,
                               r.dependent_scopes, 0, 0, ""},
                   true, d.session};
    }
    return std::nullopt;
  });
  // A client may introspect tokens issued to it or to the template it was made from.
  if (!found || found->at.client_id != template_of) return JsonResponse(200, {{"active", false}});
  if (validate_only) return JsonResponse(200, {{"active", true}});
  const Identity& primary = emu_.config().identity;
  json out = {{"active", true},
              {"token_type", "Bearer"},
              {"scope", Join(found->at.scopes, " ")},
              {"client_id", found->at.client_id},
              {"username", primary.username},
              {"name", primary.name},
              {"email", primary.email},
              {"sub", found->at.sub},
              {"aud", json::array({found->at.resource_server, found->at.client_id})},
              {"iss", emu_.Issuer()}};
  if (!found->refresh) {
    out["exp"] = found->at.expires_at;
    out["iat"] = found->at.issued_at;
    out["nbf"] = found->at.issued_at;
  }
  if (std::find(includes.begin(), includes.end(), "session_info") != includes.end()) {
    json auths = json::object();
    for (const auto& [id, t] : found->session.auth_times) {
      const Identity* ident = emu_.FindIdentity(id);
      auto amr = found->session.amr.find(id);
      bool has_amr = amr != found->session.amr.end() && !amr->second.empty();
      auths[id] = {{"acr", nullptr},
                   {"amr", has_amr ? json(amr->second) : json(nullptr)},
                   {"idp", ident ? ident->idp_id : ""},
                   {"auth_time", t},
                   {"custom_claims", json::object()}};
    }
    out["session_info"] = {{"session_id", found->session.id}, {"authentications", auths}};
  }
  if (std::find(includes.begin(), includes.end(), "identity_set") != includes.end()) {
    json ids = json::array();
    for (const auto& id : emu_.IdentitySet()) ids.push_back(id.id);
    out["identity_set"] = ids;
  }
  return JsonResponse(200, out);
}

// ---------------------------------------------------------------- userinfo / identities

Response AuthService::UserInfo(Request& req) {
  if (!req.headers.Has("authorization")) return AuthError(403, "FORBIDDEN", "Call must be authenticated");
  auto at = emu_.BearerToken(req);
  if (!at || at->resource_server != kAuthResourceServer) {
    return AuthError(401, "UNAUTHORIZED", "Call must be authenticated");
  }
  auto has = [&](const std::string& s) {
    return std::find(at->scopes.begin(), at->scopes.end(), s) != at->scopes.end();
  };
  if (!has("openid")) return AuthError(403, "FORBIDDEN", "The openid scope is required");
  const Identity& p = emu_.config().identity;
  json out = {{"sub", p.id}};
  if (has("profile")) {
    out["preferred_username"] = p.username;
    out["name"] = p.name;
    out["organization"] = p.organization;
    out["identity_provider"] = p.idp_id;
    out["identity_provider_display_name"] = p.idp_name;
  }
  if (has("email")) out["email"] = p.email;
  if (has("urn:globus:auth:scope:auth.globus.org:view_identity_set")) {
    json set = json::array();
    for (const auto& id : emu_.IdentitySet()) {
      set.push_back({{"sub", id.id},
                     {"username", id.username},
                     {"name", id.name},
                     {"email", id.email},
                     {"identity_provider", id.idp_id},
                     {"identity_provider_display_name", id.idp_name},
                     {"organization", id.organization},
                     {"status", "used"}});
    }
    out["identity_set"] = set;
  }
  return JsonResponse(200, out);
}

Response AuthService::Identities(Request& req) {
  auto at = emu_.BearerToken(req);
  if (!at) return AuthError(401, "UNAUTHORIZED", "Call must be authenticated");
  auto ids = req.QueryParam("ids");
  auto usernames = req.QueryParam("usernames");
  if (ids.has_value() == usernames.has_value()) {
    return AuthError(400, "INVALID_PARAMETERS", "Exactly one of ids or usernames is required");
  }
  if (req.QueryParam("provision") && !usernames) {
    return AuthError(400, "INVALID_PARAMETERS", "provision is only allowed with usernames");
  }
  json list = json::array();
  for (const auto& key : SplitComma(ids ? *ids : *usernames)) {
    if (ids && !LooksLikeUuid(key)) {
      return AuthError(400, "INVALID_PARAMETERS", "Invalid identity id: " + key);
    }
    const Identity* id = emu_.FindIdentity(key);
    if (!id) continue;
    list.push_back({{"id", id->id},
                    {"username", id->username},
                    {"name", id->name},
                    {"email", id->email},
                    {"organization", id->organization},
                    {"identity_provider", id->idp_id},
                    {"identity_type", "login"},
                    {"status", "used"}});
  }
  return JsonResponse(200, {{"identities", list}});
}

Response AuthService::CreateClient(Request& req) {
  auto body = req.ReadAllBody(1 << 16);
  auto j = body ? json::parse(*body, nullptr, false) : json();
  if (!body || j.is_discarded() || !j.contains("client") || !j["client"].is_object()) {
    return AuthError(400, "INVALID_PARAMETERS", "Body must be {\"client\": {...}}");
  }
  std::string template_id = j["client"].value("template_id", std::string());
  std::string name = j["client"].value("name", std::string("native app instance"));
  if (template_id.empty()) {
    return AuthError(401, "UNAUTHORIZED", "Creating a client needs authentication or a template_id");
  }
  if (template_id != emu_.config().client_id || !emu_.config().client_template) {
    return AuthError(403, "FORBIDDEN", "The client " + template_id + " is not a template");
  }
  Client c;
  c.id = NewUuid();
  c.secret = NewToken("emu-secret-");
  c.name = name;
  c.template_id = template_id;
  emu_.state().With([&](StateData& d) { d.clients[c.id] = c; });
  emu_.state().Save();
  json client = {{"id", c.id},
                 {"name", c.name},
                 {"public_client", false},
                 {"grant_types", json::array({"authorization_code", "refresh_token"})},
                 {"fqdns", json::array()},
                 {"redirect_uris", json::array()},
                 {"links", {{"privacy_policy", nullptr}, {"terms_and_conditions", nullptr}}},
                 {"parent_client", template_id},
                 {"project", nullptr},
                 {"visibility", "private"}};
  json cred = {{"client", c.id}, {"id", NewUuid()}, {"name", "Auto-created at client creation"},
               {"secret", c.secret}, {"created", IsoTime(NowEpoch())}};
  return JsonResponse(201, {{"client", client}, {"included", {{"client_credential", cred}}}});
}

Response AuthService::OpenIdConfiguration() {
  std::string b = emu_.BaseUrl();
  return JsonResponse(200, {{"issuer", emu_.Issuer()},
                            {"authorization_endpoint", b + "/v2/oauth2/authorize"},
                            {"token_endpoint", b + "/v2/oauth2/token"},
                            {"userinfo_endpoint", b + "/v2/oauth2/userinfo"},
                            {"revocation_endpoint", b + "/v2/oauth2/token/revoke"},
                            {"introspection_endpoint", b + "/v2/oauth2/token/introspect"},
                            {"jwks_uri", b + "/jwk.json"},
                            {"response_types_supported", json::array({"code"})},
                            {"grant_types_supported", json::array({"authorization_code", "refresh_token"})},
                            {"code_challenge_methods_supported", json::array({"S256"})},
                            {"id_token_signing_alg_values_supported", json::array({"RS512"})},
                            {"scopes_supported", json::array({"openid", "profile", "email"})},
                            {"subject_types_supported", json::array({"public"})}});
}

Response AuthService::Jwks() { return JsonResponse(200, emu_.signer().Jwks()); }

}  // namespace emu
