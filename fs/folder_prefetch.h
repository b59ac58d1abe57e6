// FolderPrefetch: a folder's small files read one after another (`tar c`,
// `cp -r`, `grep -r`, `md5sum *`) cost one round trip each, one at a time.
// When two files of one folder that follow each other in its listing are
// opened and read in turn (a first read, not an open: cp -r opens files to
// copy them server to server without reading them), the next files of that folder are fetched ahead, several
// at once on the WorkPool, into the BlockWriter (and so the disk cache),
// where their opens find them.
//
//  - Fetches run on this object's own WorkPool (`max_depth` threads: they
//    mostly wait for round trips), so they never hold up a big file's
//    readahead on the shared pool.
//  - What counts: regular files of at most one block (the whole file is
//    block 0), in listing order; folders, links and bigger files in between
//    are stepped over. The depth grows with the run (4, doubling to
//    `max_depth` files ahead of the one opened); another file opened out of
//    order starts the run again.
//  - Never stale: each file is fetched under the content version its next
//    open will read (ContentVersions::ForRead of the entry Namespace lists
//    now), and the block is keyed by it, as the FileReader's own blocks
//    are; a file open or with unsaved changes here (`busy`) is skipped.
//  - Bounded: every file fetched ahead holds its size from the MemoryBudget
//    until written to the disk cache; with no room it is not fetched. A
//    fetch in flight is promised to the BlockWriter, so an open that
//    catches up waits for it instead of fetching it twice.
//
// Thread-safety: NoteOpen may be called from any thread; mu_ guards the
// folder runs and is never held across a Namespace, cache or network call.
// The destructor waits for the fetches running (queued ones are dropped).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fs/block_writer.h"
#include "fs/namespace.h"
#include "fs/remote/data_api.h"
#include "fs/work_pool.h"

namespace globusfs::fs {

struct PrefetchContext {
  DataApi* data = nullptr;
  BlockWriter* writer = nullptr;
  MemoryBudget* budget = nullptr;
  uint32_t block_size = 1 << 20;
  uint32_t max_depth = 16;  // files fetched ahead of the one opened
};

class FolderPrefetch {
 public:
  // The content version an open of `path` (normalised) listed as `entry`
  // reads at (FileContents: ContentVersions::ForRead).
  using VersionOf = std::function<uint64_t(const std::string& coll, const std::string& path, const FileEntry& entry)>;
  // True when the file has local state (open, unsaved changes): not fetched.
  using Busy = std::function<bool(const std::string& coll, const std::string& path)>;

  FolderPrefetch(PrefetchContext ctx, Namespace& ns, VersionOf version_of, Busy busy);

  // `path` (normalised), opened read-only through `target`, is being read
  // for the first time through that descriptor.
  void NoteOpen(const DataTarget& target, const std::string& path);

  // Files fetched ahead so far (tests and stats).
  uint64_t fetched() const { return fetched_.load(); }

 private:
  struct Run {
    Listing listing;                                  // the listing the indexes refer to
    std::vector<size_t> files;                        // indexes in listing of small regular files
    std::unordered_map<std::string, size_t> position;  // name -> index in files
    size_t last = SIZE_MAX;                           // position of the file opened last
    size_t streak = 0;                                // files opened in order so far
    size_t ahead_to = 0;                              // positions below this were sent ahead
  };
  void Index(Run* run, Listing listing) const;
  void FetchAhead(const DataTarget& target, const std::string& dir, const FileEntry& entry);

  const PrefetchContext ctx_;
  Namespace& ns_;
  const VersionOf version_of_;
  const Busy busy_;
  std::atomic<uint64_t> fetched_{0};
  std::mutex mu_;                    // guards runs_
  std::map<std::string, Run> runs_;  // by coll '\0' folder; a few at most
  WorkPool pool_;                    // last: shut down first, before what its tasks use
};

}  // namespace globusfs::fs
