#include "fs/filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <unordered_map>

#include "auth/http/url.h"
#include "fs/errno_map.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {

namespace {

constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE
constexpr unsigned kRenameExchange = 2;   // RENAME_EXCHANGE

bool IsDir(const FileEntry& e) { return e.type == EntryType::kDir; }

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

Filesystem::Filesystem(FsOptions options, std::vector<MountedCollection> mounts, Namespace& ns, Logger& log,
                       FileContents* contents, TaskBatcher* batcher)
    : options_(options), mounts_(std::move(mounts)), ns_(ns), log_(log), contents_(contents), batcher_(batcher) {
  if (!options_.single) {
    for (size_t i = 0; i < mounts_.size(); ++i) {
      NodeInfo n = inodes_.Ensure(static_cast<int>(i), mounts_[i].root_path, EntryType::kDir, 0);
      inodes_.Pin(n.ino);
    }
  }
}

const std::vector<std::string>& Filesystem::XattrNames() {
  static const std::vector<std::string> kNames = {"user.globus.collection_id", "user.globus.path",
                                                  "user.globus.url"};
  return kNames;
}

bool Filesystem::IsCollectionRoot(const NodeInfo& n) const {
  return n.mount >= 0 && n.path == Mount(n.mount).root_path;
}

Attr Filesystem::DirAttr(uint64_t ino) const {
  Attr a;
  a.ino = ino;
  a.mode = S_IFDIR | 0755;
  a.size = 4096;
  a.mtime = options_.start_time;
  a.nlink = 2;
  a.uid = options_.uid;
  a.gid = options_.gid;
  return a;
}

Attr Filesystem::ToAttr(uint64_t ino, const FileEntry& e) const {
  Attr a;
  a.ino = ino;
  a.uid = options_.uid;
  a.gid = options_.gid;
  a.mtime = e.mtime;
  switch (e.type) {
    case EntryType::kDir:
      a.mode = S_IFDIR | (e.mode & 07777);
      a.size = e.size;
      a.nlink = 2;
      break;
    case EntryType::kFile:
      a.mode = S_IFREG | (e.mode & 07777);
      a.size = e.size;
      break;
    case EntryType::kSymlink:
    case EntryType::kInvalidSymlink:
      a.mode = S_IFLNK | 0777;
      a.size = e.link_target.size();
      break;
  }
  return a;
}

int Filesystem::Resolve(uint64_t ino, NodeInfo* out) const {
  if (ino == kRootIno) {
    *out = NodeInfo{kRootIno, options_.single ? 0 : -1,
                    options_.single ? Mount(0).root_path : "/", EntryType::kDir};
    return 0;
  }
  auto n = inodes_.Get(ino);
  if (!n) return ESTALE;
  *out = *n;
  return 0;
}

int Filesystem::ChildPath(uint64_t parent, const std::string& name, NodeInfo* parent_node,
                          std::string* path) const {
  if (int rc = Resolve(parent, parent_node)) return rc;
  if (parent_node->mount < 0) return ENOENT;  // only collection names live at the mount root
  if (parent_node->type != EntryType::kDir) return ENOTDIR;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) return EINVAL;
  if (name.size() > 255) return ENAMETOOLONG;
  if (!IsValidUtf8(name)) return EILSEQ;  // Transfer's JSON cannot carry it
  *path = JoinPath(parent_node->path, name);
  return 0;
}

int Filesystem::Fail(const http::Error& e, const char* op, int mount, const std::string& path) {
  return ReportRemoteError(log_, e, std::string(op) + " " + (mount >= 0 ? Mount(mount).entry.name : "") + ":" + path);
}

int Filesystem::FailTask(const TaskOutcome& t, const char* op, int mount, const std::string& path) {
  log_.Log(LogLevel::kWarning, std::string(op) + " " + Mount(mount).entry.name + ":" + path +
                                   ": Globus task " + t.task_id + " ended " + t.status + " (" +
                                   t.fatal_code + (t.fatal_description.empty() ? "" : ": " + t.fatal_description) + ")");
  return ToErrno(ClassifyTaskFailure(t.fatal_code));
}

http::Result<std::optional<FileEntry>> Filesystem::LookupWithOverlay(int mount, const std::string& path) {
  FileEntry local;
  if (contents_ && contents_->Overlay(mount, path, &local)) return std::optional<FileEntry>(local);
  return ns_.Lookup(Mount(mount).info.id, path);
}

