#include "fs/remote/remote_error.h"

#include <string>
#include <vector>

#include "fs/remote/home_paths.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {
namespace {

using http::ErrorKind;

// What the table looks at, computed once per error.
struct Facts {
  const http::Error& error;
  std::vector<std::string_view> segments;  // `code` split on '.'
  std::string_view gridftp;                // "PATH_NOT_FOUND" from "GlobusError: v=1 c=...", or ""

  int status() const { return error.kind == ErrorKind::kHttp ? error.http_status : 0; }
  bool CodeIs(std::string_view code) const { return error.code == code; }
  bool AnySegment(std::string_view s) const {
    for (auto seg : segments) {
      if (seg == s) return true;
    }
    return false;
  }
  bool AnySegmentEndsWith(std::string_view s) const {
    for (auto seg : segments) {
      if (seg.ends_with(s)) return true;
    }
    return false;
  }
  bool LastSegment(std::string_view s) const { return !segments.empty() && segments.back() == s; }
  bool Grid(std::string_view c) const { return gridftp == c; }
  bool MessageHas(std::string_view text) const {
    return error.message.find(text) != std::string::npos;
  }
};

std::vector<std::string_view> SplitCode(std::string_view code) {
  std::vector<std::string_view> out;
  while (!code.empty()) {
    const size_t dot = code.find('.');
    out.push_back(code.substr(0, dot));
    if (dot == std::string_view::npos) break;
    code.remove_prefix(dot + 1);
  }
  return out;
}

// The GridFTP code in a Transfer message: "...550-GlobusError: v=1 c=PATH_NOT_FOUND\r\n...".
std::string_view GridFtpCode(std::string_view message) {
  const size_t at = message.find("GlobusError:");
  if (at == std::string_view::npos) return {};
  const size_t c = message.find("c=", at);
  const size_t line_end = message.find_first_of("\\\r\n", at);
  if (c == std::string_view::npos || (line_end != std::string_view::npos && c > line_end)) {
    return {};
  }
  size_t end = c + 2;
  while (end < message.size() &&
         ((message[end] >= 'A' && message[end] <= 'Z') || message[end] == '_' ||
          (message[end] >= '0' && message[end] <= '9'))) {
    ++end;
  }
  return message.substr(c + 2, end - c - 2);
}

struct Row {
  RemoteErrc result;
  bool (*matches)(const Facts&);
};

// THE table. The first matching row wins, so order matters: authorization
// requirements before everything (a refresh or a login fixes them, whatever
// the status), then the specific path conditions (by Globus code, then by
// the GridFTP detail), then the generic status classes.
const Row kTable[] = {
    // --- log in, consent, re-authenticate ---
    {RemoteErrc::kAuthRequired, [](const Facts& f) { return f.error.IsConsentRequired(); }},
    {RemoteErrc::kAuthRequired, [](const Facts& f) { return f.error.HasSessionRequirements(); }},
    {RemoteErrc::kAuthRequired,
     [](const Facts& f) {
       return f.error.authorization_parameters.is_object() &&
              !f.error.authorization_parameters.empty();
     }},
    {RemoteErrc::kAuthRequired,
     [](const Facts& f) {
       return f.AnySegment("ConsentRequired") || f.AnySegment("AuthPolicyFailed") ||
              f.AnySegment("MissingLogin") || f.AnySegment("AuthenticationFailed") ||
              f.AnySegment("AuthenticationRequired") || f.CodeIs("invalid_grant") ||
              f.LastSegment("LoginFailed");
     }},
    {RemoteErrc::kAuthRequired, [](const Facts& f) { return f.status() == 401; }},
    // --- the path (or the collection) does not exist ---
    {RemoteErrc::kNotFound,
     [](const Facts& f) {
       return f.AnySegmentEndsWith("NotFound") || f.AnySegment("EndpointDeleted") ||
              f.CodeIs(kUnsupportedTypeCode);
     }},
    {RemoteErrc::kNotFound, [](const Facts& f) { return f.Grid("PATH_NOT_FOUND"); }},
    // A collection HTTPS server's code (GCS, snake_case).
    {RemoteErrc::kNotFound, [](const Facts& f) { return f.CodeIs("not_found"); }},
    {RemoteErrc::kNotFound,
     [](const Facts& f) {
       return (f.AnySegment("MkdirFailed") || f.AnySegment("RenameFailed")) &&
              f.MessageHas("No such file or directory");
     }},
    // --- path conditions ---
    {RemoteErrc::kExists,
     [](const Facts& f) {
       return f.LastSegment("Exists") || f.LastSegment("AlreadyExists") || f.Grid("PATH_EXISTS");
     }},
    {RemoteErrc::kNotDirectory,
     [](const Facts& f) { return f.LastSegment("NotDirectory") || f.Grid("NOT_A_DIRECTORY"); }},
    // 502 ExternalError.DirListingFailed.SizeLimit: "directory too large"
    // (globus-api.md §3.2). Not transient: the same ls fails the same way.
    {RemoteErrc::kTooLarge, [](const Facts& f) { return f.LastSegment("SizeLimit"); }},
    {RemoteErrc::kIsDirectory,
     [](const Facts& f) {
       return f.LastSegment("IsDirectory") || f.CodeIs("is_a_directory") ||
              f.Grid("IS_A_DIRECTORY");
     }},
    {RemoteErrc::kPermissionDenied,
     [](const Facts& f) {
       return f.AnySegmentEndsWith("PermissionDenied") || f.Grid("PERMISSION_DENIED") ||
              f.status() == 403;
     }},
    {RemoteErrc::kNotSupported,
     [](const Facts& f) {
       return f.AnySegment("NotSupported") || f.Grid("NOT_SUPPORTED") || f.CodeIs(kHomeUnknownCode);
     }},
    {RemoteErrc::kInvalid,
     [](const Facts& f) {
       return f.CodeIs(kInvalidNameCode) || f.AnySegment("BadRequest") ||
              f.Grid("INVALID_PATH_NAME") || f.status() == 400;
     }},
    {RemoteErrc::kNoSpace,
     [](const Facts& f) {
       return f.AnySegmentEndsWith("QuotaExceeded") || f.AnySegment("NoSpace") ||
              f.AnySegment("NoSpaceLeft") || f.Grid("QUOTA_EXCEEDED") || f.Grid("NO_SPACE") ||
              f.Grid("NO_SPACE_LEFT") || f.status() == 507;
     }},
    // --- generic classes ---
    // Any other 404 (e.g. a HEAD answer, which has no body to carry a code).
    {RemoteErrc::kNotFound, [](const Facts& f) { return f.status() == 404; }},
    {RemoteErrc::kUnavailable,
     [](const Facts& f) {
       const ErrorKind k = f.error.kind;
       return k == ErrorKind::kNetwork || k == ErrorKind::kTimeout || k == ErrorKind::kTls ||
              f.status() == 429 || f.status() >= 500;
     }},
    {RemoteErrc::kProtocol,
     [](const Facts& f) {
       return f.error.kind == ErrorKind::kMalformed || (f.status() >= 300 && f.status() < 400);
     }},
};

}  // namespace

