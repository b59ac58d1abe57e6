// Contract tests of globus-emulator's Auth routes (globus-api.md §4, §5):
// what each route answers, and every error it produces.
#include <gtest/gtest.h>

#include <cctype>

#include "auth/http/http_client.h"
#include "auth/id_token.h"
#include "auth/pkce.h"
#include "tests/support/child_process.h"
#include "tests/support/emulator_process.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::EmulatorProcess;

class EmulatorAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EmulatorOptions opts;
    opts.identity = "ada@example.org";
    opts.linked_identities = {"ada@university.edu"};
    emu_ = EmulatorProcess::Start(opts);
  }
  std::string Url(const std::string& path) { return emu_->base_url() + path; }

  // GET authorize; returns the Location (or "" when no redirect).
  std::string Authorize(const http::HeaderList& params) {
    http::HttpRequest req;
    req.url = Url("/v2/oauth2/authorize?" + http::FormEncode(params));
    req.retry = false;
    auto r = emu_->http().Send(req);
    if (!r) return "error:" + std::to_string(r.error().http_status) + ":" + r.error().code;
    return r->status == 302 ? r->Header("location").value_or("") : "";
  }

  // Expects Auth's own "Unknown scope(s)" page naming `scope`, and no
  // redirect (globus-api.md §5). Read with curl, as a browser would: the
  // HTTP core keeps no error page it cannot parse.
  void ExpectUnknownScopePage(const http::HeaderList& params, const std::string& scope) {
    std::string url = Url("/v2/oauth2/authorize?" + http::FormEncode(params));
    testing::RunResult r = testing::Run(
        {"/usr/bin/curl", "--silent", "--show-error", "--cacert", emu_->ca_file().string(), "--dump-header", "-", url}, {});
    ASSERT_EQ(r.exit_code, 0) << r.all();
    auto split = r.out.find("\r\n\r\n");
    ASSERT_NE(split, std::string::npos) << r.out;
    std::string head = r.out.substr(0, split), body = r.out.substr(split + 4);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(head.rfind("http/1.1 400 ", 0), 0u) << head;
    EXPECT_EQ(head.find("\nlocation:"), std::string::npos) << "no redirect back to the client";
    EXPECT_NE(head.find("\ncontent-type: text/html"), std::string::npos) << head;
    EXPECT_NE(body.find("<h1>Unknown scope(s)</h1>"), std::string::npos) << body;
    EXPECT_NE(body.find("client_id=" + emu_->client_id() + " requested unknown scopes: [&#39;" + scope),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("UNKNOWN_SCOPE_ERROR"), std::string::npos);
  }

  http::HeaderList GoodAuthorize(const auth::Pkce& p, const std::string& scope = "openid profile email") {
    return {{"client_id", emu_->client_id()}, {"redirect_uri", "http://localhost:5000/"},
            {"scope", scope},                 {"state", "xyz"},
            {"response_type", "code"},        {"code_challenge", p.challenge},
            {"code_challenge_method", "S256"}, {"access_type", "offline"}};
  }

  static std::string Param(const std::string& url, const std::string& key) {
    auto pos = url.find(key + "=");
    if (pos == std::string::npos) return "";
    auto end = url.find('&', pos);
    return url.substr(pos + key.size() + 1, end == std::string::npos ? std::string::npos : end - pos - key.size() - 1);
  }

  http::Result<json> Exchange(const std::string& code, const std::string& verifier,
                              const std::string& redirect = "http://localhost:5000/") {
    return emu_->http().PostForm(Url("/v2/oauth2/token"), {{"grant_type", "authorization_code"},
                                                           {"code", code},
                                                           {"code_verifier", verifier},
                                                           {"redirect_uri", redirect},
                                                           {"client_id", emu_->client_id()}});
  }

  std::unique_ptr<EmulatorProcess> emu_;
};

TEST_F(EmulatorAuth, AuthorizeRedirectsWithCodeAndState) {
  auto p = auth::MakePkce();
  std::string loc = Authorize(GoodAuthorize(p));
  EXPECT_EQ(loc.rfind("http://localhost:5000/?code=", 0), 0u) << loc;
  EXPECT_EQ(Param(loc, "state"), "xyz");
  EXPECT_EQ(emu_->RequestCount("auth.authorize"), 1u);
}

