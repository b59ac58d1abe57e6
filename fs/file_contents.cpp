#include "fs/file_contents.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "fs/errno_map.h"
#include "fs/mount_table.h"
#include "fs/remote/remote_error.h"

namespace globusfs::fs {

namespace {

bool Writable(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

// "<name>.globusfs-conflict-20261123-104512" beside the original.
std::string ConflictPath(const std::string& path, int64_t now_ms) {
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  return path + ".globusfs-conflict-" + stamp;
}

}  // namespace

struct FileContents::OpenFile {
  FileRef ref;
  std::mutex upload_mu;  // serialises uploads of this file
  std::mutex load_mu;    // serialises filling the staged file

  std::mutex mu;  // guards everything below
  int handles = 0;
  std::optional<FileEntry> remote;  // the version listed when first opened (or last uploaded)
  std::shared_ptr<FileReader> reader;
  int fd = -1;                 // the staged file, once there is one
  std::string staged_path;
  bool staged = false;         // fd holds the whole current contents
  bool dirty = false;          // changes not yet uploaded
  bool unlinked = false;
  uint64_t size = 0;           // of the staged contents
  int64_t mtime = 0;
  uint64_t generation = 0;     // bumped by every change
  std::string journal_id;
};

FileContents::FileContents(std::filesystem::path staging_dir, const ReadContext& read,
                           cache::Journal& journal, Namespace& ns, Logger& log,
                           std::shared_ptr<http::Clock> clock)
    : staging_dir_(std::move(staging_dir)), read_(read), journal_(journal), ns_(ns), log_(log),
      clock_(std::move(clock)) {
  std::error_code ec;
  std::filesystem::create_directories(staging_dir_, ec);
  ::chmod(staging_dir_.c_str(), 0700);
}

FileContents::~FileContents() {
  {
    std::lock_guard lock(uploader_mu_);
    stop_ = true;
  }
  uploader_cv_.notify_all();
  if (uploader_.joinable()) uploader_.join();
  std::lock_guard lock(table_mu_);
  for (auto& [key, f] : files_) {
    if (f->fd >= 0) ::close(f->fd);
  }
}

std::string FileContents::Key(int mount, const std::string& path) { return std::to_string(mount) + '\0' + path; }

int64_t FileContents::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_->SystemNow().time_since_epoch()).count();
}

int FileContents::Fail(const http::Error& e, const char* op, const std::string& path) {
  return ReportRemoteError(log_, e, std::string(op) + " " + path);
}

std::shared_ptr<FileReader> FileContents::ReaderFor(const std::shared_ptr<OpenFile>& f) {
  std::lock_guard lock(f->mu);
  if (!f->reader && f->remote) {
    FileVersion v{f->ref.target.collection_id, ToTransferPath(f->ref.path), f->remote->size, f->remote->mtime};
    f->reader = FileReader::Make(read_, f->ref.target, v);
  }
  return f->reader;
}

int FileContents::Open(const FileRef& ref, const std::optional<FileEntry>& remote, int flags, bool create,
                       OpenReply* out) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto& slot = files_[Key(ref.mount, ref.path)];
    if (!slot) {
      slot = std::make_shared<OpenFile>();
      slot->ref = ref;
      slot->remote = remote;
    }
    f = slot;
    {
      std::lock_guard flock(f->mu);
      ++f->handles;
      f->ref.ino = ref.ino;
    }
    out->handle = next_handle_++;
    handles_[out->handle] = Handle{f, flags};
  }
  if (create || (Writable(flags) && (flags & O_TRUNC))) {
    if (int rc = EnsureStaged(f, 0)) {
      Release(out->handle);
      return rc;
    }
    std::lock_guard lock(f->mu);
    if (::ftruncate(f->fd, 0) != 0) return EIO;
    f->size = 0;
    f->mtime = NowMs() / 1000;
    f->dirty = true;
    ++f->generation;
  }
  // Keep the kernel's pages across opens while the file is unchanged.
  std::lock_guard lock(table_mu_);
  std::lock_guard flock(f->mu);
  if (!f->staged && f->remote) {
    auto version = std::make_pair(f->remote->size, f->remote->mtime);
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
  {
    std::lock_guard lock(f->mu);
    if (f->staged) return 0;
    if (f->fd < 0) {
      if (f->journal_id.empty()) f->journal_id = cache::NewRecordId();
      f->staged_path = (staging_dir_ / (f->journal_id + ".data")).string();
      f->fd = ::open(f->staged_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (f->fd < 0) {
        log_.Log(LogLevel::kError, "cannot create a staging file in " + staging_dir_.string() + ": " +
                                       std::strerror(errno));
        return EIO;
      }
    }
  }
  // Fill it with the remote contents this version starts from (only the
  // part that survives a truncation).
  uint64_t want = 0;
  int64_t mtime = 0;
  {
    std::lock_guard lock(f->mu);
    if (f->remote) {
      want = keep_bytes ? std::min(*keep_bytes, f->remote->size) : f->remote->size;
      mtime = f->remote->mtime;
    }
  }
  if (want > 0) {
    auto reader = ReaderFor(f);
    uint64_t off = 0;
    std::string chunk;
    while (off < want) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(want - off, read_.block_size));
      auto r = reader->Read(off, n, &chunk);
      if (!r) return Fail(r.error(), "read (to stage for writing)", f->ref.path);
      if (chunk.empty()) break;
      if (::pwrite(f->fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) != static_cast<ssize_t>(chunk.size())) {
        log_.Log(LogLevel::kError, "cannot write the staging file " + f->staged_path + ": " + std::strerror(errno));
        return EIO;
      }
      off += chunk.size();
    }
    want = off;
  }
  std::lock_guard lock(f->mu);
  f->size = want;
  f->mtime = mtime;
  f->staged = true;
  return 0;
}

