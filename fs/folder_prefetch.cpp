#include "fs/folder_prefetch.h"

#include <algorithm>

#include "fs/mount_table.h"

namespace globusfs::fs {

namespace {

constexpr size_t kMaxRuns = 16;       // folders followed at once
constexpr size_t kFirstDepth = 4;     // files ahead once a run starts

// Holds a file's bytes and its share of the budget until the cache has them.
struct Fetched {
  Fetched(MemoryBudget* b, uint64_t n) : budget(b), held(n) {}
  ~Fetched() { budget->Release(held); }
  MemoryBudget* budget;
  uint64_t held;
  std::string data;
};

}  // namespace

FolderPrefetch::FolderPrefetch(PrefetchContext ctx, Namespace& ns, VersionOf version_of, Busy busy)
    : ctx_(ctx), ns_(ns), version_of_(std::move(version_of)), busy_(std::move(busy)), pool_(ctx.max_depth) {}

void FolderPrefetch::Index(Run* run, Listing listing) const {
  run->listing = std::move(listing);
  run->files.clear();
  run->position.clear();
  const auto& entries = *run->listing;
  for (size_t i = 0; i < entries.size(); ++i) {
    const FileEntry& e = entries[i];
    if (e.type != EntryType::kFile || e.size > ctx_.block_size) continue;
    run->position[e.name] = run->files.size();
    run->files.push_back(i);
  }
}

void FolderPrefetch::NoteOpen(const DataTarget& target, const std::string& path) {
  const std::string coll = target.collection_id;
  const std::string dir = ParentOf(path);
  auto listing = ns_.Cached(coll, dir);  // no network: the open has just looked the file up there
  if (!listing || !*listing) return;
  std::vector<FileEntry> ahead;
  {
    std::lock_guard lock(mu_);
    const std::string key = coll + '\0' + dir;
    auto it = runs_.find(key);
    if (it == runs_.end()) {
      if (runs_.size() >= kMaxRuns) runs_.erase(runs_.begin());
      it = runs_.emplace(key, Run{}).first;
    }
    Run& run = it->second;
    if (run.listing != *listing) {
      const std::string last_name =
          run.last < run.files.size() ? (*run.listing)[run.files[run.last]].name : std::string();
      Index(&run, *listing);
      auto again = run.position.find(last_name);
      run.last = again == run.position.end() ? SIZE_MAX : again->second;
      run.ahead_to = std::min(run.ahead_to, run.files.size());
    }
    auto pos = run.position.find(NameOf(path));
    if (pos == run.position.end()) return;  // not a small file: the run goes on past it
    const size_t p = pos->second;
    if (run.last != SIZE_MAX && p == run.last + 1) {
      ++run.streak;
    } else if (p != run.last) {
      run.streak = 0;
      run.ahead_to = p + 1;
    }
    run.last = p;
    if (run.streak == 0) return;
    size_t depth = std::min<size_t>(ctx_.max_depth, kFirstDepth << std::min<size_t>(run.streak - 1, 8));
    size_t to = std::min(run.files.size(), p + 1 + depth);
    for (size_t q = std::max(run.ahead_to, p + 1); q < to; ++q) ahead.push_back((*run.listing)[run.files[q]]);
    run.ahead_to = std::max(run.ahead_to, to);
  }
  for (const auto& e : ahead) {
    if (!pool_.Submit([this, target, dir, e] { FetchAhead(target, dir, e); })) return;
  }
}

void FolderPrefetch::FetchAhead(const DataTarget& target, const std::string& dir, const FileEntry& listed) {
  const std::string path = dir == "/" ? "/" + listed.name : dir + "/" + listed.name;
  const std::string& coll = target.collection_id;
  if (busy_(coll, path)) return;
  // What an open would see now (the listing, fresh within its TTL).
  auto found = ns_.Lookup(coll, path);
  if (!found || !*found) return;
  const FileEntry entry = **found;
  if (entry.type != EntryType::kFile || entry.size == 0 || entry.size > ctx_.block_size) return;
  const std::string data_path = ToTransferPath(path);
  cache::BlockKey key{coll, data_path, entry.size, entry.mtime, 0, version_of_(coll, path, entry)};
  if (!ctx_.writer->Promise(key)) return;  // queued or on its way already
  // Promised before this check: an open from now on waits for us, and one
  // that came before is seen here (its reader fetches the file itself).
  std::string cached;
  if (busy_(coll, path) || ctx_.writer->cache().Get(key, &cached) || !ctx_.budget->TryAcquire(entry.size)) {
    ctx_.writer->Abandon(key);  // open here, in the cache already, or no memory to spare
    return;
  }
  auto f = std::make_shared<Fetched>(ctx_.budget, entry.size);
  auto r = ctx_.data->ReadRange(target, data_path, 0, entry.size, &f->data);
  if (!r || f->data.size() != entry.size) {
    ctx_.writer->Abandon(key);  // the open will fetch (and report) it itself
    return;
  }
  fetched_.fetch_add(1);
  ctx_.writer->Put(key, f, f->data);
}

}  // namespace globusfs::fs
