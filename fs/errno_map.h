// The one place where remote failures become errno values. Every
// RemoteErrc is handled in an exhaustive switch without a default, so a new
// code cannot go unmapped (the compiler warns). Pure; thread-safe.
#pragma once

#include <string>

#include "auth/http/error.h"
#include "fs/log.h"
#include "fs/remote/remote_error.h"

namespace globusfs::fs {

int ToErrno(RemoteErrc e);

// Classifies a remote failure, logs it (an authentication requirement as
// one line, at most once a minute, naming the globusfs-auth command that
// fixes it; a folder over Transfer's listing size limit as one line per
// folder, at most once a minute, saying what still works; not-found/exists
// at debug level; the rest as warnings) and returns its errno. `where` says
// what was being done ("read alpha:/x").
int ReportRemoteError(Logger& log, const http::Error& e, const std::string& where);

}  // namespace globusfs::fs
