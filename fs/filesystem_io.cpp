// Filesystem: open files, reads and writes, server-side copies, folders'
// entries, extended attributes and statfs. Lookups, attributes and
// namespace changes are in filesystem.cpp.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <unordered_map>

#include "auth/http/url.h"
#include "fs/errno_map.h"
#include "fs/filesystem.h"
#include "fs/remote/home_paths.h"
#include "fs/remote/remote_error.h"

namespace globusfs::fs {

namespace {

// A stable number for entries listed by plain readdir but never looked up
// (the kernel only shows it as d_ino); high bit set so it cannot collide
// with the counter's numbers.
uint64_t PseudoIno(int mount, const std::string& path) {
  return (std::hash<std::string>{}(std::to_string(mount) + '\0' + path) | (1ULL << 63));
}

std::string EncodePath(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out += http::UrlEncodeComponent(path.substr(i, j - i));
    if (j < path.size()) out += '/';
    i = j + 1;
  }
  return out;
}

}  // namespace

struct Filesystem::DirHandle {
  uint64_t ino = 0;
  uint64_t parent_ino = kRootIno;
  int mount = -1;
  std::string path;
  Listing listing;                 // a collection folder's entries (snapshot at opendir)
  std::vector<std::string> roots;  // the mount root's names
  // The listing's names and order stay those of opendir (offsets index
  // them), but attributes changed since (a file written and uploaded while
  // the folder was open) come from a newer listing: readdirplus must not
  // hand the kernel an old size.
  std::mutex mu;  // guards the two below
  uint64_t generation = 0;
  std::unordered_map<std::string, FileEntry> newer;  // by name
};

int Filesystem::Open(uint64_t ino, int flags, OpenReply* out) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (n.mount < 0 || IsCollectionRoot(n) || n.type == EntryType::kDir) return EISDIR;
  FileRef ref;
  if (int rc = DataRef(n, &ref, /*transfer_only=*/true)) return rc;
  // A pending copy into this file is read (or written) once it has landed.
  if (int rc = Settle(n.mount, n.path)) return rc;
  auto found = ns_.Lookup(CollOf(n.mount), n.path);
  if (!found) return Fail(found.error(), "open", n.mount, n.path);
  FileEntry local;
  if (!*found && !contents_->Overlay(CollOf(n.mount), n.path, &local)) return ENOENT;
  if (*found) {
    switch (Show(n.mount, n.path, **found).type) {
      case EntryType::kDir:
      case EntryType::kSymlinkDir:
        return EISDIR;
      case EntryType::kCharDevice:
      case EntryType::kBlockDevice:
      case EntryType::kPipe:
      case EntryType::kOther:
        log_.LogOnce(LogLevel::kInfo, "special:" + n.path,
                     "open " + Mount(n.mount).entry.name + ":" + n.path +
                         ": a device, pipe or socket on the server; its contents cannot be read over HTTPS");
        return EOPNOTSUPP;
      default:
        break;
    }
  }
  return contents_->Open(ref, *found, flags, false, out);
}

int Filesystem::Create(uint64_t parent, const std::string& name, int flags, Entry* entry, OpenReply* out) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  if (name.starts_with(kHiddenPrefix)) return EINVAL;  // reserved
  NodeInfo n{0, p.mount, path, EntryType::kFile};
  FileRef ref;
  if (int rc = DataRef(n, &ref, /*transfer_only=*/true)) return rc;
  const std::string& coll = Mount(p.mount).info.id;
  if (int rc = Settle(p.mount, path)) return rc;
  auto found = ns_.Lookup(coll, path);  // the server's version
  if (!found) return Fail(found.error(), "create", p.mount, path);
  FileEntry e;
  bool local = contents_->Overlay(coll, path, &e);  // a file whose upload is pending
  bool exists = *found || local;
  if (exists && (flags & O_EXCL)) return EEXIST;
  if (*found && (*found)->type == EntryType::kDir) return EISDIR;
  NodeInfo node = inodes_.Ensure(p.mount, path, EntryType::kFile, 1);
  ref.ino = node.ino;
  // O_CREAT on an existing file opens it (truncating only with O_TRUNC).
  if (int rc = contents_->Open(ref, *found, flags, /*create=*/!exists, out)) {
    inodes_.Forget(node.ino, 1);
    return rc;
  }
  std::optional<TimeSpec> atime, mtime;
  if (!contents_->Overlay(coll, path, &e, &atime, &mtime)) e = **found;
  if (!exists) ns_.NoteCreated(coll, path, e);  // listed at once, uploaded at close
  entry->attr = ToAttr(node.ino, p.mount, path, e, atime, mtime);
  entry->timeout_s = options_.ttl_s;
  return 0;
}

