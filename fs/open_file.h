// FileContents::OpenFile: the state of one file FileContents holds (open,
// or closed with unsaved changes). Private to fs/file_contents*.cpp.
//
// The staged file's descriptor lives as long as the OpenFile (closed in
// the destructor, never while a handle or an upload can still use it).
#pragma once

#include <unistd.h>

#include "fs/file_contents.h"

namespace globusfs::fs {

struct FileContents::OpenFile {
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }

  std::mutex upload_mu;  // serialises uploads of this file
  std::mutex load_mu;    // serialises filling the staged file

  std::mutex mu;  // guards everything below
  FileRef ref;    // ref.path follows renames (and the hidden name after an unlink)
  int handles = 0;
  std::optional<FileEntry> remote;  // the server's version our data starts from
  std::shared_ptr<FileReader> reader;
  int fd = -1;  // the staged file, once there is one
  std::string staged_path;
  bool staged = false;        // fd holds the whole current contents
  bool dirty = false;         // changes not yet uploaded
  bool fresh_empty = false;   // created or O_TRUNC'ed by an open, nothing written since
  bool created = false;       // did not exist on the server when first opened (O_CREAT)
  bool uploaded = false;      // an upload of it has landed
  bool undone = false;        // a failed file created here was removed from the server again
  bool unlinked = false;      // removed: never uploaded again
  std::string hidden_path;    // where the server's copy was moved when unlinked while open
  int error = 0;              // a staging failure (ENOSPC): nothing is uploaded, writes fail
  bool check_conflict = false;  // from a previous run's journal: the server may have moved on
  uint64_t size = 0;          // of the staged contents
  int64_t mtime = 0;
  uint64_t generation = 0;    // bumped by every change
  std::string journal_id;
  std::optional<TimeSpec> set_atime, set_mtime;  // utimens while dirty
  // Background retries of a failed upload.
  int failures = 0;
  std::chrono::steady_clock::time_point next_try{};
  std::chrono::milliseconds logged_delay{0};  // the backoff step last logged

  const std::string& coll() const { return ref.target.collection_id; }
};

}  // namespace globusfs::fs
