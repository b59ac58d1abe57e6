#define FUSE_USE_VERSION 312  // libfuse 3.12+: fuse_loop_cfg_*
#include "fs/fuse_adapter.h"

#include <fuse3/fuse_lowlevel.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <condition_variable>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <set>
#include <thread>
#include <vector>

namespace globusfs::fs {

namespace {

struct Context {
  Filesystem* fs = nullptr;
  Logger* log = nullptr;
};

Context& Ctx(fuse_req_t req) { return *static_cast<Context*>(fuse_req_userdata(req)); }

struct stat ToStat(const Attr& a) {
  struct stat st {};
  st.st_ino = a.ino;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_size = static_cast<off_t>(a.size);
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((a.size + 511) / 512);
  st.st_mtim.tv_sec = static_cast<time_t>(a.mtime);
  st.st_mtim.tv_nsec = a.mtime_nsec;
  st.st_atim.tv_sec = static_cast<time_t>(a.atime.sec);
  st.st_atim.tv_nsec = a.atime.nsec;
  st.st_ctim.tv_sec = static_cast<time_t>(a.ctime.sec);
  st.st_ctim.tv_nsec = a.ctime.nsec;
  return st;
}

TimeSpec FromTimespec(const struct timespec& t) {
  return TimeSpec{static_cast<int64_t>(t.tv_sec), static_cast<uint32_t>(t.tv_nsec)};
}

TimeSpec Now() {
  struct timespec t {};
  clock_gettime(CLOCK_REALTIME, &t);
  return FromTimespec(t);
}

fuse_entry_param ToEntry(const Entry& e) {
  fuse_entry_param p{};
  p.ino = e.attr.ino;
  p.generation = 1;
  p.attr = ToStat(e.attr);
  p.attr_timeout = e.timeout_s;
  p.entry_timeout = e.timeout_s;
  return p;
}

// Runs `body`; an escaping exception becomes EIO (the request still gets
// exactly one reply, because body only replies on its normal path).
template <typename F>
void Guard(fuse_req_t req, const char* op, F&& body) noexcept {
  try {
    body();
  } catch (const std::exception& e) {
    Ctx(req).log->Log(LogLevel::kError, std::string(op) + ": internal error: " + e.what());
    fuse_reply_err(req, EIO);
  } catch (...) {
    Ctx(req).log->Log(LogLevel::kError, std::string(op) + ": internal error");
    fuse_reply_err(req, EIO);
  }
}

void OnInit(void* userdata, fuse_conn_info* conn) {
  (void)userdata;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO) conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
  if (conn->capable & FUSE_CAP_ASYNC_READ) conn->want |= FUSE_CAP_ASYNC_READ;
  // O_TRUNC arrives with open (one upload at close), not as a separate
  // setattr(size 0) that would upload an empty file first.
  if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  // Attributes that change on a refresh (another machine's write) drop the
  // file's cached pages; our own changes are told through KernelNotifier.
  if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA) conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
  // Large requests: 1 MiB writes and kernel readahead (the prefetcher
  // reads further ahead still).
  conn->max_write = 1 << 20;
  conn->max_readahead = 1 << 20;
}

void OnLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guard(req, "lookup", [&] {
    Entry e;
    int rc = Ctx(req).fs->Lookup(parent, name, &e);
    if (rc == ENOENT) {
      // A negative entry: the kernel remembers the miss for the TTL.
      fuse_entry_param p{};
      p.ino = 0;
      p.entry_timeout = Ctx(req).fs->ttl_s();
      fuse_reply_entry(req, &p);
      return;
    }
    if (rc) {
      fuse_reply_err(req, rc);
      return;
    }
    fuse_entry_param p = ToEntry(e);
    fuse_reply_entry(req, &p);
  });
}

void OnForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Guard(req, "forget", [&] {
    Ctx(req).fs->Forget(ino, nlookup);
    fuse_reply_none(req);
  });
}

void OnForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Guard(req, "forget", [&] {
    for (size_t i = 0; i < count; ++i) Ctx(req).fs->Forget(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
  });
}

void OnGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "getattr", [&] {
    Attr a;
    if (int rc = Ctx(req).fs->GetAttr(ino, &a, fi ? fi->fh : 0)) {
      fuse_reply_err(req, rc);
      return;
    }
    struct stat st = ToStat(a);
    fuse_reply_attr(req, &st, Ctx(req).fs->ttl_s());
  });
}

void OnSetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  Guard(req, "setattr", [&] {
    SetAttrRequest r;
    r.set_size = to_set & FUSE_SET_ATTR_SIZE;
    r.size = static_cast<uint64_t>(attr->st_size);
    r.set_mode = to_set & FUSE_SET_ATTR_MODE;
    r.set_owner = to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID);
    // utimensat: each time is a value, "now", or left alone (UTIME_OMIT).
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) r.atime = Now();
    else if (to_set & FUSE_SET_ATTR_ATIME) r.atime = FromTimespec(attr->st_atim);
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) r.mtime = Now();
    else if (to_set & FUSE_SET_ATTR_MTIME) r.mtime = FromTimespec(attr->st_mtim);
    Attr a;
    if (int rc = Ctx(req).fs->SetAttr(ino, r, &a, fi ? fi->fh : 0)) {
      fuse_reply_err(req, rc);
      return;
    }
    struct stat st = ToStat(a);
    fuse_reply_attr(req, &st, Ctx(req).fs->ttl_s());
  });
}

void OnReadLink(fuse_req_t req, fuse_ino_t ino) {
  Guard(req, "readlink", [&] {
    std::string target;
    if (int rc = Ctx(req).fs->ReadLink(ino, &target)) {
      fuse_reply_err(req, rc);
      return;
    }
    fuse_reply_readlink(req, target.c_str());
  });
}

void OnMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t) {
  Guard(req, "mkdir", [&] {
    Entry e;
    if (int rc = Ctx(req).fs->Mkdir(parent, name, &e)) {
      fuse_reply_err(req, rc);
      return;
    }
    fuse_entry_param p = ToEntry(e);
    fuse_reply_entry(req, &p);
  });
}

void OnUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guard(req, "unlink", [&] { fuse_reply_err(req, Ctx(req).fs->Unlink(parent, name)); });
}

void OnRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guard(req, "rmdir", [&] { fuse_reply_err(req, Ctx(req).fs->Rmdir(parent, name)); });
}

void OnRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned int flags) {
  Guard(req, "rename",
        [&] { fuse_reply_err(req, Ctx(req).fs->Rename(parent, name, newparent, newname, flags)); });
}

void OnNotSupported3(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, ENOTSUP); }

void OnSymlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { fuse_reply_err(req, ENOTSUP); }
void OnLink(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { fuse_reply_err(req, ENOTSUP); }
void OnMknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { fuse_reply_err(req, ENOTSUP); }

void OnOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "open", [&] {
    OpenReply r;
    if (int rc = Ctx(req).fs->Open(ino, fi->flags, &r)) {
      fuse_reply_err(req, rc);
      return;
    }
    fi->fh = r.handle;
    fi->keep_cache = r.keep_cache;
    fuse_reply_open(req, fi);
  });
}

void OnCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, fuse_file_info* fi) {
  Guard(req, "create", [&] {
    Entry e;
    OpenReply r;
    if (int rc = Ctx(req).fs->Create(parent, name, fi->flags, &e, &r)) {
      fuse_reply_err(req, rc);
      return;
    }
    fi->fh = r.handle;
    fuse_entry_param p = ToEntry(e);
    fuse_reply_create(req, &p, fi);
  });
}

void OnRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  Guard(req, "read", [&] {
    std::string data;
    if (int rc = Ctx(req).fs->Read(fi->fh, static_cast<uint64_t>(off), size, &data)) {
      fuse_reply_err(req, rc);
      return;
    }
    fuse_reply_buf(req, data.data(), data.size());
  });
}

void OnWrite(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  Guard(req, "write", [&] {
    if (int rc = Ctx(req).fs->Write(fi->fh, static_cast<uint64_t>(off), std::string_view(buf, size))) {
      fuse_reply_err(req, rc);
      return;
    }
    fuse_reply_write(req, size);
  });
}

void OnFlush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Guard(req, "flush", [&] { fuse_reply_err(req, Ctx(req).fs->Flush(fi->fh)); });
}

void OnFsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info* fi) {
  Guard(req, "fsync", [&] { fuse_reply_err(req, Ctx(req).fs->Fsync(fi->fh)); });
}

void OnCopyFileRange(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in, fuse_ino_t, off_t off_out,
                     fuse_file_info* fi_out, size_t len, int flags) {
  Guard(req, "copy_file_range", [&] {
    if (flags != 0) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    uint64_t copied = 0;
    if (int rc = Ctx(req).fs->CopyFileRange(fi_in->fh, static_cast<uint64_t>(off_in), fi_out->fh,
                                            static_cast<uint64_t>(off_out), len, &copied)) {
      fuse_reply_err(req, rc);
      return;
    }
    fuse_reply_write(req, copied);
  });
}

void OnRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Guard(req, "release", [&] { fuse_reply_err(req, Ctx(req).fs->Release(fi->fh)); });
}

void OnOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guard(req, "opendir", [&] {
    uint64_t handle = 0;
    if (int rc = Ctx(req).fs->OpenDir(ino, &handle)) {
      fuse_reply_err(req, rc);
      return;
    }
    fi->fh = handle;
    fuse_reply_open(req, fi);
  });
}

void ReadDirCommon(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  Guard(req, plus ? "readdirplus" : "readdir", [&] {
    std::vector<char> buf(size);
    size_t used = 0;
    int rc = Ctx(req).fs->ReadDir(fi->fh, static_cast<uint64_t>(off), plus,
                                  [&](const DirItem& item, uint64_t next) {
                                    size_t need;
                                    if (plus) {
                                      fuse_entry_param p = ToEntry(Entry{item.attr, Ctx(req).fs->ttl_s()});
                                      if (!item.counted) p.ino = item.attr.ino;  // "." and ".."
                                      need = fuse_add_direntry_plus(req, buf.data() + used, size - used,
                                                                    item.name.c_str(), &p,
                                                                    static_cast<off_t>(next));
                                    } else {
                                      struct stat st = ToStat(item.attr);
                                      need = fuse_add_direntry(req, buf.data() + used, size - used,
                                                               item.name.c_str(), &st,
                                                               static_cast<off_t>(next));
                                    }
                                    if (need > size - used) return false;
                                    used += need;
                                    return true;
                                  });
    if (rc) {
      fuse_reply_err(req, rc);
      return;
    }
    fuse_reply_buf(req, buf.data(), used);
  });
}

void OnReadDir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, size, off, fi, false);
}

void OnReadDirPlus(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, size, off, fi, true);
}

void OnReleaseDir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Guard(req, "releasedir", [&] {
    Ctx(req).fs->ReleaseDir(fi->fh);
    fuse_reply_err(req, 0);
  });
}

void OnFsyncDir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  Guard(req, "fsyncdir", [&] { fuse_reply_err(req, Ctx(req).fs->FsyncDir(ino)); });
}

void OnStatFs(fuse_req_t req, fuse_ino_t) {
  Guard(req, "statfs", [&] {
    StatFs s = Ctx(req).fs->GetStatFs();
    struct statvfs v {};
    v.f_bsize = v.f_frsize = s.block_size;
    v.f_blocks = s.blocks;
    v.f_bfree = v.f_bavail = s.blocks_free;
    v.f_files = s.files;
    v.f_ffree = v.f_favail = s.files_free;
    v.f_namemax = s.name_max;
    fuse_reply_statfs(req, &v);
  });
}

void ReplyXattr(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, value.size());
  } else if (value.size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, value.data(), value.size());
  }
}

void OnGetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Guard(req, "getxattr", [&] {
    std::string value;
    if (int rc = Ctx(req).fs->GetXattr(ino, name, &value)) {
      fuse_reply_err(req, rc);
      return;
    }
    ReplyXattr(req, value, size);
  });
}

void OnListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Guard(req, "listxattr", [&] {
    std::vector<std::string> names;
    if (int rc = Ctx(req).fs->ListXattr(ino, &names)) {
      fuse_reply_err(req, rc);
      return;
    }
    std::string all;
    for (const auto& n : names) all += n + '\0';
    ReplyXattr(req, all, size);
  });
}

void OnSetXattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) {
  fuse_reply_err(req, ENOTSUP);
}

// Sends the kernel's invalidations from a thread of its own (a notify sent
// from inside a request on the same inode could deadlock), deduplicated.
class FuseNotifier final : public KernelNotifier {
 public:
  explicit FuseNotifier(Logger& log) : log_(log) {}
  ~FuseNotifier() override { Stop(); }

  void Start(fuse_session* se) {
    std::lock_guard lock(mu_);
    se_ = se;
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    se_ = nullptr;
  }

  void InvalidateInode(uint64_t ino) override { Push(Item{ino, ""}); }
  void InvalidateEntry(uint64_t parent, const std::string& name) override { Push(Item{parent, name}); }