int Filesystem::DataRef(const NodeInfo& n, FileRef* out) {
  const MountedCollection& m = Mount(n.mount);
  if (!contents_ || m.info.https_server.empty()) {
    log_.LogOnce(LogLevel::kWarning, "no-https:" + m.info.id,
                 "collection '" + m.entry.name + "' (" + m.info.id +
                     ") has no HTTPS server: its files cannot be read or written through globusfs "
                     "(folders still work)");
    return EOPNOTSUPP;
  }
  out->mount = n.mount;
  out->target = DataTarget{m.info.id, m.info.https_server};
  out->path = n.path;
  out->ino = n.ino;
  return 0;
}

int Filesystem::Lookup(uint64_t parent, const std::string& name, Entry* out) {
  out->timeout_s = options_.ttl_s;
  if (parent == kRootIno && !options_.single) {
    for (size_t i = 0; i < mounts_.size(); ++i) {
      if (mounts_[i].entry.name == name) {
        NodeInfo n = inodes_.Ensure(static_cast<int>(i), mounts_[i].root_path, EntryType::kDir, 1);
        out->attr = DirAttr(n.ino);
        return 0;
      }
    }
    return ENOENT;
  }
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  auto found = LookupWithOverlay(p.mount, path);
  if (!found) return Fail(found.error(), "lookup", p.mount, path);
  if (!*found) return ENOENT;
  NodeInfo n = inodes_.Ensure(p.mount, path, (*found)->type, 1);
  out->attr = ToAttr(n.ino, **found);
  return 0;
}

void Filesystem::Forget(uint64_t ino, uint64_t nlookup) {
  if (ino != kRootIno) inodes_.Forget(ino, nlookup);
}

int Filesystem::GetAttr(uint64_t ino, Attr* out) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (ino == kRootIno || IsCollectionRoot(n)) {
    *out = DirAttr(ino);
    return 0;
  }
  auto found = LookupWithOverlay(n.mount, n.path);
  if (!found) return Fail(found.error(), "getattr", n.mount, n.path);
  if (!*found) return ENOENT;
  *out = ToAttr(ino, **found);
  return 0;
}

int Filesystem::SetAttr(uint64_t ino, const SetAttrRequest& req, Attr* out) {
  // chmod, chown and utimens are accepted without effect (so cp -p, rsync -a
  // and git work); a size change is a truncation of the file's contents.
  if (int rc = GetAttr(ino, out)) return rc;
  if (!req.set_size || req.size == out->size) return 0;
  if (S_ISDIR(out->mode)) return EISDIR;
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  FileRef ref;
  if (int rc = DataRef(n, &ref)) return rc;
  auto remote = ns_.Lookup(Mount(n.mount).info.id, n.path);
  if (!remote) return Fail(remote.error(), "truncate", n.mount, n.path);
  if (int rc = contents_->Truncate(ref, *remote, req.size)) return rc;
  return GetAttr(ino, out);
}

int Filesystem::ReadLink(uint64_t ino, std::string* out) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (n.mount < 0 || IsCollectionRoot(n)) return EINVAL;
  auto found = ns_.Lookup(Mount(n.mount).info.id, n.path);
  if (!found) return Fail(found.error(), "readlink", n.mount, n.path);
  if (!*found) return ENOENT;
  if ((*found)->type != EntryType::kSymlink && (*found)->type != EntryType::kInvalidSymlink) return EINVAL;
  *out = (*found)->link_target;
  return 0;
}

int Filesystem::Mkdir(uint64_t parent, const std::string& name, Entry* out) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  const std::string& coll = Mount(p.mount).info.id;
  if (int rc = Settle(p.mount, path)) return rc;  // a queued delete of this name goes first
  auto r = ns_.Mkdir(coll, path);
  if (!r) return Fail(r.error(), "mkdir", p.mount, path);
  auto found = ns_.Lookup(coll, path);
  FileEntry e;
  if (found && *found) {
    e = **found;
  } else {
    e.name = name;
    e.type = EntryType::kDir;
    e.mode = 0755;
    e.mtime = options_.start_time;
  }
  NodeInfo n = inodes_.Ensure(p.mount, path, EntryType::kDir, 1);
  out->attr = ToAttr(n.ino, e);
  out->timeout_s = options_.ttl_s;
  return 0;
}

int Filesystem::DeletePath(int mount, const std::string& path, bool is_dir, const char* op) {
  auto outcome = ns_.Delete(Mount(mount).info.id, path, is_dir);
  if (!outcome) return Fail(outcome.error(), op, mount, path);
  if (!outcome->succeeded()) return FailTask(*outcome, op, mount, path);
  inodes_.Unlink(mount, path);
  return 0;
}

int Filesystem::RemovePath(int mount, const std::string& path, bool is_dir, const char* op) {
  if (!batcher_) return DeletePath(mount, path, is_dir, op);
  // Hidden at once, deleted in a batch (failures bring it back and are logged).
  const std::string& coll = Mount(mount).info.id;
  if (int rc = batcher_->QueueDelete(coll, path, is_dir)) return rc;  // journaled, or refused
  ns_.NoteRemoved(coll, path);
  inodes_.Unlink(mount, path);
  return 0;
}

