// FileContents: handles, reads, writes, truncation and the local view.
// Uploads, the background uploader and the journal's leftovers are in
// file_uploads.cpp.
#include "fs/file_contents.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "fs/errno_map.h"
#include "fs/mount_table.h"
#include "fs/open_file.h"
#include "fs/remote/remote_error.h"

namespace globusfs::fs {

namespace {

bool Writable(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

bool NoSpace(int err) { return err == ENOSPC || err == EDQUOT; }

std::string FreeSpaceText(const std::filesystem::path& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return "free space unknown";
  uint64_t free = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  return std::to_string(free >> 20) + " MiB free";
}

}  // namespace

FileContents::FileContents(Options options, const ReadContext& read, cache::Journal& journal, Namespace& ns,
                           ContentVersions& versions, Logger& log, std::shared_ptr<http::Clock> clock,
                           MountResolver resolver)
    : options_(std::move(options)), read_(read), journal_(journal), ns_(ns), versions_(versions), log_(log),
      clock_(std::move(clock)), resolver_(std::move(resolver)), invalidate_([](uint64_t) {}) {
  if (read_.writer && read_.budget && read_.data) {
    PrefetchContext pc{read_.data, read_.writer, read_.budget, read_.block_size};
    prefetch_ = std::make_unique<FolderPrefetch>(
        pc, ns_,
        [this](const std::string& coll, const std::string& path, const FileEntry& e) {
          return versions_.ForRead(coll, path, e.size, e.mtime);
        },
        [this](const std::string& coll, const std::string& path) { return Find(coll, path) != nullptr; });
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.staging_dir, ec);
  ::chmod(options_.staging_dir.c_str(), 0700);
}

FileContents::~FileContents() {
  {
    std::lock_guard lock(uploader_mu_);
    stop_ = true;
  }
  uploader_cv_.notify_all();
  if (uploader_.joinable()) uploader_.join();
}

std::string FileContents::Key(const std::string& coll, const std::string& path) { return coll + '\0' + path; }

int64_t FileContents::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_->SystemNow().time_since_epoch()).count();
}

int FileContents::Fail(const http::Error& e, const char* op, const std::string& path) {
  return ReportRemoteError(log_, e, std::string(op) + " " + path);
}

std::shared_ptr<FileContents::OpenFile> FileContents::FileOf(uint64_t handle, int* flags) {
  std::lock_guard lock(table_mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return nullptr;
  if (flags) *flags = it->second.flags;
  return it->second.file;
}

std::shared_ptr<FileContents::OpenFile> FileContents::Find(const std::string& coll, const std::string& path) {
  std::lock_guard lock(table_mu_);
  auto it = files_.find(Key(coll, path));
  return it == files_.end() ? nullptr : it->second;
}

std::shared_ptr<FileReader> FileContents::ReaderFor(const std::shared_ptr<OpenFile>& f) {
  std::lock_guard lock(f->mu);
  if (!f->reader && f->remote) {
    FileVersion v{f->coll(), ToTransferPath(f->ref.path), f->remote->size, f->remote->mtime,
                  versions_.ForRead(f->coll(), f->ref.path, f->remote->size, f->remote->mtime)};
    f->reader = FileReader::Make(read_, f->ref.target, v);
  }
  return f->reader;
}

int FileContents::Open(const FileRef& ref, const std::optional<FileEntry>& remote, int flags, bool create,
                       OpenReply* out) {
  const std::string& coll = ref.target.collection_id;
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto& slot = files_[Key(coll, ref.path)];
    if (!slot) {
      slot = std::make_shared<OpenFile>();
      slot->ref = ref;
      slot->remote = remote;
    }
    f = slot;
    {
      std::lock_guard flock(f->mu);
      ++f->handles;
      if (ref.ino) f->ref.ino = ref.ino;
      f->ref.mount = ref.mount;
      f->check_conflict = false;  // opened: edits now build on the local version
      // A file that failed to stage, opened afresh by itself, starts over.
      if (f->error && f->handles == 1) f->error = 0;
    }
    out->handle = next_handle_++;
    handles_[out->handle] = Handle{f, flags};
  }
  if (create || (Writable(flags) && (flags & O_TRUNC))) {
    int rc = EnsureStaged(f, 0);
    if (rc == 0) rc = StageTruncate(f, 0);
    if (rc == 0) {
      std::lock_guard lock(f->mu);
      f->fresh_empty = true;
      if (create && !f->remote) f->created = true;
    }
    if (rc) {
      FileRef ignored;
      Release(out->handle, &ignored);
      return rc;
    }
  }
  // The kernel keeps the file's pages across opens while the version it
  // read them at is still the current one.
  std::optional<FileEntry> base;
  bool staged;
  {
    std::lock_guard lock(f->mu);
    staged = f->staged;
    base = f->remote;
  }
  uint64_t version = !staged && base ? versions_.ForRead(coll, ref.path, base->size, base->mtime) : 0;
  std::lock_guard lock(table_mu_);
  if (version != 0 && prefetch_ && !Writable(flags)) {
    if (auto h = handles_.find(out->handle); h != handles_.end()) h->second.prefetch_on_read = true;
  }
  if (version != 0) {
    auto it = kernel_versions_.find(ref.ino);
    out->keep_cache = it != kernel_versions_.end() && it->second == version;
    kernel_versions_[ref.ino] = version;
  } else {
    kernel_versions_.erase(ref.ino);
  }
  return 0;
}

