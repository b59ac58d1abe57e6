// Filesystem: lookups, attributes and namespace changes (mkdir, unlink,
// rmdir, rename). Open files, reads and writes, folders' entries and
// extended attributes are in filesystem_io.cpp.
#include "fs/filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <functional>

#include "cache/journal.h"
#include "fs/errno_map.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {

namespace {

constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE

bool IsDir(const FileEntry& e) { return e.type == EntryType::kDir; }

TimeSpec FromMs(int64_t ms) {
  int64_t sec = ms / 1000, rem = ms % 1000;
  if (rem < 0) {
    --sec;
    rem += 1000;
  }
  return TimeSpec{sec, static_cast<uint32_t>(rem * 1000000)};
}

}  // namespace

Filesystem::Filesystem(FsOptions options, std::vector<MountedCollection> mounts, Namespace& ns, Logger& log,
                       FileContents* contents, TaskBatcher* batcher)
    : options_(options), mounts_(std::move(mounts)), ns_(ns), log_(log), contents_(contents), batcher_(batcher) {
  if (!options_.single) {
    for (size_t i = 0; i < mounts_.size(); ++i) {
      NodeInfo n = inodes_.Ensure(static_cast<int>(i), mounts_[i].root_path, EntryType::kDir, 0);
      inodes_.Pin(n.ino);
    }
  }
  if (contents_) {
    contents_->set_invalidate([this](uint64_t ino) {
      if (notifier_) notifier_->InvalidateInode(ino);
    });
  }
  // A folder looked up before its listing was known was given 2 links:
  // once the listing shows subfolders, the kernel must ask again.
  ns_.set_on_listed([this](const std::string& coll, const std::string& dir, size_t subdirs) {
    if (!notifier_ || subdirs == 0) return;
    for (size_t i = 0; i < mounts_.size(); ++i) {
      if (CollOf(static_cast<int>(i)) != coll) continue;
      if (auto ino = inodes_.Find(static_cast<int>(i), dir)) notifier_->InvalidateInode(*ino);
    }
  });
}

const std::vector<std::string>& Filesystem::XattrNames() {
  static const std::vector<std::string> kNames = {"user.globus.collection_id", "user.globus.path",
                                                  "user.globus.url"};
  return kNames;
}

int64_t Filesystem::NowMs() const { return ns_.NowMs(); }

bool Filesystem::IsCollectionRoot(const NodeInfo& n) const {
  return n.mount >= 0 && n.path == Mount(n.mount).root_path;
}

Attr Filesystem::DirAttr(uint64_t ino) const {
  Attr a;
  a.ino = ino;
  a.mode = S_IFDIR | 0755;
  a.size = 4096;
  a.mtime = options_.start_time;
  a.atime = a.ctime = TimeSpec{options_.start_time, 0};
  a.nlink = 2;
  a.uid = options_.uid;
  a.gid = options_.gid;
  return a;
}

Attr Filesystem::RootDirAttr(uint64_t ino, int mount) const {
  Attr a = DirAttr(ino);
  const std::string& coll = CollOf(mount);
  const std::string& root = Mount(mount).root_path;
  auto& store = ns_.store();
  const int64_t now = NowMs();
  if (auto changed = store.DirChangedAtMs(coll, root, now); changed && *changed / 1000 >= a.mtime) {
    TimeSpec t = FromMs(*changed);
    a.mtime = t.sec;
    a.mtime_nsec = t.nsec;
    a.atime = a.ctime = t;
  }
  if (auto subdirs = store.SubdirCount(coll, root, now)) a.nlink = 2 + *subdirs;
  return a;
}

std::string Filesystem::RelativeLink(const std::string& from_dir, const std::string& to) {
  auto split = [](const std::string& p) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < p.size();) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      if (j > i) parts.push_back(p.substr(i, j - i));
      i = j + 1;
    }
    return parts;
  };
  const auto from = split(from_dir), dest = split(to);
  size_t common = 0;
  while (common < from.size() && common < dest.size() && from[common] == dest[common]) ++common;
  std::string out;
  for (size_t i = common; i < from.size(); ++i) out += out.empty() ? ".." : "/..";
  for (size_t i = common; i < dest.size(); ++i) out += (out.empty() ? "" : "/") + dest[i];
  return out.empty() ? "." : out;
}

