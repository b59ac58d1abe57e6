// `globusfs status` and `globusfs wait`: read the mount's status document
// (the mount root's "user.globusfs.status" xattr, served by the daemon;
// see fs/status_view.h for its fields) and show it, follow it, or wait for
// the work it lists.
//
//   globusfs status MOUNTPOINT [--json] [--watch [--interval SECONDS]]
//   globusfs wait MOUNTPOINT [PATH] [--timeout SECONDS] [--json]
//
// Exit codes: 0 done (nothing pending or active, nothing failed while
// watching or waiting), 1 a failure (listed), a timeout, or a mount that
// cannot be read; 2 a usage error.
//
// Both loops poll: --watch every --interval (default 1 s); wait from
// 100 ms, doubling to 2 s. Without --timeout, wait waits as long as work
// under PATH is in progress at Globus (like `globus task wait`), saying
// once on stderr why a task is held up (INACTIVE, or a retry after an
// error) so that a job's log shows it; it ends when the mount goes away.
//
// Not thread-safe (one command per process).
#pragma once

namespace globusfs::fs {

int RunStatus(int argc, char** argv);  // argv[1] == "status"
int RunWait(int argc, char** argv);    // argv[1] == "wait"

}  // namespace globusfs::fs