TEST_F(EmulatorAuth, AuthorizeRejectsBadClientAndRedirect) {
  auto p = auth::MakePkce();
  auto params = GoodAuthorize(p);
  params[0].second = testing::RandomUuid();
  EXPECT_EQ(Authorize(params), "error:400:INVALID_PARAMETERS");
  params = GoodAuthorize(p);
  params[1].second = "https://evil.example.org/";
  EXPECT_EQ(Authorize(params), "error:400:INVALID_PARAMETERS");
}

TEST_F(EmulatorAuth, AuthorizeSendsOAuthErrorsBackToTheRedirect) {
  auto p = auth::MakePkce();
  auto params = GoodAuthorize(p);
  params[6].second = "plain";  // code_challenge_method
  EXPECT_EQ(Param(Authorize(params), "error"), "invalid_request");
  params = GoodAuthorize(p);
  params[4].second = "token";
  EXPECT_EQ(Param(Authorize(params), "error"), "unsupported_response_type");
  params = GoodAuthorize(p);
  params.emplace_back("session_required_identities", "stranger@example.org");
  std::string loc = Authorize(params);
  EXPECT_EQ(Param(loc, "error"), "invalid_request");
  EXPECT_EQ(Param(loc, "state"), "xyz");
}

TEST_F(EmulatorAuth, AnUnknownScopeGetsAuthsOwnPageAndNoRedirect) {
  auto p = auth::MakePkce();
  std::string https = "https://auth.globus.org/scopes/" + testing::RandomUuid() + "/https";
  ExpectUnknownScopePage(GoodAuthorize(p, "openid " + https), https);
  // One unknown scope among known ones fails the whole request.
  std::string dep = "https://auth.globus.org/scopes/" + testing::RandomUuid() + "/data_access";
  ExpectUnknownScopePage(
      GoodAuthorize(p, "openid urn:globus:auth:scope:transfer.api.globus.org:all[*" + dep + "]"), dep);
  EXPECT_EQ(emu_->RequestCount("auth.authorize"), 2u);
}

TEST_F(EmulatorAuth, DataAccessScopeOnlyWhereNeeded) {
  // alpha is a non-HA mapped collection: data_access exists. Switch it to
  // high assurance and the scope becomes unknown, as at Globus.
  auto p = auth::MakePkce();
  std::string da = "https://auth.globus.org/scopes/" + emu_->collection_id("alpha") + "/data_access";
  EXPECT_FALSE(Param(Authorize(GoodAuthorize(p, "openid " + da)), "code").empty());
  ASSERT_TRUE(emu_->http().PostJson(Url("/_emulator/high-assurance"), {{"collection", "alpha"}, {"enabled", true}}).ok());
  ExpectUnknownScopePage(GoodAuthorize(p, "openid " + da), da);
}

TEST_F(EmulatorAuth, APersonalCollectionHasNoHttpsOrDataAccessScope) {
  testing::EmulatorOptions opts;
  opts.personal_collections = {"laptop"};
  emu_ = EmulatorProcess::Start(opts);
  std::string id = emu_->collection_id("laptop");
  auto login = testing::Login(*emu_, "openid urn:globus:auth:scope:transfer.api.globus.org:all");
  http::HeaderList bearer = {{"Authorization", "Bearer " + login.access_tokens.at("transfer.api.globus.org")}};
  auto doc = emu_->http().GetJson(Url("/v0.10/endpoint/" + id), nullptr, bearer);
  ASSERT_TRUE(doc.ok()) << doc.error().Summary();
  EXPECT_EQ((*doc)["entity_type"], "GCP_mapped_collection");
  EXPECT_TRUE((*doc)["https_server"].is_null());
  EXPECT_EQ((*doc)["is_globus_connect"], true);
  EXPECT_EQ((*doc)["gcp_connected"], true);
  EXPECT_TRUE((*doc)["gcs_version"].is_null());
  // Transfer works without any consent of its own.
  auto ls = emu_->http().GetJson(Url("/v0.10/operation/endpoint/" + id + "/ls?path=/"), nullptr, bearer);
  EXPECT_TRUE(ls.ok()) << ls.error().Summary();
  // Its collection scopes do not exist.
  auto p = auth::MakePkce();
  std::string https = "https://auth.globus.org/scopes/" + id + "/https";
  std::string da = "https://auth.globus.org/scopes/" + id + "/data_access";
  ExpectUnknownScopePage(GoodAuthorize(p, "openid " + https), https);
  ExpectUnknownScopePage(GoodAuthorize(p, "openid " + da), da);
  ExpectUnknownScopePage(
      GoodAuthorize(p, "openid urn:globus:auth:scope:transfer.api.globus.org:all[*" + da + "]"), da);
  // And it has no HTTPS server.
  http::HttpRequest get;
  get.url = Url("/c/" + id + "/");
  get.retry = false;
  auto https_get = emu_->http().Send(get);
  ASSERT_FALSE(https_get.ok());
  EXPECT_EQ(https_get.error().http_status, 404);
}

