// The classification table (fs/remote/remote_error.h): every row, from
// error bodies as Transfer, Auth and the HTTP core produce them, parsed by
// http::ParseErrorDocument exactly as the client parses real ones.
#include "fs/remote/remote_error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "fs/remote/transfer_json.h"

namespace globusfs::fs {
namespace {

using http::ErrorKind;

// GridFTP details as Transfer embeds them (the CR LF shown as "\r\n" text).
constexpr const char* kPathNotFound =
    R"(Path not found, Error (list)\nEndpoint: Tutorial (ab12)\nServer: s.example.org\nMessage: No such file or directory\n---\nDetails: 500-Command failed. : globus_l_gfs_file_stat:389:\\r\\n500-System error in stat: No such file or directory\\r\\n550-GlobusError: v=1 c=PATH_NOT_FOUND\\r\\n550 End.\\r\\n)";

std::string Grid(const std::string& c, const std::string& text = "Some system error") {
  return "Error (op)\\nMessage: Fatal FTP Response\\n---\\nDetails: 500-" + text +
         "\\r\\n500-GlobusError: v=1 c=" + c + "\\r\\n500-GridFTP-Errno: 1\\r\\n500 End.\\r\\n";
}

std::string Doc(const std::string& code, const std::string& message) {
  return R"({"code": ")" + code + R"(", "message": ")" + message +
         R"(", "request_id": "r1", "resource": "/v0.10/x"})";
}

// A collection HTTPS server's error (GCS "result#1.0.0", as globus-emulator sends it).
std::string Gcs(int status, const std::string& code, const std::string& extra = "") {
  return R"({"DATA_TYPE": "result#1.0.0", "http_response_code": )" + std::to_string(status) +
         R"(, "code": ")" + code + R"(", "message": "m", "detail": null, "data": [])" + extra + "}";
}

struct Row {
  const char* name;
  int status;
  std::string body;
  RemoteErrc want;
};

class RemoteErrorTable : public ::testing::TestWithParam<Row> {};

TEST_P(RemoteErrorTable, Classifies) {
  const Row& row = GetParam();
  const http::Error e = http::ParseErrorDocument(row.status, row.body);
  EXPECT_EQ(RemoteErrcName(Classify(e)), RemoteErrcName(row.want))
      << row.name << ": " << e.Summary();
}

