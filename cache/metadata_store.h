// MetadataStore: the persistent metadata cache (DESIGN.md, "Caching and
// consistency"), in LMDB. Per (collection id, normalised path) it holds at
// most one record of each kind, each in its own database:
// - listing: a folder's entries as the server listed them, stamped with
//   fetched_at_ms; its header also counts the subfolders (SubdirCount);
// - entry: an attribute record (a Transfer `stat` result) or a negative
//   record ("does not exist"), stamped with fetched_at_ms;
// - folder change: when we last created, removed or renamed an entry in that
//   folder (our own change, not the server's), for its mtime/ctime;
// - content version: the filesystem's id of a file's content (the block
//   cache's key for its blocks); it does not expire;
// - user times: the atime/mtime a user set, with the server's size and mtime
//   at that moment; they do not expire.
//
// Paths are normalised: "/" is the collection root, "/a/b" has no trailing
// slash and no "." or ".." parts. Collection ids and paths contain no NUL.
// Paths of any length (up to PATH_MAX) work in every method: keys longer than
// LMDB's key limit are stored hashed, with the full key kept in the value and
// checked on every read (cache/metadata_keys.h).
//
// Freshness: a listing, entry or folder change record is fresh while
// |now_ms - fetched_at_ms| < ttl_ms (so a clock that jumps back does not make
// records fresh for longer); a stale record is a miss, except
// GetListing(..., allow_stale=true) and SubdirCount. Versions and times
// have no age. now_ms is wall time in ms since the epoch, passed in by the
// caller (records outlive the process, so a monotonic clock would not do).
//
// Invariants:
// - A path's attribute/negative record and its parent's cached listing agree:
//   every Put/Apply call that changes one patches the other in the same
//   transaction. Patching a listing in place keeps its fetched_at_ms: only the
//   patched entry is new, the rest is no fresher than before.
// - What each write does to each kind ("tree": the path and every path below
//   it, never "/a/bc" for "/a/b"):
//   PutListing(dir): sets dir's listing; drops dir's negative record.
//   PutEntry(p): sets p's attribute record (in the parent listing too); if p
//     is not a directory, forgets p's listing and folder change and every
//     record below p (p's version and times stay).
//   ApplyCreate(p): PutEntry; a non-directory also forgets p's version and
//     times; records that the parent folder changed.
//   PutNegative(p): forgets every record of the tree, of every kind; records
//     p as missing (and drops it from the parent listing).
//   ApplyRemove(p): PutNegative; records that the parent folder changed.
//   ApplyRename(from, to): forgets every record of the `to` tree; moves the
//     listing, entry, folder change and times records of the `from` tree to
//     `to`; forgets the versions of the `from` tree (a renamed file gets a
//     new version); patches both parent listings; records that both parent
//     folders changed.
//   Invalidate(p) / InvalidateSubtree(p): forget the listing and entry
//     records of p / of the tree; changes, versions and times stay.
//   Put/EraseVersion, Put/EraseTimes: only that one record.
// - Logical bytes (keys + values + the age index) of all kinds stay <=
//   max_bytes: each write evicts the least recently *put* records first
//   (reads do not count); a version or times record may be evicted too.
// - Survives a reopen of the same dir. Open wipes the store (and starts empty)
//   when it is not of this format version, is not an LMDB file, or was open
//   with durable=false when the system (not just the process) went down.
//
// Errors: no method throws. A failed read is a miss (kUnknown / nullopt). A
// failed write (disk full, I/O error, full map) must not leave a stale view
// of the change it lost, so the store then, in a fresh transaction, forgets
// every record that write would have touched (the path or subtree, and the
// parent listing; for a rename both sides); if that fails too it clears
// everything; if even that fails it is *disabled*: every read is a miss and
// each later write first tries to clear the store, re-enabling it on
// success. Each failure is counted in Stats::write_failures and reported to
// options.on_error (rate-limited).
//
// Thread-safety: every method may be called from many threads at once. Each
// call is one LMDB transaction: mutations are atomic (one write txn each) and
// serialised by LMDB; reads are short read-only txns on a consistent snapshot.
// (A failed write runs its recovery in further write txns.)
// Open takes an exclusive lock on dir/owner.lock: one MetadataStore per
// directory at a time, in this process or any other.
// on_error is called on the writing thread, outside any transaction or lock.
// Lock order: the Env's locks (cache/lmdb.h), never held between calls;
// report_mu_ is a leaf, held only to rate-limit reports.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/file_entry.h"
#include "cache/file_util.h"
#include "cache/lmdb.h"