TEST_F(EmulatorAuth, TokenExchangeChecksPkceAndIsSingleUse) {
  auto p = auth::MakePkce();
  std::string code = Param(Authorize(GoodAuthorize(p)), "code");
  auto wrong = Exchange(code, auth::MakePkce().verifier);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().http_status, 401);
  EXPECT_EQ(wrong.error().code, "invalid_grant");

  code = Param(Authorize(GoodAuthorize(p)), "code");
  auto wrong_redirect = Exchange(code, p.verifier, "http://localhost:5001/");
  ASSERT_FALSE(wrong_redirect.ok());
  EXPECT_EQ(wrong_redirect.error().code, "invalid_grant");

  code = Param(Authorize(GoodAuthorize(p)), "code");
  auto ok = Exchange(code, p.verifier);
  ASSERT_TRUE(ok.ok()) << ok.error().Summary();
  auto reused = Exchange(code, p.verifier);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, "invalid_grant");
}

TEST_F(EmulatorAuth, OneTokenPerResourceServerWithIdToken) {
  std::string alpha = emu_->collection_id("alpha");
  auto login = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha"}));
  const json& r = login.response;
  EXPECT_EQ(r["resource_server"], "auth.globus.org");
  EXPECT_EQ(r["token_type"], "Bearer");
  EXPECT_EQ(r["expires_in"], 172800);
  ASSERT_TRUE(r.contains("refresh_token"));
  ASSERT_EQ(r["other_tokens"].size(), 2u);
  EXPECT_TRUE(login.access_tokens.count("transfer.api.globus.org"));
  ASSERT_TRUE(login.access_tokens.count(alpha));
  for (const auto& t : r["other_tokens"]) {
    if (t["resource_server"] == alpha) {
      EXPECT_NE(t["scope"].get<std::string>().find("/https"), std::string::npos);
    }
  }
  // The id_token verifies against the JWKS and carries the identity set.
  auto jwks = emu_->http().GetJson(Url("/jwk.json"));
  ASSERT_TRUE(jwks.ok());
  auto claims = auth::VerifyIdToken(r["id_token"], *jwks, emu_->base_url(), emu_->client_id(), time(nullptr));
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->preferred_username, "ada@example.org");
  ASSERT_EQ(claims->identity_set.size(), 2u);
  EXPECT_TRUE(claims->identity_set[0].last_authentication.has_value());
  EXPECT_FALSE(claims->identity_set[1].last_authentication.has_value());
}

TEST_F(EmulatorAuth, OnlineAccessHasNoRefreshToken) {
  auto p = auth::MakePkce();
  auto params = GoodAuthorize(p);
  params[7].second = "online";
  auto r = Exchange(Param(Authorize(params), "code"), p.verifier);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->contains("refresh_token"));
}

