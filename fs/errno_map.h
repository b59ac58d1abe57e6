// The one place where remote failures become errno values. Every
// RemoteErrc is handled in an exhaustive switch without a default, so a new
// code cannot go unmapped (the compiler warns). Pure; thread-safe.
#pragma once

#include "fs/remote/remote_error.h"

namespace globusfs::fs {

int ToErrno(RemoteErrc e);

}  // namespace globusfs::fs
