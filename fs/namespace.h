// Namespace: the collections' folders as globusfs sees them — Transfer
// (TransferApi) behind the persistent metadata cache (MetadataStore).
//
//  - List() answers from a fresh cached listing, else lists the folder once:
//    concurrent callers for the same folder share that one `ls`
//    (single-flight), and every sibling's attributes come with it.
//  - Lookup() of one path is answered from its parent's listing (cached or
//    fetched), falling back to Transfer's stat when the parent cannot be
//    listed (permission, or more entries than Transfer lists: such a parent
//    is remembered for a TTL and not listed again for each name). A missing
//    name is a (cached) negative answer.
//  - A walk (find, du, ls -R, cp -r) lists folders one after another, one
//    round trip each. When a second subfolder of the same folder is opened
//    within a few seconds, the remaining subfolders' listings are fetched
//    ahead, a few at a time (WalkAhead; at most kWalkAheadMax per folder, once
//    per TTL), so the walk finds them cached.
//  - Mkdir/Rename/Delete go to Transfer and, once it has answered, update
//    the cache at once, so the user always sees their own changes. When a
//    mutation fails because the cache was wrong (Exists, NotFound), the
//    parent's listing is forgotten so the next look is fresh.
//
// Paths are normalised collection paths (fs/mount_table.h); this layer turns
// them into Transfer's form. Time comes from the injected clock.
//
// Thread-safety: all methods are thread-safe. mu_ guards the in-flight map
// and the walk state; it is never held across a Transfer call or a cache
// call.
#pragma once

#include <functional>
#include <future>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/http/clock.h"
#include "cache/metadata_store.h"
#include "fs/remote/transfer_api.h"
#include "fs/work_pool.h"

namespace globusfs::fs {

using Listing = std::shared_ptr<const std::vector<FileEntry>>;

class Namespace {
 public:
  // `walk_ahead_threads`: listings fetched ahead at once during a walk (0:
  // never).
  Namespace(TransferApi& api, cache::MetadataStore& store, std::shared_ptr<http::Clock> clock,
            size_t walk_ahead_threads = 0);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  http::Result<Listing> List(const std::string& coll, const std::string& dir);
  // What the cache holds for `dir`, of any age; never asks Transfer.
  std::optional<Listing> Cached(const std::string& coll, const std::string& dir);
  // A folder was opened for reading (readdir): may start fetching its
  // siblings' listings ahead (see above).
  void NoteOpened(const std::string& coll, const std::string& dir);
  static constexpr size_t kWalkAheadMax = 512;
  // nullopt: the path does not exist.
  http::Result<std::optional<FileEntry>> Lookup(const std::string& coll, const std::string& path);

  http::Result<void> Mkdir(const std::string& coll, const std::string& path);
  http::Result<void> Rename(const std::string& coll, const std::string& from, const std::string& to);
  // Deletes one path (recursively when it is a folder) and waits for the task.
  http::Result<TaskOutcome> Delete(const std::string& coll, const std::string& path, bool is_dir);

  // Forget what is cached about a folder's listing.
  void Invalidate(const std::string& coll, const std::string& dir);
  // Asks Transfer for one entry now (after an upload) and caches it;
  // nullopt when it does not exist.
  http::Result<std::optional<FileEntry>> Refresh(const std::string& coll, const std::string& path);
  // A file made here that Transfer does not list yet (created, not yet
  // uploaded): listings show it at once.
  void NoteCreated(const std::string& coll, const std::string& path, const FileEntry& entry);
  // A path removed here whose delete is still queued: listings hide it now.
  void NoteRemoved(const std::string& coll, const std::string& path);

  TransferApi& api() { return api_; }
  // The metadata cache itself: content versions, user-set times, folder
  // change times and link counts (fs/content_versions.h, fs/filesystem.h).
  cache::MetadataStore& store() { return store_; }
  // Wall time (ms since the epoch) from the injected clock.
  int64_t NowMs() const;
  // Called after a folder's listing was fetched from Transfer, with its
  // number of subfolders (a folder's link count depends on it). Set once,
  // before use.
  void set_on_listed(std::function<void(const std::string& coll, const std::string& dir, size_t subdirs)> fn) {
    on_listed_ = std::move(fn);
  }
  // Bumped whenever an entry's attributes change here (Refresh after an
  // upload, NoteCreated): a folder listing taken earlier is stale for them.
  uint64_t generation() const { return generation_.load(); }

 private:
  // A change made here inside `dir`: times set on the folder no longer hold.
  void ChangedIn(const std::string& coll, const std::string& dir);
  // Folders Transfer refused to list as too large (SizeLimit), for a TTL.
  bool TooLargeToList(const std::string& coll, const std::string& dir);
  void NoteTooLarge(const std::string& coll, const std::string& dir);
  http::Result<Listing> Fetch(const std::string& coll, const std::string& dir);

  TransferApi& api_;
  cache::MetadataStore& store_;
  std::shared_ptr<http::Clock> clock_;

  std::atomic<uint64_t> generation_{0};
  std::function<void(const std::string&, const std::string&, size_t)> on_listed_;
  struct Walk {
    std::string last_child;  // the subfolder opened last
    int64_t last_ms = 0;
    int64_t ahead_ms = -1;  // when its subfolders were last fetched ahead
  };
  std::mutex mu_;  // guards in_flight_, walks_, too_large_
  std::map<std::string, Walk> walks_;  // by coll '\0' parent folder
  std::map<std::string, int64_t> too_large_;  // coll '\0' folder -> when Transfer said SizeLimit (ms)
  std::unique_ptr<WorkPool> ahead_;   // null: no walk-ahead
  std::map<std::string, std::shared_future<http::Result<Listing>>> in_flight_;
};

}  // namespace globusfs::fs