TEST_F(EmulatorAuth, RefreshAndRevoke) {
  auto login = testing::Login(*emu_, "openid profile email urn:globus:auth:scope:transfer.api.globus.org:all");
  std::string rt = login.refresh_tokens.at("transfer.api.globus.org");
  auto refreshed = emu_->http().PostForm(Url("/v2/oauth2/token"),
                                         {{"grant_type", "refresh_token"}, {"refresh_token", rt},
                                          {"client_id", emu_->client_id()}});
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ((*refreshed)["resource_server"], "transfer.api.globus.org");
  EXPECT_NE((*refreshed)["access_token"], login.access_tokens.at("transfer.api.globus.org"));
  // Without client_id the token endpoint refuses (401), as Globus does.
  auto no_client = emu_->http().PostForm(Url("/v2/oauth2/token"),
                                         {{"grant_type", "refresh_token"}, {"refresh_token", rt}});
  ASSERT_FALSE(no_client.ok());
  EXPECT_EQ(no_client.error().http_status, 401);
  // Revoke answers {"active": false}; the token is refused afterwards.
  std::string at = (*refreshed)["access_token"];
  auto revoked = emu_->http().PostForm(Url("/v2/oauth2/token/revoke"),
                                       {{"token", at}, {"client_id", emu_->client_id()}});
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ((*revoked)["active"], false);
  auto ls = emu_->http().GetJson(Url("/v0.10/endpoint/" + emu_->collection_id("alpha")), nullptr,
                                 {{"Authorization", "Bearer " + at}});
  ASSERT_FALSE(ls.ok());
  EXPECT_EQ(ls.error().http_status, 401);
  // Revoking the refresh token ends refreshes.
  ASSERT_TRUE(emu_->http().PostForm(Url("/v2/oauth2/token/revoke"), {{"token", rt}, {"client_id", emu_->client_id()}}).ok());
  auto again = emu_->http().PostForm(Url("/v2/oauth2/token"),
                                     {{"grant_type", "refresh_token"}, {"refresh_token", rt},
                                      {"client_id", emu_->client_id()}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "invalid_grant");
}

TEST_F(EmulatorAuth, UserInfoAndIdentities) {
  auto login = testing::Login(*emu_, testing::FullScopes(*emu_, {}));
  http::HeaderList bearer = {{"Authorization", "Bearer " + login.access_tokens.at("auth.globus.org")}};
  auto info = emu_->http().GetJson(Url("/v2/oauth2/userinfo"), nullptr, bearer);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)["preferred_username"], "ada@example.org");
  ASSERT_EQ((*info)["identity_set"].size(), 2u);
  // No token: 403 FORBIDDEN (as the live service answered).
  auto none = emu_->http().GetJson(Url("/v2/oauth2/userinfo"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().http_status, 403);
  EXPECT_EQ(none.error().code, "FORBIDDEN");

  auto ids = emu_->http().GetJson(Url("/v2/api/identities?usernames=ada@university.edu"), nullptr, bearer);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ((*ids)["identities"].size(), 1u);
  EXPECT_EQ((*ids)["identities"][0]["username"], "ada@university.edu");
  std::string id = (*ids)["identities"][0]["id"];
  auto by_id = emu_->http().GetJson(Url("/v2/api/identities?ids=" + id), nullptr, bearer);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ((*by_id)["identities"][0]["id"], id);
  auto bad = emu_->http().GetJson(Url("/v2/api/identities?ids=not-a-uuid"), nullptr, bearer);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "INVALID_PARAMETERS");
  auto provision_with_ids = emu_->http().GetJson(Url("/v2/api/identities?ids=" + id + "&provision=true"), nullptr, bearer);
  ASSERT_FALSE(provision_with_ids.ok());
  EXPECT_EQ(provision_with_ids.error().http_status, 400);
}

TEST_F(EmulatorAuth, IntrospectionNeedsATemplatedClientAndShowsTheSession) {
  auto login = testing::Login(*emu_, testing::FullScopes(*emu_, {}));
  std::string at = login.access_tokens.at("auth.globus.org");
  // The native client (no secret) cannot introspect.
  auto unauth = emu_->http().PostForm(Url("/v2/oauth2/token/introspect"), {{"token", at}});
  ASSERT_FALSE(unauth.ok());
  EXPECT_EQ(unauth.error().http_status, 401);
  EXPECT_EQ(unauth.error().code, "UNAUTHORIZED");
  // A templated client can.
  auto made = emu_->http().PostJson(Url("/v2/api/clients"),
                                    {{"client", {{"template_id", emu_->client_id()}, {"name", "t"}}}});
  ASSERT_TRUE(made.ok()) << made.error().Summary();
  std::string cid = (*made)["included"]["client_credential"]["client"];
  std::string secret = (*made)["included"]["client_credential"]["secret"];
  http::HeaderList basic = {{"Authorization", "Basic " + auth::Base64Encode(cid + ":" + secret)}};
  auto r = emu_->http().PostForm(Url("/v2/oauth2/token/introspect"),
                                 {{"token", at}, {"include", "session_info,identity_set"}}, nullptr, basic);
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ((*r)["active"], true);
  EXPECT_EQ((*r)["username"], "ada@example.org");
  const json& auths = (*r)["session_info"]["authentications"];
  ASSERT_EQ(auths.size(), 1u);
  EXPECT_TRUE(auths.begin().value()["auth_time"].is_number());
  EXPECT_EQ((*r)["identity_set"].size(), 2u);
  // Unknown tokens are simply inactive.
  auto inactive = emu_->http().PostForm(Url("/v2/oauth2/token/introspect"), {{"token", "nope"}}, nullptr, basic);
  ASSERT_TRUE(inactive.ok());
  EXPECT_EQ((*inactive)["active"], false);
  // A client that is not a template cannot be templated.
  auto not_template = emu_->http().PostJson(Url("/v2/api/clients"),
                                            {{"client", {{"template_id", testing::RandomUuid()}}}});
  ASSERT_FALSE(not_template.ok());
  EXPECT_EQ(not_template.error().http_status, 403);
}

