#include "fs/block_writer.h"

namespace globusfs::fs {

BlockWriter::BlockWriter(cache::BlockCache& cache, uint64_t max_queued_bytes)
    : cache_(cache), max_queued_bytes_(max_queued_bytes), thread_([this] { Loop(); }) {}

BlockWriter::~BlockWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string BlockWriter::Id(const cache::BlockKey& key) {
  std::string id = key.collection_id;
  id += '\0';
  id += key.path;
  id += '\0';
  for (uint64_t v : {key.file_size, static_cast<uint64_t>(key.file_mtime), key.index, key.version}) {
    id += std::to_string(v);
    id += ',';
  }
  return id;
}

bool BlockWriter::Put(const cache::BlockKey& key, std::shared_ptr<const void> owner, std::string_view bytes) {
  std::string id = Id(key);
  bool queued = false, was_promised = false;
  {
    std::lock_guard lock(mu_);
    was_promised = promised_.erase(id) > 0;
    if (!stopping_ && !queued_.count(id) && queued_bytes_ + bytes.size() <= max_queued_bytes_) {
      queued_bytes_ += bytes.size();
      queued_.emplace(id, Item{key, std::move(owner), bytes});
      order_.push_back(std::move(id));
      queued = true;
    }
  }
  if (queued) cv_.notify_one();
  if (was_promised) promise_cv_.notify_all();
  return queued;
}

bool BlockWriter::Promise(const cache::BlockKey& key) {
  std::string id = Id(key);
  std::lock_guard lock(mu_);
  if (stopping_ || queued_.count(id)) return false;
  return promised_.insert(std::move(id)).second;
}

void BlockWriter::Abandon(const cache::BlockKey& key) {
  {
    std::lock_guard lock(mu_);
    promised_.erase(Id(key));
  }
  promise_cv_.notify_all();
}

bool BlockWriter::Get(const cache::BlockKey& key, std::string* out) {
  {
    const std::string id = Id(key);
    std::unique_lock lock(mu_);
    // A fetch ahead ends within the HTTP client's own timeouts; should it
    // not, the reader stops waiting and fetches the block itself (a miss).
    if (!promise_cv_.wait_for(lock, kPromiseWait, [&] { return !promised_.count(id); })) return false;
    auto it = queued_.find(id);
    if (it != queued_.end()) {
      out->assign(it->second.bytes);
      return true;
    }
  }
  // Written meanwhile (or long ago): the cache has it, or it is a miss.
  return cache_.Get(key, out);
}

void BlockWriter::Forget(std::string_view collection_id, std::string_view path) {
  std::lock_guard lock(mu_);
  for (auto it = queued_.begin(); it != queued_.end();) {
    if (it->second.key.collection_id == collection_id && it->second.key.path == path) {
      queued_bytes_ -= it->second.bytes.size();
      it = queued_.erase(it);
    } else {
      ++it;
    }
  }
  if (queued_.empty()) {
    order_.clear();
    idle_cv_.notify_all();
  }
}

void BlockWriter::Drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return queued_.empty() && !writing_; });
}

void BlockWriter::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !order_.empty(); });
    if (order_.empty()) {
      if (stopping_) return;  // everything queued has been written
      continue;
    }
    std::string id = std::move(order_.front());
    order_.pop_front();
    auto it = queued_.find(id);
    if (it == queued_.end()) continue;  // forgotten
    Item item = it->second;
    writing_ = true;
    lock.unlock();
    cache_.Put(item.key, item.bytes);
    lock.lock();
    writing_ = false;
    // Still the same item (not forgotten, not replaced): it is written now.
    it = queued_.find(id);
    if (it != queued_.end() && it->second.owner == item.owner) {
      queued_bytes_ -= it->second.bytes.size();
      queued_.erase(it);
    }
    if (queued_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace globusfs::fs
