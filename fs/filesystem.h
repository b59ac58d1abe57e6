// Filesystem: the core of globusfs. Every FUSE operation the adapter
// receives becomes one call here, on inode numbers, answering plain structs
// and an errno (0 = success). No FUSE header is included: unit tests drive
// this class directly on FakeTransfer, without a kernel.
//
// The tree: the mount root (inode 1) lists the mount table's names; each
// name is a collection folder rooted at its base path. With `single`, the
// only collection is the root itself.
//
// Semantics (docs/SEMANTICS.md has the full list): lookups and listings come
// from Namespace (cache, then Transfer ls); mkdir and rename are Transfer
// mkdir / rename; unlink and rmdir hide the entry and queue a delete task;
// rename across collections is EXDEV; chmod/chown are accepted without
// effect; utimens is kept in the metadata cache (UserTimes) while the
// server's copy is the one this mount last saw; symlink/link/mknod are
// ENOTSUP; file contents go through FileContents (HTTPS reads, staged
// writes, the journal), or are EOPNOTSUPP when the collection has no HTTPS
// server (or no FileContents was given, in unit tests of the namespace
// alone). A file unlinked (or renamed over) while open is first moved
// aside on the server under a hidden name (".globusfs-unlinked-...", never
// listed), so its handles keep reading it; it is deleted at the last close.
// Folder times follow local changes at once (the metadata store records
// them) and link counts are 2 + the subfolders of a known listing. Errors
// are classified once (fs/remote/remote_error.h) and mapped to errno once
// (fs/errno_map.h); an authentication requirement is EACCES plus one log
// line naming the globusfs-auth command that fixes it.
//
// Thread-safety: all methods may be called concurrently from FUSE worker
// threads. Lock order: handles_mu_, then InodeTable's own lock; neither is
// held across a Namespace (network) call or a callback into the adapter.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/collection_info.h"
#include "fs/file_contents.h"
#include "fs/inode_table.h"
#include "fs/kernel_notifier.h"
#include "fs/task_batcher.h"
#include "fs/log.h"
#include "fs/mount_table.h"
#include "fs/namespace.h"

namespace globusfs::fs {

struct Attr {
  uint64_t ino = 0;
  uint32_t mode = 0;  // S_IF* | permission bits
  uint64_t size = 0;
  int64_t mtime = 0;  // seconds since the epoch (any 64-bit value)
  uint32_t mtime_nsec = 0;
  TimeSpec atime, ctime;
  uint32_t nlink = 1;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct Entry {
  Attr attr;
  double timeout_s = 0;  // entry and attribute validity for the kernel
};

struct DirItem {
  std::string name;
  Attr attr;
  bool counted = false;  // readdirplus: the item carries a lookup reference
};

struct SetAttrRequest {
  bool set_size = false;
  uint64_t size = 0;
  bool set_mode = false, set_owner = false;
  // utimens: the times to set (UTIME_NOW already resolved by the caller);
  // an absent one is left as it is (UTIME_OMIT).
  std::optional<TimeSpec> atime, mtime;
};

struct StatFs {
  uint64_t block_size = 4096;
  uint64_t blocks = 0, blocks_free = 0, files = 0, files_free = 0;
  uint64_t name_max = 255;
};

// A mount-table entry resolved at start-up.
struct MountedCollection {
  MountEntry entry;
  auth::CollectionInfo info;
  std::string root_path;  // normalised collection path shown as the folder
  // root_path as the server's absolute real path ("/~" resolved), which is
  // how it names link targets; empty while unknown (links then show as
  // what they point to).
  std::string abs_root;
};

// How an entry is shown in the mount. A valid link whose target lies inside
// the mounted folder is a symbolic link relative to its own folder (so it
// resolves inside the mount); other valid links are shown as what they
// point to (a file or a folder; the target is in user.globus.link_target);
// a broken link is a link (made relative when it names a path inside).
struct ShownEntry {
  EntryType type = EntryType::kFile;  // never kSymlinkDir
  std::string link;                   // kSymlink and kInvalidSymlink: what readlink answers
};

struct FsOptions {
  uint32_t uid = 0;
  uint32_t gid = 0;
  double ttl_s = 60;  // metadata TTL, also the kernel's entry/attr timeout
  bool single = false;
  int64_t start_time = 0;  // mtime of synthetic folders
};

class Filesystem {
 public:
  // `contents` and `batcher` may be null (unit tests of the namespace
  // alone): then file data is EOPNOTSUPP and deletes wait for their tasks.
  Filesystem(FsOptions options, std::vector<MountedCollection> mounts, Namespace& ns, Logger& log,
             FileContents* contents = nullptr, TaskBatcher* batcher = nullptr);

