#include "fs/namespace.h"

#include <algorithm>
#include <chrono>

#include "fs/mount_table.h"
#include "fs/remote/remote_error.h"

namespace globusfs::fs {

namespace {

const FileEntry* FindByName(const std::vector<FileEntry>& entries, const std::string& name) {
  auto it = std::lower_bound(entries.begin(), entries.end(), name,
                             [](const FileEntry& e, const std::string& n) { return e.name < n; });
  return it != entries.end() && it->name == name ? &*it : nullptr;
}

}  // namespace

Namespace::Namespace(TransferApi& api, cache::MetadataStore& store, std::shared_ptr<http::Clock> clock,
                     size_t walk_ahead_threads)
    : api_(api), store_(store), clock_(std::move(clock)) {
  if (walk_ahead_threads > 0) ahead_ = std::make_unique<WorkPool>(walk_ahead_threads);
}

Namespace::~Namespace() {
  if (ahead_) ahead_->Shutdown();
}

void Namespace::NoteOpened(const std::string& coll, const std::string& dir) {
  if (!ahead_ || dir == "/") return;
  const std::string parent = ParentOf(dir);
  const int64_t now = NowMs();
  {
    std::lock_guard lock(mu_);
    Walk& w = walks_[coll + '\0' + parent];
    // Two different subfolders within a few seconds: a walk. Once per TTL.
    bool walk = !w.last_child.empty() && w.last_child != dir && now - w.last_ms < 3000;
    bool fresh = w.ahead_ms >= 0 && now - w.ahead_ms < store_.ttl_ms();
    w.last_child = dir;
    w.last_ms = now;
    if (!walk || fresh) return;
    w.ahead_ms = now;
    if (walks_.size() > 4096) walks_.clear();  // a bound, not a cache
  }
  auto siblings = store_.GetListing(coll, parent, now);
  if (!siblings) return;
  size_t queued = 0;
  for (const auto& e : siblings->entries) {
    if (e.type != EntryType::kDir || queued >= kWalkAheadMax) continue;
    std::string sub = JoinPath(parent, e.name);
    if (sub == dir) continue;
    ++queued;
    ahead_->Submit([this, coll, sub] { (void)List(coll, sub); });  // cached ones cost a lookup
  }
}

int64_t Namespace::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_->SystemNow().time_since_epoch())
      .count();
}

std::optional<Listing> Namespace::Cached(const std::string& coll, const std::string& dir) {
  auto cached = store_.GetListing(coll, dir, NowMs(), /*allow_stale=*/true);
  if (!cached) return std::nullopt;
  return Listing(std::make_shared<const std::vector<FileEntry>>(std::move(cached->entries)));
}

http::Result<Listing> Namespace::List(const std::string& coll, const std::string& dir) {
  if (auto cached = store_.GetListing(coll, dir, NowMs())) {
    return Listing(std::make_shared<const std::vector<FileEntry>>(std::move(cached->entries)));
  }
  // Single flight: the first caller fetches, the others wait for its answer.
  std::string key = coll + '\0' + dir;
  std::shared_future<http::Result<Listing>> waiting;
  std::promise<http::Result<Listing>> promise;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it != in_flight_.end()) {
      waiting = it->second;
    } else {
      in_flight_[key] = promise.get_future().share();
    }
  }
  if (waiting.valid()) return waiting.get();
  http::Result<Listing> result = Fetch(coll, dir);
  promise.set_value(result);
  std::lock_guard lock(mu_);
  in_flight_.erase(key);
  return result;
}

http::Result<Listing> Namespace::Fetch(const std::string& coll, const std::string& dir) {
  int64_t started = NowMs();
  auto entries = api_.List(coll, ToTransferPath(dir));
  if (!entries) {
    const RemoteErrc why = Classify(entries.error());
    if (why == RemoteErrc::kNotFound) store_.PutNegative(coll, dir, started);
    if (why == RemoteErrc::kTooLarge) NoteTooLarge(coll, dir);
    return entries.error();
  }
  std::sort(entries->begin(), entries->end(),
            [](const FileEntry& a, const FileEntry& b) { return a.name < b.name; });
  // Stamped with the time the request started: nothing in it is newer.
  store_.PutListing(coll, dir, cache::Listing{started, *entries});
  if (on_listed_) {
    size_t subdirs = static_cast<size_t>(std::count_if(
        entries->begin(), entries->end(), [](const FileEntry& e) { return e.type == EntryType::kDir; }));
    on_listed_(coll, dir, subdirs);
  }
  return Listing(std::make_shared<const std::vector<FileEntry>>(std::move(*entries)));
}