TEST_F(EmulatorAuth, SessionUpdateRecordsAFreshAuthTimeForTheIdentityAskedFor) {
  auto first = testing::Login(*emu_, testing::FullScopes(*emu_, {}));
  auto jwks = *emu_->http().GetJson(Url("/jwk.json"));
  auto linked = auth::VerifyIdToken(first.response["id_token"], jwks, emu_->base_url(), emu_->client_id(),
                                    time(nullptr))
                    ->identity_set[1];
  ASSERT_FALSE(linked.last_authentication.has_value());
  auto second = testing::Login(*emu_, testing::FullScopes(*emu_, {}),
                               {{"session_required_identities", linked.sub}});
  auto claims = auth::VerifyIdToken(second.response["id_token"], jwks, emu_->base_url(),
                                    emu_->client_id(), time(nullptr));
  ASSERT_TRUE(claims.ok());
  EXPECT_TRUE(claims->identity_set[1].last_authentication.has_value());
}

TEST_F(EmulatorAuth, SessionRequiredMfaIsRecordedInTheSession) {
  auto made = emu_->http().PostJson(Url("/v2/api/clients"),
                                    {{"client", {{"template_id", emu_->client_id()}, {"name", "t"}}}});
  ASSERT_TRUE(made.ok()) << made.error().Summary();
  std::string cid = (*made)["included"]["client_credential"]["client"];
  std::string secret = (*made)["included"]["client_credential"]["secret"];
  auto session = [&](const testing::LoginResult& login) {
    auto r = emu_->http().PostForm(Url("/v2/oauth2/token/introspect"),
                                   {{"token", login.access_tokens.at("auth.globus.org")}, {"include", "session_info"}},
                                   nullptr, {{"Authorization", "Basic " + auth::Base64Encode(cid + ":" + secret)}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? (*r)["session_info"] : json();
  };
  auto plain = session(testing::Login(*emu_, testing::FullScopes(*emu_, {})));
  ASSERT_EQ(plain["authentications"].size(), 1u);
  EXPECT_TRUE(plain["authentications"].begin().value()["amr"].is_null());
  // session_required_mfa (in the SDK's spelling too): a fresh authentication made with MFA.
  for (const char* spelling : {"true", "True"}) {
    auto mfa = session(testing::Login(*emu_, testing::FullScopes(*emu_, {}), {{"session_required_mfa", spelling}}));
    EXPECT_EQ(mfa["session_id"], plain["session_id"]) << "the same browser session";
    EXPECT_EQ(mfa["authentications"].begin().value()["amr"], json::array({"mfa"})) << spelling;
  }
  // A new authentication without it replaces that one.
  auto again = session(testing::Login(*emu_, testing::FullScopes(*emu_, {})));
  EXPECT_TRUE(again["authentications"].begin().value()["amr"].is_null());
}

TEST_F(EmulatorAuth, AnMfaRequiredCollectionAsksForMfaAlone) {
  testing::EmulatorOptions opts;
  opts.extra_args = {"--mfa-required", "alpha"};
  emu_ = EmulatorProcess::Start(opts);
  std::string alpha = emu_->collection_id("alpha");
  auto plain = testing::Login(*emu_, testing::FullScopes(*emu_, {}) + " https://auth.globus.org/scopes/" + alpha +
                                         "/https");
  http::HeaderList transfer = {{"Authorization", "Bearer " + plain.access_tokens.at("transfer.api.globus.org")}};
  auto doc = emu_->http().GetJson(Url("/v0.10/endpoint/" + alpha), nullptr, transfer);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["mfa_required"], true);
  EXPECT_EQ((*doc)["high_assurance"], true);
  auto ls = emu_->http().GetJson(Url("/v0.10/operation/endpoint/" + alpha + "/ls?path=/"), nullptr, transfer);
  ASSERT_FALSE(ls.ok());
  EXPECT_EQ(ls.error().http_status, 502);
  EXPECT_EQ(ls.error().code, "ExternalError.DirListingFailed.LoginFailed");
  const json& params = ls.error().authorization_parameters;
  EXPECT_EQ(params["session_required_mfa"], true);
  EXPECT_FALSE(params.contains("session_required_identities")) << params.dump();
  EXPECT_EQ(params["prompt"], "login");
  // The collection's HTTPS server asks the same.
  http::HttpRequest get;
  get.url = Url("/c/" + alpha + "/");
  get.retry = false;
  get.headers = {{"Authorization", "Bearer " + plain.access_tokens.at(alpha)}};
  auto https_get = emu_->http().Send(get);
  ASSERT_FALSE(https_get.ok());
  EXPECT_EQ(https_get.error().http_status, 403);
  EXPECT_EQ(https_get.error().authorization_parameters.value("session_required_mfa", false), true);
  // After an MFA login both answer.
  auto mfa = testing::Login(*emu_, testing::FullScopes(*emu_, {}), {{"session_required_mfa", "true"}});
  transfer = {{"Authorization", "Bearer " + mfa.access_tokens.at("transfer.api.globus.org")}};
  auto ok = emu_->http().GetJson(Url("/v0.10/operation/endpoint/" + alpha + "/ls?path=/"), nullptr, transfer);
  EXPECT_TRUE(ok.ok()) << ok.error().Summary();
  // Too old an authentication (made with MFA): the identity is asked for again.
  emu_->AgeSession();
  auto stale = emu_->http().GetJson(Url("/v0.10/operation/endpoint/" + alpha + "/ls?path=/"), nullptr, transfer);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().authorization_parameters.contains("session_required_identities"));
  EXPECT_FALSE(stale.error().authorization_parameters.contains("session_required_mfa"));
}

