#include "cache/metadata_store.h"

#include <algorithm>
#include <utility>

#include "cache/file_util.h"
#include "cache/metadata_codec.h"

namespace globusfs::cache {
namespace {

using codec::MakeKey;

constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kFormatTag = "globusfs-metadata/1";
constexpr std::string_view kBytesKey = "bytes";
// Present while a store with durable=false is open; holds the boot id.
constexpr const char* kMarkerFile = "open-session";
// flock'ed while a store has the directory open.
constexpr const char* kLockFile = "owner.lock";
constexpr uint64_t kMiB = uint64_t{1} << 20;

// Which database a record lives in; the tag is stored in the age index.
enum class Table : uint8_t { kListings = 0, kEntries = 1 };
constexpr Table kTables[] = {Table::kListings, Table::kEntries};

std::string SeqKey(uint64_t seq) {  // big-endian, so the age index sorts by seq
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(seq >> (8 * (7 - i)));
  return key;
}

uint64_t ParseSeqKey(std::string_view key) {
  uint64_t seq = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) seq = (seq << 8) | static_cast<uint8_t>(key[i]);
  return seq;
}

std::string Le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

uint64_t ParseLe64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i)
    v |= uint64_t{static_cast<uint8_t>(s[i])} << (8 * i);
  return v;
}

// What one record costs against max_bytes: key, value and its age entry.
uint64_t Cost(size_t key_size, size_t record_size) {
  return key_size + record_size + 8 + 1 + key_size;
}

bool UpsertEntry(std::vector<FileEntry>& entries, FileEntry entry) {
  auto it = std::lower_bound(entries.begin(), entries.end(), entry.name,
                             [](const FileEntry& e, const std::string& n) { return e.name < n; });
  if (it != entries.end() && it->name == entry.name) {
    if (*it == entry) return false;
    *it = std::move(entry);
    return true;
  }
  entries.insert(it, std::move(entry));
  return true;
}

bool RemoveEntry(std::vector<FileEntry>& entries, std::string_view name) {
  auto it = std::lower_bound(entries.begin(), entries.end(), name,
                             [](const FileEntry& e, std::string_view n) { return e.name < n; });
  if (it == entries.end() || it->name != name) return false;
  entries.erase(it);
  return true;
}

}  // namespace

// ---- WriteOps: record-level edits inside one write transaction ----------

// Keeps the age index and the byte count in step with every record written
// or deleted. Keys passed in must not view the map (pass std::string).
class MetadataStore::WriteOps {
 public:
  WriteOps(Txn& txn, const Dbis& dbis) : txn_(txn), dbis_(dbis) {
    if (auto v = dbis_.meta.Get(txn_, kBytesKey)) bytes_ = ParseLe64(*v);
    Cursor c = Cursor::Open(txn_, dbis_.age);
    next_seq_ = c.Last() ? ParseSeqKey(c.key()) + 1 : 1;
  }
  void Finish() { dbis_.meta.Put(txn_, kBytesKey, Le64(bytes_)); }

  std::optional<std::string_view> Get(Table t, std::string_view key) {
    return Db(t).Get(txn_, key);
  }

  // Stores `record` under `key` (replacing any record) as the newest put.
  void Put(Table t, const std::string& key, std::string record) {
    Delete(t, key);
    codec::SetSeq(&record, next_seq_);
    Db(t).Put(txn_, key, record);
    std::string age_value(1, static_cast<char>(t));
    age_value += key;
    dbis_.age.Put(txn_, SeqKey(next_seq_), age_value);
    ++next_seq_;
    bytes_ += Cost(key.size(), record.size());
  }

  bool Delete(Table t, const std::string& key) {
    const std::optional<std::string_view> old = Db(t).Get(txn_, key);
    if (!old) return false;
    codec::RecordHeader h;
    if (codec::DecodeHeader(*old, &h)) dbis_.age.Del(txn_, SeqKey(h.seq));
    bytes_ -= std::min(bytes_, Cost(key.size(), old->size()));
    Db(t).Del(txn_, key);
    return true;
  }

  // Deletes the records of `path` (if include_self) and of every path below.
  void DeleteTree(std::string_view coll, std::string_view path, bool include_self) {
    const std::string self = MakeKey(coll, path);
    for (Table t : kTables) {
      for (const auto& [key, unused] : Collect(t, coll, path, /*with_values=*/false)) {
        if (include_self || key != self) Delete(t, key);
      }
    }
  }