std::optional<std::string> Filesystem::InsideMount(int mount, const std::string& abs) const {
  const MountedCollection& m = Mount(mount);
  if (m.abs_root.empty() || abs.empty() || abs[0] != '/') return std::nullopt;
  const std::string target = NormalizeCollectionPath(abs);
  if (!IsUnder(target, m.abs_root)) return std::nullopt;
  if (target == m.abs_root) return m.root_path;
  const std::string rest = target.substr(m.abs_root == "/" ? 1 : m.abs_root.size() + 1);
  return JoinPath(m.root_path, rest);
}

ShownEntry Filesystem::Show(int mount, const std::string& path, const FileEntry& e) const {
  switch (e.type) {
    case EntryType::kSymlink:
    case EntryType::kSymlinkDir:
      if (auto inside = InsideMount(mount, e.link_target)) {
        return ShownEntry{EntryType::kSymlink, RelativeLink(ParentOf(path), *inside)};
      }
      return ShownEntry{e.type == EntryType::kSymlinkDir ? EntryType::kDir : EntryType::kFile, ""};
    case EntryType::kInvalidSymlink:
      if (auto inside = InsideMount(mount, e.link_target)) {
        return ShownEntry{EntryType::kInvalidSymlink, RelativeLink(ParentOf(path), *inside)};
      }
      return ShownEntry{EntryType::kInvalidSymlink, e.link_target};
    default:
      return ShownEntry{e.type, ""};
  }
}