namespace globusfs::cache {

struct Listing {
  int64_t fetched_at_ms = 0;
  std::vector<FileEntry> entries;  // sorted by name (bytewise), names unique

  bool operator==(const Listing&) const = default;
};

// A file's content version: the block cache keys cached blocks by id. The
// filesystem decides every field; the store only keeps them.
struct ContentVersion {
  uint64_t id = 0;
  uint64_t size = 0;
  int64_t mtime = 0;
  bool settled = true;
  uint64_t session = 0;

  bool operator==(const ContentVersion&) const = default;
};

// Times a user set on a path (utimens: touch -d, cp -p, rsync -a), with the
// server's size and mtime when they were set (the filesystem compares them to
// tell whether the server's copy changed since). Seconds of any 64-bit value
// (before 1970, after 2038), and nanoseconds.
struct UserTimes {
  int64_t atime_s = 0;
  uint32_t atime_ns = 0;  // 0..999999999
  int64_t mtime_s = 0;
  uint32_t mtime_ns = 0;
  uint64_t server_size = 0;
  int64_t server_mtime = 0;

  bool operator==(const UserTimes&) const = default;
};

struct MetadataStoreOptions {
  // Created 0700 if missing. Holds data.mdb and lock.mdb (LMDB), owner.lock
  // (flock'ed while open) and, while open with durable=false, open-session.
  std::filesystem::path dir;
  int64_t ttl_ms = 60000;
  uint64_t max_bytes = uint64_t{256} << 20;
  // false: commits are not synced (fast); a crash of the system may lose the
  // last writes and makes the next Open start empty; never serves corrupt data.
  bool durable = false;
  // Identifies the current boot, to tell a process crash (cache kept) from a
  // system crash (cache wiped). Empty: read /proc/sys/kernel/random/boot_id.
  std::string boot_id;
  // Told when a write fails (may be empty): "cannot write the metadata cache
  // in <dir>: <cause>; <what the store did>", the cause being the LMDB or
  // errno text (e.g. "mdb_put: MDB_MAP_FULL: ..." or "... No space left on
  // device"). At most once per distinct cause and outcome per 60 s. Called on
  // the writing thread outside any transaction: it must not call the store.
  std::function<void(const std::string&)> on_error;
  // Monotonic milliseconds for that rate limit; empty: std::chrono::steady_clock.
  std::function<int64_t()> steady_now_ms;
  // Test hook (may be empty): called as every write transaction begins; a
  // nonzero result fails that transaction with that LMDB or errno code.
  std::function<int()> write_fault_for_testing;
};

class MetadataStore {
 public:
  // Returns nullptr and sets *error only when the directory cannot be used
  // at all (including: another store has it open); an incompatible or
  // corrupt database is wiped instead.
  static std::unique_ptr<MetadataStore> Open(const MetadataStoreOptions& options,
                                             std::string* error);
  ~MetadataStore();
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  int64_t ttl_ms() const { return options_.ttl_ms; }

  // The cached listing of `dir`, if fresh (or any age with allow_stale).
  std::optional<Listing> GetListing(std::string_view coll, std::string_view dir, int64_t now_ms,
                                    bool allow_stale = false) noexcept;
  // The number of directories in the cached listing of `dir`, at any age (it
  // is cosmetic: a link count); nullopt if no listing is cached. Reads only
  // the listing's header, so it is cheap for a listing of any size.
  std::optional<uint32_t> SubdirCount(std::string_view coll, std::string_view dir,
                                      int64_t now_ms) noexcept;
  // Replaces the listing of `dir` (entries are sorted here if they are not)
  // and drops a negative record for `dir`. A listing bigger than max_bytes is
  // not stored.
  void PutListing(std::string_view coll, std::string_view dir, const Listing& listing) noexcept;