const Row kRows[] = {
    // --- authorization requirements come first ---
    {"ConsentRequired", 403,
     R"({"code": "ConsentRequired", "message": "Missing required data_access consent",
         "required_scopes": ["urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/c/data_access]"],
         "authorization_parameters": {"session_message": "Missing required data_access consent"}})",
     RemoteErrc::kAuthRequired},
    {"ConsentRequiredWithoutScopes", 403, Doc("ConsentRequired", "consent"),
     RemoteErrc::kAuthRequired},
    {"AuthPolicyFailed", 403,
     R"({"code": "AuthPolicyFailed", "message": "Failing collection authentication policy",
         "authorization_parameters": {"session_message": "Failing policy",
                                      "session_required_policies": "p1,p2"}})",
     RemoteErrc::kAuthRequired},
    {"SessionReauthOn502LoginFailed", 502,
     R"({"code": "ExternalError.DirListingFailed.LoginFailed", "message": "Command Failed",
         "authorization_parameters": {"session_message": "Session reauthentication required",
                                      "session_required_identities": ["id1"], "prompt": "login"}})",
     RemoteErrc::kAuthRequired},
    {"LoginFailedWithoutParameters", 502, Doc("ExternalError.MkdirFailed.LoginFailed", "x"),
     RemoteErrc::kAuthRequired},
    {"AuthorizationParametersBeatNotFound", 404,
     R"({"code": "NotFound", "message": "x", "authorization_parameters": {"session_message": "m"}})",
     RemoteErrc::kAuthRequired},
    {"AuthenticationFailed", 401, Doc("ClientError.AuthenticationFailed", "Token is not active"),
     RemoteErrc::kAuthRequired},
    {"Any401", 401, "<html>Unauthorized</html>", RemoteErrc::kAuthRequired},
    {"InvalidGrant", 400, R"({"error": "invalid_grant", "error_description": "expired"})",
     RemoteErrc::kAuthRequired},
    // --- not found ---
    {"StatNotFound", 404, Doc("NotFound", kPathNotFound), RemoteErrc::kNotFound},
    {"LsClientErrorNotFound", 404, Doc("ClientError.NotFound", kPathNotFound),
     RemoteErrc::kNotFound},
    {"EndpointNotFound", 404, Doc("EndpointNotFound", "No such endpoint 'x'"),
     RemoteErrc::kNotFound},
    {"EndpointDeleted", 404, Doc("EndpointDeleted", "deleted"), RemoteErrc::kNotFound},
    {"SubResourceNotFound", 404, Doc("ClientError.NotFound.ServerNotFound", "x"),
     RemoteErrc::kNotFound},
    {"GridPathNotFoundOn502", 502, Doc("ExternalError.DirListingFailed", Grid("PATH_NOT_FOUND")),
     RemoteErrc::kNotFound},
    {"MkdirNoSuchFile", 502,
     Doc("ExternalError.MkdirFailed", "Error (mkdir)\\nMessage: No such file or directory"),
     RemoteErrc::kNotFound},
    {"RenameNoSuchFile", 502,
     Doc("ExternalError.RenameFailed", "Error (rename)\\nMessage: No such file or directory"),
     RemoteErrc::kNotFound},
    // --- exists ---
    {"MkdirExists", 502, Doc("ExternalError.MkdirFailed.Exists", Grid("PATH_EXISTS")),
     RemoteErrc::kExists},
    {"RenameExists", 502, Doc("ExternalError.RenameFailed.Exists", "x"), RemoteErrc::kExists},
    {"AlreadyExists", 409, Doc("ClientError.AlreadyExists", "x"), RemoteErrc::kExists},
    {"GridPathExists", 502, Doc("ExternalError.MkdirFailed", Grid("PATH_EXISTS")),
     RemoteErrc::kExists},
    // --- not a directory / is a directory ---
    {"LsOfAFile", 502, Doc("ExternalError.DirListingFailed.NotDirectory", "x"),
     RemoteErrc::kNotDirectory},
    {"GridNotADirectory", 502, Doc("ExternalError.MkdirFailed", Grid("NOT_A_DIRECTORY")),
     RemoteErrc::kNotDirectory},
    {"GridIsADirectory", 502, Doc("ExternalError.Failed", Grid("IS_A_DIRECTORY")),
     RemoteErrc::kIsDirectory},
    // --- permission ---
    {"PermissionDenied", 403, Doc("PermissionDenied", "no role"), RemoteErrc::kPermissionDenied},
    {"EndpointPermissionDenied", 403,
     Doc("EndpointPermissionDenied", "Denied by endpoint, Path not allowed"),
     RemoteErrc::kPermissionDenied},
    {"MkdirPermissionDenied", 502, Doc("ExternalError.MkdirFailed.PermissionDenied", "x"),
     RemoteErrc::kPermissionDenied},
    {"LsPermissionDenied", 502, Doc("ExternalError.DirListingFailed.PermissionDenied", "x"),
     RemoteErrc::kPermissionDenied},
    {"GridPermissionDenied", 502, Doc("ExternalError.StatFailed", Grid("PERMISSION_DENIED")),
     RemoteErrc::kPermissionDenied},
    {"Other403", 403, Doc("Forbidden", "x"), RemoteErrc::kPermissionDenied},
    // --- too large to list (globus-api.md §3.2) ---
    {"LsSizeLimit", 502, Doc("ExternalError.DirListingFailed.SizeLimit", "too many entries"),
     RemoteErrc::kTooLarge},
    // --- not supported ---
    {"NotSupported", 409, Doc("NotSupported", "symlinks are not supported"),
     RemoteErrc::kNotSupported},
    // --- invalid ---
    {"BadRequestNoItems", 400, Doc("ClientError.BadRequest.NoTransferItems", "x"),
     RemoteErrc::kInvalid},
    {"BadRequest", 400, Doc("BadRequest", "x"), RemoteErrc::kInvalid},
    {"Other400", 400, Doc("ClientError.Whatever", "x"), RemoteErrc::kInvalid},
    {"GridInvalidPathName", 502, Doc("ExternalError.RenameFailed", Grid("INVALID_PATH_NAME")),
     RemoteErrc::kInvalid},
    // --- no space ---
    {"GridQuota", 502, Doc("ExternalError.MkdirFailed", Grid("QUOTA_EXCEEDED")),
     RemoteErrc::kNoSpace},
    {"GridNoSpace", 502, Doc("ExternalError.Failed", Grid("NO_SPACE_LEFT")), RemoteErrc::kNoSpace},
    {"GridNoSpaceShort", 502, Doc("ExternalError.Failed", Grid("NO_SPACE")), RemoteErrc::kNoSpace},
    {"QuotaCode", 502, Doc("ExternalError.MkdirFailed.QuotaExceeded", "x"), RemoteErrc::kNoSpace},
    {"InsufficientStorage", 507, "", RemoteErrc::kNoSpace},
    // --- unavailable ---
    {"RateLimited", 429, Doc("RequestLimitExceeded", "slow down"), RemoteErrc::kUnavailable},
    {"InternalError", 500, Doc("InternalError", "x"), RemoteErrc::kUnavailable},
    {"GCDisconnected", 502, Doc("ExternalError.DirListingFailed.GCDisconnected", "offline"),
     RemoteErrc::kUnavailable},
    {"Maintenance", 503, Doc("ServiceUnavailable", "x"), RemoteErrc::kUnavailable},
    {"GatewayTimeout", 504, "", RemoteErrc::kUnavailable},
    // --- a collection's HTTPS server (GET/PUT answers; HEAD answers have no body) ---
    {"GcsAuthenticationRequired", 401,
     Gcs(401, "AuthenticationRequired",
         R"(, "authorization_parameters": {"required_scopes": ["https://auth.globus.org/scopes/c/https"]})"),
     RemoteErrc::kAuthRequired},
    {"GcsAuthenticationRequiredOnHead", 401, "", RemoteErrc::kAuthRequired},
    {"GcsHighAssuranceTimeout", 403,
     Gcs(403, "permission_denied",
         R"(, "authorization_parameters": {"session_message": "m", "session_required_identities": ["i"]})"),
     RemoteErrc::kAuthRequired},
    {"GcsNotFound", 404, Gcs(404, "not_found"), RemoteErrc::kNotFound},
    {"GcsNotFoundOnHead", 404, "", RemoteErrc::kNotFound},
    {"GcsGetOfADirectory", 400, Gcs(400, "is_a_directory"), RemoteErrc::kIsDirectory},
    {"GcsPutOntoADirectory", 409, Gcs(409, "is_a_directory"), RemoteErrc::kIsDirectory},
    {"GcsPermissionDenied", 403, Gcs(403, "permission_denied"), RemoteErrc::kPermissionDenied},
    {"GcsWriteFailed", 507, Gcs(507, "write_failed"), RemoteErrc::kNoSpace},
    {"GcsLengthRequired", 411, Gcs(411, "length_required"), RemoteErrc::kOther},
    // --- protocol / other ---
    {"Redirect", 302, "", RemoteErrc::kProtocol},
    {"Conflict", 409, Doc("Conflict", "task is finished"), RemoteErrc::kOther},
    {"MethodNotAllowed", 405, Doc("ClientError.MethodNotAllowed", "x"), RemoteErrc::kOther},
};