Attr Filesystem::ToAttr(uint64_t ino, int mount, const std::string& path, const FileEntry& e,
                        const std::optional<TimeSpec>& pending_atime,
                        const std::optional<TimeSpec>& pending_mtime) const {
  Attr a;
  a.ino = ino;
  a.uid = options_.uid;
  a.gid = options_.gid;
  a.mtime = e.mtime;
  const ShownEntry shown = Show(mount, path, e);
  a.size = e.size;
  switch (shown.type) {
    case EntryType::kDir:
    case EntryType::kSymlinkDir:
      a.mode = S_IFDIR | (e.mode & 07777);
      a.nlink = 2;
      break;
    case EntryType::kFile:
    case EntryType::kOther:  // shown as a file whose contents cannot be read
      a.mode = S_IFREG | (e.mode & 07777);
      break;
    case EntryType::kSymlink:
    case EntryType::kInvalidSymlink:
      a.mode = S_IFLNK | 0777;
      a.size = shown.link.size();
      break;
    case EntryType::kCharDevice:
      a.mode = S_IFCHR | (e.mode & 07777);
      break;
    case EntryType::kBlockDevice:
      a.mode = S_IFBLK | (e.mode & 07777);
      break;
    case EntryType::kPipe:
      a.mode = S_IFIFO | (e.mode & 07777);
      break;
  }
  const std::string& coll = CollOf(mount);
  auto& store = ns_.store();
  const int64_t now = NowMs();
  if (shown.type == EntryType::kDir) {
    // Our own changes inside show at once; the server's after the TTL.
    if (auto changed = store.DirChangedAtMs(coll, path, now); changed && *changed / 1000 >= a.mtime) {
      TimeSpec t = FromMs(*changed);
      a.mtime = t.sec;
      a.mtime_nsec = t.nsec;
    }
    if (auto subdirs = store.SubdirCount(coll, path, now)) a.nlink = 2 + *subdirs;
  }
  a.ctime = TimeSpec{a.mtime, a.mtime_nsec};
  a.atime = a.ctime;
  if (pending_atime || pending_mtime) {
    if (pending_mtime) {
      a.mtime = pending_mtime->sec;
      a.mtime_nsec = pending_mtime->nsec;
    }
    a.atime = pending_atime.value_or(TimeSpec{a.mtime, a.mtime_nsec});
  } else if (auto t = store.GetTimes(coll, path); t && t->server_size == e.size && t->server_mtime == e.mtime) {
    // Times set here hold while the server's copy is the one they were set on.
    a.mtime = t->mtime_s;
    a.mtime_nsec = t->mtime_ns;
    a.atime = TimeSpec{t->atime_s, t->atime_ns};
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

http::Result<std::optional<FileEntry>> Filesystem::LookupWithOverlay(int mount, const std::string& path,
                                                                     std::optional<TimeSpec>* atime,
                                                                     std::optional<TimeSpec>* mtime) {
  FileEntry local;
  if (contents_ && contents_->Overlay(CollOf(mount), path, &local, atime, mtime)) {
    return std::optional<FileEntry>(local);
  }
  return ns_.Lookup(CollOf(mount), path);
}

int Filesystem::DataRef(const NodeInfo& n, FileRef* out, bool transfer_only) {
  const MountedCollection& m = Mount(n.mount);
  if (!contents_) return EOPNOTSUPP;
  if (m.info.https_server.empty() && !transfer_only) return NoteNoHttps(n.mount, EOPNOTSUPP);
  out->mount = n.mount;
  out->target = DataTarget{m.info.id, m.info.https_server};
  out->path = n.path;
  out->ino = n.ino;
  return 0;
}

int Filesystem::NoteNoHttps(int mount, int rc) {
  if (rc != EOPNOTSUPP || mount < 0 || static_cast<size_t>(mount) >= mounts_.size()) return rc;
  const MountedCollection& m = Mount(mount);
  if (!m.info.https_server.empty()) return rc;
  log_.LogOnce(LogLevel::kWarning, "no-https:" + m.info.id,
               "collection '" + m.entry.name + "' (" + m.info.id +
                   ") has no HTTPS server: its files cannot be read or written through globusfs "
                   "(folders, and copies to and from other collections, still work)");
  return rc;
}

int Filesystem::MountOfHandle(uint64_t handle) {
  FileContents::HandleInfo info;
  return contents_ && contents_->Describe(handle, &info) ? info.ref.mount : -1;
}

int Filesystem::Lookup(uint64_t parent, const std::string& name, Entry* out) {
  out->timeout_s = options_.ttl_s;
  if (parent == kRootIno && !options_.single) {
    for (size_t i = 0; i < mounts_.size(); ++i) {
      if (mounts_[i].entry.name == name) {
        NodeInfo n = inodes_.Ensure(static_cast<int>(i), mounts_[i].root_path, EntryType::kDir, 1);
        out->attr = RootDirAttr(n.ino, static_cast<int>(i));
        return 0;
      }
    }
    return ENOENT;
  }
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  if (name.starts_with(kHiddenPrefix)) return ENOENT;
  std::optional<TimeSpec> atime, mtime;
  auto found = LookupWithOverlay(p.mount, path, &atime, &mtime);
  if (!found) return Fail(found.error(), "lookup", p.mount, path);
  if (!*found) return ENOENT;
  NodeInfo n = inodes_.Ensure(p.mount, path, Show(p.mount, path, **found).type, 1);
  out->attr = ToAttr(n.ino, p.mount, path, **found, atime, mtime);
  return 0;
}

void Filesystem::Forget(uint64_t ino, uint64_t nlookup) {
  if (ino != kRootIno) inodes_.Forget(ino, nlookup);
}

int Filesystem::GetAttr(uint64_t ino, Attr* out, uint64_t handle) {
  (void)handle;  // an open file is found by its inode, through any handle
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (ino == kRootIno && !options_.single) {
    *out = DirAttr(ino);
    return 0;
  }
  if (IsCollectionRoot(n)) {
    *out = RootDirAttr(ino, n.mount);
    return 0;
  }
  if (!n.linked) {
    // Unlinked (or renamed over) while open: fstat through the descriptor
    // still answers, with no links left.
    FileEntry e;
    if (!contents_ || !contents_->OverlayByIno(ino, &e)) return ENOENT;
    *out = ToAttr(ino, n.mount, n.path, e);
    out->nlink = 0;
    return 0;
  }
  std::optional<TimeSpec> atime, mtime;
  auto found = LookupWithOverlay(n.mount, n.path, &atime, &mtime);
  if (!found) return Fail(found.error(), "getattr", n.mount, n.path);
  if (!*found) return ENOENT;
  *out = ToAttr(ino, n.mount, n.path, **found, atime, mtime);
  return 0;
}

int Filesystem::SetAttr(uint64_t ino, const SetAttrRequest& req, Attr* out, uint64_t handle) {
  // chmod and chown are accepted without effect (so cp -p, rsync -a and git
  // work); a size change is a truncation of the file's contents; times are
  // kept in the metadata cache.
  if (int rc = GetAttr(ino, out, handle)) return rc;
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (req.set_size && req.size != out->size) {
    if (S_ISDIR(out->mode)) return EISDIR;
    if (req.size > kMaxFileSize) return EFBIG;
    if (handle && contents_) {
      if (int rc = contents_->TruncateHandle(handle, req.size)) return NoteNoHttps(n.mount, rc);
    } else {
      FileRef ref;
      if (int rc = DataRef(n, &ref)) return rc;
      auto remote = ns_.Lookup(CollOf(n.mount), n.path);
      if (!remote) return Fail(remote.error(), "truncate", n.mount, n.path);
      if (int rc = contents_->Truncate(ref, *remote, req.size)) return rc;
    }
  }
  if (req.atime || req.mtime) {
    if (int rc = SetTimes(n, req.atime, req.mtime)) return rc;
  }
  if (!req.set_size && !req.atime && !req.mtime) return 0;
  return GetAttr(ino, out, handle);
}

int Filesystem::SetTimes(const NodeInfo& n, const std::optional<TimeSpec>& atime,
                         const std::optional<TimeSpec>& mtime) {
  if (n.mount < 0 || IsCollectionRoot(n) || !n.linked) return 0;  // accepted, nowhere to keep them
  const std::string& coll = CollOf(n.mount);
  // Unsaved changes: the times hold for the upload that is coming.
  if (contents_ && contents_->SetTimes(coll, n.path, atime, mtime)) return 0;
  auto found = ns_.Lookup(coll, n.path);
  if (!found) return Fail(found.error(), "utimens", n.mount, n.path);
  if (!*found) return ENOENT;
  const FileEntry& e = **found;
  // What is shown now stands for the time not given (UTIME_OMIT).
  TimeSpec cur_m{e.mtime, 0}, cur_a{e.mtime, 0};
  auto& store = ns_.store();
  if (auto t = store.GetTimes(coll, n.path); t && t->server_size == e.size && t->server_mtime == e.mtime) {
    cur_m = TimeSpec{t->mtime_s, t->mtime_ns};
    cur_a = TimeSpec{t->atime_s, t->atime_ns};
  }
  TimeSpec a = atime.value_or(cur_a), m = mtime.value_or(cur_m);
  cache::UserTimes t;
  t.atime_s = a.sec;
  t.atime_ns = a.nsec;
  t.mtime_s = m.sec;
  t.mtime_ns = m.nsec;
  t.server_size = e.size;
  t.server_mtime = e.mtime;
  store.PutTimes(coll, n.path, t);
  return 0;
}

int Filesystem::ReadLink(uint64_t ino, std::string* out) {
  NodeInfo n;
  if (int rc = Resolve(ino, &n)) return rc;
  if (n.mount < 0 || IsCollectionRoot(n)) return EINVAL;
  auto found = ns_.Lookup(CollOf(n.mount), n.path);
  if (!found) return Fail(found.error(), "readlink", n.mount, n.path);
  if (!*found) return ENOENT;
  ShownEntry shown = Show(n.mount, n.path, **found);
  if (shown.type != EntryType::kSymlink && shown.type != EntryType::kInvalidSymlink) return EINVAL;
  *out = shown.link;
  return 0;
}

int Filesystem::Mkdir(uint64_t parent, const std::string& name, Entry* out) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  if (name.starts_with(kHiddenPrefix)) return EINVAL;  // reserved
  const std::string& coll = CollOf(p.mount);
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
  out->attr = ToAttr(n.ino, p.mount, path, e);
  out->timeout_s = options_.ttl_s;
  return 0;
}

int Filesystem::DeletePath(int mount, const std::string& path, bool is_dir, const char* op) {
  auto outcome = ns_.Delete(CollOf(mount), path, is_dir);
  if (!outcome) return Fail(outcome.error(), op, mount, path);
  if (!outcome->succeeded()) return FailTask(*outcome, op, mount, path);
  inodes_.Unlink(mount, path);
  return 0;
}

int Filesystem::RemovePath(int mount, const std::string& path, bool is_dir, const char* op) {
  if (!batcher_) return DeletePath(mount, path, is_dir, op);
  // Hidden at once, deleted in a batch (failures bring it back and are logged).
  const std::string& coll = CollOf(mount);
  if (int rc = batcher_->QueueDelete(coll, path, is_dir)) return rc;  // journaled, or refused
  ns_.NoteRemoved(coll, path);
  inodes_.Unlink(mount, path);
  return 0;
}

int Filesystem::Settle(int mount, const std::string& path) {
  // Waits for queued work on the path; a failure not yet reported is EIO.
  return batcher_ ? batcher_->WaitPath(CollOf(mount), path) : 0;
}

void Filesystem::HoldAsideDelete(int mount, const std::string& aside) {
  if (!batcher_) return;
  const std::string& coll = CollOf(mount);
  std::string key = batcher_->HoldDelete(coll, aside);
  if (key.empty()) {
    log_.Log(LogLevel::kWarning, "cannot journal the delete of " + aside +
                                     " (a file removed while open); it is deleted at its last close, but not after a crash");
    return;
  }
  std::lock_guard lock(held_mu_);
  held_[coll + '\0' + aside] = key;
}

void Filesystem::DeleteAside(const std::string& coll, int mount, const std::string& aside, bool is_dir) {
  std::string key;
  {
    std::lock_guard lock(held_mu_);
    auto it = held_.find(coll + '\0' + aside);
    if (it != held_.end()) {
      key = it->second;
      held_.erase(it);
    }
  }
  if (batcher_) {
    if (batcher_->QueueDelete(coll, aside, is_dir, key) == 0) ns_.NoteRemoved(coll, aside);
  } else if (mount >= 0) {
    (void)DeletePath(mount, aside, is_dir, "delete");
  }
}

std::string Filesystem::MoveAside(int mount, const std::string& path, int* rc) {
  std::string hidden = JoinPath(ParentOf(path), std::string(kHiddenPrefix) + cache::NewRecordId());
  auto r = ns_.Rename(CollOf(mount), path, hidden);
  if (!r) {
    // Gone from the server already: nothing to keep aside.
    *rc = Classify(r.error()) == RemoteErrc::kNotFound ? 0 : Fail(r.error(), "moving aside", mount, path);
    return "";
  }
  *rc = 0;
  return hidden;
}

int Filesystem::Unlink(uint64_t parent, const std::string& name) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  if (name.starts_with(kHiddenPrefix)) return ENOENT;
  const std::string& coll = CollOf(p.mount);
  // An upload of it in flight lands first; none starts until it is unlinked.
  FileContents::UploadHold uploads;
  if (contents_) uploads = contents_->HoldUploads(coll, path);
  auto found = LookupWithOverlay(p.mount, path);  // a file whose upload is pending counts
  if (!found) return Fail(found.error(), "unlink", p.mount, path);
  if (!*found) return ENOENT;
  if (IsDir(**found)) return EISDIR;
  if (contents_ && contents_->IsOpen(coll, path)) {
    // Open: its handles keep working until the last close, so the server's
    // copy is moved aside, and deleted then: once the copies queued from it
    // (mv across collections: copy, then unlink) have read it.
    if (int rc = Settle(p.mount, path)) return rc;
    if (int rc = batcher_ ? batcher_->WaitCopiesFrom(coll, path) : 0) return rc;
    auto listed = ns_.Lookup(coll, path);
    std::string hidden;
    if (listed && *listed && contents_->OnServer(coll, path)) {
      int rc = 0;
      hidden = MoveAside(p.mount, path, &rc);
      if (rc) return rc;
      if (!hidden.empty()) HoldAsideDelete(p.mount, hidden);
    }
    contents_->Unlinked(coll, path, hidden);
    ns_.NoteRemoved(coll, path);
    inodes_.Unlink(p.mount, path);
    return 0;
  }
  if (contents_) contents_->Unlinked(coll, path);
  return RemovePath(p.mount, path, false, "unlink");
}