int FileContents::EnsureStaged(const std::shared_ptr<OpenFile>& f, std::optional<uint64_t> keep_bytes) {
  std::lock_guard load(f->load_mu);
  uint64_t want = 0;
  int64_t mtime = 0;
  {
    std::lock_guard lock(f->mu);
    if (f->error) return f->error;
    if (f->staged) return 0;
    if (f->fd < 0) {
      if (f->journal_id.empty()) f->journal_id = cache::NewRecordId();
      f->staged_path = (options_.staging_dir / (f->journal_id + ".data")).string();
      f->fd = ::open(f->staged_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (f->fd < 0) {
        int err = errno;
        log_.LogOnce(LogLevel::kError, "staging-create:" + options_.staging_dir.string(),
                     "cannot create a staging file in " + options_.staging_dir.string() + ": " +
                         std::strerror(err) + " (" + FreeSpaceText(options_.staging_dir) + ")");
        return NoSpace(err) ? ENOSPC : EIO;
      }
    }
    // Fill it with the remote contents this version starts from (only the
    // part that survives a truncation).
    if (f->remote) {
      want = keep_bytes ? std::min(*keep_bytes, f->remote->size) : f->remote->size;
      mtime = f->remote->mtime;
    }
  }
  uint64_t off = 0;
  if (want > 0) {
    auto reader = ReaderFor(f);
    std::string chunk;
    while (off < want) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(want - off, read_.block_size));
      auto r = reader->Read(off, n, &chunk);
      if (!r) return Fail(r.error(), "read (to stage for writing)", f->ref.path);
      if (chunk.empty()) break;
      if (int rc = StageWrite(f, off, chunk)) return rc;
      off += chunk.size();
    }
  }
  std::lock_guard lock(f->mu);
  if (f->error) return f->error;
  f->size = off;
  f->mtime = mtime;
  f->staged = true;
  return 0;
}

