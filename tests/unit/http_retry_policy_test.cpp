// RetryPolicy: the Globus SDK's retry rules (globus-api.md §1.3).
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "auth/http/retry_policy.h"

namespace globusfs::http {
namespace {

using std::chrono::milliseconds;

RetryPolicy::Outcome Status(int status, std::string code = "",
                            std::optional<std::string> retry_after = std::nullopt) {
  RetryPolicy::Outcome outcome;
  outcome.http_status = status;
  outcome.code = std::move(code);
  outcome.retry_after = std::move(retry_after);
  return outcome;
}

RetryPolicy::Outcome Transport(ErrorKind kind) {
  RetryPolicy::Outcome outcome;
  outcome.transport_error = kind;
  return outcome;
}

RetryPolicy FixedRandom(double value) {
  return RetryPolicy(RetryOptions{}, [value] { return value; });
}

TEST(RetryPolicyTest, RetriesOnlyTheSdkStatuses) {
  const RetryPolicy policy = FixedRandom(0.5);
  for (int status : {429, 500, 502, 503, 504}) {
    EXPECT_TRUE(policy.Decide(0, Status(status)).has_value()) << status;
  }
  for (int status : {200, 301, 400, 401, 403, 404, 409, 501, 505, 599}) {
    EXPECT_FALSE(policy.Decide(0, Status(status)).has_value()) << status;
  }
}

TEST(RetryPolicyTest, NeverRetriesEndpointErrorsOn5xx) {
  const RetryPolicy policy = FixedRandom(0.5);
  EXPECT_FALSE(policy.Decide(0, Status(502, "ExternalError.DirListingFailed.GCDisconnected")));
  EXPECT_FALSE(policy.Decide(0, Status(502, "ExternalError.MkdirFailed.Exists")));
  EXPECT_FALSE(policy.Decide(0, Status(500, "EndpointError")));
  EXPECT_FALSE(policy.Decide(0, Status(503, "Foo.EndpointError.Bar")));
  // Other codes on retryable statuses are retried.
  EXPECT_TRUE(policy.Decide(0, Status(503, "ServiceUnavailable")));
  EXPECT_TRUE(policy.Decide(0, Status(500, "")));
  // The rule is about 5xx only.
  EXPECT_TRUE(policy.Decide(0, Status(429, "ExternalError.Whatever")));
}

TEST(RetryPolicyTest, TransportErrors) {
  const RetryPolicy policy = FixedRandom(0.5);
  EXPECT_TRUE(policy.Decide(0, Transport(ErrorKind::kNetwork)));
  EXPECT_TRUE(policy.Decide(0, Transport(ErrorKind::kTimeout)));
  EXPECT_FALSE(policy.Decide(0, Transport(ErrorKind::kTls)));
  EXPECT_FALSE(policy.Decide(0, Transport(ErrorKind::kConfig)));
  EXPECT_FALSE(policy.Decide(0, Transport(ErrorKind::kCancelled)));
  EXPECT_FALSE(policy.Decide(0, Transport(ErrorKind::kMalformed)));
}

TEST(RetryPolicyTest, AtMostFiveRetries) {
  const RetryPolicy policy = FixedRandom(0.5);
  for (int attempt = 0; attempt < 5; ++attempt) {
    EXPECT_TRUE(policy.Decide(attempt, Status(503))) << attempt;
  }
  EXPECT_FALSE(policy.Decide(5, Status(503)));
  EXPECT_FALSE(policy.Decide(6, Transport(ErrorKind::kNetwork)));
  EXPECT_FALSE(policy.Decide(-1, Status(503)));
}

TEST(RetryPolicyTest, MaxRetriesIsConfigurable) {
  const RetryPolicy policy(RetryOptions{.max_retries = 2}, [] { return 0.0; });
  EXPECT_TRUE(policy.Decide(1, Status(500)));
  EXPECT_FALSE(policy.Decide(2, Status(500)));
}

TEST(RetryPolicyTest, BackoffLowerBound) {
  const RetryPolicy policy = FixedRandom(0.0);
  EXPECT_EQ(policy.Decide(0, Status(500)), milliseconds(250));
  EXPECT_EQ(policy.Decide(1, Status(500)), milliseconds(500));
  EXPECT_EQ(policy.Decide(2, Status(500)), milliseconds(1000));
  EXPECT_EQ(policy.Decide(3, Status(500)), milliseconds(2000));
  EXPECT_EQ(policy.Decide(4, Status(500)), milliseconds(4000));
}

TEST(RetryPolicyTest, BackoffUpperBoundIsCappedAtTenSeconds) {
  const RetryPolicy policy = FixedRandom(1.0);
  EXPECT_EQ(policy.Decide(0, Transport(ErrorKind::kNetwork)), milliseconds(750));
  EXPECT_EQ(policy.Decide(1, Transport(ErrorKind::kNetwork)), milliseconds(1500));
  EXPECT_EQ(policy.Decide(2, Transport(ErrorKind::kNetwork)), milliseconds(3000));
  EXPECT_EQ(policy.Decide(3, Transport(ErrorKind::kNetwork)), milliseconds(6000));
  EXPECT_EQ(policy.Decide(4, Transport(ErrorKind::kNetwork)), milliseconds(10000));  // not 12 s
}

TEST(RetryPolicyTest, BackoffMidpoint) {
  const RetryPolicy policy = FixedRandom(0.5);
  EXPECT_EQ(policy.Decide(0, Status(502)), milliseconds(500));
  EXPECT_EQ(policy.Decide(3, Status(502)), milliseconds(4000));
}

TEST(RetryPolicyTest, DefaultRandomStaysInBounds) {
  const RetryPolicy policy;
  for (int i = 0; i < 100; ++i) {
    const auto delay = policy.Decide(1, Status(504));
    ASSERT_TRUE(delay);
    EXPECT_GE(*delay, milliseconds(500));
    EXPECT_LE(*delay, milliseconds(1500));
  }
}

TEST(RetryPolicyTest, RetryAfterReplacesBackoffOn429And503) {
  const RetryPolicy policy = FixedRandom(0.0);
  EXPECT_EQ(policy.Decide(0, Status(429, "", "3")), milliseconds(3000));
  EXPECT_EQ(policy.Decide(3, Status(503, "", " 1 ")), milliseconds(1000));
  EXPECT_EQ(policy.Decide(0, Status(429, "", "0")), milliseconds(0));
}

TEST(RetryPolicyTest, RetryAfterIsCapped) {
  const RetryPolicy policy = FixedRandom(0.0);
  EXPECT_EQ(policy.Decide(0, Status(503, "", "120")), milliseconds(10000));
  EXPECT_EQ(policy.Decide(0, Status(429, "", "99999999999999999999")), milliseconds(250));
}

TEST(RetryPolicyTest, RetryAfterIgnoredWhenNotAnIntegerOrOtherStatus) {
  const RetryPolicy policy = FixedRandom(0.0);
  EXPECT_EQ(policy.Decide(0, Status(429, "", "1.5")), milliseconds(250));
  EXPECT_EQ(policy.Decide(0, Status(429, "", "Wed, 21 Oct 2015 07:28:00 GMT")), milliseconds(250));
  EXPECT_EQ(policy.Decide(0, Status(503, "", "-1")), milliseconds(250));
  EXPECT_EQ(policy.Decide(0, Status(503, "", "")), milliseconds(250));
  // Only 429 and 503 honour it.
  EXPECT_EQ(policy.Decide(0, Status(502, "", "3")), milliseconds(250));
  EXPECT_EQ(policy.Decide(0, Status(500, "", "3")), milliseconds(250));
}

TEST(RetryPolicyTest, RetryAfterDoesNotMakeANonRetryableStatusRetryable) {
  const RetryPolicy policy = FixedRandom(0.0);
  EXPECT_FALSE(policy.Decide(0, Status(400, "", "3")));
  EXPECT_FALSE(policy.Decide(0, Status(503, "ExternalError.X", "3")));
  EXPECT_FALSE(policy.Decide(5, Status(429, "", "3")));
}

}  // namespace
}  // namespace globusfs::http