int Filesystem::Rmdir(uint64_t parent, const std::string& name) {
  if (parent == kRootIno && !options_.single) return EPERM;
  NodeInfo p;
  std::string path;
  if (int rc = ChildPath(parent, name, &p, &path)) return rc;
  if (name.starts_with(kHiddenPrefix)) return ENOENT;
  const std::string& coll = CollOf(p.mount);
  auto found = ns_.Lookup(coll, path);
  if (!found) return Fail(found.error(), "rmdir", p.mount, path);
  if (!*found) return ENOENT;
  // A link to a folder shown as a folder: rmdir removes the link (Globus
  // unlinks links, never follows them).
  if (!IsDir(**found) && (*found)->type != EntryType::kSymlinkDir) return ENOTDIR;
  auto listing = ns_.List(coll, path);  // emptiness is checked here, not by a delete task
  if (!listing) return Fail(listing.error(), "rmdir", p.mount, path);
  for (const auto& e : **listing) {
    if (!e.name.starts_with(kHiddenPrefix)) return ENOTEMPTY;
  }
  if (contents_ && !contents_->PendingIn(coll, path).empty()) return ENOTEMPTY;
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
  if (name.starts_with(kHiddenPrefix)) return ENOENT;
  if (new_name.starts_with(kHiddenPrefix)) return EINVAL;  // reserved
  if (p.mount != np.mount) return EXDEV;  // mv falls back to copy + delete
  if (from == to) return 0;
  if (IsUnder(to, from)) return EINVAL;
  const std::string& coll = CollOf(p.mount);
  // Transfer renames what exists: unsaved changes go up, a copy into the
  // source lands, and a queued delete of the target runs, first.
  if (contents_) {
    if (int rc = contents_->FlushPath(coll, from)) return rc;
  }
  if (int rc = Settle(p.mount, from)) return rc;
  if (int rc = Settle(p.mount, to)) return rc;
  // Both names move on the server now: copies queued from either read it first.
  if (batcher_) {
    if (int rc = batcher_->WaitCopiesFrom(CollOf(p.mount), from)) return rc;
    if (int rc = batcher_->WaitCopiesFrom(CollOf(p.mount), to)) return rc;
  }
  // The replaced file's late upload (its last release) waits until it is
  // marked unlinked below, and then never runs.
  FileContents::UploadHold target_uploads;
  if (contents_) target_uploads = contents_->HoldUploads(coll, to);
  auto src = ns_.Lookup(coll, from);
  if (!src) return Fail(src.error(), "rename", p.mount, from);
  if (!*src) return ENOENT;
  auto dst = ns_.Lookup(coll, to);
  if (!dst) return Fail(dst.error(), "rename", p.mount, to);
  std::string aside;  // the replaced target, moved out of the way
  bool dst_dir = false;
  if (*dst) {
    // Transfer never overwrites: the target is moved aside (one rename, not
    // a delete task to wait for) and deleted after.
    if (flags & kRenameNoReplace) return EEXIST;
    dst_dir = IsDir(**dst);
    if (IsDir(**src) && !dst_dir) return ENOTDIR;
    if (!IsDir(**src) && dst_dir) return EISDIR;
    if (dst_dir) {
      auto listing = ns_.List(coll, to);
      if (!listing) return Fail(listing.error(), "rename", p.mount, to);
      for (const auto& e : **listing) {
        if (!e.name.starts_with(kHiddenPrefix)) return ENOTEMPTY;
      }
    }
    int rc = 0;
    aside = MoveAside(p.mount, to, &rc);
    if (rc) return rc;
  }
  auto r = ns_.Rename(coll, from, to);
  if (!r) {
    int rc = Fail(r.error(), "rename", p.mount, from);
    if (!aside.empty()) {
      if (auto back = ns_.Rename(coll, aside, to); !back) {
        log_.Log(LogLevel::kError, "rename " + from + " -> " + to + " failed and the replaced file could not be "
                                   "put back: it is at " + aside + " (" + back.error().Summary() + ")");
      }
    }
    return rc;
  }
  if (!aside.empty()) {
    bool open = contents_ && contents_->IsOpen(coll, to);
    if (contents_) contents_->Unlinked(coll, to, open ? aside : "");
    // An open target is deleted at its last close; the rest now.
    if (open) {
      HoldAsideDelete(p.mount, aside);
    } else {
      DeleteAside(coll, p.mount, aside, dst_dir);
    }
  }
  inodes_.Rename(p.mount, from, to);
  if (contents_) contents_->Renamed(coll, from, to);
  return 0;
}

}  // namespace globusfs::fs
