// systemd's readiness notification (sd_notify(3)), without libsystemd: one
// datagram ("READY=1", "STOPPING=1", ...) to the AF_UNIX socket named by
// $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). A unit
// with Type=notify (globusfs@.service) starts its dependants only once the
// daemon sends READY=1, which it does once the mount serves requests.
// Thread-safe (no shared state).
#pragma once

#include <string>

namespace globusfs::fs {

// Sends `state` to `socket_name` (a $NOTIFY_SOCKET value). False, with the
// reason in *why, when the name is malformed or the send fails.
bool NotifySocket(const std::string& socket_name, const std::string& state, std::string* why);

// Sends `state` to $NOTIFY_SOCKET when it is set (else does nothing and
// returns true). Does not unset it: a forked child would only be refused.
bool NotifySystemd(const std::string& state, std::string* why);

}  // namespace globusfs::fs
