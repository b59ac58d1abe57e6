#include "cache/lmdb.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

#include "cache/file_util.h"

namespace globusfs::cache {
namespace {

void Check(const char* op, int rc) {
  if (rc != MDB_SUCCESS) throw LmdbError(op, rc);
}

MDB_val ToVal(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

std::string_view ToView(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// Map sizes are kept at whole MiB, a multiple of every page size in use.
uint64_t RoundUpMiB(uint64_t n) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  return (n + kMiB - 1) / kMiB * kMiB;
}

}  // namespace

LmdbError::LmdbError(const char* op, int code)
    : std::runtime_error(std::string(op) + ": " + mdb_strerror(code)), code_(code) {}

// ---- Env ---------------------------------------------------------------

std::unique_ptr<Env> Env::Open(const std::filesystem::path& dir, const EnvOptions& options) {
  try {
    file_util::EnsurePrivateDir(dir);
  } catch (const std::system_error& e) {
    throw LmdbError("mkdir", e.code().value());
  }

  MDB_env* raw = nullptr;
  Check("mdb_env_create", mdb_env_create(&raw));
  // Owns `raw` until the Env takes it (mdb_env_close is right even when
  // mdb_env_open failed).
  std::unique_ptr<MDB_env, decltype(&mdb_env_close)> guard(raw, &mdb_env_close);

  EnvOptions opts = options;
  opts.map_size = RoundUpMiB(std::max<uint64_t>(opts.map_size, 1));
  opts.max_map_size = std::max(RoundUpMiB(opts.max_map_size), opts.map_size);
  Check("mdb_env_set_mapsize", mdb_env_set_mapsize(raw, opts.map_size));
  Check("mdb_env_set_maxdbs", mdb_env_set_maxdbs(raw, opts.max_dbs));
  Check("mdb_env_set_maxreaders", mdb_env_set_maxreaders(raw, opts.max_readers));
  unsigned flags = MDB_NOTLS | opts.extra_flags;
  if (!opts.durable) flags |= MDB_NOSYNC | MDB_NOMETASYNC;
  Check("mdb_env_open", mdb_env_open(raw, dir.c_str(), flags, 0600));
  int dead = 0;
  Check("mdb_reader_check", mdb_reader_check(raw, &dead));

  return std::unique_ptr<Env>(new Env(guard.release(), opts));
}

Env::~Env() { mdb_env_close(env_); }

Txn Env::BeginRead() { return Begin(MDB_RDONLY); }
Txn Env::BeginWrite() { return Begin(0); }

// Enter and Exclusive form a Dekker-style handshake on two seq_cst atomics:
// Enter increments active_ then reads resizing_; Exclusive sets resizing_
// then reads active_. At least one of them sees the other, so either the
// Txn backs off or Exclusive waits for it to Leave.
void Env::Enter() {
  for (;;) {
    active_.fetch_add(1);
    if (!resizing_.load()) return;
    Leave();
    std::unique_lock<std::mutex> lock(gate_mu_);
    gate_cv_.wait(lock, [&] { return !resizing_.load(); });
  }
}

void Env::Leave() {
  if (active_.fetch_sub(1) == 1 && resizing_.load()) {
    std::lock_guard<std::mutex> lock(gate_mu_);  // orders the wake-up after the waiter's check
    gate_cv_.notify_all();
  }
}

template <typename Fn>
void Env::Exclusive(Fn&& fn) {
  std::unique_lock<std::mutex> lock(gate_mu_);
  gate_cv_.wait(lock, [&] { return !resizing_.load(); });  // one Exclusive at a time
  resizing_.store(true);
  struct Reopen {
    Env* env;
    ~Reopen() {
      env->resizing_.store(false);
      env->gate_cv_.notify_all();
    }
  } reopen{this};
  gate_cv_.wait(lock, [&] { return active_.load() == 0; });
  fn();
}

Txn Env::Begin(unsigned flags) {
  for (;;) {
    Enter();
    MDB_txn* txn = nullptr;
    const int rc = mdb_txn_begin(env_, nullptr, flags, &txn);
    if (rc == MDB_SUCCESS) return Txn(this, txn, (flags & MDB_RDONLY) != 0);
    Leave();
    if (rc != MDB_MAP_RESIZED) throw LmdbError("mdb_txn_begin", rc);
    // Another process grew the map: adopt its size while no txn is active.
    Exclusive([&] { Check("mdb_env_set_mapsize", mdb_env_set_mapsize(env_, 0)); });
  }
}

bool Env::Grow(uint64_t seen_map_size) {
  bool grown = false;
  Exclusive([&] {
    const uint64_t current = map_size();
    if (current > seen_map_size) {  // someone else grew it meanwhile
      grown = true;
    } else if (current < options_.max_map_size) {
      const uint64_t next = std::min(RoundUpMiB(current * 2), options_.max_map_size);
      Check("mdb_env_set_mapsize", mdb_env_set_mapsize(env_, next));
      grown = true;
    }
  });
  return grown;
}

uint64_t Env::map_size() const {
  MDB_envinfo info;
  Check("mdb_env_info", mdb_env_info(env_, &info));
  return info.me_mapsize;
}

void Env::Sync() { Check("mdb_env_sync", mdb_env_sync(env_, 1)); }

// ---- Txn ---------------------------------------------------------------

Txn::Txn(Txn&& other) noexcept
    : env_(std::exchange(other.env_, nullptr)),
      txn_(std::exchange(other.txn_, nullptr)),
      read_only_(other.read_only_) {}

Txn& Txn::operator=(Txn&& other) noexcept {
  if (this != &other) {
    Abort();
    env_ = std::exchange(other.env_, nullptr);
    txn_ = std::exchange(other.txn_, nullptr);
    read_only_ = other.read_only_;
  }
  return *this;
}

void Txn::Commit() {
  MDB_txn* txn = std::exchange(txn_, nullptr);
  if (txn == nullptr) throw LmdbError("mdb_txn_commit", EINVAL);
  const int rc = mdb_txn_commit(txn);  // frees txn, even on failure
  std::exchange(env_, nullptr)->Leave();
  Check("mdb_txn_commit", rc);
}

void Txn::Abort() noexcept {
  if (txn_ == nullptr) return;
  mdb_txn_abort(std::exchange(txn_, nullptr));
  std::exchange(env_, nullptr)->Leave();
}

// ---- Dbi ---------------------------------------------------------------

Dbi Dbi::Open(Txn& txn, const char* name, unsigned flags) {
  MDB_dbi dbi = 0;
  Check("mdb_dbi_open", mdb_dbi_open(txn.handle(), name, flags, &dbi));
  return Dbi(dbi);
}

std::optional<std::string_view> Dbi::Get(Txn& txn, std::string_view key) const {
  MDB_val k = ToVal(key);
  MDB_val v{0, nullptr};
  const int rc = mdb_get(txn.handle(), dbi_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  Check("mdb_get", rc);
  return ToView(v);
}

void Dbi::Put(Txn& txn, std::string_view key, std::string_view value, unsigned flags) const {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  Check("mdb_put", mdb_put(txn.handle(), dbi_, &k, &v, flags));
}

bool Dbi::Del(Txn& txn, std::string_view key) const {
  MDB_val k = ToVal(key);
  const int rc = mdb_del(txn.handle(), dbi_, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  Check("mdb_del", rc);
  return true;
}

MDB_stat Dbi::Stat(Txn& txn) const {
  MDB_stat stat;
  Check("mdb_stat", mdb_stat(txn.handle(), dbi_, &stat));
  return stat;
}

void Dbi::Clear(Txn& txn) const { Check("mdb_drop", mdb_drop(txn.handle(), dbi_, 0)); }

// ---- Cursor ------------------------------------------------------------

Cursor Cursor::Open(Txn& txn, Dbi dbi) {
  MDB_cursor* cursor = nullptr;
  Check("mdb_cursor_open", mdb_cursor_open(txn.handle(), dbi.handle(), &cursor));
  return Cursor(cursor);
}

Cursor::Cursor(Cursor&& other) noexcept
    : cursor_(std::exchange(other.cursor_, nullptr)), key_(other.key_), value_(other.value_) {}

Cursor& Cursor::operator=(Cursor&& other) noexcept {
  if (this != &other) {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
    cursor_ = std::exchange(other.cursor_, nullptr);
    key_ = other.key_;
    value_ = other.value_;
  }
  return *this;
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

bool Cursor::Move(MDB_cursor_op op) {
  const int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) {
    key_ = value_ = MDB_val{0, nullptr};
    return false;
  }
  Check("mdb_cursor_get", rc);
  return true;
}

bool Cursor::SeekAtLeast(std::string_view key) {
  key_ = ToVal(key);
  return Move(MDB_SET_RANGE);
}

}  // namespace globusfs::cache
