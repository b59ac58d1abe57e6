// FileContents: everything about file data — open handles, reads over
// HTTPS (FileReader), writes staged in a local file and uploaded with
// HTTPS PUT, and the write-back journal that makes sure nothing close has
// accepted is lost.
//
// One OpenFile per (collection, path) while the file has open handles OR
// unsaved changes: a closed file whose upload has not succeeded yet stays
// here (and in the journal) until it has, so stat, open, read, ls, rm and
// mv all see the local version, never the older one on the server. At
// start the journal's leftovers from a previous run become such files.
//
//  - Reads go to the staged file once there is one (the writer reads its
//    own writes), else to a FileReader of the version current at open
//    (ContentVersions decides it; the kernel keeps a file's pages across
//    opens only while that version is unchanged). Read-only opens are told
//    to the FolderPrefetch, which fetches a folder's next small files ahead
//    when they are read in turn (keyed by the same content versions).
//  - Writes go to the staged file, first filled with the remote contents
//    (on the first write, not at open) unless the file was created or
//    truncated. A write that cannot be staged for lack of disk space first
//    asks the block cache for room; if there is still none the file is
//    marked failed: writes and closes answer ENOSPC, its staged bytes are
//    released at once, nothing is uploaded, and at the last close the file
//    is as the server has it (a file created here disappears).
//  - flush (every close), fsync and release upload a dirty file: the staged
//    file is synced and recorded in the journal BEFORE the upload starts,
//    and the record is dropped only when the PUT has succeeded. Around the
//    PUT, ContentVersions is told (Changing, then Changed). A failed upload
//    returns its errno from close/fsync and is retried in the background
//    with a capped exponential backoff (logged once per step), and by the
//    next mount. An upload left by a previous run is checked first: if the
//    file changed on the server meanwhile, ours is uploaded beside it under
//    a conflict name.
//  - Unlinked while open: the caller moves the server's copy aside
//    (Unlinked with a hidden path); reads by handle follow it, writes stay
//    local, and the last release hands the hidden path back for deletion.
//  - Times set with utimens while the file has unsaved changes are kept
//    and recorded (UserTimes in the metadata store) once its upload lands.
//  - A file whose FileRef has no HTTPS server (a collection without one,
//    opened for a server-side copy) has no contents here: reads, writes and
//    truncations answer EOPNOTSUPP, and a close that would upload drops the
//    local change instead (as a staging failure does, with EOPNOTSUPP): the
//    server keeps its version, a file created here disappears. Becoming a
//    copy target (BecomeCopyTarget) needs no contents and works.
//
// Thread-safety: all methods are thread-safe. Lock order: table_mu_, then
// an OpenFile's mu. An OpenFile's upload_mu serialises its uploads and is
// taken before (never while holding) mu or table_mu_; load_mu guards
// filling the staged file. Only upload_mu and load_mu are held across
// network I/O.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache/journal.h"
#include "fs/content_versions.h"
#include "fs/file_reader.h"
#include "fs/folder_prefetch.h"
#include "fs/log.h"
#include "fs/namespace.h"

namespace globusfs::fs {

// Which file: its mount, collection, HTTPS server and normalised path.
struct FileRef {
  int mount = -1;
  DataTarget target;
  std::string path;  // normalised collection path
  uint64_t ino = 0;
};

struct OpenReply {
  uint64_t handle = 0;
  bool keep_cache = false;  // the kernel may keep this file's pages
};

// A time as the kernel gives it: seconds (any 64-bit value) and nanoseconds.
struct TimeSpec {
  int64_t sec = 0;
  uint32_t nsec = 0;
  bool operator==(const TimeSpec&) const = default;
};

// The largest file globusfs stages (16 TiB): beyond it, EFBIG.
inline constexpr uint64_t kMaxFileSize = uint64_t{1} << 44;

class FileContents {
 public:
  struct Options {
    std::filesystem::path staging_dir;
    // Backoff of the background uploader: first retry after `retry_initial`,
    // doubling to `retry_max`.
    std::chrono::milliseconds retry_initial{std::chrono::seconds(10)};
    std::chrono::milliseconds retry_max{std::chrono::minutes(10)};
  };
  // Where a collection is mounted: its mount index and HTTPS target, or
  // nullopt (its journaled uploads then wait for a mount that has it).
  using MountResolver = std::function<std::optional<std::pair<int, DataTarget>>(const std::string& coll)>;

  FileContents(Options options, const ReadContext& read, cache::Journal& journal, Namespace& ns,
               ContentVersions& versions, Logger& log, std::shared_ptr<http::Clock> clock,
               MountResolver resolver);
  ~FileContents();
  FileContents(const FileContents&) = delete;
  FileContents& operator=(const FileContents&) = delete;

