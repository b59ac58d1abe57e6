#include "fs/errno_map.h"

#include <cerrno>

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
    case RemoteErrc::kUnavailable: return EIO;
    case RemoteErrc::kProtocol: return EIO;
    case RemoteErrc::kOther: return EIO;
  }
  return EIO;  // unreachable: every enumerator is handled above
}

}  // namespace globusfs::fs