int FileContents::Read(uint64_t handle, uint64_t offset, size_t size, std::string* out) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return EBADF;
    f = it->second.file;
  }
  {
    std::lock_guard lock(f->mu);
    if (f->staged) {
      out->clear();
      if (offset >= f->size) return 0;
      size_t n = static_cast<size_t>(std::min<uint64_t>(size, f->size - offset));
      out->resize(n);
      ssize_t r = ::pread(f->fd, out->data(), n, static_cast<off_t>(offset));
      if (r < 0) return EIO;
      out->resize(static_cast<size_t>(r));
      return 0;
    }
  }
  auto reader = ReaderFor(f);
  if (!reader) {
    out->clear();
    return 0;  // not on the server yet and nothing written: empty
  }
  auto r = reader->Read(offset, size, out);
  if (!r) return Fail(r.error(), "read", f->ref.path);
  return 0;
}

int FileContents::Write(uint64_t handle, uint64_t offset, std::string_view data) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return EBADF;
    if (!Writable(it->second.flags)) return EBADF;
    f = it->second.file;
  }
  if (int rc = EnsureStaged(f, std::nullopt)) return rc;
  std::lock_guard lock(f->mu);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::pwrite(f->fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno == ENOSPC ? ENOSPC : EIO;
    }
    done += static_cast<size_t>(w);
  }
  f->size = std::max<uint64_t>(f->size, offset + data.size());
  f->mtime = NowMs() / 1000;
  f->dirty = true;
  ++f->generation;
  return 0;
}

int FileContents::Upload(const std::shared_ptr<OpenFile>& f, const char* why) {
  std::lock_guard serial(f->upload_mu);
  cache::StagedUpload rec;
  uint64_t generation;
  {
    std::lock_guard lock(f->mu);
    if (!f->dirty || f->unlinked) return 0;
    generation = f->generation;
    rec.id = f->journal_id;
    rec.collection_id = f->ref.target.collection_id;
    rec.path = f->ref.path;
    rec.staged_file = f->staged_path;
    rec.size = f->size;
    rec.base_exists = f->remote.has_value();
    if (f->remote) {
      rec.base_size = f->remote->size;
      rec.base_mtime = f->remote->mtime;
    }
    rec.staged_at_ms = NowMs();
    if (::fdatasync(f->fd) != 0) {
      log_.Log(LogLevel::kError, "cannot sync the staging file for " + f->ref.path + ": " + std::strerror(errno));
      return EIO;
    }
  }
  {
    std::lock_guard lock(table_mu_);
    active_ids_.insert(rec.id);
  }
  // Recorded before the upload starts: from here on a crash loses nothing.
  if (!journal_.PutUpload(rec)) {
    log_.Log(LogLevel::kError, "cannot record the upload of " + f->ref.path + " in the journal");
    return EIO;
  }
  auto r = read_.data->Upload(f->ref.target, ToTransferPath(f->ref.path), rec.staged_file, rec.size);
  if (!r) return Fail(r.error(), why, f->ref.path);
  bool clean;
  {
    std::lock_guard lock(f->mu);
    clean = f->generation == generation;
    if (clean) f->dirty = false;
  }
  if (clean) journal_.RemoveUpload(rec.id);
  // The new version: listings and caches show it at once.
  if (read_.blocks) read_.blocks->InvalidateFile(rec.collection_id, ToTransferPath(rec.path));
  auto fresh = ns_.Refresh(rec.collection_id, rec.path);
  {
    std::lock_guard lock(table_mu_);
    kernel_versions_.erase(f->ref.ino);
  }
  std::lock_guard lock(f->mu);
  if (fresh && *fresh) {
    f->remote = **fresh;
    f->reader.reset();
  }
  return 0;
}