int Filesystem::Settle(int mount, const std::string& path) {
  // Waits for queued work on the path; a failure not yet reported is EIO.
  return batcher_ ? batcher_->WaitPath(Mount(mount).info.id, path) : 0;
}

int Filesystem::Unlink(uint64_t parent, const std::string& name) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  auto found = ns_.Lookup(Mount(p.mount).info.id, path);
  if (!found) return Fail(found.error(), "unlink", p.mount, path);
  if (!*found) return ENOENT;
  if (IsDir(**found)) return EISDIR;
  if (contents_) contents_->Unlinked(p.mount, Mount(p.mount).info.id, path);
  return RemovePath(p.mount, path, false, "unlink");
}

int Filesystem::Rmdir(uint64_t parent, const std::string& name) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  const std::string& coll = Mount(p.mount).info.id;
  auto found = ns_.Lookup(coll, path);
  if (!found) return Fail(found.error(), "rmdir", p.mount, path);
  if (!*found) return ENOENT;
  if (!IsDir(**found)) return ENOTDIR;
  auto listing = ns_.List(coll, path);  // emptiness is checked here, not by a delete task
  if (!listing) return Fail(listing.error(), "rmdir", p.mount, path);
  if (!(*listing)->empty()) return ENOTEMPTY;
  return RemovePath(p.mount, path, true, "rmdir");
}

int Filesystem::Rename(uint64_t parent, const std::string& name, uint64_t new_parent,
                       const std::string& new_name, unsigned flags) {
  if (flags & ~kRenameNoReplace) return EINVAL;  // RENAME_EXCHANGE, RENAME_WHITEOUT
  if ((parent == kRootIno || new_parent == kRootIno) && !options_.single) return EPERM;
  NodeInfo p, np;
  std::string from, to;
  if (int rc = ChildPath(parent, name, &p, &from)) return rc;
  if (int rc = ChildPath(new_parent, new_name, &np, &to)) return rc;
  if (p.mount != np.mount) return EXDEV;  // mv falls back to copy + delete
  if (from == to) return 0;
  if (IsUnder(to, from)) return EINVAL;
  const std::string& coll = Mount(p.mount).info.id;
  // Transfer renames what exists: unsaved changes go up, a copy into the
  // source lands, and a queued delete of the target runs, first.
  if (contents_) {
    if (int rc = contents_->FlushPath(p.mount, from)) return rc;
  }
  if (int rc = Settle(p.mount, from)) return rc;
  if (int rc = Settle(p.mount, to)) return rc;
  auto src = ns_.Lookup(coll, from);
  if (!src) return Fail(src.error(), "rename", p.mount, from);
  if (!*src) return ENOENT;
  auto dst = ns_.Lookup(coll, to);
  if (!dst) return Fail(dst.error(), "rename", p.mount, to);
  if (*dst) {
    // Transfer never overwrites: replace the target the POSIX way first.
    if (flags & kRenameNoReplace) return EEXIST;
    if (IsDir(**src) && !IsDir(**dst)) return ENOTDIR;
    if (!IsDir(**src) && IsDir(**dst)) return EISDIR;
    if (IsDir(**dst)) {
      auto listing = ns_.List(coll, to);
      if (!listing) return Fail(listing.error(), "rename", p.mount, to);
      if (!(*listing)->empty()) return ENOTEMPTY;
    }
    if (int rc = DeletePath(p.mount, to, IsDir(**dst), "rename")) return rc;
  }
  auto r = ns_.Rename(coll, from, to);
  if (!r) return Fail(r.error(), "rename", p.mount, from);
  inodes_.Rename(p.mount, from, to);
  if (contents_) contents_->Renamed(p.mount, coll, from, to);
  return 0;
}

int Filesystem::Open(uint64_t ino, int flags, OpenReply* out) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (n.mount < 0 || IsCollectionRoot(n) || n.type == EntryType::kDir) return EISDIR;
  FileRef ref;
  if (int rc = DataRef(n, &ref)) return rc;
  // A pending copy into this file is read (or written) once it has landed.
  if (int rc = Settle(n.mount, n.path)) return rc;
  auto found = ns_.Lookup(Mount(n.mount).info.id, n.path);
  if (!found) return Fail(found.error(), "open", n.mount, n.path);
  FileEntry local;
  if (!*found && !contents_->Overlay(n.mount, n.path, &local)) return ENOENT;
  if (*found && (*found)->type == EntryType::kDir) return EISDIR;
  return contents_->Open(ref, *found, flags, false, out);
}