  // Re-keys the records of `from` and below to `to`, keeping their content
  // (the caller rewrites `to`'s own attribute record, whose name changes).
  void MoveTree(std::string_view coll, std::string_view from, std::string_view to) {
    const std::string from_key = MakeKey(coll, from);
    const std::string to_key = MakeKey(coll, to);
    for (Table t : kTables) {
      auto records = Collect(t, coll, from, /*with_values=*/true);
      for (const auto& [key, value] : records) Delete(t, key);
      for (auto& [key, value] : records) {
        Put(t, to_key + key.substr(from_key.size()), std::move(value));
      }
    }
  }

  // Edits the cached listing of `dir` (if any) with fn(entries) -> changed,
  // keeping its fetched_at. A corrupt listing is dropped.
  template <typename Fn>
  void PatchListing(std::string_view coll, std::string_view dir, Fn&& fn) {
    if (dir.empty()) return;  // the root has no parent
    const std::string key = MakeKey(coll, dir);
    const std::optional<std::string_view> v = Get(Table::kListings, key);
    if (!v) return;
    Listing listing;
    if (!codec::DecodeListing(*v, &listing)) {
      Delete(Table::kListings, key);
      return;
    }
    if (fn(listing.entries)) {
      Put(Table::kListings, key, codec::EncodeListing(listing.fetched_at_ms, listing.entries));
    }
  }

  // Deletes least-recently-put records until at most `limit` bytes remain.
  void EvictTo(uint64_t limit) {
    while (bytes_ > limit) {
      std::string seq_key;
      std::string age_value;
      {
        Cursor c = Cursor::Open(txn_, dbis_.age);
        if (!c.First()) {
          bytes_ = 0;  // nothing left to evict: the count had drifted
          return;
        }
        seq_key = c.key();
        age_value = c.value();
      }
      const Table t = age_value.empty() || age_value[0] == 0 ? Table::kListings : Table::kEntries;
      const std::string key = age_value.empty() ? std::string() : age_value.substr(1);
      const std::optional<std::string_view> v = Get(t, key);
      codec::RecordHeader h;
      if (v && codec::DecodeHeader(*v, &h) && h.seq == ParseSeqKey(seq_key)) {
        Delete(t, key);  // also deletes seq_key
      } else {
        dbis_.age.Del(txn_, seq_key);  // orphaned age entry
      }
    }
  }

 private:
  const Dbi& Db(Table t) const { return t == Table::kListings ? dbis_.listings : dbis_.entries; }

  // Copies of the keys (and values, if asked) of the records of `path` and
  // of every path below it.
  std::vector<std::pair<std::string, std::string>> Collect(Table t, std::string_view coll,
                                                           std::string_view path,
                                                           bool with_values) {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string self = MakeKey(coll, path);
    const std::string prefix = codec::DescendantPrefix(coll, path);
    if (self.size() < prefix.size()) {  // for "/" the prefix scan covers the root
      if (auto v = Get(t, self)) out.emplace_back(self, with_values ? std::string(*v) : "");
    }
    Cursor c = Cursor::Open(txn_, Db(t));
    for (bool ok = c.SeekAtLeast(prefix); ok && c.key().starts_with(prefix); ok = c.Next()) {
      out.emplace_back(std::string(c.key()), with_values ? std::string(c.value()) : "");
    }
    return out;
  }