  // One path: from its parent's fresh listing if there is one (a name absent
  // from it is kMissing), else from a fresh attribute or negative record,
  // else kUnknown. For "/" only an attribute/negative record can answer.
  // Sets *out (name = last path component) only for kFound.
  enum class Lookup { kFound, kMissing, kUnknown };
  Lookup LookupEntry(std::string_view coll, std::string_view path, int64_t now_ms,
                     FileEntry* out) noexcept;

  // What the server told us about one path (a `stat`). PutEntry stores an
  // attribute record (replacing a negative one) and upserts the entry in the
  // parent's cached listing; if the entry is not a directory, every record
  // below `path` and its own listing and folder change record are forgotten.
  // PutNegative is ApplyRemove without the parent's change record.
  void PutEntry(std::string_view coll, std::string_view path, const FileEntry& entry,
                int64_t now_ms) noexcept;
  void PutNegative(std::string_view coll, std::string_view path, int64_t now_ms) noexcept;

  // Our own changes, applied at once so the user sees them (list-after-write).
  // ApplyCreate: like PutEntry (add/replace in the parent listing if cached,
  // drop the negative record, set the attribute record), and records that
  // the parent folder changed at now_ms. It caches no listing for a new
  // directory: after mkdir, PutListing an empty one.
  void ApplyCreate(std::string_view coll, std::string_view path, const FileEntry& entry,
                   int64_t now_ms) noexcept;
  // Removes the entry from the parent listing, forgets every record at and
  // below `path`, then records `path` as missing and that its parent folder
  // changed at now_ms.
  void ApplyRemove(std::string_view coll, std::string_view path, int64_t now_ms) noexcept;
  // Moves the entry from `from`'s parent listing to `to`'s (replacing any
  // entry named like `to`); forgets every record at and below `to`, then
  // re-keys every record at and below `from` to `to` (keeping fetched_at),
  // except content versions, which are forgotten; records `from` as missing
  // and `to` as existing. If nothing about `from`
  // is cached, the entry is unknown: `to`'s parent listing is forgotten
  // instead (so it is re-listed). Records that both parent folders changed
  // at now_ms. `to` inside `from` (invalid in POSIX) only forgets both
  // subtrees and both parent listings.
  void ApplyRename(std::string_view coll, std::string_view from, std::string_view to,
                   int64_t now_ms) noexcept;

  // When we last changed folder `dir` (ApplyCreate/ApplyRemove/ApplyRename
  // of an entry in it), if that record is fresh (the TTL rule of the other
  // records), else nullopt. The filesystem shows max(server mtime, this) as
  // the folder's mtime and ctime.
  std::optional<int64_t> DirChangedAtMs(std::string_view coll, std::string_view dir,
                                        int64_t now_ms) noexcept;

  // The content version of `path`, at any age (versions do not expire).
  // Forgotten (at and below the path) by ApplyRemove, PutNegative, ApplyRename
  // (both sides: a renamed file gets a new version) and by ApplyCreate of a
  // non-directory at the path; kept by PutListing, PutEntry, Invalidate*.
  // Eviction may drop one (a missing version means a new id).
  std::optional<ContentVersion> GetVersion(std::string_view coll, std::string_view path) noexcept;
  void PutVersion(std::string_view coll, std::string_view path,
                  const ContentVersion& version) noexcept;
  void EraseVersion(std::string_view coll, std::string_view path) noexcept;

  // The times a user set on `path`, at any age. Forgotten (at and below) by
  // ApplyRemove and PutNegative, and at the path by ApplyCreate of a
  // non-directory; moved with the entry (and its subtree) by ApplyRename;
  // kept by PutListing, PutEntry, Invalidate*. Eviction may drop them.
  std::optional<UserTimes> GetTimes(std::string_view coll, std::string_view path) noexcept;
  void PutTimes(std::string_view coll, std::string_view path, const UserTimes& times) noexcept;
  void EraseTimes(std::string_view coll, std::string_view path) noexcept;