int Filesystem::Create(uint64_t parent, const std::string& name, int flags, Entry* entry, OpenReply* out) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  NodeInfo n{0, p.mount, path, EntryType::kFile};
  FileRef ref;
  if (int rc = DataRef(n, &ref)) return rc;
  const std::string& coll = Mount(p.mount).info.id;
  if (int rc = Settle(p.mount, path)) return rc;
  auto found = ns_.Lookup(coll, path);
  if (!found) return Fail(found.error(), "create", p.mount, path);
  if (*found && (flags & O_EXCL)) return EEXIST;
  if (*found && (*found)->type == EntryType::kDir) return EISDIR;
  NodeInfo node = inodes_.Ensure(p.mount, path, EntryType::kFile, 1);
  ref.ino = node.ino;
  // O_CREAT on an existing file opens it (truncating only with O_TRUNC).
  if (int rc = contents_->Open(ref, *found, flags, /*create=*/!*found, out)) {
    inodes_.Forget(node.ino, 1);
    return rc;
  }
  FileEntry e;
  if (!contents_->Overlay(p.mount, path, &e)) e = **found;
  if (!*found) ns_.NoteCreated(coll, path, e);  // listed at once, uploaded at close
  entry->attr = ToAttr(node.ino, e);
  entry->timeout_s = options_.ttl_s;
  return 0;
}

int Filesystem::Read(uint64_t handle, uint64_t offset, size_t size, std::string* out) {
  return contents_ ? contents_->Read(handle, offset, size, out) : EBADF;
}

int Filesystem::Write(uint64_t handle, uint64_t offset, std::string_view data) {
  return contents_ ? contents_->Write(handle, offset, data) : EBADF;
}

int Filesystem::Flush(uint64_t handle) { return contents_ ? contents_->Flush(handle) : EBADF; }

int Filesystem::Fsync(uint64_t handle) {
  if (!contents_) return EBADF;
  if (int rc = contents_->Flush(handle)) return rc;
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
  int rc = batcher_->QueueCopy(src_coll, in.ref.path, dst_coll, out.ref.path, false);
  if (rc) return rc;
  *copied = in.remote->size;
  return 0;
}

int Filesystem::Release(uint64_t handle) { return contents_ ? contents_->Release(handle) : EBADF; }

int Filesystem::OpenDir(uint64_t ino, uint64_t* handle) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  auto h = std::make_shared<DirHandle>();
  h->ino = ino;
  if (n.mount < 0) {
    for (const auto& m : mounts_) h->roots.push_back(m.entry.name);
  } else {
    if (n.type != EntryType::kDir) return ENOTDIR;
    auto listing = ns_.List(Mount(n.mount).info.id, n.path);
    if (!listing) return Fail(listing.error(), "readdir", n.mount, n.path);
    h->mount = n.mount;
    h->path = n.path;
    h->generation = ns_.generation();
    h->listing = *listing;
    ns_.NoteOpened(Mount(n.mount).info.id, n.path);
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
    if (auto now = ns_.Cached(Mount(h->mount).info.id, h->path)) {
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
      if (contents_) contents_->Overlay(mount, path, &e);  // unsaved local data
    }
    item.name = e.name;
    if (plus) {
      NodeInfo n = inodes_.Ensure(mount, path, e.type, 1);
      item.attr = h->mount < 0 ? DirAttr(n.ino) : ToAttr(n.ino, e);
      item.counted = true;
      if (!add(item, off + 1)) {
        inodes_.Forget(n.ino, 1);
        break;
      }
    } else {
      auto known = inodes_.Find(mount, path);
      item.attr = ToAttr(known ? *known : PseudoIno(mount, path), e);
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
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (ino == kRootIno && name == kStatusXattr) {
    *value = batcher_ ? batcher_->Status().dump() : "{}";
    return 0;
  }
  if (n.mount < 0) return ENODATA;
  const auth::CollectionInfo& c = Mount(n.mount).info;
  std::string transfer_path = ToTransferPath(n.path);
  if (name == "user.globus.collection_id") {
    *value = c.id;
  } else if (name == "user.globus.path") {
    *value = transfer_path;
  } else if (name == "user.globus.url") {
    *value = !c.https_server.empty()
                 ? c.https_server + EncodePath(transfer_path)
                 : "https://app.globus.org/file-manager?origin_id=" + c.id +
                       "&origin_path=" + http::UrlEncodeComponent(transfer_path);
  } else {
    return ENODATA;
  }
  return 0;
}

int Filesystem::ListXattr(uint64_t ino, std::vector<std::string>* names) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  names->clear();
  if (n.mount >= 0) *names = XattrNames();
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