  // Called with an inode whose cached pages or attributes the kernel must
  // drop (contents changed or reverted behind its back). Set before use.
  void set_invalidate(std::function<void(uint64_t ino)> fn) { invalidate_ = std::move(fn); }

  // `remote`: the listed entry (nullopt for a file being created).
  int Open(const FileRef& ref, const std::optional<FileEntry>& remote, int flags, bool create,
           OpenReply* out);
  int Read(uint64_t handle, uint64_t offset, size_t size, std::string* out);
  int Write(uint64_t handle, uint64_t offset, std::string_view data);
  // close (of every descriptor) and fsync: uploads unsaved changes. At a
  // close (`closing`), an existing file truncated by its open (O_TRUNC) with
  // nothing written yet is left for the release: `dd`, `cp` and shell
  // redirections close a dup'ed descriptor before writing, and the server
  // must keep its contents rather than get an empty file in their place. A
  // new file is uploaded (empty) at once, so that `touch` is seen at close;
  // if its writes then fail to stage, it is removed from the server again
  // before that close returns.
  int Flush(uint64_t handle, bool closing = true);
  // The last release of a file unlinked while open sets *delete_after to the
  // moved-aside server copy to delete now (path empty otherwise).
  int Release(uint64_t handle, FileRef* delete_after);
  // What copy_file_range needs to know of an open handle.
  struct HandleInfo {
    FileRef ref;
    std::optional<FileEntry> remote;  // the listed version (nullopt: not on the server)
    bool dirty = false;               // unsaved local changes
    bool writable = false;
    uint64_t size = 0;                // what a reader sees now
  };
  bool Describe(uint64_t handle, HandleInfo* out);
  // The handle's file becomes the destination of a server-side copy: its
  // (empty) staged contents are dropped, nothing is uploaded at close, and
  // reads see `shown` (the copy's result) once the task has finished.
  void BecomeCopyTarget(uint64_t handle, const FileEntry& shown);

  // setattr(size) on a path, open or not; TruncateHandle through a handle
  // (ftruncate; works on a file unlinked while open).
  int Truncate(const FileRef& ref, const std::optional<FileEntry>& remote, uint64_t size);
  int TruncateHandle(uint64_t handle, uint64_t size);
  // utimens of a file with unsaved changes: kept until its upload lands.
  // False when the file has none (the caller records the times itself).
  bool SetTimes(const std::string& coll, const std::string& path, const std::optional<TimeSpec>& atime,
                const std::optional<TimeSpec>& mtime);
  // The local view of a file with unsaved or just-written data, with times
  // set while it was dirty in *atime/*mtime (when given and set).
  bool Overlay(const std::string& coll, const std::string& path, FileEntry* entry,
               std::optional<TimeSpec>* atime = nullptr, std::optional<TimeSpec>* mtime = nullptr);
  // The view of an open file by inode (fstat of a file unlinked while open).
  bool OverlayByIno(uint64_t ino, FileEntry* entry);
  // Files with unsaved changes directly in folder `dir` (so ls shows a new
  // file whose upload has not landed yet).
  std::vector<FileEntry> PendingIn(const std::string& coll, const std::string& dir);
  bool IsOpen(const std::string& coll, const std::string& path);
  // Uploads the path now if it has unsaved changes (before a rename).
  int FlushPath(const std::string& coll, const std::string& path);
  // While held, no upload of the file at `path` runs (one in flight is
  // waited for): a caller replacing or removing `path` on the server holds
  // it until it has called Unlinked, so a late upload (the last release of
  // an O_TRUNC'ed descriptor, the background retry) can neither land on
  // the new file nor record a stale stat of the path.
  class UploadHold {
   public:
    UploadHold() = default;
    UploadHold(std::shared_ptr<void> owner, std::mutex& mu) : owner_(std::move(owner)), lock_(mu) {}

   private:
    std::shared_ptr<void> owner_;  // keeps the mutex alive; released after the lock
    std::unique_lock<std::mutex> lock_;
  };
  UploadHold HoldUploads(const std::string& coll, const std::string& path);
  // The namespace changed under the files: open and pending files follow a
  // rename of `from` (or a folder above them) to `to`.
  void Renamed(const std::string& coll, const std::string& from, const std::string& to);
  // `path` was removed: its unsaved changes are dropped and it is never
  // uploaded. If it is open, `hidden` (when not empty) is where the caller
  // moved the server's copy: reads follow it and the last release returns
  // it for deletion.
  void Unlinked(const std::string& coll, const std::string& path, const std::string& hidden = "");
  // True when the file at `path` exists on the server as far as its open
  // or pending state knows (it was listed at open or has been uploaded).
  bool OnServer(const std::string& coll, const std::string& path);

