#include "fs/errno_map.h"

#include <cerrno>

#include "auth/guidance.h"
#include "fs/remote/home_paths.h"

namespace globusfs::fs {

int ToErrno(RemoteErrc e) {
  switch (e) {
    case RemoteErrc::kNotFound: return ENOENT;
    case RemoteErrc::kExists: return EEXIST;
    case RemoteErrc::kNotDirectory: return ENOTDIR;
    case RemoteErrc::kIsDirectory: return EISDIR;
    case RemoteErrc::kNotEmpty: return ENOTEMPTY;
    case RemoteErrc::kPermissionDenied: return EACCES;
    case RemoteErrc::kAuthRequired: return EACCES;
    case RemoteErrc::kNotSupported: return EOPNOTSUPP;
    case RemoteErrc::kInvalid: return EINVAL;
    case RemoteErrc::kNoSpace: return ENOSPC;
    // A folder too large for Transfer to list: ls and find print "File too
    // large" (EIO would read as a broken disk or network; E2BIG as a
    // command line too long).
    case RemoteErrc::kTooLarge: return EFBIG;
    case RemoteErrc::kUnavailable: return EIO;
    case RemoteErrc::kProtocol: return EIO;
    case RemoteErrc::kOther: return EIO;
  }
  return EIO;  // unreachable: every enumerator is handled above
}

}  // namespace globusfs::fs

namespace globusfs::fs {

int ReportRemoteError(Logger& log, const http::Error& e, const std::string& where) {
  RemoteErrc c = Classify(e);
  if (c == RemoteErrc::kAuthRequired) {
    auto cmd = auth::RemedyCommand(e);
    std::string fix = cmd ? *cmd : "globusfs-auth login";
    log.LogOnce(LogLevel::kWarning, fix, where + ": " + e.Summary() + " -- access needs you to run: " + fix);
  } else if (e.code == kHomeUnknownCode) {
    // One line per collection (the message names it and the fix), not one
    // per file opened.
    const size_t at = e.message.find(": collection ");
    log.LogOnce(LogLevel::kWarning, "home-unknown" + e.message.substr(at == std::string::npos ? 0 : at),
                where + e.message.substr(at == std::string::npos ? 0 : at));
  } else if (c == RemoteErrc::kTooLarge) {
    // Its own line: what the limit is and what still works.
    log.LogOnce(LogLevel::kWarning, "size-limit " + where,
                where + ": this folder has more entries than Globus Transfer lists (Transfer's "
                        "directory listing size limit: " + e.Summary() +
                        "), so globusfs shows it as unreadable (EFBIG, \"File too large\"). "
                        "Its files and subfolders still open by path; to see its names, list a "
                        "subfolder, or part of it with a filter, e.g. "
                        "globus ls --filter '~PREFIX*' COLLECTION_ID:/path/of/folder/");
  } else if (c == RemoteErrc::kNotFound || c == RemoteErrc::kExists) {
    log.Log(LogLevel::kDebug, where + ": " + e.Summary());
  } else {
    log.Log(LogLevel::kWarning, where + ": " + e.Summary());
  }
  return ToErrno(c);
}

}  // namespace globusfs::fs