  int Lookup(uint64_t parent, const std::string& name, Entry* out);
  void Forget(uint64_t ino, uint64_t nlookup);
  // `handle` (0: none) is the open file the kernel asks through (fstat,
  // ftruncate): it still answers after the file was unlinked.
  int GetAttr(uint64_t ino, Attr* out, uint64_t handle = 0);
  int SetAttr(uint64_t ino, const SetAttrRequest& req, Attr* out, uint64_t handle = 0);
  int ReadLink(uint64_t ino, std::string* out);
  int Mkdir(uint64_t parent, const std::string& name, Entry* out);
  int Unlink(uint64_t parent, const std::string& name);
  int Rmdir(uint64_t parent, const std::string& name);
  int Rename(uint64_t parent, const std::string& name, uint64_t new_parent,
             const std::string& new_name, unsigned flags);
  int Open(uint64_t ino, int flags, OpenReply* out);
  int Create(uint64_t parent, const std::string& name, int flags, Entry* entry, OpenReply* out);
  int Read(uint64_t handle, uint64_t offset, size_t size, std::string* out);
  int Write(uint64_t handle, uint64_t offset, std::string_view data);
  int Flush(uint64_t handle);  // close: uploads unsaved changes
  int Fsync(uint64_t handle);  // uploads, and waits for a pending copy into the file
  int FsyncDir(uint64_t ino);  // waits for every pending copy and delete
  int Release(uint64_t handle);
  // copy_file_range: a whole file (offsets 0, length >= its size) becomes a
  // server-side copy (a Globus transfer task, batched); anything else is
  // EOPNOTSUPP so the caller falls back to read and write.
  int CopyFileRange(uint64_t in_handle, uint64_t in_offset, uint64_t out_handle, uint64_t out_offset,
                    uint64_t length, uint64_t* copied);
  int OpenDir(uint64_t ino, uint64_t* handle);
  // Calls `add(item, next_offset)` for items from `offset` until it returns
  // false (the reply buffer is full). With `plus`, each item passed to add
  // carries one lookup reference, which is returned if add refuses it.
  int ReadDir(uint64_t handle, uint64_t offset, bool plus,
              const std::function<bool(const DirItem&, uint64_t)>& add);
  void ReleaseDir(uint64_t handle);
  int GetXattr(uint64_t ino, const std::string& name, std::string* value);
  int ListXattr(uint64_t ino, std::vector<std::string>* names);
  StatFs GetStatFs() const;

  // The xattr names globusfs serves (on files and folders of collections;
  // the mount root has "user.globusfs.status": the tasks, as JSON).
  static const std::vector<std::string>& XattrNames();
  static constexpr const char* kStatusXattr = "user.globusfs.status";
  // The largest value the kernel passes back for an xattr (XATTR_SIZE_MAX).
  static constexpr size_t kMaxStatusBytes = 65536;
  // The status document (TaskBatcher::Status with mount paths, fitted under
  // kMaxStatusBytes when it can be); "{}" without a batcher.
  std::string StatusDocument() const;
  // The mount paths ("/NAME/x", or "/x" with --single) that show `path`
  // of collection `coll`; empty when no mounted folder holds it.
  std::vector<std::string> MountPathsOf(const std::string& coll, const std::string& path) const;
  // On links: the target's absolute path on the server, as Globus reports it.
  static constexpr const char* kLinkXattr = "user.globus.link_target";
  // The relative link from folder `from_dir` to `to` (normalised paths).
  static std::string RelativeLink(const std::string& from_dir, const std::string& to);
  // Names with this prefix are files unlinked while open, moved aside on
  // the server until their last close: never listed, never looked up.
  static constexpr const char* kHiddenPrefix = ".globusfs-unlinked-";
  double ttl_s() const { return options_.ttl_s; }
  // Where the kernel is told of stale inodes (may stay unset: tests).
  void set_notifier(KernelNotifier* notifier) { notifier_ = notifier; }

