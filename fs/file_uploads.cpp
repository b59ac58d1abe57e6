// FileContents: uploads, the background uploader with its backoff, the
// journal's leftovers from a previous run, the drain at unmount, and giving
// up on local changes that cannot be stored.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <set>

#include "fs/errno_map.h"
#include "fs/file_contents.h"
#include "fs/mount_table.h"
#include "fs/open_file.h"
#include "fs/remote/remote_error.h"

namespace globusfs::fs {

namespace {

// "<name>.globusfs-conflict-20261123-104512" beside the original.
std::string ConflictPath(const std::string& path, int64_t now_ms) {
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  return path + ".globusfs-conflict-" + stamp;
}

std::string Seconds(std::chrono::milliseconds d) { return std::to_string((d.count() + 999) / 1000) + " s"; }

bool MentionsNoSpace(const std::string& why) {
  return why.find("No space") != std::string::npos || why.find("MAP_FULL") != std::string::npos ||
         why.find("quota") != std::string::npos;
}

}  // namespace

void FileContents::DropLocalChanges(const std::shared_ptr<OpenFile>& f, int err) {
  f->error = err;
  f->staged = false;
  f->dirty = false;
  ++f->generation;
  f->reader.reset();
  if (f->fd >= 0) {
    (void)::ftruncate(f->fd, 0);
    ::close(f->fd);
    f->fd = -1;
  }
  if (!f->staged_path.empty()) ::unlink(f->staged_path.c_str());
}

bool FileContents::NoHttps(const std::shared_ptr<OpenFile>& f) { return f->ref.target.https_server.empty(); }

int FileContents::Upload(const std::shared_ptr<OpenFile>& f, const char* why) {
  std::lock_guard serial(f->upload_mu);
  cache::StagedUpload rec;
  uint64_t generation;
  bool check_conflict;
  std::string coll, path;
  DataTarget target;
  {
    std::lock_guard lock(f->mu);
    if (f->error) return f->error;
    if (!f->dirty || f->unlinked) return 0;
    if (NoHttps(f)) {
      // Nowhere to upload to (no HTTPS server): the change is dropped, not
      // journaled, and the close says so.
      DropLocalChanges(f, EOPNOTSUPP);
      return EOPNOTSUPP;
    }
    generation = f->generation;
    coll = f->coll();
    path = f->ref.path;
    target = f->ref.target;
    check_conflict = f->check_conflict;
    rec.id = f->journal_id;
    rec.collection_id = coll;
    rec.path = path;
    rec.staged_file = f->staged_path;
    rec.size = f->size;
    rec.base_exists = f->remote.has_value();
    if (f->remote) {
      rec.base_size = f->remote->size;
      rec.base_mtime = f->remote->mtime;
    }
    rec.staged_at_ms = NowMs();
    if (::fdatasync(f->fd) != 0) {
      int err = errno;
      log_.Log(LogLevel::kError, "cannot sync the staging file of " + path + " (" + f->staged_path +
                                     "): " + std::strerror(err));
      return err == ENOSPC || err == EDQUOT ? ENOSPC : EIO;
    }
  }
  // Recorded before the upload starts: from here on a crash loses nothing.
  if (!journal_.PutUpload(rec)) {
    std::string cause = journal_.LastError();
    log_.LogOnce(LogLevel::kError, "journal-write",
                 "cannot record the upload of " + path + " in the journal: " + cause +
                     "; it was not sent and close reports the error. Free space in the cache folder (" +
                     options_.staging_dir.parent_path().string() + "), or mount with another --cache-dir");
    return MentionsNoSpace(cause) ? ENOSPC : EIO;
  }
  std::string dest = path;
  bool conflict = false;
  if (check_conflict) {
    // Left by a previous run: the server may have moved on since.
    auto now = ns_.api().Stat(coll, ToTransferPath(path));
    if (!now && Classify(now.error()) != RemoteErrc::kNotFound) {
      ScheduleRetry(f, now.error().Summary());
      return Fail(now.error(), why, path);
    }
    conflict = now.ok() && (!rec.base_exists || now->size != rec.base_size || now->mtime != rec.base_mtime);
    if (conflict) dest = ConflictPath(path, NowMs());
  }
  versions_.Changing(coll, dest);
  auto r = read_.data->Upload(target, ToTransferPath(dest), rec.staged_file, rec.size);
  if (!r) {
    versions_.Changed(coll, dest, std::nullopt);  // a failed PUT may have changed it: trust nothing
    ScheduleRetry(f, r.error().Summary());
    return Fail(r.error(), why, path);
  }
  bool clean;
  int failures;
  {
    std::lock_guard lock(f->mu);
    clean = f->generation == generation;
    if (clean) f->dirty = false;
    f->uploaded = true;
    failures = f->failures;
    f->failures = 0;
    f->logged_delay = std::chrono::milliseconds(0);
  }
  if (clean) journal_.RemoveUpload(rec.id);
  if (failures > 0) {
    log_.Log(LogLevel::kInfo, "uploaded " + path + " after " + std::to_string(failures) + " failed attempt(s)");
  }
  Landed(f, dest, conflict);
  return 0;
}

void FileContents::Landed(const std::shared_ptr<OpenFile>& f, const std::string& dest, bool conflict) {
  const std::string coll = f->coll();
  if (read_.writer) read_.writer->Forget(coll, ToTransferPath(dest));
  if (read_.blocks) read_.blocks->InvalidateFile(coll, ToTransferPath(dest));  // older versions' space
  auto fresh = ns_.Refresh(coll, dest);
  std::optional<FileEntry> now;
  if (fresh && *fresh) now = **fresh;
  versions_.Changed(coll, dest, now);
  if (conflict) {
    ns_.Invalidate(coll, ParentOf(dest));
    uint64_t ino;
    std::string path;
    {
      std::lock_guard lock(f->mu);
      f->staged = false;  // the path shows the server's version again
      f->reader.reset();
      ino = f->ref.ino;
      path = f->ref.path;
    }
    log_.Log(LogLevel::kWarning, "conflict: " + path + " changed on the server since it was written here; "
                                 "kept both, the local version is " + dest);
    if (ino) invalidate_(ino);
    return;
  }
  std::optional<TimeSpec> atime, mtime;
  {
    std::lock_guard lock(f->mu);
    if (now) f->remote = now;
    f->reader.reset();
    if (!f->dirty) {
      atime = f->set_atime;
      mtime = f->set_mtime;
      f->set_atime.reset();
      f->set_mtime.reset();
    }
  }
  // Times set while the file was being written hold for this upload.
  if (now && (atime || mtime)) {
    TimeSpec server{now->mtime, 0};
    cache::UserTimes t;
    TimeSpec a = atime.value_or(mtime.value_or(server)), m = mtime.value_or(server);
    t.atime_s = a.sec;
    t.atime_ns = a.nsec;
    t.mtime_s = m.sec;
    t.mtime_ns = m.nsec;
    t.server_size = now->size;
    t.server_mtime = now->mtime;
    ns_.store().PutTimes(coll, dest, t);
  } else {
    ns_.store().EraseTimes(coll, dest);
  }
}

void FileContents::ScheduleRetry(const std::shared_ptr<OpenFile>& f, const std::string& why) {
  std::chrono::milliseconds delay = options_.retry_initial;
  bool log;
  std::string path;
  {
    std::lock_guard lock(f->mu);
    ++f->failures;
    for (int i = 1; i < f->failures && delay < options_.retry_max; ++i) delay *= 2;
    delay = std::min(delay, options_.retry_max);
    f->next_try = SteadyClock::now() + delay;
    log = delay != f->logged_delay;  // once per backoff step, never per turn
    f->logged_delay = delay;
    path = f->ref.path;
  }
  if (!log) return;
  log_.Log(LogLevel::kWarning, "the upload of " + path + " failed (" + why + "); it stays in the journal and is "
                               "retried in " + Seconds(delay) +
                               (delay == options_.retry_max ? " (and every " + Seconds(delay) + " after that)" : ""));
}

void FileContents::Adopt(const cache::StagedUpload& rec) {
  auto where = resolver_(rec.collection_id);
  if (!where) {
    log_.LogOnce(LogLevel::kWarning, "unmounted:" + rec.collection_id,
                 "pending uploads to collection " + rec.collection_id +
                     " stay in the journal: it is not mounted now (mount it to send them)",
                 86400);
    return;
  }
  struct stat st {};
  if (::stat(rec.staged_file.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) < rec.size) {
    log_.Log(LogLevel::kError, "the staged data of " + rec.path + " (journal " + rec.id +
                                   ") is missing; it cannot be uploaded");
    journal_.RemoveUpload(rec.id);
    return;
  }
  int fd = ::open(rec.staged_file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    log_.Log(LogLevel::kError, "cannot open the staged data of " + rec.path + " (" + rec.staged_file + "): " +
                                   std::strerror(errno) + "; kept in the journal");
    return;
  }
  auto f = std::make_shared<OpenFile>();
  f->ref = FileRef{where->first, where->second, rec.path, 0};
  if (rec.base_exists) f->remote = FileEntry{NameOf(rec.path), EntryType::kFile, rec.base_size, rec.base_mtime, 0644, ""};
  f->fd = fd;
  f->staged_path = rec.staged_file;
  f->staged = true;
  f->dirty = true;
  f->size = rec.size;
  f->mtime = rec.staged_at_ms / 1000;
  f->journal_id = rec.id;
  f->check_conflict = true;
  std::shared_ptr<OpenFile> older;
  {
    std::lock_guard lock(table_mu_);
    auto& slot = files_[Key(rec.collection_id, rec.path)];
    older = slot;  // records come oldest first: the newer one holds the latest data
    slot = f;
  }
  if (older) {
    journal_.RemoveUpload(older->journal_id);
    ::unlink(older->staged_path.c_str());
  }
  log_.Log(LogLevel::kInfo, "resuming the upload of " + rec.path + " (" + std::to_string(rec.size) +
                                " bytes) from the journal");
}

std::vector<std::shared_ptr<FileContents::OpenFile>> FileContents::DueUploads(bool ignore_backoff) {
  std::vector<std::shared_ptr<OpenFile>> due;
  auto now = SteadyClock::now();
  std::lock_guard lock(table_mu_);
  for (const auto& [key, f] : files_) {
    std::lock_guard flock(f->mu);
    if (f->handles == 0 && f->dirty && !f->unlinked && !f->error && (ignore_backoff || f->next_try <= now)) {
      due.push_back(f);
    }
  }
  return due;
}

void FileContents::StartUploader() {
  for (const auto& rec : journal_.PendingUploads()) Adopt(rec);
  uploader_ = std::thread([this] {
    for (;;) {
      for (const auto& f : DueUploads(false)) {
        {
          std::lock_guard lock(uploader_mu_);
          if (stop_) return;
        }
        Upload(f, "upload (retry)");
        Settle(f);
      }
      std::unique_lock lock(uploader_mu_);
      if (uploader_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) return;
    }
  });
}

void FileContents::ReplayOnce() {
  for (const auto& f : DueUploads(true)) {
    Upload(f, "upload (retry)");
    Settle(f);
  }
}

size_t FileContents::Drain(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(uploader_mu_);
    stop_ = true;
  }
  uploader_cv_.notify_all();
  if (uploader_.joinable()) uploader_.join();
  std::set<std::shared_ptr<OpenFile>> tried;  // one attempt each: no retry loop at unmount
  for (;;) {
    std::shared_ptr<OpenFile> next;
    for (const auto& f : DueUploads(true)) {
      if (!tried.count(f)) {
        next = f;
        break;
      }
    }
    if (!next || SteadyClock::now() >= deadline) break;
    tried.insert(next);
    Upload(next, "upload at unmount");
    Settle(next);
  }
  size_t left = 0;
  std::lock_guard lock(table_mu_);
  for (const auto& [key, f] : files_) {
    std::lock_guard flock(f->mu);
    if (f->dirty && !f->unlinked && !f->error) ++left;
  }
  return left;
}

}  // namespace globusfs::fs
