// The HTTP core (auth/http) against globus-emulator over TLS: retries,
// give-up, no retry of endpoint errors, certificate checks, error parsing,
// and no token ever in an error message.
#include <gtest/gtest.h>

#include "auth/http/http_client.h"
#include "tests/support/emulator_process.h"

namespace globusfs {
namespace {

using http::ErrorKind;
using json = nlohmann::json;
using testing::EmulatorProcess;

constexpr const char* kTransferRs = "transfer.api.globus.org";

class HttpCoreAgainstEmulator : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta", "gamma"};  // no consent is ever given for gamma
    emu_ = EmulatorProcess::Start(opts);
    login_ = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha", "beta"}));
    http::HttpConfig cfg;
    cfg.ca_file = emu_->ca_file().string();
    cfg.timeout_s = 10;
    // Real sleeps, but short ones: the policy is the SDK's, with max_sleep cut
    // so a 5-retry test takes well under a second.
    http::RetryOptions retry;
    retry.max_sleep = std::chrono::milliseconds(20);
    client_ = std::make_unique<http::HttpClient>(cfg, std::make_shared<http::RealClock>(),
                                                 http::RetryPolicy(retry));
  }

  std::string LsUrl(const std::string& collection = "alpha") {
    return emu_->base_url() + "/v0.10/operation/endpoint/" + emu_->collection_id(collection) + "/ls?path=/";
  }

  http::HeaderList Bearer(const std::string& rs = kTransferRs) {
    return {{"Authorization", "Bearer " + login_.access_tokens.at(rs)}};
  }

  std::unique_ptr<EmulatorProcess> emu_;
  testing::LoginResult login_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(HttpCoreAgainstEmulator, RetriesInjected503And429ThenSucceeds) {
  emu_->AddFault({{"route", "transfer.ls"}, {"status", 503}, {"count", 2}});
  emu_->AddFault({{"route", "transfer.ls"}, {"status", 429}, {"retry_after", 0}, {"count", 1}});
  auto r = client_->GetJson(LsUrl(), nullptr, Bearer());
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ((*r)["DATA_TYPE"], "file_list");
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 4u);
}

TEST_F(HttpCoreAgainstEmulator, RetriesDroppedAndTruncatedResponses) {
  emu_->AddFault({{"route", "transfer.ls"}, {"drop", true}, {"count", 1}});
  emu_->AddFault({{"route", "transfer.ls"}, {"truncate", true}, {"count", 1}});
  auto r = client_->GetJson(LsUrl(), nullptr, Bearer());
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 3u);
}

TEST_F(HttpCoreAgainstEmulator, GivesUpAfterTheCapWithTheParsedError) {
  emu_->AddFault({{"route", "transfer.ls"}, {"status", 503}, {"code", "ServiceUnavailable"}});
  auto r = client_->GetJson(LsUrl(), nullptr, Bearer());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kHttp);
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_EQ(r.error().code, "ServiceUnavailable");
  EXPECT_FALSE(r.error().request_id.empty());
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 6u) << "one try and five retries";
}

TEST_F(HttpCoreAgainstEmulator, DoesNotRetryA502ExternalError) {
  emu_->AddFault({{"route", "transfer.ls"}, {"status", 502}, {"code", "ExternalError.DirListingFailed"}});
  auto r = client_->GetJson(LsUrl(), nullptr, Bearer());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ExternalError.DirListingFailed");
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 1u);
}

TEST_F(HttpCoreAgainstEmulator, RefusesAServerWhoseCertificateIsNotTrusted) {
  http::HttpConfig cfg;  // system trust store: the emulator's CA is not in it
  cfg.timeout_s = 10;
  http::HttpClient untrusting(cfg, std::make_shared<http::RealClock>());
  http::HttpRequest req;
  req.url = LsUrl();
  req.headers = Bearer();
  auto r = untrusting.Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kTls);
  EXPECT_NE(r.error().message.find("GLOBUS_SDK_VERIFY_SSL"), std::string::npos);
  EXPECT_EQ(r.error().message.find(login_.access_tokens.at(kTransferRs)), std::string::npos);
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 0u);
}