RemoteErrc Classify(const http::Error& error) {
  const Facts facts{error, SplitCode(error.code), GridFtpCode(error.message)};
  for (const Row& row : kTable) {
    if (row.matches(facts)) return row.result;
  }
  return RemoteErrc::kOther;
}

bool RetryLater(RemoteErrc e) {
  switch (e) {
    case RemoteErrc::kUnavailable:
    case RemoteErrc::kAuthRequired:
      return true;
    case RemoteErrc::kNotFound:
    case RemoteErrc::kExists:
    case RemoteErrc::kNotDirectory:
    case RemoteErrc::kIsDirectory:
    case RemoteErrc::kNotEmpty:
    case RemoteErrc::kPermissionDenied:
    case RemoteErrc::kNotSupported:
    case RemoteErrc::kInvalid:
    case RemoteErrc::kNoSpace:
    case RemoteErrc::kTooLarge:
    case RemoteErrc::kProtocol:
    case RemoteErrc::kOther:
      return false;
  }
  return false;  // unreachable: every enumerator is handled above
}

RemoteErrc ClassifyTaskFailure(std::string_view code) {
  if (code == "FILE_NOT_FOUND") return RemoteErrc::kNotFound;
  if (code == "PERMISSION_DENIED") return RemoteErrc::kPermissionDenied;
  if (code == "IS_A_DIRECTORY" || code == "NOT_A_FILE") return RemoteErrc::kIsDirectory;
  if (code == "NOT_A_DIRECTORY") return RemoteErrc::kNotDirectory;
  if (code == "QUOTA_EXCEEDED" || code == "NO_SPACE_LEFT") return RemoteErrc::kNoSpace;
  return RemoteErrc::kOther;  // CANCELED, EXPIRED, and everything else
}

std::string_view RemoteErrcName(RemoteErrc e) {
  switch (e) {
    case RemoteErrc::kNotFound:
      return "NotFound";
    case RemoteErrc::kExists:
      return "Exists";
    case RemoteErrc::kNotDirectory:
      return "NotDirectory";
    case RemoteErrc::kIsDirectory:
      return "IsDirectory";
    case RemoteErrc::kNotEmpty:
      return "NotEmpty";
    case RemoteErrc::kPermissionDenied:
      return "PermissionDenied";
    case RemoteErrc::kAuthRequired:
      return "AuthRequired";
    case RemoteErrc::kNotSupported:
      return "NotSupported";
    case RemoteErrc::kInvalid:
      return "Invalid";
    case RemoteErrc::kNoSpace:
      return "NoSpace";
    case RemoteErrc::kTooLarge:
      return "TooLarge";
    case RemoteErrc::kUnavailable:
      return "Unavailable";
    case RemoteErrc::kProtocol:
      return "Protocol";
    case RemoteErrc::kOther:
      return "Other";
  }
  return "Unknown";
}

}  // namespace globusfs::fs
