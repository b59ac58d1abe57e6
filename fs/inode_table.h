// InodeTable: FUSE inode numbers <-> (mount entry, collection path).
//
// Numbers come from a counter (never pointers), start at 2 (1 is the mount
// root), and are never reused while the daemon runs. Each node carries the
// kernel's lookup count: Lookup/Mkdir/readdirplus replies add one, FORGET
// takes them away, and a node whose count reaches zero is dropped. The mount
// root and the collection roots are pinned (never dropped).
// Invariant: at most one live node per (mount, path); `by_path_` indexes
// exactly the nodes that are still linked (an unlinked node keeps its
// number until the kernel forgets it, but is no longer found by path).
//
// Thread-safety: every method takes mu_; no method calls out while holding it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "cache/file_entry.h"

namespace globusfs::fs {

inline constexpr uint64_t kRootIno = 1;

struct NodeInfo {
  uint64_t ino = 0;
  int mount = -1;         // index into the mount table; -1 for the mount root
  std::string path;       // collection path (normalised)
  cache::EntryType type = cache::EntryType::kDir;
  bool linked = true;     // false once removed (the kernel may still hold the number)
};

class InodeTable {
 public:
  InodeTable();

  // The node for (mount, path), created if needed, with its lookup count
  // raised by `add_lookup` (0 for a pinned or internal reference).
  NodeInfo Ensure(int mount, const std::string& path, cache::EntryType type, uint64_t add_lookup);
  void Pin(uint64_t ino);
  std::optional<NodeInfo> Get(uint64_t ino) const;
  std::optional<uint64_t> Find(int mount, const std::string& path) const;
  // FORGET: drop `n` lookups; the node goes when none remain (unless pinned).
  void Forget(uint64_t ino, uint64_t n);
  // The path was removed: unindex it and everything below it.
  void Unlink(int mount, const std::string& path);
  // `from` (and its subtree) moved to `to`; a node already at `to` is unlinked.
  void Rename(int mount, const std::string& from, const std::string& to);
  size_t size() const;

 private:
  struct Node {
    NodeInfo info;
    uint64_t nlookup = 0;
    bool pinned = false;
    bool linked = true;
  };
  static std::string Key(int mount, const std::string& path);
  void UnlinkLocked(int mount, const std::string& path);

  mutable std::mutex mu_;  // guards everything below
  uint64_t next_ino_ = 2;
  std::unordered_map<uint64_t, Node> nodes_;
  std::map<std::string, uint64_t> by_path_;  // ordered: subtrees are contiguous ranges
};

}  // namespace globusfs::fs
