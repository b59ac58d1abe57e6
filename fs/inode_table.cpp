#include "fs/inode_table.h"

#include <vector>

#include "fs/mount_table.h"

namespace globusfs::fs {

InodeTable::InodeTable() {
  Node root;
  root.info = NodeInfo{kRootIno, -1, "/", cache::EntryType::kDir};
  root.pinned = true;
  nodes_[kRootIno] = root;
}

std::string InodeTable::Key(int mount, const std::string& path) {
  return std::to_string(mount) + '\0' + path;
}

NodeInfo InodeTable::Ensure(int mount, const std::string& path, cache::EntryType type,
                            uint64_t add_lookup) {
  std::lock_guard lock(mu_);
  std::string key = Key(mount, path);
  auto it = by_path_.find(key);
  if (it != by_path_.end()) {
    Node& n = nodes_[it->second];
    n.nlookup += add_lookup;
    n.info.type = type;  // the kind can change behind our back (a file replaced by a folder)
    return n.info;
  }
  Node n;
  n.info = NodeInfo{next_ino_++, mount, path, type};
  n.nlookup = add_lookup;
  nodes_[n.info.ino] = n;
  by_path_[key] = n.info.ino;
  return n.info;
}

void InodeTable::Pin(uint64_t ino) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it != nodes_.end()) it->second.pinned = true;
}

std::optional<NodeInfo> InodeTable::Get(uint64_t ino) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.info;
}

std::optional<uint64_t> InodeTable::Find(int mount, const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = by_path_.find(Key(mount, path));
  if (it == by_path_.end()) return std::nullopt;
  return it->second;
}

void InodeTable::Forget(uint64_t ino, uint64_t n) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return;
  Node& node = it->second;
  node.nlookup = node.nlookup > n ? node.nlookup - n : 0;
  if (node.nlookup > 0 || node.pinned) return;
  if (node.linked) by_path_.erase(Key(node.info.mount, node.info.path));
  nodes_.erase(it);
}

void InodeTable::UnlinkLocked(int mount, const std::string& path) {
  // The node itself, then its subtree: keys "<mount>\0<path>/..." sort together.
  std::string key = Key(mount, path);
  std::vector<std::string> doomed;
  for (auto it = by_path_.lower_bound(key); it != by_path_.end(); ++it) {
    const std::string& k = it->first;
    if (k.compare(0, key.size(), key) != 0) break;
    if (k.size() == key.size() || (path == "/" || k[key.size()] == '/')) doomed.push_back(k);
  }
  for (const auto& k : doomed) {
    uint64_t ino = by_path_[k];
    by_path_.erase(k);
    auto n = nodes_.find(ino);
    if (n == nodes_.end()) continue;
    n->second.linked = false;
    n->second.info.linked = false;
    if (n->second.nlookup == 0 && !n->second.pinned) nodes_.erase(n);
  }
}

void InodeTable::Unlink(int mount, const std::string& path) {
  std::lock_guard lock(mu_);
  UnlinkLocked(mount, path);
}

void InodeTable::Rename(int mount, const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  UnlinkLocked(mount, to);
  std::string key = Key(mount, from);
  std::vector<std::pair<std::string, uint64_t>> moved;
  for (auto it = by_path_.lower_bound(key); it != by_path_.end(); ++it) {
    const std::string& k = it->first;
    if (k.compare(0, key.size(), key) != 0) break;
    if (k.size() == key.size() || k[key.size()] == '/') moved.emplace_back(k, it->second);
  }
  for (const auto& [k, ino] : moved) {
    by_path_.erase(k);
    Node& n = nodes_[ino];
    n.info.path = to + n.info.path.substr(from.size());
    by_path_[Key(mount, n.info.path)] = ino;
  }
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return nodes_.size();
}

}  // namespace globusfs::fs
