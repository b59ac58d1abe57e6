// FileContents: everything about file data — open handles, reads over
// HTTPS (FileReader), writes staged in a local file and uploaded with
// HTTPS PUT, and the write-back journal that makes sure nothing close has
// accepted is lost.
//
// One OpenFile per (mount, path) with open handles. Reads go to the staged
// file once there is one (the writer reads its own writes), else to a
// FileReader of the version listed at open. Writes go to the staged file,
// which is first filled with the remote contents (on the first write, not
// at open) unless the file was created or truncated. flush (every close),
// fsync and release upload a dirty file: the staged file is synced and
// recorded in the journal BEFORE the upload starts, and the record is
// dropped only when the PUT has succeeded. An upload that fails returns its
// errno from close/fsync and stays journaled; the background uploader (and
// the next mount, for a daemon that died) sends it again. At replay a file
// that changed remotely since it was opened is not overwritten: ours is
// uploaded beside it under a conflict name, and the log says so.
//
// A journaled upload of a closed file follows the file: an rm drops it, a
// mv moves it to the new path.
//
// Thread-safety: all methods are thread-safe. Lock order: replay_mu_, then
// table_mu_, then an OpenFile's mu. An OpenFile's upload_mu serialises its
// uploads and is taken before (never while holding) mu; load_mu guards
// filling the staged file. No lock but upload_mu/load_mu, and replay_mu_
// (one journaled upload against rm/mv of it), is held across network I/O.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "cache/journal.h"
#include "fs/file_reader.h"
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

class FileContents {
 public:
  FileContents(std::filesystem::path staging_dir, const ReadContext& read, cache::Journal& journal,
               Namespace& ns, Logger& log, std::shared_ptr<http::Clock> clock);
  ~FileContents();

  // `remote`: the listed entry (nullopt for a file being created).
  int Open(const FileRef& ref, const std::optional<FileEntry>& remote, int flags, bool create,
           OpenReply* out);
  int Read(uint64_t handle, uint64_t offset, size_t size, std::string* out);
  int Write(uint64_t handle, uint64_t offset, std::string_view data);
  // close (of every descriptor) and fsync: uploads unsaved changes.
  int Flush(uint64_t handle);
  int Release(uint64_t handle);
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

  // setattr(size) on a path, open or not.
  int Truncate(const FileRef& ref, const std::optional<FileEntry>& remote, uint64_t size);
  // The local view of a file with unsaved or just-written data.
  bool Overlay(int mount, const std::string& path, FileEntry* entry);
  // Uploads the path now if it is open with unsaved changes (before a rename).
  int FlushPath(int mount, const std::string& path);
  // The namespace changed under the files: open files and the journal's
  // pending uploads (of closed files, in collection `coll`) follow a rename;
  // an unlinked file is never uploaded again.
  void Renamed(int mount, const std::string& coll, const std::string& from, const std::string& to);
  void Unlinked(int mount, const std::string& coll, const std::string& path);

  // Starts the background uploader: first the journal's leftovers from a
  // previous run, then every `period` whatever failed since.
  void StartUploader(std::chrono::milliseconds period = std::chrono::seconds(10));
  // Runs one pass of the uploader now (tests).
  void ReplayOnce();

 private:
  struct OpenFile;
  struct Handle {
    std::shared_ptr<OpenFile> file;
    int flags = 0;
  };

  static std::string Key(int mount, const std::string& path);
  int64_t NowMs() const;
  int EnsureStaged(const std::shared_ptr<OpenFile>& f, std::optional<uint64_t> keep_bytes);
  int Upload(const std::shared_ptr<OpenFile>& f, const char* why);
  int Fail(const http::Error& e, const char* op, const std::string& path);
  void Forget(const std::shared_ptr<OpenFile>& f);  // last handle gone
  bool ReplayOne(const cache::StagedUpload& rec);
  // Calls fn for each journaled upload at or under `path` that no open
  // file owns, holding replay_mu_.
  void ForEachPending(const std::string& coll, const std::string& path,
                      const std::function<void(const cache::StagedUpload&)>& fn);
  std::shared_ptr<FileReader> ReaderFor(const std::shared_ptr<OpenFile>& f);

  const std::filesystem::path staging_dir_;
  const ReadContext read_;
  cache::Journal& journal_;
  Namespace& ns_;
  Logger& log_;
  std::shared_ptr<http::Clock> clock_;

  std::mutex table_mu_;  // guards files_, handles_, next_handle_, kernel_versions_, active_ids_
  std::map<std::string, std::shared_ptr<OpenFile>> files_;
  std::map<uint64_t, Handle> handles_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, std::pair<uint64_t, int64_t>> kernel_versions_;  // ino -> size, mtime
  std::set<std::string> active_ids_;  // journal ids owned by open files

  // Serialises the uploader's sending of a journaled upload with rm and mv
  // changing it. Taken before table_mu_; held across that one upload.
  std::mutex replay_mu_;
  std::mutex uploader_mu_;  // guards stop_
  std::condition_variable uploader_cv_;
  bool stop_ = false;
  std::thread uploader_;
};

}  // namespace globusfs::fs
