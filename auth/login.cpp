#include "auth/login.h"

#include <istream>
#include <ostream>

#include "auth/id_token.h"
#include "auth/login_flow.h"
#include "auth/pkce.h"

namespace globusfs::auth {

using http::ErrorKind;
using http::MakeError;

namespace {

int64_t EpochNow(http::Clock& clock) { return std::chrono::system_clock::to_time_t(clock.SystemNow()); }

void RevokeAll(const AuthClient& auth, const TokenResponse& tr) {
  for (const auto& t : tr.tokens) {
    (void)auth.Revoke(t.access_token);
    if (!t.refresh_token.empty()) (void)auth.Revoke(t.refresh_token);
  }
}

}  // namespace

http::Result<LoginOutcome> RunLogin(const AuthClient& auth, TokenStore& store, http::Clock& clock,
                                    AuthorizeParams params, LoginIo& io) {
  Pkce pkce = MakePkce();
  params.state = RandomState();
  params.code_challenge = pkce.challenge;

  std::string code;
  if (io.no_local_server) {
    params.redirect_uri = auth.AuthCodePageUrl();
    io.out << "Please authenticate with Globus here:\n"
           << "------------------------------------\n"
           << auth.AuthorizeUrl(params) << "\n"
           << "------------------------------------\n\n"
           << "Enter the resulting Authorization Code here: " << std::flush;
    auto pasted = ReadPastedCode(io.in);
    io.out << "\n";
    if (!pasted) return pasted.error();
    code = *pasted;
  } else {
    auto server = LocalRedirectServer::Listen();
    if (!server) return server.error();
    params.redirect_uri = (*server)->redirect_uri();
    std::string url = auth.AuthorizeUrl(params);
    io.out << "Please authenticate with Globus in your browser. If it does not open, visit:\n\n  "
           << url << "\n\nWaiting for the login to finish (up to " << io.timeout.count()
           << " s)...\n"
           << std::flush;
    (void)OpenBrowser(url);  // the URL is printed either way
    auto got = (*server)->WaitForCode(params.state, io.timeout);
    if (!got) return got.error();
    code = *got;
  }

  int64_t now = EpochNow(clock);
  auto tokens = auth.ExchangeCode(code, pkce.verifier, params.redirect_uri, now);
  if (!tokens) return tokens.error();

  // Who logged in: from the verified id_token (openid is always requested),
  // checked against the issuer and keys Auth's OpenID configuration names
  // (as globus-sdk's IDTokenDecoder does), not against our service URL.
  IdTokenClaims claims;
  if (!tokens->id_token.empty()) {
    auto oidc = auth.GetOpenIdConfiguration();
    if (!oidc) {
      RevokeAll(auth, *tokens);
      return oidc.error();
    }
    auto jwks = auth.GetJwks(oidc->jwks_uri);
    if (!jwks) {
      RevokeAll(auth, *tokens);
      return jwks.error();
    }
    auto verified = VerifyIdToken(tokens->id_token, *jwks, oidc->issuer, auth.client_id(), now);
    if (!verified) {
      RevokeAll(auth, *tokens);
      return verified.error();
    }
    claims = *verified;
  }

  std::optional<http::Error> mismatch;
  LoginOutcome outcome;
  auto stored = store.Update([&](StoredLogin& login) {
    if (!claims.sub.empty() && !login.sub.empty() && login.sub != claims.sub) {
      mismatch = MakeError(ErrorKind::kConfig,
                           "this login used an account (" + claims.preferred_username +
                               ") that does not match the stored credentials (" + login.username +
                               "). Run 'globusfs-auth logout' first to log in as someone else");
      mismatch->code = "IdentityMismatch";
      return false;
    }
    if (!claims.sub.empty()) {
      login.sub = claims.sub;
      login.username = claims.preferred_username;
      login.id_token = tokens->id_token;
    }
    login.client_id = auth.client_id();
    for (const auto& t : tokens->tokens) {
      login.tokens[t.resource_server] = t;
      outcome.resource_servers.push_back(t.resource_server);
    }
    outcome.sub = login.sub;
    outcome.username = login.username;
    return true;
  });
  if (mismatch) {
    RevokeAll(auth, *tokens);
    return *mismatch;
  }
  if (!stored) {
    RevokeAll(auth, *tokens);
    return stored.error();
  }
  return outcome;
}

}  // namespace globusfs::auth
