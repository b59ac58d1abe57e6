// RAII over LMDB, in the style of hoytech/lmdbxx: Env (an environment: one
// directory holding data.mdb and lock.mdb), Txn (a transaction), Dbi (a named
// database handle) and Cursor.
//
// Invariants: every LMDB handle is owned by exactly one object and released
// exactly once; Txn and Cursor are move-only and a moved-from object holds
// nothing; a Txn that was not committed aborts in its destructor. A view
// (std::string_view) returned by Dbi::Get or by a Cursor points into the
// memory map: it is valid only until its transaction ends (in a write
// transaction, only until the next write), so decode or copy it first and
// never let it escape the transaction.
//
// Errors: a failing LMDB call throws LmdbError (code() is the MDB_* or errno
// code, what() includes mdb_strerror). "Not found" is not an error: Get
// returns an empty optional, cursor moves return false.
//
// Thread-safety: an Env is shared by any number of threads. It is opened with
// MDB_NOTLS, so a read Txn is not tied to the thread that began it (thread
// pools are fine). A Txn and its Cursors are used by one thread at a time; a
// write Txn must end on the thread that began it; a thread holds at most one
// Txn at a time (LMDB serialises writers: a second write Txn on the same
// thread would deadlock).
//
// Lock order: Env's transaction gate before LMDB's own writer mutex. Every
// live Txn counts as active in the gate (whichever thread ends it); Grow
// holds new Txns back and waits until none is active, as LMDB requires for
// mdb_env_set_mapsize. So a thread that holds a Txn must not call Grow or
// begin another Txn (it would wait for itself).
#pragma once

#include <lmdb.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace globusfs::cache {

// An LMDB call failed. `op` names the call, e.g. "mdb_put".
class LmdbError : public std::runtime_error {
 public:
  LmdbError(const char* op, int code);
  int code() const { return code_; }

 private:
  int code_;
};

struct EnvOptions {
  uint64_t map_size = uint64_t{64} << 20;     // initial map size (bounds the file)
  uint64_t max_map_size = uint64_t{1} << 30;  // Grow never goes beyond this
  unsigned max_dbs = 8;                       // named databases
  unsigned max_readers = 256;                 // concurrent read transactions
  // true: every commit is synced. false: MDB_NOSYNC | MDB_NOMETASYNC, so a
  // commit costs no fsync; a process crash loses nothing, but a system crash
  // may lose recent commits or (if the filesystem reorders writes) corrupt
  // the file. The caller must detect that case (see MetadataStore).
  bool durable = true;
  unsigned extra_flags = 0;  // more mdb_env_open flags; MDB_NOTLS is always set
};

class Txn;

class Env {
 public:
  // Creates `dir` (mode 0700) if missing and opens the environment in it
  // (files mode 0600). Clears reader slots left by dead processes. Throws
  // LmdbError (e.g. MDB_INVALID for a file that is not an LMDB file).
  static std::unique_ptr<Env> Open(const std::filesystem::path& dir, const EnvOptions& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  Txn BeginRead();
  Txn BeginWrite();

  // Runs fn(Txn&) in a new write transaction and commits it. If LMDB reports
  // MDB_MAP_FULL (from fn or the commit), grows the map and runs fn again in
  // a fresh transaction, so fn must not have effects outside the txn. Throws
  // LmdbError(MDB_MAP_FULL) once the map is at max_map_size, or whatever fn
  // throws. Blocks on LMDB's writer mutex.
  template <typename Fn>
  void Write(Fn&& fn);

  // Doubles the map size (at most max_map_size) unless another thread has
  // already grown it past `seen_map_size`. Returns false when already at the
  // maximum. Blocks until no Txn of this Env is live.
  bool Grow(uint64_t seen_map_size);

  uint64_t map_size() const;
  // Flushes everything to disk (meaningful when !durable). Throws LmdbError.
  void Sync();
  MDB_env* handle() const { return env_; }

 private:
  friend class Txn;
  Env(MDB_env* env, const EnvOptions& options) : env_(env), options_(options) {}
  Txn Begin(unsigned flags);
  // The transaction gate. Enter/Leave bracket every Txn (lock-free unless a
  // resize is pending); Exclusive runs fn with no Txn of this Env active.
  void Enter();
  void Leave();
  template <typename Fn>
  void Exclusive(Fn&& fn);

  MDB_env* env_;
  EnvOptions options_;
  std::atomic<int64_t> active_{0};     // live Txns
  std::atomic<bool> resizing_{false};  // an Exclusive section is pending or running
  std::mutex gate_mu_;                 // guards waiting on the two above
  std::condition_variable gate_cv_;
};

class Txn {
 public:
  Txn() = default;  // holds nothing
  Txn(Txn&& other) noexcept;
  Txn& operator=(Txn&& other) noexcept;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() { Abort(); }

