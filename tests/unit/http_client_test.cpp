// HttpClient without a server: transport failures are Errors (never
// crashes), are classified, are retried on the injected clock, and never
// leak credentials or query strings into messages. Tests against real
// responses run against the Globus emulator (tests/integration).
#include "auth/http/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tls_refusing_server.h"

namespace globusfs::http {
namespace {

using test_support::SilentListener;
using test_support::TlsRefusingServer;
using test_support::UnusedLoopbackPort;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "SECRET-TOKEN-123";

class FakeAuthorizer : public Authorizer {
 public:
  Result<std::string> AuthorizationHeader() override {
    ++header_calls;
    return std::string("Bearer ") + kToken;
  }
  bool HandleUnauthorized() override {
    ++unauthorized_calls;
    return true;
  }
  std::atomic<int> header_calls{0};
  std::atomic<int> unauthorized_calls{0};
};

class HttpClientTest : public ::testing::Test {
 protected:
  HttpClientTest() {
    config_.timeout_s = 5;
    clock_ = std::make_shared<FakeClock>();
    client_ = std::make_unique<HttpClient>(config_, clock_);
  }

  static std::string Url(int port, const std::string& rest = "/v0.10/operation/ls") {
    return "https://127.0.0.1:" + std::to_string(port) + rest;
  }

  static void ExpectNoSecrets(const Error& error) {
    for (const std::string& text : {error.message, error.Summary()}) {
      EXPECT_THAT(text, Not(HasSubstr("Bearer")));
      EXPECT_THAT(text, Not(HasSubstr(kToken)));
      EXPECT_THAT(text, Not(HasSubstr("code=")));
      EXPECT_THAT(text, Not(HasSubstr("CODE-XYZ")));
      EXPECT_THAT(text, Not(HasSubstr("?")));
    }
  }

  HttpConfig config_;
  std::shared_ptr<FakeClock> clock_;
  std::unique_ptr<HttpClient> client_;
  FakeAuthorizer authorizer_;
};

TEST_F(HttpClientTest, ClosedPortIsANetworkError) {
  HttpRequest request;
  request.url = Url(UnusedLoopbackPort(), "/v2/oauth2/token?code=CODE-XYZ&state=s");
  request.retry = false;
  const Result<HttpResponse> response = client_->Send(request, &authorizer_);
  ASSERT_FALSE(response.ok());
  const Error& error = response.error();
  EXPECT_EQ(error.kind, ErrorKind::kNetwork) << error.Summary();
  EXPECT_FALSE(error.resent_after_transport_failure) << "sent once, not resent";
  EXPECT_EQ(error.http_status, 0);
  EXPECT_THAT(error.message, HasSubstr("GET https://127.0.0.1:"));
  EXPECT_THAT(error.message, HasSubstr("/v2/oauth2/token"));
  ExpectNoSecrets(error);
  EXPECT_TRUE(clock_->Sleeps().empty());
  EXPECT_EQ(authorizer_.header_calls, 1);
  EXPECT_EQ(authorizer_.unauthorized_calls, 0);
}

TEST_F(HttpClientTest, NetworkErrorsAreRetriedFiveTimesOnTheClock) {
  HttpRequest request;
  request.url = Url(UnusedLoopbackPort());
  const Result<HttpResponse> response = client_->Send(request, &authorizer_);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kNetwork);
  // FakeClock's default random is 0.5: (0.25 + 0.25) * 2^attempt seconds.
  const std::vector<std::chrono::nanoseconds> expected = {
      std::chrono::milliseconds(500), std::chrono::milliseconds(1000),
      std::chrono::milliseconds(2000), std::chrono::milliseconds(4000),
      std::chrono::milliseconds(8000)};
  EXPECT_EQ(clock_->Sleeps(), expected);
  EXPECT_EQ(authorizer_.header_calls, 6);  // asked again before every attempt
  // The last error answers a resend after transport failures: a request
  // that is not idempotent may have taken effect.
  EXPECT_TRUE(response.error().resent_after_transport_failure);
}

TEST_F(HttpClientTest, ExplicitRetryPolicyIsUsed) {
  HttpClient client(config_, clock_,
                    RetryPolicy(RetryOptions{.max_retries = 1}, [] { return 0.0; }));
  HttpRequest request;
  request.url = Url(UnusedLoopbackPort());
  ASSERT_FALSE(client.Send(request).ok());
  EXPECT_EQ(clock_->Sleeps(),
            std::vector<std::chrono::nanoseconds>{std::chrono::milliseconds(250)});
}

TEST_F(HttpClientTest, UntrustedCertificateIsATlsErrorWithoutSecrets) {
  TlsRefusingServer server(TlsRefusingServer::Mode::kUntrustedCertificate);
  HttpRequest request;
  request.method = "POST";
  request.url = Url(server.port(), "/v2/oauth2/token?code=CODE-XYZ");
  request.headers = {{"X-Secret-Header", "hdr-value-456"}};
  request.body = "refresh_token=RT-789";
  const Result<HttpResponse> response = client_->Send(request, &authorizer_);
  ASSERT_FALSE(response.ok());
  const Error& error = response.error();
  EXPECT_EQ(error.kind, ErrorKind::kTls) << error.Summary();
  EXPECT_THAT(error.message, HasSubstr("certificate was not trusted"));
  EXPECT_THAT(error.message, HasSubstr("GLOBUS_SDK_VERIFY_SSL"));
  EXPECT_THAT(error.message, HasSubstr("POST https://127.0.0.1:"));
  ExpectNoSecrets(error);
  EXPECT_THAT(error.message, Not(HasSubstr("hdr-value-456")));
  EXPECT_THAT(error.message, Not(HasSubstr("RT-789")));
  // TLS failures are not transient: no retry.
  EXPECT_TRUE(clock_->Sleeps().empty());
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(HttpClientTest, PlainTextServerIsATlsError) {
  TlsRefusingServer server(TlsRefusingServer::Mode::kPlainText);
  HttpRequest request;
  request.url = Url(server.port(), "/?token=abc");
  const Result<HttpResponse> response = client_->Send(request, &authorizer_);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kTls) << response.error().Summary();
  EXPECT_THAT(response.error().message, HasSubstr("GLOBUS_SDK_VERIFY_SSL"));
  ExpectNoSecrets(response.error());
  EXPECT_THAT(response.error().message, Not(HasSubstr("token")));
  EXPECT_TRUE(clock_->Sleeps().empty());
}

TEST_F(HttpClientTest, StalledHandshakeIsATimeout) {
  SilentListener listener;
  config_.timeout_s = 0.3;
  HttpClient client(config_, clock_);
  HttpRequest request;
  request.url = Url(listener.port());
  request.retry = false;
  const auto start = std::chrono::steady_clock::now();
  const Result<HttpResponse> response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kTimeout) << response.error().Summary();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpClientTest, PlainHttpUrlIsRefused) {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(UnusedLoopbackPort()) + "/";
  const Result<HttpResponse> response = client_->Send(request, &authorizer_);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kConfig) << response.error().Summary();
  EXPECT_TRUE(clock_->Sleeps().empty());
}