// On a collection without an HTTPS server, FileContents answers reads,
// writes and the close of a file with local changes with EOPNOTSUPP;
// NoteNoHttps logs why, once.
int Filesystem::Read(uint64_t handle, uint64_t offset, size_t size, std::string* out) {
  if (!contents_) return EBADF;
  return NoteNoHttps(MountOfHandle(handle), contents_->Read(handle, offset, size, out));
}

int Filesystem::Write(uint64_t handle, uint64_t offset, std::string_view data) {
  if (!contents_) return EBADF;
  return NoteNoHttps(MountOfHandle(handle), contents_->Write(handle, offset, data));
}

int Filesystem::Flush(uint64_t handle) {
  if (!contents_) return EBADF;
  return NoteNoHttps(MountOfHandle(handle), contents_->Flush(handle, /*closing=*/true));
}

int Filesystem::Fsync(uint64_t handle) {
  if (!contents_) return EBADF;
  if (int rc = contents_->Flush(handle, /*closing=*/false)) return NoteNoHttps(MountOfHandle(handle), rc);
  FileContents::HandleInfo info;
  if (!batcher_ || !contents_->Describe(handle, &info)) return 0;
  return batcher_->WaitPath(info.ref.target.collection_id, info.ref.path);
}

int Filesystem::FsyncDir(uint64_t ino) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  return batcher_ ? batcher_->WaitAll() : 0;
}

int Filesystem::CopyFileRange(uint64_t in_handle, uint64_t in_offset, uint64_t out_handle, uint64_t out_offset,
                              uint64_t length, uint64_t* copied) {
  *copied = 0;
  if (!contents_ || !batcher_) return EOPNOTSUPP;
  FileContents::HandleInfo in, out;
  if (!contents_->Describe(in_handle, &in) || !contents_->Describe(out_handle, &out)) return EBADF;
  if (!out.writable) return EBADF;
  // cp asks again at the end of what it copied: that is the end of the file.
  if (in.remote && in_offset >= in.remote->size && out_offset == in_offset && !out.dirty &&
      out.remote && out.remote->size == in.remote->size) {
    return 0;
  }
  // Only a whole, saved file into an empty one is a server-side copy.
  if (in_offset != 0 || out_offset != 0 || !in.remote || in.dirty || length < in.remote->size ||
      out.size != 0 || in.remote->type != EntryType::kFile) {
    return EOPNOTSUPP;
  }
  const std::string& src_coll = in.ref.target.collection_id;
  const std::string& dst_coll = out.ref.target.collection_id;
  FileEntry shown = *in.remote;
  shown.name = NameOf(out.ref.path);
  shown.mtime = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  contents_->BecomeCopyTarget(out_handle, shown);
  ns_.NoteCreated(dst_coll, out.ref.path, shown);  // shown at once, with the source's size
  int rc = batcher_->QueueCopy(src_coll, in.ref.path, dst_coll, out.ref.path, false,
                               static_cast<int64_t>(in.remote->size));
  if (rc) return rc;
  *copied = in.remote->size;
  return 0;
}

int Filesystem::Release(uint64_t handle) {
  if (!contents_) return EBADF;
  FileRef gone;
  const int mount = MountOfHandle(handle);
  int rc = NoteNoHttps(mount, contents_->Release(handle, &gone));
  if (!gone.path.empty()) {
    // The last close of a file unlinked while open: its moved-aside server
    // copy goes now.
    DeleteAside(gone.target.collection_id, gone.mount, gone.path, false);
  }
  return rc;
}