 private:
  struct Item {
    uint64_t ino;
    std::string name;  // empty: the inode itself
    bool operator<(const Item& o) const { return ino != o.ino ? ino < o.ino : name < o.name; }
  };
  void Push(Item item) {
    std::lock_guard lock(mu_);
    if (!se_ || stop_ || !queued_.insert(item).second) return;
    queue_.push_back(std::move(item));
    cv_.notify_one();
  }
  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      Item item = std::move(queue_.front());
      queue_.pop_front();
      queued_.erase(item);
      fuse_session* se = se_;
      lock.unlock();
      int rc = item.name.empty()
                   ? fuse_lowlevel_notify_inval_inode(se, item.ino, 0, 0)
                   : fuse_lowlevel_notify_inval_entry(se, item.ino, item.name.c_str(), item.name.size());
      // ENOENT: the kernel no longer knows it, which is just as good.
      if (rc != 0 && rc != -ENOENT) {
        log_.LogOnce(LogLevel::kDebug, "notify", "kernel invalidation failed: " + std::string(std::strerror(-rc)));
      }
      lock.lock();
    }
  }

  Logger& log_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::set<Item> queued_;
  bool stop_ = false;
  fuse_session* se_ = nullptr;
  std::thread thread_;
};

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops{};
  ops.init = OnInit;
  ops.lookup = OnLookup;
  ops.forget = OnForget;
  ops.forget_multi = OnForgetMulti;
  ops.getattr = OnGetAttr;
  ops.setattr = OnSetAttr;
  ops.readlink = OnReadLink;
  ops.mknod = OnMknod;
  ops.mkdir = OnMkdir;
  ops.unlink = OnUnlink;
  ops.rmdir = OnRmdir;
  ops.symlink = OnSymlink;
  ops.rename = OnRename;
  ops.link = OnLink;
  ops.open = OnOpen;
  ops.create = OnCreate;
  ops.read = OnRead;
  ops.write = OnWrite;
  ops.flush = OnFlush;
  ops.fsync = OnFsync;
  ops.copy_file_range = OnCopyFileRange;
  ops.release = OnRelease;
  ops.opendir = OnOpenDir;
  ops.readdir = OnReadDir;
  ops.readdirplus = OnReadDirPlus;
  ops.releasedir = OnReleaseDir;
  ops.fsyncdir = OnFsyncDir;
  ops.statfs = OnStatFs;
  ops.setxattr = OnSetXattr;
  ops.getxattr = OnGetXattr;
  ops.listxattr = OnListXattr;
  ops.removexattr = OnNotSupported3;
  return ops;
}

}  // namespace

struct FuseSession::State {
  explicit State(Logger& log) : notifier(log) {}
  Context ctx;
  FuseNotifier notifier;
  fuse_session* se = nullptr;
  bool mounted = false;
  std::vector<std::string> arg_storage;
  std::vector<char*> argv;
};

FuseSession::FuseSession(FuseOptions options, Logger& log) : options_(std::move(options)), log_(log) {}

FuseSession::~FuseSession() {
  if (!state_) return;
  state_->notifier.Stop();
  if (state_->se) {
    if (state_->mounted) fuse_session_unmount(state_->se);
    fuse_session_destroy(state_->se);
  }
  delete state_;
}

bool FuseSession::Mount() {
  state_ = new State(log_);
  state_->ctx.log = &log_;
  state_->arg_storage.push_back("globusfs");
  if (options_.debug) state_->arg_storage.push_back("-d");
  for (const auto& a : options_.fuse_args) state_->arg_storage.push_back(a);
  for (auto& a : state_->arg_storage) state_->argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(state_->argv.size()), state_->argv.data());
  fuse_lowlevel_ops ops = MakeOps();
  state_->se = fuse_session_new(&args, &ops, sizeof(ops), &state_->ctx);
  fuse_opt_free_args(&args);
  if (!state_->se) return false;
  if (fuse_session_mount(state_->se, options_.mountpoint.c_str()) != 0) return false;
  state_->mounted = true;
  return true;
}

KernelNotifier& FuseSession::notifier() { return state_->notifier; }

void FuseSession::Daemonize() { fuse_daemonize(options_.foreground ? 1 : 0); }

int FuseSession::Run(Filesystem& fs) {
  state_->ctx.fs = &fs;
  if (fuse_set_signal_handlers(state_->se) != 0) return 1;
  state_->notifier.Start(state_->se);
  fuse_loop_config* cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(cfg, options_.max_threads);
  fuse_loop_cfg_set_idle_threads(cfg, 8);
  int rc = fuse_session_loop_mt(state_->se, cfg);
  fuse_loop_cfg_destroy(cfg);
  state_->notifier.Stop();
  fuse_remove_signal_handlers(state_->se);
  return rc == 0 ? 0 : 1;
}

}  // namespace globusfs::fs
