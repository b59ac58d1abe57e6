// The mutations of MetadataStore (metadata_store.h): one write transaction
// each, through Mutate. Opening, reads and failure handling are in
// metadata_store.cpp.
#include <algorithm>
#include <utility>

#include "cache/metadata_codec.h"
#include "cache/metadata_keys.h"
#include "cache/metadata_store.h"
#include "cache/metadata_write_ops.h"

namespace globusfs::cache {
namespace {

using codec::MakeKey;

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

template <typename Fn>
void MetadataStore::Mutate(std::string_view coll, std::initializer_list<Touched> touched,
                           Fn&& fn) noexcept {
  if (disabled_.load(std::memory_order_acquire) && !Recover()) return;
  std::exception_ptr failure;
  try {
    auto body = [&](Txn& txn) {
      InjectFault();
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
      InjectFault();
      WriteOps ops(txn, dbis_);
      ops.EvictTo(options_.max_bytes / 2);
      ops.Finish();
    });
    env_->Write(body);
    return;
  } catch (...) {
    failure = std::current_exception();
  }
  OnWriteFailure(coll, std::span<const Touched>(touched.begin(), touched.size()), failure);
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
    Invalidate(coll, dir);  // out of memory: not cached, and the old one is outdated
    return;
  }
  Mutate(coll, {{dir}}, [&](WriteOps& ops) {
    const std::string key = MakeKey(coll, dir);
    if (Cost(keys::StoredKey(key).size(), keys::WrappedSize(key, record.size())) >
        options_.max_bytes) {
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
  StoreEntry(coll, path, entry, now_ms, /*local=*/false);
}

void MetadataStore::PutNegative(std::string_view coll, std::string_view path,
                                int64_t now_ms) noexcept {
  StoreMissing(coll, path, now_ms, /*local=*/false);
}

void MetadataStore::ApplyCreate(std::string_view coll, std::string_view path,
                                const FileEntry& entry, int64_t now_ms) noexcept {
  StoreEntry(coll, path, entry, now_ms, /*local=*/true);
}

void MetadataStore::ApplyRemove(std::string_view coll, std::string_view path,
                                int64_t now_ms) noexcept {
  StoreMissing(coll, path, now_ms, /*local=*/true);
}

void MetadataStore::StoreEntry(std::string_view coll, std::string_view path, const FileEntry& entry,
                               int64_t now_ms, bool local) noexcept {
  Mutate(coll, {{path, entry.type != EntryType::kDir, true}}, [&](WriteOps& ops) {
    FileEntry e = entry;
    e.name = codec::BaseName(path);
    const std::string_view parent = codec::ParentPath(path);
    ops.PatchListing(coll, parent,
                     [&](std::vector<FileEntry>& entries) { return UpsertEntry(entries, e); });
    const std::string key = MakeKey(coll, path);
    if (e.type != EntryType::kDir) {  // nothing of a folder at or below a non-directory
      ops.Delete(Table::kListings, key);
      ops.Delete(Table::kChanges, key);
      ops.DeleteTree(kAllTables, coll, path, /*include_self=*/false);
      if (local) {  // a new file here: not the content or times of the old one
        ops.Delete(Table::kVersions, key);
        ops.Delete(Table::kTimes, key);
      }
    }
    ops.Put(Table::kEntries, key, codec::EncodeAttr(now_ms, e));
    if (local) ops.NoteDirChange(coll, parent, now_ms, options_.ttl_ms);
  });
}

void MetadataStore::StoreMissing(std::string_view coll, std::string_view path, int64_t now_ms,
                                 bool local) noexcept {
  Mutate(coll, {{path, true, true}}, [&](WriteOps& ops) {
    const std::string_view name = codec::BaseName(path);
    const std::string_view parent = codec::ParentPath(path);
    ops.PatchListing(coll, parent,
                     [&](std::vector<FileEntry>& entries) { return RemoveEntry(entries, name); });
    ops.DeleteTree(kAllTables, coll, path, /*include_self=*/true);
    ops.Put(Table::kEntries, MakeKey(coll, path), codec::EncodeNegative(now_ms));
    if (local) ops.NoteDirChange(coll, parent, now_ms, options_.ttl_ms);
  });
}

void MetadataStore::ApplyRename(std::string_view coll, std::string_view from, std::string_view to,
                                int64_t now_ms) noexcept {
  if (from == to) return;
  Mutate(coll, {{from, true, true}, {to, true, true}}, [&](WriteOps& ops) {
    const std::string_view from_parent = codec::ParentPath(from);
    const std::string_view to_parent = codec::ParentPath(to);
    if (from_parent.empty() || to_parent.empty() || codec::IsBelow(to, from) ||
        codec::IsBelow(from, to)) {
      // Not a valid rename (POSIX fails it): just forget what it touches.
      ops.DeleteTree(kAllTables, coll, from, true);
      ops.DeleteTree(kAllTables, coll, to, true);
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
    ops.DeleteTree(kAllTables, coll, to, /*include_self=*/true);
    ops.MoveTree(kMovedTables, coll, from, to);
    const Table versions[] = {Table::kVersions};
    ops.DeleteTree(versions, coll, from, /*include_self=*/true);
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
    ops.NoteDirChange(coll, from_parent, now_ms, options_.ttl_ms);
    if (to_parent != from_parent) ops.NoteDirChange(coll, to_parent, now_ms, options_.ttl_ms);
  });
}

void MetadataStore::Invalidate(std::string_view coll, std::string_view path) noexcept {
  Mutate(coll, {{path}}, [&](WriteOps& ops) {
    const std::string key = MakeKey(coll, path);
    ops.Delete(Table::kListings, key);
    ops.Delete(Table::kEntries, key);
  });
}

void MetadataStore::InvalidateSubtree(std::string_view coll, std::string_view path) noexcept {
  Mutate(coll, {{path, true}},
         [&](WriteOps& ops) { ops.DeleteTree(kServerTables, coll, path, /*include_self=*/true); });
}

void MetadataStore::PutVersion(std::string_view coll, std::string_view path,
                               const ContentVersion& version) noexcept {
  Mutate(coll, {{path}}, [&](WriteOps& ops) {
    ops.Put(Table::kVersions, MakeKey(coll, path), codec::EncodeVersion(version));
  });
}

void MetadataStore::EraseVersion(std::string_view coll, std::string_view path) noexcept {
  Mutate(coll, {{path}}, [&](WriteOps& ops) { ops.Delete(Table::kVersions, MakeKey(coll, path)); });
}

void MetadataStore::PutTimes(std::string_view coll, std::string_view path,
                             const UserTimes& times) noexcept {
  Mutate(coll, {{path}}, [&](WriteOps& ops) {
    ops.Put(Table::kTimes, MakeKey(coll, path), codec::EncodeTimes(times));
  });
}

void MetadataStore::EraseTimes(std::string_view coll, std::string_view path) noexcept {
  Mutate(coll, {{path}}, [&](WriteOps& ops) { ops.Delete(Table::kTimes, MakeKey(coll, path)); });
}

}  // namespace globusfs::cache