int FileContents::StagingFailed(const std::shared_ptr<OpenFile>& f, int err, uint64_t wanted) {
  if (!NoSpace(err)) {
    log_.Log(LogLevel::kError, "cannot write the staging file of " + f->ref.path + " (" + f->staged_path +
                                   "): " + std::strerror(err));
    return err == EFBIG ? EFBIG : EIO;
  }
  // Out of space: give up on this file at once, releasing what it staged,
  // so that the server keeps its version and the next write has room.
  const std::string free_then = FreeSpaceText(options_.staging_dir);
  DropLocalChanges(f, ENOSPC);
  log_.LogOnce(LogLevel::kError, "nospace:" + options_.staging_dir.string(),
               "cannot stage " + std::to_string(wanted) + " bytes of " + f->ref.path + " in " +
                   options_.staging_dir.string() + ": no space left (" + free_then +
                   "); the write failed with ENOSPC and the server's file is unchanged. Free space there, or "
                   "mount with --cache-dir on a larger filesystem (--cache-size bounds only the block cache)");
  return ENOSPC;
}

int FileContents::StageWrite(const std::shared_ptr<OpenFile>& f, uint64_t offset, std::string_view data) {
  if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) return EFBIG;
  std::lock_guard lock(f->mu);
  if (f->error) return f->error;
  if (f->fd < 0) return EIO;
  bool asked_for_room = false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::pwrite(f->fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (w >= 0) {
      done += static_cast<size_t>(w);
      continue;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (NoSpace(err) && !asked_for_room && read_.blocks) {
      asked_for_room = true;  // staging wins over cached blocks
      read_.blocks->Release(data.size() - done + (uint64_t{16} << 20));
      continue;
    }
    return StagingFailed(f, err, data.size());
  }
  f->size = std::max<uint64_t>(f->size, offset + data.size());
  f->mtime = NowMs() / 1000;
  f->dirty = true;
  f->fresh_empty = false;
  ++f->generation;
  return 0;
}

int FileContents::StageTruncate(const std::shared_ptr<OpenFile>& f, uint64_t size) {
  if (size > kMaxFileSize) return EFBIG;
  std::lock_guard lock(f->mu);
  if (f->error) return f->error;
  if (f->fd < 0) return EIO;
  while (::ftruncate(f->fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    if (err == EINTR) continue;
    if (err == EFBIG || err == EINVAL) return EFBIG;
    return StagingFailed(f, err, size);
  }
  f->size = size;
  f->mtime = NowMs() / 1000;
  f->dirty = true;
  f->fresh_empty = false;
  ++f->generation;
  return 0;
}

int FileContents::Read(uint64_t handle, uint64_t offset, size_t size, std::string* out) {
  auto f = FileOf(handle);
  if (!f) return EBADF;
  out->clear();
  {
    std::lock_guard lock(f->mu);
    if (f->staged) {
      if (offset >= f->size) return 0;
      size_t n = static_cast<size_t>(std::min<uint64_t>(size, f->size - offset));
      out->resize(n);
      ssize_t r = ::pread(f->fd, out->data(), n, static_cast<off_t>(offset));
      if (r < 0) return EIO;
      out->resize(static_cast<size_t>(r));
      return 0;
    }
    if (NoHttps(f)) return EOPNOTSUPP;
  }
  if (prefetch_) {
    bool first_read = false;
    {
      std::lock_guard lock(table_mu_);
      if (auto h = handles_.find(handle); h != handles_.end() && h->second.prefetch_on_read) {
        h->second.prefetch_on_read = false;
        first_read = true;
      }
    }
    if (first_read) {
      FileRef ref;
      {
        std::lock_guard lock(f->mu);
        ref = f->ref;
      }
      prefetch_->NoteOpen(ref.target, ref.path);
    }
  }
  auto reader = ReaderFor(f);
  if (!reader) return 0;  // not on the server yet and nothing written: empty
  auto r = reader->Read(offset, size, out);
  if (!r) return Fail(r.error(), "read", f->ref.path);
  return 0;
}

int FileContents::Write(uint64_t handle, uint64_t offset, std::string_view data) {
  int flags = 0;
  auto f = FileOf(handle, &flags);
  if (!f) return EBADF;
  if (!Writable(flags)) return EBADF;
  if (NoHttps(f)) {
    std::lock_guard lock(f->mu);
    DropLocalChanges(f, EOPNOTSUPP);
    return EOPNOTSUPP;
  }
  if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) return EFBIG;
  if (int rc = EnsureStaged(f, std::nullopt)) return rc;
  return StageWrite(f, offset, data);
}