INSTANTIATE_TEST_SUITE_P(Rows, RemoteErrorTable, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

http::Error Kind(ErrorKind kind, std::string code = "") {
  http::Error e = http::MakeError(kind, "something");
  e.code = std::move(code);
  return e;
}

TEST(RemoteErrorKinds, NonHttpKinds) {
  EXPECT_EQ(Classify(Kind(ErrorKind::kNetwork)), RemoteErrc::kUnavailable);
  EXPECT_EQ(Classify(Kind(ErrorKind::kTimeout)), RemoteErrc::kUnavailable);
  EXPECT_EQ(Classify(Kind(ErrorKind::kTls)), RemoteErrc::kUnavailable);
  EXPECT_EQ(Classify(Kind(ErrorKind::kMalformed)), RemoteErrc::kProtocol);
  EXPECT_EQ(Classify(Kind(ErrorKind::kCancelled)), RemoteErrc::kOther);
  EXPECT_EQ(Classify(Kind(ErrorKind::kConfig)), RemoteErrc::kOther);
}

TEST(RemoteErrorKinds, CodesOfLocalErrors) {
  // TokenSource's "run globusfs-auth login" errors.
  EXPECT_EQ(Classify(Kind(ErrorKind::kConfig, "MissingLogin")), RemoteErrc::kAuthRequired);
  EXPECT_EQ(Classify(Kind(ErrorKind::kHttp, "invalid_grant")), RemoteErrc::kAuthRequired);
  // A path Transfer cannot carry.
  auto bad = CheckPath("/a\xff");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(Classify(*bad), RemoteErrc::kInvalid);
  // A stat of a type globusfs does not show (a pipe): missing, as List skips it.
  EXPECT_EQ(Classify(Kind(ErrorKind::kMalformed, std::string(kUnsupportedTypeCode))),
            RemoteErrc::kNotFound);
}

TEST(RemoteErrorKinds, RedirectToLoginAsDataClientReportsIt) {
  // DataClient turns a 302 (the HTTPS server wants a browser login) into this.
  http::Error e = Kind(ErrorKind::kHttp, "AuthenticationRequired");
  e.http_status = 401;
  EXPECT_EQ(Classify(e), RemoteErrc::kAuthRequired);
  e.http_status = 0;  // the code alone is enough
  EXPECT_EQ(Classify(e), RemoteErrc::kAuthRequired);
}

TEST(RemoteErrorKinds, GridFtpCodeIsReadFromItsOwnLine) {
  // "c=" elsewhere in the message is not the GridFTP code.
  auto e = http::ParseErrorDocument(
      502,
      Doc("ExternalError.DirListingFailed", "abc=PATH_NOT_FOUND\\nGlobusError: v=1 c=PATH_EXISTS"));
  EXPECT_EQ(Classify(e), RemoteErrc::kExists);
  e = http::ParseErrorDocument(502, Doc("ExternalError.DirListingFailed", "GlobusError: v=1"));
  EXPECT_EQ(Classify(e), RemoteErrc::kUnavailable);
}

TEST(RemoteErrorRetry, OnlyUnreachableAndAuthRequirementsAreRetriedLater) {
  // Kept and retried: the network, 429, 5xx, and what a login fixes.
  EXPECT_TRUE(RetryLater(Classify(Kind(ErrorKind::kNetwork))));
  EXPECT_TRUE(RetryLater(Classify(Kind(ErrorKind::kTimeout))));
  EXPECT_TRUE(RetryLater(Classify(http::ParseErrorDocument(429, Doc("RequestLimitExceeded", "slow down")))));
  EXPECT_TRUE(RetryLater(Classify(http::ParseErrorDocument(503, Doc("ServiceUnavailable", "maintenance")))));
  EXPECT_TRUE(RetryLater(Classify(Kind(ErrorKind::kConfig, "MissingLogin"))));
  EXPECT_TRUE(RetryLater(Classify(Kind(ErrorKind::kHttp, "invalid_grant"))));
  EXPECT_TRUE(RetryLater(Classify(http::ParseErrorDocument(
      403, R"({"code": "ConsentRequired", "message": "Missing required data_access consent",
               "required_scopes": ["urn:globus:auth:scope:transfer.api.globus.org:all"]})"))));
  EXPECT_TRUE(RetryLater(Classify(http::ParseErrorDocument(
      403, R"({"code": "AuthPolicyFailed", "message": "m",
               "authorization_parameters": {"session_required_policies": "p1"}})"))));
  // Definitive refusals: the task fails.
  EXPECT_FALSE(RetryLater(Classify(http::ParseErrorDocument(400, Doc("ClientError.BadRequest", "x")))));
  EXPECT_FALSE(RetryLater(Classify(http::ParseErrorDocument(404, Doc("EndpointNotFound", "x")))));
  EXPECT_FALSE(RetryLater(Classify(http::ParseErrorDocument(403, Doc("PermissionDenied", "x")))));
  EXPECT_FALSE(RetryLater(Classify(http::ParseErrorDocument(
      502, Doc("ExternalError.DirListingFailed.SizeLimit", "too many entries")))));
  EXPECT_FALSE(RetryLater(RemoteErrc::kProtocol));
  EXPECT_FALSE(RetryLater(RemoteErrc::kOther));
}

TEST(RemoteErrorTask, FatalCodes) {
  EXPECT_EQ(ClassifyTaskFailure("FILE_NOT_FOUND"), RemoteErrc::kNotFound);
  EXPECT_EQ(ClassifyTaskFailure("PERMISSION_DENIED"), RemoteErrc::kPermissionDenied);
  EXPECT_EQ(ClassifyTaskFailure("IS_A_DIRECTORY"), RemoteErrc::kIsDirectory);
  EXPECT_EQ(ClassifyTaskFailure("NOT_A_FILE"), RemoteErrc::kIsDirectory);
  EXPECT_EQ(ClassifyTaskFailure("NOT_A_DIRECTORY"), RemoteErrc::kNotDirectory);
  EXPECT_EQ(ClassifyTaskFailure("QUOTA_EXCEEDED"), RemoteErrc::kNoSpace);
  EXPECT_EQ(ClassifyTaskFailure("NO_SPACE_LEFT"), RemoteErrc::kNoSpace);
  EXPECT_EQ(ClassifyTaskFailure("CANCELED"), RemoteErrc::kOther);
  EXPECT_EQ(ClassifyTaskFailure("EXPIRED"), RemoteErrc::kOther);
  EXPECT_EQ(ClassifyTaskFailure("ENDPOINT_ERROR"), RemoteErrc::kOther);
  EXPECT_EQ(ClassifyTaskFailure(""), RemoteErrc::kOther);
}

TEST(RemoteErrorNames, EveryValueHasItsOwnName) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(RemoteErrc::kOther); ++i) {
    auto name = RemoteErrcName(static_cast<RemoteErrc>(i));
    EXPECT_NE(name, "Unknown");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(RemoteErrc::kOther) + 1);
}

}  // namespace
}  // namespace globusfs::fs