int Filesystem::OpenDir(uint64_t ino, uint64_t* handle) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  auto h = std::make_shared<DirHandle>();
  h->ino = ino;
  if (n.mount < 0) {
    for (const auto& m : mounts_) h->roots.push_back(m.entry.name);
  } else {
    if (n.type != EntryType::kDir) return ENOTDIR;
    const std::string& coll = CollOf(n.mount);
    auto listing = ns_.List(coll, n.path);
    if (!listing) return Fail(listing.error(), "readdir", n.mount, n.path);
    h->mount = n.mount;
    h->path = n.path;
    h->generation = ns_.generation();
    h->listing = *listing;
    // Files moved aside while open are not shown; files whose upload has
    // not landed (so Transfer does not list them) are.
    std::vector<FileEntry> pending = contents_ ? contents_->PendingIn(coll, n.path) : std::vector<FileEntry>{};
    bool hidden = std::any_of((*listing)->begin(), (*listing)->end(),
                              [](const FileEntry& e) { return e.name.starts_with(kHiddenPrefix); });
    if (hidden || !pending.empty()) {
      std::vector<FileEntry> entries;
      entries.reserve((*listing)->size() + pending.size());
      for (const auto& e : **listing) {
        if (!e.name.starts_with(kHiddenPrefix)) entries.push_back(e);
      }
      for (auto& e : pending) {
        auto at = std::lower_bound(entries.begin(), entries.end(), e.name,
                                   [](const FileEntry& x, const std::string& name) { return x.name < name; });
        if (at == entries.end() || at->name != e.name) entries.insert(at, std::move(e));
      }
      h->listing = std::make_shared<const std::vector<FileEntry>>(std::move(entries));
    }
    ns_.NoteOpened(coll, n.path);
    if (!IsCollectionRoot(n) && !(options_.single && ino == kRootIno)) {
      if (auto pi = inodes_.Find(n.mount, ParentOf(n.path))) h->parent_ino = *pi;
    }
  }
  std::lock_guard lock(handles_mu_);
  *handle = next_handle_++;
  handles_[*handle] = std::move(h);
  return 0;
}

