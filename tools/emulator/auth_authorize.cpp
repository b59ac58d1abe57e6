// The emulator's Globus Auth authorize step (GET /v2/oauth2/authorize) and
// the copy-and-paste code page (GET /v2/web/auth-code): part of
// AuthService (auth_service.h), split out to keep files short.
#include <algorithm>
#include <cctype>

#include "auth_service.h"
#include "emulator.h"
#include "scopes.h"
#include "util.h"

namespace emu {

namespace {

constexpr int64_t kCodeLifetimeS = 600;

bool IsLoopbackRedirect(const std::string& uri) {
  for (const char* prefix : {"http://localhost:", "http://127.0.0.1:"}) {
    std::string p = prefix;
    if (uri.rfind(p, 0) != 0) continue;
    size_t i = p.size(), digits = 0;
    while (i < uri.size() && std::isdigit(static_cast<unsigned char>(uri[i]))) ++i, ++digits;
    return digits > 0 && (i == uri.size() || uri[i] == '/');
  }
  return false;
}

Response Redirect(const std::string& location) {
  Response r;
  r.status = 302;
  r.headers.Set("Location", location);
  r.headers.Set("Content-Type", "text/html");
  r.body = "<a href=\"" + location + "\">Redirecting</a>\n";
  return r;
}

std::string AppendQuery(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out = uri + (uri.find('?') == std::string::npos ? "?" : "&");
  bool first = true;
  for (const auto& [k, v] : kv) {
    if (!first) out += "&";
    first = false;
    out += PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Auth's own error page for an authorize request naming scopes it does not
// know, as users have reported it (XSEDE/oauth-ssh issue #79): the title
// "Unknown scope(s)", the client and the scopes, a time, an error id and the
// code UNKNOWN_SCOPE_ERROR. No redirect. The status is our choice (400).
Response UnknownScopePage(const std::string& client_id, const std::vector<std::string>& scopes) {
  std::string list;
  for (const auto& s : scopes) list += (list.empty() ? "'" : ", '") + s + "'";
  std::string detail = "client_id=" + client_id + " requested unknown scopes: [" + list + "]";
  std::string body =
      "<!doctype html><html><head><title>Unknown scope(s)</title></head><body>\n"
      "<h1>Unknown scope(s)</h1>\n"
      "<p>Sorry, but we encountered a problem while servicing your request.</p>\n"
      "<p id=\"error-detail\">" + HtmlEscape(detail) + "</p>\n"
      "<dl><dt>Occurred at time:</dt><dd>" + IsoTime(NowEpoch()) + "</dd>\n"
      "<dt>Error ID:</dt><dd>" + Sha256Hex(NewUuid()).substr(0, 32) + "</dd>\n"
      "<dt>Error code:</dt><dd id=\"error-code\">UNKNOWN_SCOPE_ERROR</dd></dl>\n"
      "</body></html>\n";
  return Response::Text(400, body, "text/html; charset=utf-8");
}

}  // namespace

// ---------------------------------------------------------------- authorize

Response AuthService::Authorize(Request& req) {
  auto q = [&](const char* k) { return req.QueryParam(k).value_or(""); };
  std::string client_id = q("client_id"), redirect_uri = q("redirect_uri"), state = q("state");
  bool client_ok = emu_.state().With([&](StateData& d) {
    auto it = d.clients.find(client_id);
    return it != d.clients.end() && (it->second.native || !it->second.template_id.empty());
  });
  if (!client_ok) return AuthError(400, "INVALID_PARAMETERS", "Unknown client_id");
  std::string code_page = emu_.BaseUrl() + "/v2/web/auth-code";
  if (redirect_uri != code_page && !IsLoopbackRedirect(redirect_uri)) {
    return AuthError(400, "INVALID_PARAMETERS",
                     "redirect_uri is not registered for this client: " + redirect_uri);
  }
  // From here on, errors go back to the client at its redirect_uri (RFC 6749 §4.1.2.1).
  auto fail = [&](const std::string& error, const std::string& description) {
    std::vector<std::pair<std::string, std::string>> kv = {{"error", error},
                                                           {"error_description", description}};
    if (!state.empty()) kv.emplace_back("state", state);
    return Redirect(AppendQuery(redirect_uri, kv));
  };
  if (q("response_type") != "code") return fail("unsupported_response_type", "response_type must be code");
  if (q("code_challenge").empty()) return fail("invalid_request", "PKCE code_challenge is required");
  if (q("code_challenge_method") != "S256") {
    return fail("invalid_request", "code_challenge_method must be S256");
  }
  std::string scope = q("scope");
  if (scope.empty()) return fail("invalid_scope", "No scopes requested");
  auto parsed = ParseScopes(scope);
  if (!parsed) return fail("invalid_scope", "Malformed scope string");
  // Every scope must be known. One unknown scope fails the whole request,
  // and Auth answers with its own error page, not a redirect: the client
  // never hears of it (globus-api.md §5).
  std::vector<std::string> unknown;
  for (const auto& s : *parsed) {
    if (IsAuthScope(s.name)) continue;
    if (s.name == kTransferScope) {
      for (const auto& child : s.children) {
        auto id = CollectionScopeId(child.name, "data_access");
        auto c = id ? emu_.FindCollection(*id) : std::nullopt;
        if (!c || !c->NeedsDataAccess()) unknown.push_back(child.name);
      }
      continue;
    }
    std::optional<std::string> id = CollectionScopeId(s.name, "https");
    bool data_access = false;
    if (!id) {
      id = CollectionScopeId(s.name, "data_access");
      data_access = true;
    }
    auto c = id ? emu_.FindCollection(*id) : std::nullopt;
    // Every GCSv5 collection has an https scope (even with HTTPS off), a
    // Globus Connect Personal one has none; data_access exists only where
    // it is needed.
    if (!c || (data_access ? !c->NeedsDataAccess() : !c->HasHttpsScope())) unknown.push_back(s.name);
  }
  if (!unknown.empty()) return UnknownScopePage(client_id, unknown);

  // Who authenticates now. A plain login authenticates the primary identity
  // (always with prompt=login, or when the session has no authentication yet);
  // session_required_* name exactly who must authenticate.
  const Identity& primary = emu_.config().identity;
  std::vector<std::string> authenticate;
  for (const auto& key : SplitComma(q("session_required_identities"))) {
    const Identity* id = emu_.FindIdentity(key);
    if (!id) return fail("invalid_request", "session_required_identities: " + key + " is not in the identity set");
    authenticate.push_back(id->id);
  }
  for (const auto& domain : SplitComma(q("session_required_single_domain"))) {
    bool any = false;
    for (const auto& id : emu_.IdentitySet()) {
      if (id.Domain() == domain) {
        authenticate.push_back(id.id);
        any = true;
        break;  // one identity from the domain satisfies it
      }
    }
    if (!any) return fail("invalid_request", "No identity in the identity set is from " + domain);
  }
  auto policies = SplitComma(q("session_required_policies"));
  bool prompt_login = q("prompt") == "login";
  // session_required_mfa: the SDK sends Python's "True", we send "true".
  std::string mfa_param = q("session_required_mfa");
  for (auto& c : mfa_param) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool mfa = mfa_param == "true" || mfa_param == "1";
  int64_t now = NowEpoch();
  std::string code = NewToken("emu-code-", 24);
  emu_.state().With([&](StateData& d) {
    if (authenticate.empty() && (prompt_login || mfa || !policies.empty() ||
                                 !d.session.auth_times.count(primary.id))) {
      authenticate.push_back(primary.id);
    }
    // A fresh authentication replaces the identity's last one, with how it
    // was made (its amr: "mfa" when MFA was required).
    for (const auto& id : authenticate) {
      d.session.auth_times[id] = now;
      d.session.amr[id] = mfa ? std::vector<std::string>{"mfa"} : std::vector<std::string>{};
    }
    if (!policies.empty()) d.session.policies = policies;
    AuthCode ac;
    ac.code = code;
    ac.client_id = client_id;
    ac.redirect_uri = redirect_uri;
    ac.code_challenge = q("code_challenge");
    ac.scope = scope;
    ac.offline = q("access_type") == "offline";
    ac.expires_at = now + kCodeLifetimeS;
    // Drop stale codes so the state file does not grow without bound.
    for (auto it = d.codes.begin(); it != d.codes.end();) {
      it = (it->second.expires_at < now || it->second.used) ? d.codes.erase(it) : std::next(it);
    }
    d.codes[code] = ac;
  });
  emu_.state().Save();
  std::vector<std::pair<std::string, std::string>> kv = {{"code", code}};
  if (!state.empty()) kv.emplace_back("state", state);
  return Redirect(AppendQuery(redirect_uri, kv));
}

Response AuthService::AuthCodePage(Request& req) {
  std::string code = req.QueryParam("code").value_or("");
  if (code.empty()) return Response::Text(400, "No authorization code\n", "text/html");
  // Codes are URL-safe base64, so they need no HTML escaping.
  for (char c : code) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Response::Text(400, "Malformed authorization code\n", "text/html");
    }
  }
  return Response::Text(200,
                        "<!doctype html><title>Native App Authorization Code</title>\n"
                        "<h1>Native App Authorization Code</h1>\n"
                        "<p>Copy this code and paste it into your application:</p>\n"
                        "<pre id=\"auth-code\">" + code + "</pre>\n",
                        "text/html; charset=utf-8");
}

}  // namespace emu
