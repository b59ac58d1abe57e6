// ParseErrorDocument and Error: every Globus error format of globus-api.md §3, §4.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "auth/http/error.h"

namespace globusfs::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(ParseErrorDocumentTest, TransferTypeZero) {
  const Error e = ParseErrorDocument(400, R"({"code": "ClientError.BadRequest.NoTransferItems",
               "message": "A transfer requires at least one item",
               "request_id": "oUAA6Sq2P", "resource": "/v0.10/transfer"})");
  EXPECT_EQ(e.kind, ErrorKind::kHttp);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "ClientError.BadRequest.NoTransferItems");
  EXPECT_EQ(e.message, "A transfer requires at least one item");
  EXPECT_EQ(e.request_id, "oUAA6Sq2P");
  EXPECT_TRUE(e.authorization_parameters.is_null());
  EXPECT_FALSE(e.IsConsentRequired());
  EXPECT_FALSE(e.HasSessionRequirements());
  EXPECT_EQ(e.Summary(),
            "HTTP 400 ClientError.BadRequest.NoTransferItems: A transfer requires at least one "
            "item (request_id oUAA6Sq2P)");
}

TEST(ParseErrorDocumentTest, TransferConsentRequired) {
  const std::string scope =
      "urn:globus:auth:scope:transfer.api.globus.org:all"
      "[*https://auth.globus.org/scopes/c0ll/data_access]";
  const Error e = ParseErrorDocument(403, R"({
    "code": "ConsentRequired",
    "message": "Missing required data_access consent",
    "request_id": "m8RfX3cES",
    "resource": "/operation/endpoint/c0ll/ls",
    "required_scopes": [")" + scope + R"("],
    "authorization_parameters": {
      "required_scopes": [")" + scope + R"("],
      "session_message": "Missing required data_access consent"
    }
  })");
  EXPECT_EQ(e.code, "ConsentRequired");
  EXPECT_EQ(e.request_id, "m8RfX3cES");
  EXPECT_THAT(e.required_scopes, ElementsAre(scope));  // de-duplicated
  EXPECT_TRUE(e.IsConsentRequired());
  // session_message alone is not a session requirement.
  EXPECT_FALSE(e.HasSessionRequirements());
}

TEST(ParseErrorDocumentTest, ConsentRequiredWithSingleRequiredScopeString) {
  const Error e = ParseErrorDocument(
      403, R"({"code": "ConsentRequired", "message": "m", "required_scope": "urn:x:scope"})");
  EXPECT_THAT(e.required_scopes, ElementsAre("urn:x:scope"));
  EXPECT_TRUE(e.IsConsentRequired());
}

TEST(ParseErrorDocumentTest, ConsentRequiredWithoutScopesIsNotConsentRequired) {
  const Error e = ParseErrorDocument(403, R"({"code": "ConsentRequired", "message": "m"})");
  EXPECT_FALSE(e.IsConsentRequired());
}

TEST(ParseErrorDocumentTest, AuthPolicyFailedWithCommaSeparatedPolicies) {
  const Error e = ParseErrorDocument(403, R"({
    "code": "AuthPolicyFailed", "message": "Failing collection authentication policy",
    "authorization_parameters": {
      "session_message": "Failing collection authentication policy",
      "session_required_policies": "uuid1, uuid2,,"}})");
  EXPECT_EQ(e.code, "AuthPolicyFailed");
  EXPECT_TRUE(e.HasSessionRequirements());
  EXPECT_FALSE(e.IsConsentRequired());
  EXPECT_EQ(e.authorization_parameters["session_required_policies"],
            nlohmann::json::array({"uuid1", "uuid2"}));
  EXPECT_EQ(e.authorization_parameters["session_message"],
            "Failing collection authentication policy");
}

TEST(ParseErrorDocumentTest, PoliciesAsListStayAList) {
  const Error e = ParseErrorDocument(403, R"({"code": "AuthPolicyFailed", "message": "m",
               "authorization_parameters": {"session_required_policies": ["p1", "p2"]}})");
  EXPECT_EQ(e.authorization_parameters["session_required_policies"],
            nlohmann::json::array({"p1", "p2"}));
  EXPECT_TRUE(e.HasSessionRequirements());
}

