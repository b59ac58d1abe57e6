#include "cache/metadata_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "cache/file_util.h"
#include "cache/metadata_codec.h"
#include "cache/metadata_keys.h"
#include "cache/metadata_write_ops.h"

namespace globusfs::cache {
namespace {

using codec::MakeKey;

constexpr std::string_view kFormatKey = "format";
// /2: keys longer than keys::kInlineMax are stored hashed (metadata_keys.h).
// /3: listings count their subdirectories (codec::kFormatVersion 2).
// /4: a "changes" database (folder change times).
// /5: "versions" and "times" databases (content versions, user-set times).
constexpr std::string_view kFormatTag = "globusfs-metadata/7";
// Present while a store with durable=false is open; holds the boot id.
constexpr const char* kMarkerFile = "open-session";
// flock'ed while a store has the directory open.
constexpr const char* kLockFile = "owner.lock";
constexpr uint64_t kMiB = uint64_t{1} << 20;
// on_error hears of one cause (with one outcome) at most once per interval.
constexpr int64_t kReportIntervalMs = 60'000;
constexpr std::string_view kDisabledOutcome =
    "could not clear the cache either: every read is a miss until a write succeeds";

}  // namespace

// ---- opening and closing -------------------------------------------------

MetadataStore::MetadataStore(const MetadataStoreOptions& options) : options_(options) {}

std::unique_ptr<MetadataStore> MetadataStore::Open(const MetadataStoreOptions& options,
                                                   std::string* error) {
  std::string why;
  try {
    if (options.dir.empty()) {
      why = "no directory given";
    } else {
      MetadataStoreOptions opts = options;
      if (opts.boot_id.empty()) opts.boot_id = file_util::ReadBootId();
      file_util::EnsurePrivateDir(opts.dir);
      file_util::ExclusiveLock dir_lock = file_util::ExclusiveLock::Acquire(opts.dir / kLockFile);
      // A marker left by a store opened with durable=false means it was not
      // closed. After a process crash (same boot) the file is intact; after a
      // system crash unsynced pages may be lost or torn: start empty. With no
      // boot id we cannot tell the two apart.
      const std::filesystem::path marker = opts.dir / kMarkerFile;
      std::string previous_boot;
      if (file_util::ReadSmallFile(marker, &previous_boot) &&
          (opts.boot_id.empty() || previous_boot != opts.boot_id)) {
        file_util::RemoveDatabaseFiles(opts.dir);
      }
      if (!opts.durable) file_util::WriteFileSynced(marker, opts.boot_id);

      std::unique_ptr<MetadataStore> store(new MetadataStore(opts));
      store->dir_lock_ = std::move(dir_lock);
      store->marker_written_ = !opts.durable;
      if (!store->Init(&why)) {
        store->env_.reset();
        file_util::RemoveDatabaseFiles(opts.dir);
        if (!store->Init(&why)) store.reset();
      }
      if (store) {
        if (opts.durable) {
          std::error_code ec;
          if (std::filesystem::remove(marker, ec)) file_util::SyncDir(opts.dir);
        }
        return store;
      }
    }
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (error != nullptr) *error = "metadata cache in " + options.dir.string() + ": " + why;
  return nullptr;
}

bool MetadataStore::Init(std::string* why) {
  EnvOptions env_options;
  env_options.map_size = std::max(2 * options_.max_bytes, 8 * kMiB);
  env_options.max_map_size = std::max(8 * options_.max_bytes, 64 * kMiB);
  env_options.max_dbs = 8;
  env_options.durable = options_.durable;
  try {
    env_ = Env::Open(options_.dir, env_options);
    if (mdb_env_get_maxkeysize(env_->handle()) < static_cast<int>(keys::kHashedSize)) {
      *why = "LMDB's key size limit is below " + std::to_string(keys::kHashedSize) + " bytes";
      return false;
    }
    bool compatible = true;
    env_->Write([&](Txn& txn) {
      dbis_.listings = Dbi::Open(txn, "listings", MDB_CREATE);
      dbis_.entries = Dbi::Open(txn, "entries", MDB_CREATE);
      dbis_.changes = Dbi::Open(txn, "changes", MDB_CREATE);
      dbis_.versions = Dbi::Open(txn, "versions", MDB_CREATE);
      dbis_.times = Dbi::Open(txn, "times", MDB_CREATE);
      dbis_.age = Dbi::Open(txn, "age", MDB_CREATE);
      dbis_.meta = Dbi::Open(txn, "meta", MDB_CREATE);
      if (auto format = dbis_.meta.Get(txn, kFormatKey)) {
        compatible = *format == kFormatTag;
        return;
      }
      compatible = dbis_.age.Stat(txn).ms_entries == 0;
      for (const Dbi* dbi :
           {&dbis_.listings, &dbis_.entries, &dbis_.changes, &dbis_.versions, &dbis_.times}) {
        compatible = compatible && dbi->Stat(txn).ms_entries == 0;
      }
      if (compatible) dbis_.meta.Put(txn, kFormatKey, kFormatTag);
    });
    if (!compatible) {
      *why = "database has another format";
      return false;
    }
    env_->Sync();  // also flushes anything a crashed process left unsynced
    return true;
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
}

MetadataStore::~MetadataStore() {
  if (!marker_written_) return;
  try {
    if (env_ != nullptr) {
      env_->Sync();
      env_.reset();
    }
    std::filesystem::remove(options_.dir / kMarkerFile);
    file_util::SyncDir(options_.dir);
  } catch (...) {
    // The marker stays: the next Open after a reboot starts empty.
  }
}

// ---- helpers -------------------------------------------------------------

bool MetadataStore::Fresh(int64_t fetched_at_ms, int64_t now_ms) const {
  return cache::Fresh(fetched_at_ms, now_ms, options_.ttl_ms);
}

// ---- reads ---------------------------------------------------------------

std::optional<Listing> MetadataStore::GetListing(std::string_view coll, std::string_view dir,
                                                 int64_t now_ms, bool allow_stale) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return std::nullopt;
  try {
    Txn txn = env_->BeginRead();
    const std::optional<std::string_view> v = keys::Get(txn, dbis_.listings, MakeKey(coll, dir));
    codec::RecordHeader h;
    if (!v || !codec::DecodeHeader(*v, &h)) return std::nullopt;
    if (!allow_stale && !Fresh(h.fetched_at_ms, now_ms)) return std::nullopt;
    Listing listing;
    if (!codec::DecodeListing(*v, &listing)) return std::nullopt;
    return listing;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<uint32_t> MetadataStore::SubdirCount(std::string_view coll, std::string_view dir,
                                                   int64_t /*now_ms*/) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return std::nullopt;
  try {
    Txn txn = env_->BeginRead();
    const std::optional<std::string_view> v = keys::Get(txn, dbis_.listings, MakeKey(coll, dir));
    uint32_t entries = 0;
    uint32_t subdirs = 0;
    if (!v || !codec::ListingCounts(*v, &entries, &subdirs)) return std::nullopt;
    return subdirs;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<int64_t> MetadataStore::DirChangedAtMs(std::string_view coll, std::string_view dir,
                                                     int64_t now_ms) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return std::nullopt;
  try {
    Txn txn = env_->BeginRead();
    const std::optional<std::string_view> v = keys::Get(txn, dbis_.changes, MakeKey(coll, dir));
    int64_t changed_at_ms = 0;
    if (!v || !codec::DecodeDirChange(*v, &changed_at_ms) || !Fresh(changed_at_ms, now_ms)) {
      return std::nullopt;
    }
    return changed_at_ms;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<ContentVersion> MetadataStore::GetVersion(std::string_view coll,
                                                        std::string_view path) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return std::nullopt;
  try {
    Txn txn = env_->BeginRead();
    const std::optional<std::string_view> v = keys::Get(txn, dbis_.versions, MakeKey(coll, path));
    ContentVersion version;
    if (!v || !codec::DecodeVersion(*v, &version)) return std::nullopt;
    return version;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<UserTimes> MetadataStore::GetTimes(std::string_view coll,
                                                 std::string_view path) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return std::nullopt;
  try {
    Txn txn = env_->BeginRead();
    const std::optional<std::string_view> v = keys::Get(txn, dbis_.times, MakeKey(coll, path));
    UserTimes times;
    if (!v || !codec::DecodeTimes(*v, &times)) return std::nullopt;
    return times;
  } catch (...) {
    return std::nullopt;
  }
}

MetadataStore::Lookup MetadataStore::LookupEntry(std::string_view coll, std::string_view path,
                                                 int64_t now_ms, FileEntry* out) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return Lookup::kUnknown;
  try {
    Txn txn = env_->BeginRead();
    const std::string_view parent = codec::ParentPath(path);
    if (!parent.empty()) {
      const std::optional<std::string_view> v =
          keys::Get(txn, dbis_.listings, MakeKey(coll, parent));
      codec::RecordHeader h;
      if (v && codec::DecodeHeader(*v, &h) && Fresh(h.fetched_at_ms, now_ms)) {
        FileEntry entry;
        switch (codec::FindInListing(*v, codec::BaseName(path), &entry)) {
          case codec::Find::kFound:
            *out = std::move(entry);
            return Lookup::kFound;
          case codec::Find::kAbsent:
            return Lookup::kMissing;
          case codec::Find::kCorrupt:
            break;  // fall back to the path's own record
        }
      }
    }
    const std::optional<std::string_view> v = keys::Get(txn, dbis_.entries, MakeKey(coll, path));
    codec::RecordHeader h;
    if (!v || !codec::DecodeHeader(*v, &h) || !Fresh(h.fetched_at_ms, now_ms)) {
      return Lookup::kUnknown;
    }
    if (h.kind == codec::RecordKind::kNegative) return Lookup::kMissing;
    FileEntry entry;
    if (h.kind != codec::RecordKind::kAttr || !codec::DecodeAttr(*v, &entry)) {
      return Lookup::kUnknown;
    }
    *out = std::move(entry);
    return Lookup::kFound;
  } catch (...) {
    return Lookup::kUnknown;
  }
}

MetadataStore::Stats MetadataStore::GetStats() noexcept {
  Stats stats;
  stats.write_failures = write_failures_.load(std::memory_order_relaxed);
  try {
    Txn txn = env_->BeginRead();
    if (auto v = dbis_.meta.Get(txn, kBytesKey)) stats.bytes = ParseLe64(*v);
    stats.listings = dbis_.listings.Stat(txn).ms_entries;
    stats.entries = dbis_.entries.Stat(txn).ms_entries;
    stats.dir_changes = dbis_.changes.Stat(txn).ms_entries;
    stats.versions = dbis_.versions.Stat(txn).ms_entries;
    stats.times = dbis_.times.Stat(txn).ms_entries;
  } catch (...) {
  }
  return stats;
}

void MetadataStore::Clear() noexcept {
  if (const std::exception_ptr failure = ClearAll()) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    disabled_.store(true, std::memory_order_release);
    Report(failure, kDisabledOutcome);
  } else {
    disabled_.store(false, std::memory_order_release);
  }
}

// ---- failed writes -------------------------------------------------------

void MetadataStore::OnWriteFailure(std::string_view coll, std::span<const Touched> touched,
                                   const std::exception_ptr& failure) noexcept {
  write_failures_.fetch_add(1, std::memory_order_relaxed);
  if (!Forget(coll, touched)) {
    Report(failure, "forgot the cached records that write would have changed");
  } else if (!ClearAll()) {
    Report(failure, "could not forget what that write would have changed, so cleared the cache");
  } else {
    disabled_.store(true, std::memory_order_release);
    Report(failure, kDisabledOutcome);
  }
}

std::exception_ptr MetadataStore::Forget(std::string_view coll,
                                         std::span<const Touched> touched) noexcept {
  try {
    env_->Write([&](Txn& txn) {
      InjectFault();
      WriteOps ops(txn, dbis_);
      for (const Touched& t : touched) {
        if (t.subtree) {
          ops.DeleteTree(kAllTables, coll, t.path, /*include_self=*/true);
        } else {
          const std::string key = MakeKey(coll, t.path);
          for (Table table : kAllTables) ops.Delete(table, key);
        }
        const std::string_view parent = codec::ParentPath(t.path);
        if (t.parent_listing && !parent.empty()) {
          ops.Delete(Table::kListings, MakeKey(coll, parent));
        }
      }
      ops.Finish();
    });
    return nullptr;
  } catch (...) {
    return std::current_exception();
  }
}

std::exception_ptr MetadataStore::ClearAll() noexcept {
  try {
    env_->Write([&](Txn& txn) {
      InjectFault();
      for (const Dbi* dbi : {&dbis_.listings, &dbis_.entries, &dbis_.changes, &dbis_.versions,
                             &dbis_.times, &dbis_.age}) {
        dbi->Clear(txn);
      }
      dbis_.meta.Put(txn, kBytesKey, Le64(0));
    });
    return nullptr;
  } catch (...) {
    return std::current_exception();
  }
}

bool MetadataStore::Recover() noexcept {
  if (!disabled_.load(std::memory_order_acquire)) return true;
  if (const std::exception_ptr failure = ClearAll()) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);  // this write is dropped
    Report(failure, kDisabledOutcome);
    return false;
  }
  disabled_.store(false, std::memory_order_release);
  return true;
}

void MetadataStore::InjectFault() const {
  if (!options_.write_fault_for_testing) return;
  if (const int code = options_.write_fault_for_testing()) throw LmdbError("injected fault", code);
}

void MetadataStore::Report(const std::exception_ptr& failure, std::string_view outcome) noexcept {
  try {
    std::string cause = "unknown error";
    std::string cause_key;
    try {
      if (failure) std::rethrow_exception(failure);
    } catch (const LmdbError& e) {
      cause = e.what();
      cause_key = "lmdb " + std::to_string(e.code());  // one cause, whichever call hit it
    } catch (const std::exception& e) {
      cause = e.what();
    } catch (...) {
    }
    if (cause_key.empty()) cause_key = cause;
    if (!options_.on_error) return;
    const int64_t now = options_.steady_now_ms
                            ? options_.steady_now_ms()
                            : std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
    {
      std::lock_guard<std::mutex> lock(report_mu_);
      std::erase_if(last_report_ms_,
                    [&](const auto& kv) { return now - kv.second >= kReportIntervalMs; });
      const auto [it, inserted] =
          last_report_ms_.emplace(cause_key + "\n" + std::string(outcome), now);
      if (!inserted) return;  // told less than kReportIntervalMs ago
    }
    options_.on_error("cannot write the metadata cache in " + options_.dir.string() + ": " + cause +
                      "; " + std::string(outcome));
  } catch (...) {
    // Reporting is best effort; the failure is counted in write_failures_.
  }
}

}  // namespace globusfs::cache
