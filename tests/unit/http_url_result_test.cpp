// FormEncode, UrlEncodeComponent, RedactUrl and Result<T>.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "auth/http/result.h"
#include "auth/http/url.h"

namespace globusfs::http {
namespace {

TEST(FormEncodeTest, MatchesPythonUrlencode) {
  EXPECT_EQ(FormEncode({{"grant_type", "refresh_token"},
                        {"scope", "openid profile"},
                        {"redirect_uri", "https://auth.globus.org/v2/web/auth-code"}}),
            "grant_type=refresh_token&scope=openid+profile"
            "&redirect_uri=https%3A%2F%2Fauth.globus.org%2Fv2%2Fweb%2Fauth-code");
  EXPECT_EQ(FormEncode({{"a b", "x+y&z=w"}}), "a+b=x%2By%26z%3Dw");
  EXPECT_EQ(FormEncode({{"k", "_.-~"}}), "k=_.-~");
  EXPECT_EQ(FormEncode({{"k", "\xC3\xA9"}}), "k=%C3%A9");
  EXPECT_EQ(FormEncode({{"empty", ""}}), "empty=");
  EXPECT_EQ(FormEncode({}), "");
}

TEST(FormEncodeTest, DependentScopeBrackets) {
  EXPECT_EQ(FormEncode({{"scope",
                         "urn:globus:auth:scope:transfer.api.globus.org:all[*https://"
                         "auth.globus.org/scopes/X/data_access]"}}),
            "scope=urn%3Aglobus%3Aauth%3Ascope%3Atransfer.api.globus.org%3Aall%5B%2Ahttps%3A%2F%2F"
            "auth.globus.org%2Fscopes%2FX%2Fdata_access%5D");
}

TEST(UrlEncodeComponentTest, PercentEncodesReserved) {
  EXPECT_EQ(UrlEncodeComponent("a b/c?d&e=f#g"), "a%20b%2Fc%3Fd%26e%3Df%23g");
  EXPECT_EQ(UrlEncodeComponent("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(UrlEncodeComponent("100%+"), "100%25%2B");
  EXPECT_EQ(UrlEncodeComponent("/~/\xE2\x82\xAC"), "%2F~%2F%E2%82%AC");
  EXPECT_EQ(UrlEncodeComponent(std::string_view("\0x", 2)), "%00x");
  EXPECT_EQ(UrlEncodeComponent(""), "");
}

TEST(RedactUrlTest, DropsQueryFragmentAndUserInfo) {
  EXPECT_EQ(RedactUrl("https://auth.globus.org/v2/oauth2/token"),
            "https://auth.globus.org/v2/oauth2/token");
  EXPECT_EQ(RedactUrl("https://h:8443/cb?code=SECRET&state=x"), "https://h:8443/cb");
  EXPECT_EQ(RedactUrl("https://user:pw@h/p#frag"), "https://h/p");
  EXPECT_EQ(RedactUrl("https://h?token=abc"), "https://h");
  EXPECT_EQ(RedactUrl("/relative/path?x=1"), "/relative/path");
}

TEST(ResultTest, ValueAndError) {
  Result<int> ok = 42;
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(*ok, 42);
  EXPECT_EQ(ok.value(), 42);
  EXPECT_THROW((void)ok.error(), std::bad_variant_access);

  Result<int> bad = MakeError(ErrorKind::kTimeout, "slow");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kTimeout);
  EXPECT_THROW((void)bad.value(), std::bad_variant_access);
}

TEST(ResultTest, ConvertingConstructionAndArrow) {
  Result<std::string> text = "hello";
  EXPECT_EQ(text->size(), 5u);
  Result<std::unique_ptr<int>> moved = std::make_unique<int>(7);
  std::unique_ptr<int> owned = std::move(moved).value();
  EXPECT_EQ(*owned, 7);
}

TEST(ResultTest, Void) {
  Result<void> ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_NO_THROW(ok.value());
  EXPECT_THROW((void)ok.error(), std::bad_variant_access);
  Result<void> bad = MakeError(ErrorKind::kConfig, "x");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "x");
  EXPECT_THROW(bad.value(), std::bad_variant_access);
}

}  // namespace
}  // namespace globusfs::http
