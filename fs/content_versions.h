// ContentVersions: the one place that decides which version of a file's
// contents is current (docs/SEMANTICS.md, "Consistency").
//
// A version is a random 64-bit id, never reused. The disk block cache keys
// blocks by it (with the path, size and mtime), and the kernel may keep a
// file's pages across opens only while the id is the one it read. So a
// block or page of an older version is never served: a new id simply
// misses.
//
//  - Remote changes (another machine, the web app) are noticed by size or
//    mtime: ForRead with a size or mtime other than the recorded ones mints
//    a new id. A remote change of the same size within the same second is
//    not noticed until one of them differs (the limit of what Transfer
//    lists).
//  - Local changes always mint a new id, whatever the size and mtime:
//    Changing() before an upload (or any change that reaches the server
//    through this mount) starts, Changed() once it has landed. Between the
//    two, readers share an "unsettled" id that Changed() retires, so a
//    block fetched while the upload ran is never served afterwards. A
//    daemon that dies in between leaves an unsettled record of its session,
//    which the next session does not trust.
//  - Renames and removals made here forget the versions of both paths (the
//    metadata store does it in the same transaction as the namespace
//    change; Forget() is for the in-memory mode and for callers that change
//    the contents without the store).
//
// Records live in the metadata store (they survive remounts, so the block
// cache still hits after one), or in memory when there is no store (tests).
//
// Thread-safety: all methods are thread-safe; mu_ serialises each
// read-modify-write (an LMDB transaction, no network) so two callers never
// mint over each other.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "cache/file_entry.h"
#include "cache/metadata_store.h"

namespace globusfs::fs {

class ContentVersions {
 public:
  // `store` may be null: versions then live in memory for this run.
  explicit ContentVersions(cache::MetadataStore* store);

  // The version to read `path` at, given the size and mtime the server
  // lists for it.
  uint64_t ForRead(const std::string& coll, const std::string& path, uint64_t size, int64_t mtime);
  // A change made here is about to reach the server at `path`.
  void Changing(const std::string& coll, const std::string& path);
  // It has landed and the server now lists `now`; nullopt: the outcome is
  // unknown (a failed upload may have changed the file) or the path is gone.
  // Returns the new id (0 when there is none).
  uint64_t Changed(const std::string& coll, const std::string& path, const std::optional<cache::FileEntry>& now);
  // Forgets the versions of `path` (and, in memory, of everything below).
  void Forget(const std::string& coll, const std::string& path);

 private:
  uint64_t NewId();  // caller holds mu_
  std::optional<cache::ContentVersion> Get(const std::string& coll, const std::string& path);
  void Put(const std::string& coll, const std::string& path, const cache::ContentVersion& v);

  cache::MetadataStore* const store_;
  std::mutex mu_;  // guards rng_, memory_, and every read-modify-write
  std::mt19937_64 rng_;
  const uint64_t session_;
  std::map<std::string, cache::ContentVersion> memory_;  // coll '\0' path, when store_ is null
};

}  // namespace globusfs::fs