TEST(ParseErrorDocumentTest, ExternalLoginFailedWithSingleDomain) {
  const std::string body = R"json({
    "code": "ExternalError.DirListingFailed.LoginFailed",
    "message": "Command Failed: Error (login)\nEndpoint: HA Collection (c0ll)\nServer: gcs.example.org:443\nMessage: Login Failed\n---\nDetails: 530-Login incorrect. : GlobusError: v=1 c=LOGIN_DENIED\r\n530-GridFTP-JSON-Result: {\"DATA_TYPE\": \"result#1.0.0\", \"code\": \"permission_denied\", \"detail\": {\"DATA_TYPE\": \"not_from_allowed_domain#1.0.0\", \"allowed_domains\": [\"uchicago.edu\"]}}\r\n530 End.\r\n",
    "request_id": "Ab3", "resource": "/operation/endpoint/c0ll/ls",
    "authorization_parameters": {
      "session_message": "Session reauthentication required (Globus Transfer)",
      "session_required_single_domain": ["uchicago.edu"]}})json";
  const Error e = ParseErrorDocument(502, body);
  EXPECT_EQ(e.http_status, 502);
  EXPECT_EQ(e.code, "ExternalError.DirListingFailed.LoginFailed");
  EXPECT_TRUE(e.HasSessionRequirements());
  EXPECT_EQ(e.authorization_parameters["session_required_single_domain"],
            nlohmann::json::array({"uchicago.edu"}));
  EXPECT_THAT(e.message, HasSubstr("LOGIN_DENIED"));
  // The summary keeps only the first line of the multi-line message.
  EXPECT_EQ(e.Summary(),
            "HTTP 502 ExternalError.DirListingFailed.LoginFailed: Command Failed: Error (login) "
            "(request_id Ab3)");
}

TEST(ParseErrorDocumentTest, SessionRequirementMustBeNonEmpty) {
  const Error empty_list = ParseErrorDocument(
      403, R"({"code": "X", "authorization_parameters": {"session_required_identities": []}})");
  EXPECT_FALSE(empty_list.HasSessionRequirements());
  const Error mfa_false = ParseErrorDocument(
      403, R"({"code": "X", "authorization_parameters": {"session_required_mfa": false}})");
  EXPECT_FALSE(mfa_false.HasSessionRequirements());
  const Error mfa_true = ParseErrorDocument(
      403, R"({"code": "X", "authorization_parameters": {"session_required_mfa": true}})");
  EXPECT_TRUE(mfa_true.HasSessionRequirements());
}

TEST(ParseErrorDocumentTest, GareRequiredScopesInsideAuthorizationParameters) {
  const Error e = ParseErrorDocument(403, R"({"code": "ConsentRequired",
               "authorization_parameters": {"required_scopes": ["s1", "s2"]}})");
  EXPECT_THAT(e.required_scopes, ElementsAre("s1", "s2"));
  EXPECT_TRUE(e.IsConsentRequired());
  EXPECT_FALSE(e.HasSessionRequirements());
}

TEST(ParseErrorDocumentTest, AuthJsonApiUnauthorized) {
  const Error e = ParseErrorDocument(401, R"({
    "errors": [{"status": "401", "id": "4e8f-uuid", "code": "UNAUTHORIZED",
                "detail": "Call must be authenticated", "title": "Unauthorized"}],
    "error_description": "Unauthorized", "error": "unauthorized"})");
  EXPECT_EQ(e.code, "UNAUTHORIZED");
  EXPECT_EQ(e.message, "Call must be authenticated");
  EXPECT_EQ(e.request_id, "4e8f-uuid");
  EXPECT_EQ(e.Summary(),
            "HTTP 401 UNAUTHORIZED: Call must be authenticated (request_id 4e8f-uuid)");
}

TEST(ParseErrorDocumentTest, AuthJsonApiTitleWhenNoDetail) {
  const Error e = ParseErrorDocument(
      403, R"({"errors": [{"code": "FORBIDDEN", "title": "Forbidden"}], "error": "forbidden"})");
  EXPECT_EQ(e.code, "FORBIDDEN");
  EXPECT_EQ(e.message, "Forbidden");
}

TEST(ParseErrorDocumentTest, OAuthInvalidGrant) {
  const Error bare = ParseErrorDocument(401, R"({"error": "invalid_grant"})");
  EXPECT_EQ(bare.code, "invalid_grant");
  EXPECT_EQ(bare.message, "");
  EXPECT_EQ(bare.Summary(), "HTTP 401 invalid_grant");

  const Error described = ParseErrorDocument(
      400, R"({"error": "invalid_grant", "error_description": "Refresh token is invalid"})");
  EXPECT_EQ(described.code, "invalid_grant");
  EXPECT_EQ(described.message, "Refresh token is invalid");
}