int FileContents::Flush(uint64_t handle) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return EBADF;
    f = it->second.file;
  }
  // Every close of a descriptor flushes, and its upload must be done when
  // close returns (release comes later, asynchronously). The price: a shell
  // redirection (`echo x > f`, which closes a dup'ed descriptor first)
  // uploads the truncated file, then the data.
  return Upload(f, "upload");
}

void FileContents::Forget(const std::shared_ptr<OpenFile>& f) {
  std::lock_guard lock(table_mu_);
  std::lock_guard flock(f->mu);
  if (f->handles > 0) return;
  auto it = files_.find(Key(f->ref.mount, f->ref.path));
  if (it != files_.end() && it->second == f) files_.erase(it);
  if (f->fd >= 0) ::close(f->fd);
  f->fd = -1;
  if (!f->dirty || f->unlinked) {
    if (!f->staged_path.empty()) ::unlink(f->staged_path.c_str());
    if (f->unlinked && !f->journal_id.empty()) journal_.RemoveUpload(f->journal_id);
  }
  // A dirty file stays journaled (with its staged file) for the uploader.
  active_ids_.erase(f->journal_id);
}

int FileContents::Release(uint64_t handle) {
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
  int rc = last ? Upload(f, "upload at close") : 0;
  if (last) Forget(f);
  return rc;
}

int FileContents::Truncate(const FileRef& ref, const std::optional<FileEntry>& remote, uint64_t size) {
  OpenReply h;
  if (int rc = Open(ref, remote, O_RDWR, false, &h)) return rc;
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    f = handles_[h.handle].file;
  }
  int rc = EnsureStaged(f, size);
  if (rc == 0) {
    std::lock_guard lock(f->mu);
    if (::ftruncate(f->fd, static_cast<off_t>(size)) != 0) {
      rc = EIO;
    } else {
      f->size = size;
      f->mtime = NowMs() / 1000;
      f->dirty = true;
      ++f->generation;
    }
  }
  int up = Release(h.handle);
  return rc ? rc : up;
}

bool FileContents::Describe(uint64_t handle, HandleInfo* out) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return false;
    f = it->second.file;
    out->writable = Writable(it->second.flags);
  }
  std::lock_guard lock(f->mu);
  out->ref = f->ref;
  out->remote = f->remote;
  out->dirty = f->dirty;
  out->size = f->staged ? f->size : (f->remote ? f->remote->size : 0);
  return true;
}

void FileContents::BecomeCopyTarget(uint64_t handle, const FileEntry& shown) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return;
    f = it->second.file;
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

bool FileContents::Overlay(int mount, const std::string& path, FileEntry* entry) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = files_.find(Key(mount, path));
    if (it == files_.end()) return false;
    f = it->second;
  }
  std::lock_guard lock(f->mu);
  if (!f->staged) return false;
  entry->name = NameOf(path);
  entry->type = EntryType::kFile;
  entry->size = f->size;
  entry->mtime = f->mtime;
  if (f->remote) entry->mode = f->remote->mode;
  else entry->mode = 0644;
  return true;
}

int FileContents::FlushPath(int mount, const std::string& path) {
  std::shared_ptr<OpenFile> f;
  {
    std::lock_guard lock(table_mu_);
    auto it = files_.find(Key(mount, path));
    if (it == files_.end()) return 0;
    f = it->second;
  }
  return Upload(f, "upload before rename");
}