int Filesystem::ReadDir(uint64_t handle, uint64_t offset, bool plus,
                        const std::function<bool(const DirItem&, uint64_t)>& add) {
  std::shared_ptr<DirHandle> h;
  {
    std::lock_guard lock(handles_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return EBADF;
    h = it->second;
  }
  // Offsets: 0 ".", 1 "..", then entry i at offset i + 2.
  const size_t count = h->mount < 0 ? h->roots.size() : h->listing->size();
  std::unique_lock newer_lock(h->mu);
  if (h->mount >= 0 && h->generation != ns_.generation()) {
    h->generation = ns_.generation();
    // From the cache only: no Transfer call while readdir holds the handle.
    if (auto now = ns_.Cached(CollOf(h->mount), h->path)) {
      h->newer.clear();
      for (const auto& e : **now) h->newer.emplace(e.name, e);
    }
  }
  for (uint64_t off = offset; off < count + 2; ++off) {
    DirItem item;
    if (off == 0 || off == 1) {
      item.name = off == 0 ? "." : "..";
      item.attr = DirAttr(off == 0 ? h->ino : h->parent_ino);
      if (!add(item, off + 1)) break;
      continue;
    }
    size_t i = static_cast<size_t>(off - 2);
    int mount;
    std::string path;
    FileEntry e;
    std::optional<TimeSpec> atime, mtime;
    if (h->mount < 0) {
      mount = static_cast<int>(i);
      path = Mount(mount).root_path;
      e.name = h->roots[i];
      e.type = EntryType::kDir;
      e.mode = 0755;
      e.mtime = options_.start_time;
      e.size = 4096;
    } else {
      mount = h->mount;
      e = (*h->listing)[i];
      if (auto it = h->newer.find(e.name); it != h->newer.end()) e = it->second;
      path = JoinPath(h->path, e.name);
      if (contents_) contents_->Overlay(CollOf(mount), path, &e, &atime, &mtime);  // unsaved local data
    }
    item.name = e.name;
    if (plus) {
      NodeInfo n = inodes_.Ensure(mount, path, h->mount < 0 ? e.type : Show(mount, path, e).type, 1);
      item.attr = h->mount < 0 ? RootDirAttr(n.ino, mount) : ToAttr(n.ino, mount, path, e, atime, mtime);
      item.counted = true;
      if (!add(item, off + 1)) {
        inodes_.Forget(n.ino, 1);
        break;
      }
    } else {
      auto known = inodes_.Find(mount, path);
      item.attr = h->mount < 0 ? DirAttr(known ? *known : PseudoIno(mount, path))
                                : ToAttr(known ? *known : PseudoIno(mount, path), mount, path, e, atime, mtime);
      if (!add(item, off + 1)) break;
    }
  }
  return 0;
}

void Filesystem::ReleaseDir(uint64_t handle) {
  std::lock_guard lock(handles_mu_);
  handles_.erase(handle);
}

int Filesystem::GetXattr(uint64_t ino, const std::string& name, std::string* value) {
  // No SELinux labels, no ACLs, no trusted attributes: "not supported", so
  // that ls -l and friends stop asking this mount for them (GNU ls caches
  // it per device), rather than "no such attribute" per file.
  if (name.starts_with("security.") || name.starts_with("system.") || name.starts_with("trusted.")) {
    return EOPNOTSUPP;
  }
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (ino == kRootIno && name == kStatusXattr) {
    *value = StatusDocument();
    return 0;
  }
  if (n.mount < 0) return ENODATA;
  const auth::CollectionInfo& c = Mount(n.mount).info;
  std::string transfer_path = ToTransferPath(n.path);
  if (name == "user.globus.collection_id") {
    *value = c.id;
  } else if (name == "user.globus.path") {
    *value = transfer_path;
  } else if (name == kLinkXattr) {
    auto found = ns_.Lookup(c.id, n.path);
    if (!found) return Fail(found.error(), "getxattr", n.mount, n.path);
    if (!*found || (*found)->link_target.empty()) return ENODATA;
    *value = (*found)->link_target;
  } else if (name == "user.globus.url") {
    // The HTTPS server knows no '~': the folder Transfer named at start-up
    // (fs/remote/home_paths.h); not known, the web app's link.
    const auto https_path = ToHttpsPath(transfer_path, c.home_path.value_or(""));
    *value = !c.https_server.empty() && https_path
                 ? c.https_server + EncodePath(*https_path)
                 : "https://app.globus.org/file-manager?origin_id=" + c.id +
                       "&origin_path=" + http::UrlEncodeComponent(transfer_path);
  } else {
    return ENODATA;
  }
  return 0;
}

std::vector<std::string> Filesystem::MountPathsOf(const std::string& coll, const std::string& path) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < mounts_.size(); ++i) {
    const MountedCollection& m = mounts_[i];
    if (m.info.id != coll || !IsUnder(path, m.root_path)) continue;
    const std::string top = options_.single ? "/" : "/" + m.entry.name;
    if (path == m.root_path) {
      out.push_back(top);
    } else {
      out.push_back(JoinPath(top, path.substr(m.root_path == "/" ? 1 : m.root_path.size() + 1)));
    }
  }
  return out;
}

std::string Filesystem::StatusDocument() const {
  if (!batcher_) return "{}";
  const TaskBatcher::PathNamer namer = [this](const std::string& coll, const std::string& path) {
    return MountPathsOf(coll, path);
  };
  // The kernel refuses an xattr value over 64 KiB (XATTR_SIZE_MAX): list
  // fewer pending items (each batch is still summarised) until it fits.
  std::string doc;
  for (size_t listed : {size_t{100}, size_t{10}, size_t{0}}) {
    doc = batcher_->Status(namer, listed).dump();
    if (doc.size() <= kMaxStatusBytes) break;
  }
  return doc;
}

int Filesystem::ListXattr(uint64_t ino, std::vector<std::string>* names) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  names->clear();
  if (n.mount >= 0) *names = XattrNames();
  if (n.mount >= 0 && !IsCollectionRoot(n)) {
    auto found = ns_.Lookup(CollOf(n.mount), n.path);
    if (found && *found && !(*found)->link_target.empty()) names->push_back(kLinkXattr);
  }
  if (ino == kRootIno) names->push_back(kStatusXattr);
  return 0;
}

StatFs Filesystem::GetStatFs() const {
  // Globus does not report capacity: stable, large figures so tools that
  // check free space (cp, rsync, installers) proceed.
  StatFs s;
  s.blocks = (1ULL << 50) / s.block_size;  // 1 PiB
  s.blocks_free = s.blocks / 2;
  s.files = 1ULL << 32;
  s.files_free = s.files / 2;
  return s;
}

}  // namespace globusfs::fs