TEST_F(HttpCoreAgainstEmulator, ParsesTransferErrorDocuments) {
  // 401 without a token.
  auto r = client_->GetJson(LsUrl());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 401);
  EXPECT_EQ(r.error().code, "ClientError.AuthenticationFailed");
  // 404 for an unknown collection.
  r = client_->GetJson(emu_->base_url() + "/v0.10/endpoint/" + testing::RandomUuid(), nullptr, Bearer());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 404);
  EXPECT_EQ(r.error().code, "EndpointNotFound");
  // 404 for a missing path; ls says ClientError.NotFound, stat says NotFound.
  r = client_->GetJson(emu_->base_url() + "/v0.10/operation/endpoint/" + emu_->collection_id("alpha") +
                           "/ls?path=/nope",
                       nullptr, Bearer());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ClientError.NotFound");
  r = client_->GetJson(emu_->base_url() + "/v0.10/operation/endpoint/" + emu_->collection_id("alpha") +
                           "/stat?path=/nope",
                       nullptr, Bearer());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NotFound");
  EXPECT_NE(r.error().message.find("PATH_NOT_FOUND"), std::string::npos);
  // 502 ExternalError.MkdirFailed.Exists, not retried.
  std::string mkdir = emu_->base_url() + "/v0.10/operation/endpoint/" + emu_->collection_id("alpha") + "/mkdir";
  ASSERT_TRUE(client_->PostJson(mkdir, {{"DATA_TYPE", "mkdir"}, {"path", "/d"}}, nullptr, Bearer()).ok());
  auto again = client_->PostJson(mkdir, {{"DATA_TYPE", "mkdir"}, {"path", "/d"}}, nullptr, Bearer());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().http_status, 502);
  EXPECT_EQ(again.error().code, "ExternalError.MkdirFailed.Exists");
}

TEST_F(HttpCoreAgainstEmulator, ParsesConsentRequired) {
  auto r = client_->GetJson(LsUrl("gamma"), nullptr, Bearer());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(r.error().code, "ConsentRequired");
  EXPECT_TRUE(r.error().IsConsentRequired());
  ASSERT_EQ(r.error().required_scopes.size(), 1u);
  EXPECT_EQ(r.error().required_scopes[0],
            "urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/" +
                emu_->collection_id("gamma") + "/data_access]");
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 1u) << "a 403 is not retried";
}

TEST_F(HttpCoreAgainstEmulator, ParsesAuthAndOAuthErrors) {
  // Auth's JSON:API-like format.
  auto r = client_->GetJson(emu_->base_url() + "/v2/api/identities?ids=x&usernames=y", nullptr,
                            Bearer("auth.globus.org"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(r.error().code, "INVALID_PARAMETERS");
  r = client_->GetJson(emu_->base_url() + "/v2/oauth2/userinfo", nullptr, {{"Authorization", "Bearer nope"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 401);
  EXPECT_EQ(r.error().code, "UNAUTHORIZED");
  // OAuth2 token endpoint: invalid_grant, and the refresh token is not echoed.
  std::string bad_refresh = "emu-rt-not-a-real-token";
  auto t = client_->PostForm(emu_->base_url() + "/v2/oauth2/token",
                             {{"grant_type", "refresh_token"}, {"refresh_token", bad_refresh},
                              {"client_id", emu_->client_id()}});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().http_status, 401);
  EXPECT_EQ(t.error().code, "invalid_grant");
  EXPECT_EQ(t.error().Summary().find(bad_refresh), std::string::npos);
}

TEST_F(HttpCoreAgainstEmulator, RefreshesOnceOn401ThroughTheAuthorizer) {
  // An authorizer whose first token has been expired by the emulator.
  struct Refreshing : http::Authorizer {
    std::string token;
    std::string fresh;
    int refreshes = 0;
    http::Result<std::string> AuthorizationHeader() override { return "Bearer " + token; }
    bool HandleUnauthorized() override {
      ++refreshes;
      token = fresh;
      return true;
    }
  } authz;
  authz.token = login_.access_tokens.at(kTransferRs);
  emu_->ExpireTokens(kTransferRs);
  auto refreshed = client_->PostForm(emu_->base_url() + "/v2/oauth2/token",
                                     {{"grant_type", "refresh_token"},
                                      {"refresh_token", login_.refresh_tokens.at(kTransferRs)},
                                      {"client_id", emu_->client_id()}});
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().Summary();
  authz.fresh = (*refreshed)["access_token"];
  auto r = client_->GetJson(LsUrl(), &authz);
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(authz.refreshes, 1);
}

}  // namespace
}  // namespace globusfs