  // Turns the journal's uploads from a previous run into pending files
  // (call once, before serving), then starts the background uploader.
  void StartUploader();
  // Tries every pending upload until `deadline` (unmount); what remains
  // stays in the journal for the next mount. Returns how many remain.
  size_t Drain(std::chrono::steady_clock::time_point deadline);
  // Runs one pass of the uploader now, ignoring backoff (tests).
  void ReplayOnce();

 private:
  struct OpenFile;
  struct Handle {
    std::shared_ptr<OpenFile> file;
    int flags = 0;
    // Read-only, of the server's version: its first read tells the folder
    // prefetcher (an open alone does not: cp -r opens files to copy them
    // server to server, without reading them).
    bool prefetch_on_read = false;
  };
  using SteadyClock = std::chrono::steady_clock;

  static std::string Key(const std::string& coll, const std::string& path);
  int64_t NowMs() const;
  std::shared_ptr<OpenFile> FileOf(uint64_t handle, int* flags = nullptr);
  std::shared_ptr<OpenFile> Find(const std::string& coll, const std::string& path);
  // Removes from the table every file at or under `path`; caller holds table_mu_.
  std::vector<std::shared_ptr<OpenFile>> TakeUnder(const std::string& coll, const std::string& path);
  // Opens the staged file (and fills it with the part of the remote
  // contents that survives `keep_bytes`) unless it is already there.
  int EnsureStaged(const std::shared_ptr<OpenFile>& f, std::optional<uint64_t> keep_bytes);
  // pwrite/ftruncate of the staged file with the disk-space policy (ask the
  // block cache for room once, then fail the file); errno or 0.
  int StageWrite(const std::shared_ptr<OpenFile>& f, uint64_t offset, std::string_view data);
  int StageTruncate(const std::shared_ptr<OpenFile>& f, uint64_t size);
  int StagingFailed(const std::shared_ptr<OpenFile>& f, int err, uint64_t wanted);  // caller holds f->mu
  // Gives up on the file's local changes: it fails with `err` (writes and
  // closes answer it, nothing is uploaded) and its staged bytes are
  // released. Caller holds f->mu.
  void DropLocalChanges(const std::shared_ptr<OpenFile>& f, int err);
  // The file's collection has no HTTPS server (its contents are EOPNOTSUPP).
  static bool NoHttps(const std::shared_ptr<OpenFile>& f);
  int Upload(const std::shared_ptr<OpenFile>& f, const char* why);
  // After a PUT of `f` landed at `target_path`: caches, versions, times.
  void Landed(const std::shared_ptr<OpenFile>& f, const std::string& target_path, bool conflict);
  void ScheduleRetry(const std::shared_ptr<OpenFile>& f, const std::string& why);
  // A file created here whose writes failed to stage: the empty version its
  // first close uploaded is deleted, so the server is as it was.
  void UndoCreate(const std::shared_ptr<OpenFile>& f);
  int Fail(const http::Error& e, const char* op, const std::string& path);
  // Drops the file from the table when nothing keeps it (no handle, no
  // unsaved change); discards a failed or unlinked file's staged data.
  void Settle(const std::shared_ptr<OpenFile>& f);
  std::shared_ptr<FileReader> ReaderFor(const std::shared_ptr<OpenFile>& f);
  void Adopt(const cache::StagedUpload& rec);
  std::vector<std::shared_ptr<OpenFile>> DueUploads(bool ignore_backoff);

  const Options options_;
  const ReadContext read_;
  cache::Journal& journal_;
  Namespace& ns_;
  ContentVersions& versions_;
  Logger& log_;
  std::shared_ptr<http::Clock> clock_;
  MountResolver resolver_;
  std::function<void(uint64_t)> invalidate_;

  std::mutex table_mu_;  // guards files_, handles_, next_handle_, kernel_versions_
  std::map<std::string, std::shared_ptr<OpenFile>> files_;  // by Key(coll, path)
  std::map<uint64_t, Handle> handles_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, uint64_t> kernel_versions_;  // ino -> the version whose pages the kernel may hold

  std::mutex uploader_mu_;  // guards stop_
  std::condition_variable uploader_cv_;
  bool stop_ = false;
  std::thread uploader_;
  // Small files of a folder read in turn are fetched ahead (null without a
  // BlockWriter: nowhere to keep them).
  std::unique_ptr<FolderPrefetch> prefetch_;
};

}  // namespace globusfs::fs