http::Result<std::optional<FileEntry>> Namespace::Lookup(const std::string& coll, const std::string& path) {
  FileEntry cached;
  switch (store_.LookupEntry(coll, path, NowMs(), &cached)) {
    case cache::MetadataStore::Lookup::kFound:
      return std::optional<FileEntry>(cached);
    case cache::MetadataStore::Lookup::kMissing:
      return std::optional<FileEntry>();
    case cache::MetadataStore::Lookup::kUnknown:
      break;
  }
  const std::string parent = ParentOf(path);
  // A parent too large for Transfer to list is not asked again for every
  // name looked up in it (within the TTL): stat answers for one path.
  if (TooLargeToList(coll, parent)) return Refresh(coll, path);
  auto listing = List(coll, parent);
  if (listing) {
    const FileEntry* e = FindByName(**listing, NameOf(path));
    return e ? std::optional<FileEntry>(*e) : std::optional<FileEntry>();
  }
  RemoteErrc why = Classify(listing.error());
  if (why == RemoteErrc::kNotFound || why == RemoteErrc::kNotDirectory) return std::optional<FileEntry>();
  if (why != RemoteErrc::kPermissionDenied && why != RemoteErrc::kTooLarge) return listing.error();
  // The parent cannot be listed, but the path itself may be reachable.
  return Refresh(coll, path);
}

bool Namespace::TooLargeToList(const std::string& coll, const std::string& dir) {
  std::lock_guard lock(mu_);
  auto it = too_large_.find(coll + '\0' + dir);
  if (it == too_large_.end()) return false;
  if (NowMs() - it->second < store_.ttl_ms()) return true;
  too_large_.erase(it);
  return false;
}

void Namespace::NoteTooLarge(const std::string& coll, const std::string& dir) {
  std::lock_guard lock(mu_);
  if (too_large_.size() > 4096) too_large_.clear();  // a bound, not a cache
  too_large_[coll + '\0' + dir] = NowMs();
}

http::Result<void> Namespace::Mkdir(const std::string& coll, const std::string& path) {
  auto r = api_.Mkdir(coll, ToTransferPath(path));
  if (!r) {
    RemoteErrc why = Classify(r.error());
    if (why == RemoteErrc::kExists || why == RemoteErrc::kNotFound) Invalidate(coll, ParentOf(path));
    return r;
  }
  int64_t now = NowMs();
  FileEntry e;
  e.name = NameOf(path);
  e.type = EntryType::kDir;
  e.mtime = now / 1000;
  e.mode = 0755;
  e.size = 4096;
  store_.ApplyCreate(coll, path, e, now);
  store_.PutListing(coll, path, cache::Listing{now, {}});  // a new folder is empty
  ChangedIn(coll, ParentOf(path));
  return {};
}

http::Result<void> Namespace::Rename(const std::string& coll, const std::string& from, const std::string& to) {
  auto r = api_.Rename(coll, ToTransferPath(from), ToTransferPath(to));
  if (!r) {
    RemoteErrc why = Classify(r.error());
    if (why == RemoteErrc::kExists || why == RemoteErrc::kNotFound) {
      Invalidate(coll, ParentOf(from));
      Invalidate(coll, ParentOf(to));
    }
    return r;
  }
  store_.ApplyRename(coll, from, to, NowMs());
  ChangedIn(coll, ParentOf(from));
  if (ParentOf(to) != ParentOf(from)) ChangedIn(coll, ParentOf(to));
  return {};
}

http::Result<TaskOutcome> Namespace::Delete(const std::string& coll, const std::string& path, bool is_dir) {
  DeleteRequest req;
  req.collection_id = coll;
  req.paths = {ToTransferPath(path)};
  req.recursive = is_dir;
  req.ignore_missing = true;
  req.label = "globusfs rm";
  auto outcome = api_.DeleteAndWait(req);
  if (!outcome) return outcome;
  if (outcome->succeeded()) {
    store_.ApplyRemove(coll, path, NowMs());
    ChangedIn(coll, ParentOf(path));
  } else {
    Invalidate(coll, ParentOf(path));
  }
  return outcome;
}

void Namespace::Invalidate(const std::string& coll, const std::string& dir) { store_.Invalidate(coll, dir); }

http::Result<std::optional<FileEntry>> Namespace::Refresh(const std::string& coll, const std::string& path) {
  int64_t started = NowMs();
  auto st = api_.Stat(coll, ToTransferPath(path));
  if (!st) {
    if (Classify(st.error()) == RemoteErrc::kNotFound) {
      store_.PutNegative(coll, path, started);
      return std::optional<FileEntry>();
    }
    return st.error();
  }
  st->name = NameOf(path);
  store_.PutEntry(coll, path, *st, started);
  ++generation_;
  return std::optional<FileEntry>(*st);
}

void Namespace::NoteCreated(const std::string& coll, const std::string& path, const FileEntry& entry) {
  store_.ApplyCreate(coll, path, entry, NowMs());
  ChangedIn(coll, ParentOf(path));
  ++generation_;
}

void Namespace::ChangedIn(const std::string& coll, const std::string& dir) { store_.EraseTimes(coll, dir); }

}  // namespace globusfs::fs

namespace globusfs::fs {

void Namespace::NoteRemoved(const std::string& coll, const std::string& path) {
  store_.ApplyRemove(coll, path, NowMs());
  ChangedIn(coll, ParentOf(path));
}

}  // namespace globusfs::fs