int FileContents::Flush(uint64_t handle, bool closing) {
  auto f = FileOf(handle);
  if (!f) return EBADF;
  int error;
  {
    std::lock_guard lock(f->mu);
    error = f->error;
    // An O_TRUNC'ed existing file: the release uploads it, if nothing follows.
    if (closing && !error && f->fresh_empty && f->remote && !f->created) return 0;
  }
  if (error) {
    UndoCreate(f);
    return error;
  }
  // Every close of a descriptor flushes, and its upload must be done when
  // close returns (release comes later, asynchronously).
  return Upload(f, "upload");
}

void FileContents::Settle(const std::shared_ptr<OpenFile>& f) {
  bool reverted = false, vanished = false, kernel_pages_stale = false;
  std::string coll, path;
  std::string drop_record;
  uint64_t ino = 0;
  {
    std::lock_guard lock(table_mu_);
    std::lock_guard flock(f->mu);
    if (f->handles > 0) return;
    if (f->dirty && !f->unlinked && !f->error) return;  // a pending upload: kept for the uploader
    auto it = files_.find(Key(f->coll(), f->ref.path));
    if (it != files_.end() && it->second == f) files_.erase(it);
    coll = f->coll();
    path = f->ref.path;
    ino = f->ref.ino;
    // Whatever the kernel read while the file was staged came from here.
    kernel_pages_stale = f->staged || f->error;
    if (kernel_pages_stale) kernel_versions_.erase(ino);
    if (f->error || f->unlinked) {
      drop_record = f->journal_id;
      reverted = f->error != 0;
      vanished = reverted && !f->remote;
    }
    if (f->fd >= 0) {
      ::close(f->fd);
      f->fd = -1;
    }
    f->staged = false;
    if (!f->staged_path.empty()) ::unlink(f->staged_path.c_str());
  }
  if (!drop_record.empty()) journal_.RemoveUpload(drop_record);
  if (vanished) ns_.NoteRemoved(coll, path);  // created here, never stored
  if (reverted && ino) invalidate_(ino);       // its size is the server's again
}

int FileContents::Release(uint64_t handle, FileRef* delete_after) {
  *delete_after = FileRef{};
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return EBADF;
    f = it->second.file;
    handles_.erase(it);
  }
  bool last;
  {
    std::lock_guard lock(f->mu);
    last = --f->handles == 0;
  }
  if (!last) return 0;
  int rc = Upload(f, "upload at close");
  if (rc) UndoCreate(f);
  {
    std::lock_guard lock(f->mu);
    if (f->handles == 0 && f->unlinked && !f->hidden_path.empty()) {
      *delete_after = f->ref;
      delete_after->path = f->hidden_path;
      f->hidden_path.clear();
    }
  }
  Settle(f);
  return rc;
}

void FileContents::UndoCreate(const std::shared_ptr<OpenFile>& f) {
  std::string coll, path;
  {
    std::lock_guard lock(f->mu);
    if (!f->error || !f->created || !f->uploaded || f->undone || f->unlinked) return;
    f->undone = true;
    coll = f->coll();
    path = f->ref.path;
  }
  auto outcome = ns_.Delete(coll, path, false);  // waits for the task: the close reports the state
  if (!outcome || !outcome->succeeded()) {
    log_.Log(LogLevel::kWarning, "could not remove the empty " + path + " left by a write that failed: " +
                                     (outcome ? outcome->status : outcome.error().Summary()));
    return;
  }
  versions_.Changed(coll, path, std::nullopt);
  std::lock_guard lock(f->mu);
  f->remote.reset();
}

