// Classification of remote failures: one table that turns an http::Error
// (HTTP status + Globus code + GridFTP detail) or a failed task's fatal
// error code into a RemoteErrc. The filesystem maps RemoteErrc to errno in
// exactly one place (fs/errno_map.h). Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "auth/http/error.h"

namespace globusfs::fs {

enum class RemoteErrc {
  kNotFound,          // the path (or collection) does not exist
  kExists,            // the target already exists
  kNotDirectory,      // a path component, or an ls target, is a file
  kIsDirectory,       // a file operation on a directory
  kNotEmpty,          // a directory that must be empty is not
  kPermissionDenied,  // the storage or Transfer refused
  kAuthRequired,      // log in, consent, or re-authenticate (guidance is logged)
  kNotSupported,      // the endpoint cannot do it (e.g. symlinks on S3)
  kInvalid,           // a request Globus considers malformed (400)
  kNoSpace,           // quota or disk full
  kTooLarge,          // a folder with more entries than Transfer will list (SizeLimit)
  kUnavailable,       // network, timeouts, 5xx after retries, rate limits
  kProtocol,          // the answer was not what the API promises
  kOther,             // anything else
};

RemoteErrc Classify(const http::Error& error);
// Whether work that failed this way is kept (journaled) and tried again
// later rather than failed: Globus unreachable or busy (kUnavailable), or an
// authentication requirement the user can satisfy while the daemon runs
// (kAuthRequired: globusfs-auth writes new tokens and the daemon picks them
// up without a remount). Everything else is a definitive refusal.
bool RetryLater(RemoteErrc e);
// For a FAILED task's fatal_error.code (FILE_NOT_FOUND, PERMISSION_DENIED, ...).
RemoteErrc ClassifyTaskFailure(std::string_view fatal_code);
std::string_view RemoteErrcName(RemoteErrc e);

}  // namespace globusfs::fs
