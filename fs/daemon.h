// The daemon's composition root: from an immutable DaemonConfig it checks
// the login and every collection (exiting with a message that names the fix
// when something is wrong), mounts, detaches, then builds the object graph
// (HTTP client, token source, Transfer client, metadata cache, namespace,
// filesystem) and serves until unmounted. No globals, no singletons.
#pragma once

#include "fs/daemon_args.h"

namespace globusfs::fs {

// Returns the process exit code.
int RunDaemon(const DaemonConfig& config);

}  // namespace globusfs::fs