  // Commits; the Txn holds nothing afterwards, even when this throws.
  void Commit();
  // Aborts if still open; otherwise does nothing.
  void Abort() noexcept;

  bool read_only() const { return read_only_; }
  explicit operator bool() const { return txn_ != nullptr; }
  MDB_txn* handle() const { return txn_; }

 private:
  friend class Env;
  Txn(Env* env, MDB_txn* txn, bool read_only) : env_(env), txn_(txn), read_only_(read_only) {}

  Env* env_ = nullptr;  // whose gate this Txn has entered; null when empty
  MDB_txn* txn_ = nullptr;
  bool read_only_ = false;
};

// A named database. A plain value (an integer handle, nothing to free): once
// the transaction that opened it commits, it is valid in every later
// transaction of its Env until the Env closes.
class Dbi {
 public:
  Dbi() = default;
  // flags: e.g. MDB_CREATE (write Txn only). Throws LmdbError (MDB_NOTFOUND
  // if absent without MDB_CREATE, MDB_INCOMPATIBLE on a flags mismatch).
  static Dbi Open(Txn& txn, const char* name, unsigned flags = 0);

  // The value under `key`, viewing the map: valid only while `txn` lives.
  std::optional<std::string_view> Get(Txn& txn, std::string_view key) const;
  void Put(Txn& txn, std::string_view key, std::string_view value, unsigned flags = 0) const;
  // Returns false if there was no such key.
  bool Del(Txn& txn, std::string_view key) const;
  MDB_stat Stat(Txn& txn) const;
  // Deletes every record (the database itself stays).
  void Clear(Txn& txn) const;
  MDB_dbi handle() const { return dbi_; }

 private:
  explicit Dbi(MDB_dbi dbi) : dbi_(dbi) {}
  MDB_dbi dbi_ = 0;
};

// A cursor over one Dbi. It must be destroyed before its Txn ends (LMDB
// frees a write transaction's cursors itself), so keep it in an inner scope.
class Cursor {
 public:
  Cursor() = default;
  static Cursor Open(Txn& txn, Dbi dbi);
  Cursor(Cursor&& other) noexcept;
  Cursor& operator=(Cursor&& other) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // Each move returns false (and leaves no current record) when there is no
  // such record.
  bool First() { return Move(MDB_FIRST); }
  bool Last() { return Move(MDB_LAST); }
  bool Next() { return Move(MDB_NEXT); }
  bool Prev() { return Move(MDB_PREV); }
  // Moves to the first record whose key is >= `key`.
  bool SeekAtLeast(std::string_view key);

  // The current record; views valid as for Dbi::Get.
  std::string_view key() const { return {static_cast<const char*>(key_.mv_data), key_.mv_size}; }
  std::string_view value() const {
    return {static_cast<const char*>(value_.mv_data), value_.mv_size};
  }

 private:
  explicit Cursor(MDB_cursor* cursor) : cursor_(cursor) {}
  bool Move(MDB_cursor_op op);

  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{0, nullptr};
  MDB_val value_{0, nullptr};
};

template <typename Fn>
void Env::Write(Fn&& fn) {
  for (;;) {
    const uint64_t seen = map_size();
    try {
      Txn txn = BeginWrite();
      fn(txn);
      txn.Commit();
      return;
    } catch (const LmdbError& e) {
      if (e.code() != MDB_MAP_FULL || !Grow(seen)) throw;
    }
  }
}

}  // namespace globusfs::cache