 private:
  struct DirHandle;

  // Attributes of `e` at (mount, path): user-set times, folder change times
  // and link counts come from the metadata cache; `pending_*` are times set
  // on a file whose upload has not landed.
  Attr ToAttr(uint64_t ino, int mount, const std::string& path, const FileEntry& e,
              const std::optional<TimeSpec>& pending_atime = std::nullopt,
              const std::optional<TimeSpec>& pending_mtime = std::nullopt) const;
  Attr DirAttr(uint64_t ino) const;
  ShownEntry Show(int mount, const std::string& path, const FileEntry& e) const;
  // The collection path inside the mounted folder that server path `abs`
  // names, or nullopt (outside, or the folder's real path is unknown).
  std::optional<std::string> InsideMount(int mount, const std::string& abs) const;
  // A mount-table folder (collection root): synthetic, with its local changes.
  Attr RootDirAttr(uint64_t ino, int mount) const;
  int SetTimes(const NodeInfo& n, const std::optional<TimeSpec>& atime, const std::optional<TimeSpec>& mtime);
  // Moves `path` aside on the server under a hidden name; "" on failure (*rc set).
  std::string MoveAside(int mount, const std::string& path, int* rc);
  int64_t NowMs() const;
  const MountedCollection& Mount(int index) const { return mounts_[static_cast<size_t>(index)]; }
  // The node behind `ino`, or ESTALE.
  int Resolve(uint64_t ino, NodeInfo* out) const;
  // The (mount, path) of `name` in folder `parent`; errno when the parent
  // is not a folder in a collection or the name is unusable.
  int ChildPath(uint64_t parent, const std::string& name, NodeInfo* parent_node, std::string* path) const;
  bool IsCollectionRoot(const NodeInfo& n) const;
  int Fail(const http::Error& e, const char* op, int mount, const std::string& path);
  int FailTask(const TaskOutcome& t, const char* op, int mount, const std::string& path);
  int DeletePath(int mount, const std::string& path, bool is_dir, const char* op);
  // Hides the path and queues its delete (or deletes now without a batcher).
  int RemovePath(int mount, const std::string& path, bool is_dir, const char* op);
  // Waits for queued copies to / deletes of `path` before touching it.
  int Settle(int mount, const std::string& path);
  // The file's reference for FileContents, or EOPNOTSUPP (logged) when its
  // collection has no HTTPS server. With `transfer_only`, such a file gets a
  // reference all the same (its https_server empty): open and create then
  // work, so that a server-side copy (copy_file_range) can read from or
  // write to it, while FileContents refuses its contents (EOPNOTSUPP).
  int DataRef(const NodeInfo& n, FileRef* out, bool transfer_only = false);
  // `rc` from a FileContents call on `mount`: an EOPNOTSUPP of a collection
  // without an HTTPS server is logged (once per collection). Returns rc.
  int NoteNoHttps(int mount, int rc);
  // The mount of an open handle (-1 when unknown).
  int MountOfHandle(uint64_t handle);
  // The listed entry with any unsaved local changes on top (and the times
  // set on them, when asked for).
  http::Result<std::optional<FileEntry>> LookupWithOverlay(int mount, const std::string& path,
                                                           std::optional<TimeSpec>* atime = nullptr,
                                                           std::optional<TimeSpec>* mtime = nullptr);
  const std::string& CollOf(int mount) const { return Mount(mount).info.id; }

  FsOptions options_;
  std::vector<MountedCollection> mounts_;
  Namespace& ns_;
  Logger& log_;
  FileContents* contents_;
  TaskBatcher* batcher_;
  KernelNotifier* notifier_ = nullptr;
  InodeTable inodes_;

  // Deletes held for files unlinked while open (TaskBatcher::HoldDelete),
  // by collection '\0' moved-aside path.
  std::mutex held_mu_;  // guards held_; a leaf
  std::map<std::string, std::string> held_;
  void HoldAsideDelete(int mount, const std::string& aside);
  void DeleteAside(const std::string& coll, int mount, const std::string& aside, bool is_dir);

  std::mutex handles_mu_;  // guards next_handle_, handles_
  uint64_t next_handle_ = 1;
  std::map<uint64_t, std::shared_ptr<DirHandle>> handles_;
};

}  // namespace globusfs::fs