TEST_F(EmulatorAuth, AuthCodePageShowsTheCode) {
  auto p = auth::MakePkce();
  auto params = GoodAuthorize(p);
  params[1].second = emu_->base_url() + "/v2/web/auth-code";
  std::string loc = Authorize(params);
  ASSERT_EQ(loc.rfind(emu_->base_url() + "/v2/web/auth-code?code=", 0), 0u) << loc;
  http::HttpRequest req;
  req.url = loc;
  auto page = emu_->http().Send(req);
  ASSERT_TRUE(page.ok());
  EXPECT_NE(page->body.find("<pre id=\"auth-code\">" + Param(loc, "code") + "</pre>"), std::string::npos);
}

TEST_F(EmulatorAuth, OpenIdConfiguration) {
  auto c = emu_->http().GetJson(Url("/.well-known/openid-configuration"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["issuer"], emu_->base_url());
  EXPECT_EQ((*c)["token_endpoint"], emu_->base_url() + "/v2/oauth2/token");
  EXPECT_EQ((*c)["id_token_signing_alg_values_supported"], json::array({"RS512"}));
}

TEST_F(EmulatorAuth, TheIssuerFlagChangesTheIssuerAuthNamesEverywhere) {
  // By default the issuer is the base URL, as https://auth.globus.org is
  // real Auth's; --issuer names another, in the OpenID configuration, the
  // id_token and introspection alike. The keys stay at the jwks_uri.
  testing::EmulatorOptions opts;
  opts.extra_args = {"--issuer", "https://auth.example.org"};
  emu_ = EmulatorProcess::Start(opts);
  auto c = emu_->http().GetJson(Url("/.well-known/openid-configuration"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["issuer"], "https://auth.example.org");
  EXPECT_EQ((*c)["jwks_uri"], emu_->base_url() + "/jwk.json");
  auto login = testing::Login(*emu_, testing::FullScopes(*emu_, {}));
  auto jwks = emu_->http().GetJson((*c)["jwks_uri"].get<std::string>());
  ASSERT_TRUE(jwks.ok());
  const std::string id_token = login.response["id_token"];
  EXPECT_TRUE(auth::VerifyIdToken(id_token, *jwks, "https://auth.example.org", emu_->client_id(), time(nullptr)).ok());
  EXPECT_FALSE(auth::VerifyIdToken(id_token, *jwks, emu_->base_url(), emu_->client_id(), time(nullptr)).ok());
}

TEST_F(EmulatorAuth, StatePersistsAcrossARestart) {
  auto login = testing::Login(*emu_, "openid urn:globus:auth:scope:transfer.api.globus.org:all");
  std::string at = login.access_tokens.at("transfer.api.globus.org");
  emu_->Restart();
  auto doc = emu_->http().GetJson(Url("/v0.10/endpoint/" + emu_->collection_id("alpha")), nullptr,
                                  {{"Authorization", "Bearer " + at}});
  ASSERT_TRUE(doc.ok()) << doc.error().Summary();
  EXPECT_EQ((*doc)["id"], emu_->collection_id("alpha"));
}

}  // namespace
}  // namespace globusfs