int FileContents::Truncate(const FileRef& ref, const std::optional<FileEntry>& remote, uint64_t size) {
  if (size > kMaxFileSize) return EFBIG;
  OpenReply h;
  if (int rc = Open(ref, remote, O_RDWR, false, &h)) return rc;
  int rc = TruncateHandle(h.handle, size);
  FileRef ignored;
  int up = Release(h.handle, &ignored);
  return rc ? rc : up;
}

int FileContents::TruncateHandle(uint64_t handle, uint64_t size) {
  auto f = FileOf(handle);
  if (!f) return EBADF;
  if (NoHttps(f)) {
    std::lock_guard lock(f->mu);
    DropLocalChanges(f, EOPNOTSUPP);
    return EOPNOTSUPP;
  }
  if (size > kMaxFileSize) return EFBIG;
  if (int rc = EnsureStaged(f, size)) return rc;
  return StageTruncate(f, size);
}

bool FileContents::SetTimes(const std::string& coll, const std::string& path, const std::optional<TimeSpec>& atime,
                            const std::optional<TimeSpec>& mtime) {
  auto f = Find(coll, path);
  if (!f) return false;
  std::lock_guard lock(f->mu);
  if (!f->dirty || f->unlinked || f->error) return false;
  if (atime) f->set_atime = atime;
  if (mtime) f->set_mtime = mtime;
  return true;
}

bool FileContents::Describe(uint64_t handle, HandleInfo* out) {
  int flags = 0;
  auto f = FileOf(handle, &flags);
  if (!f) return false;
  out->writable = Writable(flags);
  std::lock_guard lock(f->mu);
  out->ref = f->ref;
  out->remote = f->remote;
  out->dirty = f->dirty;
  out->size = f->staged ? f->size : (f->remote ? f->remote->size : 0);
  return true;
}

void FileContents::BecomeCopyTarget(uint64_t handle, const FileEntry& shown) {
  auto f = FileOf(handle);
  if (!f) return;
  {
    std::lock_guard lock(table_mu_);
    kernel_versions_.erase(f->ref.ino);
  }
  std::lock_guard lock(f->mu);
  if (f->fd >= 0) ::close(f->fd);
  if (!f->staged_path.empty()) ::unlink(f->staged_path.c_str());
  f->fd = -1;
  f->staged = false;
  f->dirty = false;
  ++f->generation;  // an upload in flight for the empty file is not "clean"
  f->remote = shown;
  f->reader.reset();
}

bool FileContents::Overlay(const std::string& coll, const std::string& path, FileEntry* entry,
                           std::optional<TimeSpec>* atime, std::optional<TimeSpec>* mtime) {
  auto f = Find(coll, path);
  if (!f) return false;
  std::lock_guard lock(f->mu);
  if (!f->staged) return false;
  entry->name = NameOf(path);
  entry->type = EntryType::kFile;
  entry->size = f->size;
  entry->mtime = f->mtime;
  entry->mode = f->remote ? f->remote->mode : 0644;
  if (atime) *atime = f->set_atime;
  if (mtime) *mtime = f->set_mtime;
  return true;
}

bool FileContents::OverlayByIno(uint64_t ino, FileEntry* entry) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    for (const auto& [h, handle] : handles_) {
      if (handle.file->ref.ino == ino) {
        f = handle.file;
        break;
      }
    }
  }
  if (!f) return false;
  std::lock_guard lock(f->mu);
  if (!f->staged && !f->remote) return false;
  entry->name = NameOf(f->ref.path);
  entry->type = EntryType::kFile;
  entry->size = f->staged ? f->size : f->remote->size;
  entry->mtime = f->staged ? f->mtime : f->remote->mtime;
  entry->mode = f->remote ? f->remote->mode : 0644;
  return true;
}