  // Forgets the listing, attribute and negative records of `path` (not the
  // entry in its parent's listing).
  void Invalidate(std::string_view coll, std::string_view path) noexcept;
  // The same for `path` and every path below it ("/a/b/..." but not "/a/bc").
  void InvalidateSubtree(std::string_view coll, std::string_view path) noexcept;
  // Forgets everything; re-enables a store disabled by a failed write. If
  // it fails, the store is disabled (see Errors).
  void Clear() noexcept;

  struct Stats {
    uint64_t bytes = 0;           // logical bytes held (what max_bytes bounds)
    uint64_t listings = 0;        // cached directory listings
    uint64_t entries = 0;         // attribute + negative records
    uint64_t dir_changes = 0;     // folder change records
    uint64_t versions = 0;        // content version records
    uint64_t times = 0;           // user-set times records
    uint64_t write_failures = 0;  // failed writes since Open
  };
  Stats GetStats() noexcept;

 private:
  struct Dbis {
    Dbi listings;  // key → listing record
    Dbi entries;   // key → attribute or negative record
    Dbi changes;   // key of a folder → when we last changed it (dir change record)
    Dbi versions;  // key → content version record
    Dbi times;     // key → user-set times record
    Dbi age;       // big-endian put sequence → table tag + key (eviction order)
    Dbi meta;      // "format" → format tag, "bytes" → logical byte count
  };
  class WriteOps;

  explicit MetadataStore(const MetadataStoreOptions& options);
  // Opens the Env and databases; false (with *why) when the files must be wiped.
  bool Init(std::string* why);
  bool Fresh(int64_t fetched_at_ms, int64_t now_ms) const;
  // PutEntry/ApplyCreate and PutNegative/ApplyRemove: `local` is true for
  // our own change (Apply*), false for what the server told us (Put*).
  void StoreEntry(std::string_view coll, std::string_view path, const FileEntry& entry,
                  int64_t now_ms, bool local) noexcept;
  void StoreMissing(std::string_view coll, std::string_view path, int64_t now_ms,
                    bool local) noexcept;
  // A path a mutation may change, to forget if the mutation fails.
  struct Touched {
    std::string_view path;
    bool subtree = false;         // and every path below it
    bool parent_listing = false;  // and the listing of its parent
  };
  // Runs fn(WriteOps&) in one write txn, then evicts down to max_bytes; on a
  // full map evicts harder and retries. On failure forgets `touched` (see
  // Errors). A disabled store first tries to recover.
  template <typename Fn>
  void Mutate(std::string_view coll, std::initializer_list<Touched> touched, Fn&& fn) noexcept;
  void OnWriteFailure(std::string_view coll, std::span<const Touched> touched,
                      const std::exception_ptr& failure) noexcept;
  // Each runs one write txn; returns the failure, or null on success.
  std::exception_ptr Forget(std::string_view coll, std::span<const Touched> touched) noexcept;
  std::exception_ptr ClearAll() noexcept;
  // A disabled store clears itself; true if it is (now) enabled.
  bool Recover() noexcept;
  // Throws the fault write_fault_for_testing asks for, if any.
  void InjectFault() const;
  // Calls on_error (rate-limited) about `failure` and what was done about it.
  void Report(const std::exception_ptr& failure, std::string_view outcome) noexcept;

  const MetadataStoreOptions options_;
  file_util::ExclusiveLock dir_lock_;  // declared before env_: released after it closes
  std::unique_ptr<Env> env_;
  Dbis dbis_;
  bool marker_written_ = false;  // the "open" marker file (durable=false)
  std::atomic<bool> disabled_{false};
  std::atomic<uint64_t> write_failures_{0};
  std::mutex report_mu_;
  std::map<std::string, int64_t> last_report_ms_;  // cause + outcome → when; guarded by report_mu_
};

}  // namespace globusfs::cache
