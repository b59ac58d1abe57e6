#include "fs/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace globusfs::fs {

bool NotifySocket(const std::string& socket_name, const std::string& state, std::string* why) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // '/' path or '@' abstract name; the terminating NUL of a path is not counted
  // for an abstract name, whose first byte becomes NUL.
  if (socket_name.size() < 2 || (socket_name[0] != '/' && socket_name[0] != '@') ||
      socket_name.size() >= sizeof(addr.sun_path)) {
    *why = "NOTIFY_SOCKET is not a socket path or @name";
    return false;
  }
  std::memcpy(addr.sun_path, socket_name.data(), socket_name.size());
  if (socket_name[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(
      offsetof(sockaddr_un, sun_path) + socket_name.size() + (socket_name[0] == '/' ? 1 : 0));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    *why = "sending to NOTIFY_SOCKET " + socket_name + ": " + std::strerror(err);
    return false;
  }
  return true;
}

bool NotifySystemd(const std::string& state, std::string* why) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (!name || !*name) return true;
  return NotifySocket(name, state, why);
}

}  // namespace globusfs::fs