TEST(ParseErrorDocumentTest, NonJsonBodyIsNeverCopied) {
  const std::string body = "<html><body>Service Unavailable: secret-ish proxy page</body></html>";
  const Error e = ParseErrorDocument(503, body);
  EXPECT_EQ(e.kind, ErrorKind::kHttp);
  EXPECT_EQ(e.http_status, 503);
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "HTTP 503 (non-JSON body, " + std::to_string(body.size()) + " bytes)");
  EXPECT_THAT(e.Summary(), Not(HasSubstr("proxy")));
}

TEST(ParseErrorDocumentTest, EmptyBody) {
  EXPECT_EQ(ParseErrorDocument(500, "").message, "HTTP 500 (empty body)");
}

TEST(ParseErrorDocumentTest, TruncatedJsonIsTreatedAsNonJson) {
  const std::string body = R"({"code": "NotFound", "message": "Path not fo)";
  const Error e = ParseErrorDocument(404, body);
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "HTTP 404 (non-JSON body, " + std::to_string(body.size()) + " bytes)");
  EXPECT_THAT(e.message, Not(HasSubstr("Path")));
}

TEST(ParseErrorDocumentTest, JsonWithoutErrorFieldsIsNotCopied) {
  const Error array = ParseErrorDocument(500, R"(["token", "abc"])");
  EXPECT_EQ(array.code, "");
  EXPECT_THAT(array.message, HasSubstr("HTTP 500 (JSON body"));
  EXPECT_THAT(array.message, Not(HasSubstr("token")));

  const Error object = ParseErrorDocument(500, R"({"access_token": "abc"})");
  EXPECT_EQ(object.code, "");
  EXPECT_THAT(object.message, HasSubstr("without an error message"));
  EXPECT_THAT(object.message, Not(HasSubstr("abc")));
}

TEST(ParseErrorDocumentTest, NonStringFieldsAreIgnored) {
  const Error e =
      ParseErrorDocument(500, R"({"code": 17, "message": {"nested": true}, "request_id": null,
               "authorization_parameters": "not an object", "required_scopes": [1, "ok"]})");
  EXPECT_EQ(e.code, "");
  EXPECT_TRUE(e.authorization_parameters.is_null());
  EXPECT_THAT(e.required_scopes, ElementsAre("ok"));
}

TEST(ParseErrorDocumentTest, HugeMessageIsBounded) {
  const std::string huge(100000, 'x');
  const Error e = ParseErrorDocument(
      502, R"({"code": "ExternalError.X", "message": ")" + huge + R"(", "request_id": "r"})");
  EXPECT_LE(e.message.size(), kMaxErrorMessage);
  EXPECT_GE(e.message.size(), kMaxErrorMessage - 3);
  EXPECT_TRUE(e.message.ends_with("..."));
  EXPECT_LE(e.Summary().size(), 400u);
}

TEST(ParseErrorDocumentTest, HugeCodeAndRequestIdAreBounded) {
  const std::string huge(5000, 'c');
  const Error e = ParseErrorDocument(
      500, R"({"code": ")" + huge + R"(", "message": "m", "request_id": ")" + huge + R"("})");
  EXPECT_LE(e.code.size(), 256u);
  EXPECT_LE(e.request_id.size(), 128u);
}

TEST(TruncateUtf8Test, DoesNotSplitMultiByteSequences) {
  const std::string text = "ab\xC3\xA9\xC3\xA9\xC3\xA9";  // "abééé", 8 bytes
  EXPECT_EQ(TruncateUtf8(text, 8), text);
  EXPECT_EQ(TruncateUtf8(text, 7), "ab\xC3\xA9...");
  EXPECT_EQ(TruncateUtf8(text, 6), "ab...");  // would split the 2nd é
  EXPECT_EQ(TruncateUtf8(text, 2), "..");
}

TEST(ErrorTest, SummaryOfNonHttpErrors) {
  EXPECT_EQ(MakeError(ErrorKind::kNetwork, "GET https://h/p: refused\nmore").Summary(),
            "network: GET https://h/p: refused");
  EXPECT_EQ(MakeError(ErrorKind::kTimeout, "").Summary(), "timeout");
  EXPECT_EQ(MakeError(ErrorKind::kConfig, std::string(5000, 'y')).message.size(), kMaxErrorMessage);
}

TEST(ErrorTest, KindNames) {
  EXPECT_EQ(ErrorKindName(ErrorKind::kTls), "tls");
  EXPECT_EQ(ErrorKindName(ErrorKind::kHttp), "http");
  EXPECT_EQ(ErrorKindName(ErrorKind::kMalformed), "malformed");
  EXPECT_EQ(ErrorKindName(ErrorKind::kCancelled), "cancelled");
}

}  // namespace
}  // namespace globusfs::http
