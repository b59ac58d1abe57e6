// KernelNotifier: how the filesystem core tells the kernel that what it
// caches about an inode (pages, attributes) or a name is out of date,
// without knowing FUSE. The FUSE adapter implements it with libfuse's
// low-level notify calls, sent from a thread of its own: a notification
// sent from inside a request on the same inode could deadlock, so callers
// never wait for it. Unit tests use a recording fake or none.
//
// Thread-safety: implementations are thread-safe and never block on I/O.
#pragma once

#include <cstdint>
#include <string>

namespace globusfs::fs {

class KernelNotifier {
 public:
  virtual ~KernelNotifier() = default;
  // The inode's pages and attributes are stale (its contents or size changed
  // without the kernel seeing it).
  virtual void InvalidateInode(uint64_t ino) = 0;
  // The entry `name` in folder `parent` is stale (it appeared, vanished or
  // now names another inode).
  virtual void InvalidateEntry(uint64_t parent, const std::string& name) = 0;
};

}  // namespace globusfs::fs
