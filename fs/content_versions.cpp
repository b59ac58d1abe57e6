#include "fs/content_versions.h"

#include "fs/mount_table.h"

namespace globusfs::fs {

namespace {

std::string Key(const std::string& coll, const std::string& path) { return coll + '\0' + path; }

uint64_t Seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

ContentVersions::ContentVersions(cache::MetadataStore* store)
    : store_(store), rng_(Seed()), session_(rng_() | 1) {}

uint64_t ContentVersions::NewId() {
  uint64_t id = 0;
  while (id == 0) id = rng_();
  return id;
}

std::optional<cache::ContentVersion> ContentVersions::Get(const std::string& coll, const std::string& path) {
  if (store_) return store_->GetVersion(coll, path);
  auto it = memory_.find(Key(coll, path));
  if (it == memory_.end()) return std::nullopt;
  return it->second;
}

void ContentVersions::Put(const std::string& coll, const std::string& path, const cache::ContentVersion& v) {
  if (store_) {
    store_->PutVersion(coll, path, v);
  } else {
    memory_[Key(coll, path)] = v;
  }
}

uint64_t ContentVersions::ForRead(const std::string& coll, const std::string& path, uint64_t size, int64_t mtime) {
  std::lock_guard lock(mu_);
  auto v = Get(coll, path);
  if (v) {
    // A change of ours is under way: read at its unsettled id, retired
    // when it lands.
    if (!v->settled && v->session == session_) return v->id;
    if (v->settled && v->size == size && v->mtime == mtime) return v->id;
  }
  // Unknown, changed remotely, or left unsettled by a daemon that died.
  cache::ContentVersion fresh{NewId(), size, mtime, /*settled=*/true, session_};
  Put(coll, path, fresh);
  return fresh.id;
}

void ContentVersions::Changing(const std::string& coll, const std::string& path) {
  std::lock_guard lock(mu_);
  Put(coll, path, cache::ContentVersion{NewId(), 0, 0, /*settled=*/false, session_});
}

uint64_t ContentVersions::Changed(const std::string& coll, const std::string& path,
                                  const std::optional<cache::FileEntry>& now) {
  std::lock_guard lock(mu_);
  if (!now || now->type != cache::EntryType::kFile) {
    if (store_) store_->EraseVersion(coll, path);
    else memory_.erase(Key(coll, path));
    return 0;
  }
  cache::ContentVersion v{NewId(), now->size, now->mtime, /*settled=*/true, session_};
  Put(coll, path, v);
  return v.id;
}

void ContentVersions::Forget(const std::string& coll, const std::string& path) {
  std::lock_guard lock(mu_);
  if (store_) {
    store_->EraseVersion(coll, path);
    return;
  }
  const std::string key = Key(coll, path);
  for (auto it = memory_.lower_bound(key); it != memory_.end();) {
    const std::string& k = it->first;
    if (k.compare(0, key.size(), key) != 0) break;
    bool under = k.size() == key.size() || k[key.size()] == '/' || path == "/";
    it = under ? memory_.erase(it) : std::next(it);
  }
}

}  // namespace globusfs::fs