void FileContents::Renamed(int mount, const std::string& coll, const std::string& from, const std::string& to) {
  ForEachPending(coll, from, [&](cache::StagedUpload rec) {
    std::string old = rec.path;
    rec.path = to + rec.path.substr(from.size());
    if (journal_.PutUpload(rec)) log_.Log(LogLevel::kInfo, "the pending upload of " + old + " follows it to " + rec.path);
  });
  std::lock_guard lock(table_mu_);
  std::vector<std::pair<std::string, std::shared_ptr<OpenFile>>> moved;
  for (auto it = files_.begin(); it != files_.end();) {
    const auto& f = it->second;
    if (f->ref.mount == mount && IsUnder(f->ref.path, from)) {
      moved.emplace_back(it->first, f);
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [key, f] : moved) {
    std::lock_guard flock(f->mu);
    f->ref.path = to + f->ref.path.substr(from.size());
    f->reader.reset();
    files_[Key(mount, f->ref.path)] = f;
  }
}

void FileContents::Unlinked(int mount, const std::string& coll, const std::string& path) {
  ForEachPending(coll, path, [&](const cache::StagedUpload& rec) {
    if (!journal_.RemoveUpload(rec.id)) return;
    ::unlink(rec.staged_file.c_str());
    log_.Log(LogLevel::kInfo, "dropped the pending upload of " + rec.path + ": the file was removed");
  });
  std::lock_guard lock(table_mu_);
  auto it = files_.find(Key(mount, path));
  if (it == files_.end()) return;
  std::lock_guard flock(it->second->mu);
  it->second->unlinked = true;  // still readable through open handles, never uploaded
  files_.erase(it);
}

void FileContents::ForEachPending(const std::string& coll, const std::string& path,
                                  const std::function<void(const cache::StagedUpload&)>& fn) {
  auto concerned = [&](const cache::StagedUpload& rec) {
    return rec.collection_id == coll && IsUnder(rec.path, path);
  };
  // The common case (no pending upload there) neither waits for the
  // uploader nor blocks it: rm and mv only wait when one is concerned.
  auto pending = journal_.PendingUploads();
  if (std::none_of(pending.begin(), pending.end(), concerned)) return;
  std::lock_guard replay(replay_mu_);  // not while the uploader sends one of them
  for (const auto& rec : journal_.PendingUploads()) {  // again: it may have sent some meanwhile
    if (!concerned(rec)) continue;
    {
      std::lock_guard lock(table_mu_);
      if (active_ids_.count(rec.id)) continue;  // an open file's: it follows the file
    }
    fn(rec);
  }
}

bool FileContents::ReplayOne(const cache::StagedUpload& rec) {
  struct stat st {};
  if (::stat(rec.staged_file.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) < rec.size) {
    log_.Log(LogLevel::kError, "the staged data of " + rec.path + " (journal " + rec.id +
                                   ") is missing; it cannot be uploaded");
    journal_.RemoveUpload(rec.id);
    return true;
  }
  std::string transfer_path = ToTransferPath(rec.path);
  auto now = ns_.api().Stat(rec.collection_id, transfer_path);
  bool exists = now.ok();
  if (!now && Classify(now.error()) != RemoteErrc::kNotFound) {
    log_.Log(LogLevel::kWarning, "pending upload of " + rec.path + ": " + now.error().Summary() + " (will retry)");
    return false;
  }
  bool changed = exists && (!rec.base_exists || now->size != rec.base_size || now->mtime != rec.base_mtime);
  std::string target = changed ? ConflictPath(rec.path, NowMs()) : rec.path;
  DataTarget dt;
  auto info = ns_.api().GetCollection(rec.collection_id);
  if (!info) {
    log_.Log(LogLevel::kWarning, "pending upload of " + rec.path + ": " + info.error().Summary() + " (will retry)");
    return false;
  }
  dt.collection_id = rec.collection_id;
  dt.https_server = info->https_server;
  auto up = read_.data->Upload(dt, ToTransferPath(target), rec.staged_file, rec.size);
  if (!up) {
    log_.Log(LogLevel::kWarning, "pending upload of " + rec.path + ": " + up.error().Summary() + " (will retry)");
    return false;
  }
  journal_.RemoveUpload(rec.id);
  ::unlink(rec.staged_file.c_str());
  if (read_.blocks) read_.blocks->InvalidateFile(rec.collection_id, ToTransferPath(target));
  (void)ns_.Refresh(rec.collection_id, target);
  ns_.Invalidate(rec.collection_id, ParentOf(target));
  if (changed) {
    log_.Log(LogLevel::kWarning, "conflict: " + rec.path + " changed on the server since it was written here; "
                                 "kept both, the local version is " + target);
  } else {
    log_.Log(LogLevel::kInfo, "uploaded " + rec.path + " from the journal (" + std::to_string(rec.size) + " bytes)");
  }
  return true;
}

void FileContents::ReplayOnce() {
  for (const auto& listed : journal_.PendingUploads()) {
    {
      std::lock_guard lock(uploader_mu_);
      if (stop_) return;
    }
    // Held while it is sent: an rm or mv of the file waits, then finds it
    // uploaded (or still pending, at its current path).
    std::lock_guard replay(replay_mu_);
    {
      std::lock_guard lock(table_mu_);
      if (active_ids_.count(listed.id)) continue;  // an open file owns it
    }
    auto rec = journal_.GetUpload(listed.id);  // as it is now: removed or moved meanwhile?
    if (rec) ReplayOne(*rec);
  }
}

void FileContents::StartUploader(std::chrono::milliseconds period) {
  uploader_ = std::thread([this, period] {
    for (;;) {
      ReplayOnce();
      std::unique_lock lock(uploader_mu_);
      if (uploader_cv_.wait_for(lock, period, [this] { return stop_; })) return;
    }
  });
}

}  // namespace globusfs::fs
