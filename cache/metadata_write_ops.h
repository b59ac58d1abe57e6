// MetadataStore::WriteOps: record-level edits inside one write transaction
// (internal to metadata_store*.cpp).
//
// Callers pass logical keys (codec::MakeKey); WriteOps stores them as
// cache/metadata_keys.h says and checks on every read that a record is the
// one asked for. Keys passed in must not view the map (a write moves it).
//
// Invariants kept in the transaction: every record has exactly one age entry
// (big-endian put sequence -> table tag + stored key) and its header holds
// that sequence; the "bytes" count in meta is the sum of Cost() over all
// records (written back by Finish).
//
// Thread-safety: none; one WriteOps per write Txn, on the thread that owns it.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/lmdb.h"
#include "cache/metadata_codec.h"
#include "cache/metadata_store.h"

namespace globusfs::cache {

// Which database a record lives in; the tag is stored in the age index.
enum class Table : uint8_t { kListings = 0, kEntries = 1, kChanges = 2, kVersions = 3, kTimes = 4 };
inline constexpr Table kAllTables[] = {Table::kListings, Table::kEntries, Table::kChanges,
                                       Table::kVersions, Table::kTimes};
// The age index stores a Table as its tag; EvictTo takes tags below
// size(kAllTables) as valid, so kAllTables lists every Table in tag order.
static_assert(static_cast<size_t>(Table::kTimes) + 1 == std::size(kAllTables));
// The records of what the server told us (TTL-bound, re-fetchable).
inline constexpr Table kServerTables[] = {Table::kListings, Table::kEntries};
// The records a rename re-keys from the old path to the new one (content
// versions are not moved: a renamed file gets a new one).
inline constexpr Table kMovedTables[] = {Table::kListings, Table::kEntries, Table::kChanges,
                                         Table::kTimes};

// Freshness (metadata_store.h): |now_ms - at_ms| < ttl_ms, without overflow.
bool Fresh(int64_t at_ms, int64_t now_ms, int64_t ttl_ms);

// What one record costs against max_bytes: key, value and its age entry.
inline uint64_t Cost(size_t stored_key_size, size_t value_size) {
  return stored_key_size + value_size + 8 + 1 + stored_key_size;
}

// meta: "bytes" -> the logical byte count, u64 little-endian.
inline constexpr std::string_view kBytesKey = "bytes";
std::string Le64(uint64_t v);
uint64_t ParseLe64(std::string_view s);

class MetadataStore::WriteOps {
 public:
  WriteOps(Txn& txn, const Dbis& dbis);
  // Writes the byte count back; call once, after the last edit.
  void Finish();

  // The record of `key`, viewing the map (valid until the next edit).
  std::optional<std::string_view> Get(Table t, std::string_view key);
  // Stores `record` under `key` (replacing any record) as the newest put.
  void Put(Table t, std::string_view key, std::string record);
  bool Delete(Table t, std::string_view key);

  // Deletes the records of `path` (if include_self) and of every path below.
  void DeleteTree(std::span<const Table> tables, std::string_view coll, std::string_view path,
                  bool include_self);
  // Re-keys the records of `from` and below to `to`, keeping their content
  // (and deleting whatever they replace).
  void MoveTree(std::span<const Table> tables, std::string_view coll, std::string_view from,
                std::string_view to);

  // Edits the cached listing of `dir` (if any) with fn(entries) -> changed,
  // keeping its fetched_at. A corrupt listing is dropped.
  template <typename Fn>
  void PatchListing(std::string_view coll, std::string_view dir, Fn&& fn) {
    if (dir.empty()) return;  // the root has no parent
    const std::string key = codec::MakeKey(coll, dir);
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

  // Records that we changed folder `dir` at now_ms (keeping a later record
  // that is still fresh: a clock that went back does not move it back).
  void NoteDirChange(std::string_view coll, std::string_view dir, int64_t now_ms, int64_t ttl_ms);

  // Deletes least-recently-put records until at most `limit` bytes remain.
  void EvictTo(uint64_t limit);

 private:
  // One record found by a subtree scan. logical_key is empty when the value
  // is malformed (it is deleted, never moved).
  struct Found {
    std::string stored_key;
    std::string logical_key;
    std::string record;
  };

  const Dbi& Db(Table t) const;
  bool DeleteStored(Table t, std::string_view stored_key);
  // The records of `path` and of every path below it (with copies of their
  // records if asked).
  std::vector<Found> Collect(Table t, std::string_view coll, std::string_view path,
                             bool with_records);

  Txn& txn_;
  const Dbis& dbis_;
  uint64_t bytes_ = 0;
  uint64_t next_seq_ = 1;
};

}  // namespace globusfs::cache