TEST_F(HttpClientTest, HeaderInjectionIsRefusedBeforeSending) {
  HttpRequest request;
  request.url = Url(UnusedLoopbackPort());
  request.headers = {{"X-Ok", "a\r\nX-Injected: 1"}};
  Result<HttpResponse> response = client_->Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kConfig);
  EXPECT_THAT(response.error().message, Not(HasSubstr("Injected")));

  request.headers = {{"Bad Name", "v"}};
  response = client_->Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kConfig);

  request.headers = {};
  request.method = "GE T";
  response = client_->Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kConfig);
  EXPECT_TRUE(clock_->Sleeps().empty());
}

TEST_F(HttpClientTest, AuthorizerErrorIsReturnedAsIs) {
  class NotLoggedIn : public Authorizer {
   public:
    Result<std::string> AuthorizationHeader() override {
      return MakeError(ErrorKind::kConfig, "not logged in");
    }
    bool HandleUnauthorized() override { return false; }
  } authorizer;
  HttpRequest request;
  request.url = Url(UnusedLoopbackPort());
  const Result<HttpResponse> response = client_->Send(request, &authorizer);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kConfig);
  EXPECT_EQ(response.error().message, "not logged in");
  EXPECT_TRUE(clock_->Sleeps().empty());
}

TEST_F(HttpClientTest, StreamedUploadWithoutRewindIsStillAttempted) {
  HttpRequest request;
  request.method = "PUT";
  request.url = Url(UnusedLoopbackPort(), "/file.bin");
  request.body_size = 3;
  request.body_source = [](char* buffer, size_t size) -> size_t {
    if (size < 3) return 0;
    std::memcpy(buffer, "abc", 3);
    return 3;
  };
  request.retry = false;
  const Result<HttpResponse> response = client_->Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kNetwork);
  EXPECT_THAT(response.error().message, HasSubstr("PUT https://127.0.0.1:"));
}

TEST_F(HttpClientTest, JsonHelpersReturnTransportErrors) {
  const std::string url = Url(UnusedLoopbackPort());
  HttpClient client(config_, clock_, RetryPolicy(RetryOptions{.max_retries = 0}));
  EXPECT_EQ(client.GetJson(url).error().kind, ErrorKind::kNetwork);
  EXPECT_EQ(client.PostJson(url, {{"DATA_TYPE", "mkdir"}}).error().kind, ErrorKind::kNetwork);
  EXPECT_EQ(client.PostForm(url, {{"grant_type", "refresh_token"}}).error().kind,
            ErrorKind::kNetwork);
}

TEST_F(HttpClientTest, ConcurrentSendsAreSafe) {
  const std::string url = Url(UnusedLoopbackPort());
  std::atomic<int> network_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        HttpRequest request;
        request.url = url;
        request.retry = false;
        const Result<HttpResponse> response = client_->Send(request, &authorizer_);
        if (!response.ok() && response.error().kind == ErrorKind::kNetwork) ++network_errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(network_errors, 40);
}

TEST(HttpResponseTest, HeaderLookupIsCaseInsensitive) {
  HttpResponse response;
  response.headers = {{"retry-after", "3"}, {"content-type", "application/json"}};
  EXPECT_EQ(response.Header("Retry-After"), "3");
  EXPECT_EQ(response.Header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(response.Header("location"), std::nullopt);
}

TEST(FakeClockTest, SleepAdvancesTimeAndRecords) {
  FakeClock clock;
  const auto steady = clock.Now();
  const auto wall = clock.SystemNow();
  clock.SleepFor(std::chrono::seconds(2));
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(clock.Now() - steady, std::chrono::seconds(3));
  EXPECT_EQ(clock.SystemNow() - wall, std::chrono::seconds(3));
  EXPECT_EQ(clock.Sleeps(), std::vector<std::chrono::nanoseconds>{std::chrono::seconds(2)});
  clock.PushRandom(0.1);
  EXPECT_EQ(clock.Random(), 0.1);
  EXPECT_EQ(clock.Random(), 0.5);
}

}  // namespace
}  // namespace globusfs::http