  Txn& txn_;
  const Dbis& dbis_;
  uint64_t bytes_ = 0;
  uint64_t next_seq_ = 1;
};

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
  env_options.max_dbs = 4;
  env_options.durable = options_.durable;
  try {
    env_ = Env::Open(options_.dir, env_options);
    bool compatible = true;
    env_->Write([&](Txn& txn) {
      dbis_.listings = Dbi::Open(txn, "listings", MDB_CREATE);
      dbis_.entries = Dbi::Open(txn, "entries", MDB_CREATE);
      dbis_.age = Dbi::Open(txn, "age", MDB_CREATE);
      dbis_.meta = Dbi::Open(txn, "meta", MDB_CREATE);
      if (auto format = dbis_.meta.Get(txn, kFormatKey)) {
        compatible = *format == kFormatTag;
        return;
      }
      compatible = dbis_.listings.Stat(txn).ms_entries == 0 &&
                   dbis_.entries.Stat(txn).ms_entries == 0 && dbis_.age.Stat(txn).ms_entries == 0;
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
  if (options_.ttl_ms <= 0) return false;
  // Distance in unsigned arithmetic: no overflow for any pair of int64.
  const uint64_t distance =
      now_ms >= fetched_at_ms
          ? static_cast<uint64_t>(now_ms) - static_cast<uint64_t>(fetched_at_ms)
          : static_cast<uint64_t>(fetched_at_ms) - static_cast<uint64_t>(now_ms);
  return distance < static_cast<uint64_t>(options_.ttl_ms);
}

template <typename Fn>
void MetadataStore::Mutate(Fn&& fn) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return;
  try {
    auto body = [&](Txn& txn) {
      WriteOps ops(txn, dbis_);
      fn(ops);
      ops.EvictTo(options_.max_bytes);
      ops.Finish();
    };
    try {
      env_->Write(body);
      return;
    } catch (const LmdbError& e) {
      if (e.code() != MDB_MAP_FULL) throw;
    }
    // The map is at its maximum (free pages held by old snapshots, or
    // overhead beyond the estimate): free half the budget, then retry.
    env_->Write([&](Txn& txn) {
      WriteOps ops(txn, dbis_);
      ops.EvictTo(options_.max_bytes / 2);
      ops.Finish();
    });
    env_->Write(body);
    return;
  } catch (...) {
  }
  write_failures_.fetch_add(1, std::memory_order_relaxed);
  disabled_.store(true, std::memory_order_release);
}

// ---- reads ---------------------------------------------------------------

std::optional<Listing> MetadataStore::GetListing(std::string_view coll, std::string_view dir,
                                                 int64_t now_ms, bool allow_stale) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return std::nullopt;
  try {
    Txn txn = env_->BeginRead();
    const std::optional<std::string_view> v = dbis_.listings.Get(txn, MakeKey(coll, dir));
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

MetadataStore::Lookup MetadataStore::LookupEntry(std::string_view coll, std::string_view path,
                                                 int64_t now_ms, FileEntry* out) noexcept {
  if (disabled_.load(std::memory_order_acquire)) return Lookup::kUnknown;
  try {
    Txn txn = env_->BeginRead();
    const std::string_view parent = codec::ParentPath(path);
    if (!parent.empty()) {
      const std::optional<std::string_view> v = dbis_.listings.Get(txn, MakeKey(coll, parent));
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
    const std::optional<std::string_view> v = dbis_.entries.Get(txn, MakeKey(coll, path));
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
  } catch (...) {
  }
  return stats;
}

// ---- writes --------------------------------------------------------------

void MetadataStore::PutListing(std::string_view coll, std::string_view dir,
                               const Listing& listing) noexcept {
  const auto by_name = [](const FileEntry& a, const FileEntry& b) { return a.name < b.name; };
  const auto same_name = [](const FileEntry& a, const FileEntry& b) { return a.name == b.name; };
  std::string record;
  try {
    if (std::is_sorted(listing.entries.begin(), listing.entries.end(), by_name) &&
        std::adjacent_find(listing.entries.begin(), listing.entries.end(), same_name) ==
            listing.entries.end()) {
      record = codec::EncodeListing(listing.fetched_at_ms, listing.entries);
    } else {
      std::vector<FileEntry> sorted = listing.entries;
      std::stable_sort(sorted.begin(), sorted.end(), by_name);
      sorted.erase(std::unique(sorted.begin(), sorted.end(), same_name), sorted.end());
      record = codec::EncodeListing(listing.fetched_at_ms, sorted);
    }
  } catch (...) {
    return;  // out of memory: simply not cached
  }
  Mutate([&](WriteOps& ops) {
    const std::string key = MakeKey(coll, dir);
    if (Cost(key.size(), record.size()) > options_.max_bytes) {
      ops.Delete(Table::kListings, key);  // too big to keep; the old one is outdated
      return;
    }
    ops.Put(Table::kListings, key, record);
    codec::RecordHeader h;
    const std::optional<std::string_view> own = ops.Get(Table::kEntries, key);
    if (own && codec::DecodeHeader(*own, &h) && h.kind == codec::RecordKind::kNegative) {
      ops.Delete(Table::kEntries, key);
    }
  });
}

void MetadataStore::PutEntry(std::string_view coll, std::string_view path, const FileEntry& entry,
                             int64_t now_ms) noexcept {
  ApplyCreate(coll, path, entry, now_ms);
}

void MetadataStore::PutNegative(std::string_view coll, std::string_view path,
                                int64_t now_ms) noexcept {
  ApplyRemove(coll, path, now_ms);
}

void MetadataStore::ApplyCreate(std::string_view coll, std::string_view path,
                                const FileEntry& entry, int64_t now_ms) noexcept {
  Mutate([&](WriteOps& ops) {
    FileEntry e = entry;
    e.name = codec::BaseName(path);
    ops.PatchListing(coll, codec::ParentPath(path),
                     [&](std::vector<FileEntry>& entries) { return UpsertEntry(entries, e); });
    const std::string key = MakeKey(coll, path);
    if (e.type != EntryType::kDir) {  // no listings at or below a non-directory
      ops.Delete(Table::kListings, key);
      ops.DeleteTree(coll, path, /*include_self=*/false);
    }
    ops.Put(Table::kEntries, key, codec::EncodeAttr(now_ms, e));
  });
}

void MetadataStore::ApplyRemove(std::string_view coll, std::string_view path,
                                int64_t now_ms) noexcept {
  Mutate([&](WriteOps& ops) {
    const std::string_view name = codec::BaseName(path);
    ops.PatchListing(coll, codec::ParentPath(path),
                     [&](std::vector<FileEntry>& entries) { return RemoveEntry(entries, name); });
    ops.DeleteTree(coll, path, /*include_self=*/true);
    ops.Put(Table::kEntries, MakeKey(coll, path), codec::EncodeNegative(now_ms));
  });
}

void MetadataStore::ApplyRename(std::string_view coll, std::string_view from, std::string_view to,
                                int64_t now_ms) noexcept {
  if (from == to) return;
  Mutate([&](WriteOps& ops) {
    const std::string_view from_parent = codec::ParentPath(from);
    const std::string_view to_parent = codec::ParentPath(to);
    if (from_parent.empty() || to_parent.empty() || codec::IsBelow(to, from) ||
        codec::IsBelow(from, to)) {
      // Not a valid rename (POSIX fails it): just forget what it touches.
      ops.DeleteTree(coll, from, true);
      ops.DeleteTree(coll, to, true);
      if (!from_parent.empty()) ops.Delete(Table::kListings, MakeKey(coll, from_parent));
      if (!to_parent.empty()) ops.Delete(Table::kListings, MakeKey(coll, to_parent));
      return;
    }
    // The moved entry, from a fresh source only, with that source's age: the
    // rename does not make the entry's other attributes any fresher.
    std::optional<FileEntry> entry;
    int64_t entry_fetched_at = 0;
    const std::string from_key = MakeKey(coll, from);
    const std::string to_key = MakeKey(coll, to);
    codec::RecordHeader h;
    FileEntry found;
    const std::optional<std::string_view> parent_listing =
        ops.Get(Table::kListings, MakeKey(coll, from_parent));
    if (parent_listing && codec::DecodeHeader(*parent_listing, &h) &&
        Fresh(h.fetched_at_ms, now_ms) &&
        codec::FindInListing(*parent_listing, codec::BaseName(from), &found) ==
            codec::Find::kFound) {
      entry = std::move(found);
      entry_fetched_at = h.fetched_at_ms;
    } else if (auto attr = ops.Get(Table::kEntries, from_key);
               attr && codec::DecodeHeader(*attr, &h) && Fresh(h.fetched_at_ms, now_ms) &&
               codec::DecodeAttr(*attr, &found)) {
      entry = std::move(found);
      entry_fetched_at = h.fetched_at_ms;
    }

    const std::string from_name(codec::BaseName(from));
    ops.PatchListing(coll, from_parent, [&](std::vector<FileEntry>& entries) {
      return RemoveEntry(entries, from_name);
    });
    ops.DeleteTree(coll, to, /*include_self=*/true);
    ops.MoveTree(coll, from, to);
    ops.Put(Table::kEntries, from_key, codec::EncodeNegative(now_ms));
    if (entry) {
      entry->name = codec::BaseName(to);
      ops.PatchListing(coll, to_parent, [&](std::vector<FileEntry>& entries) {
        return UpsertEntry(entries, *entry);
      });
      ops.Put(Table::kEntries, to_key, codec::EncodeAttr(entry_fetched_at, *entry));
    } else {
      // Nothing says what `to` now is: have its parent listed again.
      ops.Delete(Table::kListings, MakeKey(coll, to_parent));
      ops.Delete(Table::kEntries, to_key);
    }
  });
}

void MetadataStore::Invalidate(std::string_view coll, std::string_view path) noexcept {
  Mutate([&](WriteOps& ops) {
    const std::string key = MakeKey(coll, path);
    ops.Delete(Table::kListings, key);
    ops.Delete(Table::kEntries, key);
  });
}

void MetadataStore::InvalidateSubtree(std::string_view coll, std::string_view path) noexcept {
  Mutate([&](WriteOps& ops) { ops.DeleteTree(coll, path, /*include_self=*/true); });
}

void MetadataStore::Clear() noexcept {
  try {
    env_->Write([&](Txn& txn) {
      dbis_.listings.Clear(txn);
      dbis_.entries.Clear(txn);
      dbis_.age.Clear(txn);
      dbis_.meta.Put(txn, kBytesKey, Le64(0));
    });
    disabled_.store(false, std::memory_order_release);
  } catch (...) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    disabled_.store(true, std::memory_order_release);
  }
}

}  // namespace globusfs::cache