std::vector<FileEntry> FileContents::PendingIn(const std::string& coll, const std::string& dir) {
  std::vector<std::shared_ptr<OpenFile>> found;
  {
    std::lock_guard lock(table_mu_);
    const std::string prefix = Key(coll, dir == "/" ? "/" : dir + "/");
    for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix); ++it) {
      if (it->first.find('/', prefix.size()) == std::string::npos) found.push_back(it->second);
    }
  }
  std::vector<FileEntry> out;
  for (const auto& f : found) {
    FileEntry e;
    if (Overlay(coll, f->ref.path, &e)) out.push_back(e);
  }
  return out;
}

bool FileContents::IsOpen(const std::string& coll, const std::string& path) {
  auto f = Find(coll, path);
  if (!f) return false;
  std::lock_guard lock(f->mu);
  return f->handles > 0;
}

bool FileContents::OnServer(const std::string& coll, const std::string& path) {
  auto f = Find(coll, path);
  if (!f) return false;
  std::lock_guard lock(f->mu);
  return f->remote.has_value();
}

int FileContents::FlushPath(const std::string& coll, const std::string& path) {
  auto f = Find(coll, path);
  if (!f) return 0;
  return Upload(f, "upload before rename");
}

FileContents::UploadHold FileContents::HoldUploads(const std::string& coll, const std::string& path) {
  auto f = Find(coll, path);
  if (!f) return {};
  return UploadHold(f, f->upload_mu);
}

std::vector<std::shared_ptr<FileContents::OpenFile>> FileContents::TakeUnder(const std::string& coll,
                                                                            const std::string& path) {
  std::vector<std::shared_ptr<OpenFile>> taken;
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->second->coll() == coll && IsUnder(it->second->ref.path, path)) {
      taken.push_back(it->second);
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

void FileContents::Renamed(const std::string& coll, const std::string& from, const std::string& to) {
  std::vector<std::shared_ptr<OpenFile>> moved;
  {
    std::lock_guard lock(table_mu_);
    // What was at `to` is replaced: the caller has already unlinked it.
    moved = TakeUnder(coll, from);
    for (auto& f : moved) {
      std::lock_guard flock(f->mu);
      f->ref.path = to + f->ref.path.substr(from.size());
      f->reader.reset();
      files_[Key(coll, f->ref.path)] = f;
    }
  }
  // A pending upload's journal record names the new path from now on.
  for (auto& f : moved) {
    std::lock_guard serial(f->upload_mu);
    cache::StagedUpload rec;
    bool journaled;
    {
      std::lock_guard lock(f->mu);
      journaled = f->dirty && !f->journal_id.empty();
    }
    if (!journaled) continue;
    auto current = journal_.GetUpload(f->journal_id);
    if (!current) continue;
    rec = *current;
    rec.path = f->ref.path;
    if (journal_.PutUpload(rec)) log_.Log(LogLevel::kInfo, "the pending upload of " + current->path + " follows it to " + rec.path);
  }
}

void FileContents::Unlinked(const std::string& coll, const std::string& path, const std::string& hidden) {
  std::vector<std::shared_ptr<OpenFile>> gone;
  {
    std::lock_guard lock(table_mu_);
    gone = TakeUnder(coll, path);
    for (auto& f : gone) {
      std::lock_guard flock(f->mu);
      f->unlinked = true;  // still readable and writable through open handles, never uploaded
      f->check_conflict = false;
      if (f->ref.path == path && !hidden.empty() && f->handles > 0) {
        f->hidden_path = hidden;
        f->ref.path = hidden;  // reads by handle follow the server's copy
        f->reader.reset();
      }
    }
  }
  for (auto& f : gone) {
    std::string record;
    {
      std::lock_guard lock(f->mu);
      if (f->handles > 0) continue;
      record = f->journal_id;
    }
    // A closed file's pending upload goes with it.
    if (!record.empty() && journal_.GetUpload(record)) {
      log_.Log(LogLevel::kInfo, "dropped the pending upload of " + path + ": the file was removed");
    }
    Settle(f);
  }
}

}  // namespace globusfs::fs
