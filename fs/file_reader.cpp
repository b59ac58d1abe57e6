#include "fs/file_reader.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace globusfs::fs {

// One block being fetched or held. `data` is written once, before `done`;
// after that it is only read, so readers copy from it without the lock.
struct FileReader::Block {
  Block(uint64_t i, uint64_t len, MemoryBudget* b) : index(i), length(len), budget(b) {}
  ~Block() {
    if (budget) budget->Release(length);
  }
  const uint64_t index;
  const uint64_t length;
  MemoryBudget* budget;  // set while the block's bytes count against it

  std::mutex mu;  // guards done, error
  std::condition_variable cv;
  bool done = false;
  std::optional<http::Error> error;
  std::string data;
};

std::shared_ptr<FileReader> FileReader::Make(const ReadContext& ctx, DataTarget target, FileVersion version) {
  return std::shared_ptr<FileReader>(new FileReader(ctx, std::move(target), std::move(version)));
}

FileReader::FileReader(const ReadContext& ctx, DataTarget target, FileVersion version)
    : ctx_(ctx), target_(std::move(target)), version_(std::move(version)) {}

FileReader::~FileReader() = default;  // fetches hold a shared_ptr: none is running now

uint64_t FileReader::BlockCount() const { return (version_.size + ctx_.block_size - 1) / ctx_.block_size; }

uint64_t FileReader::BlockLength(uint64_t index) const {
  uint64_t start = index * ctx_.block_size;
  return std::min<uint64_t>(ctx_.block_size, version_.size - start);
}

uint64_t FileReader::fetched() const {
  std::lock_guard lock(mu_);
  return fetched_;
}

void FileReader::Drop(uint64_t index) { blocks_.erase(index); }

std::shared_ptr<FileReader::Block> FileReader::Obtain(uint64_t index, bool async, bool* started_inline) {
  *started_inline = false;
  uint64_t len = BlockLength(index);
  std::shared_ptr<Block> b;
  {
    std::lock_guard lock(mu_);
    auto it = blocks_.find(index);
    if (it != blocks_.end()) return it->second;
    if (async) {
      if (!ctx_.budget->TryAcquire(len)) return nullptr;  // readahead gives way
    } else {
      ctx_.budget->ForceAcquire(len);
    }
    b = std::make_shared<Block>(index, len, ctx_.budget);
    blocks_[index] = b;
    ++in_flight_;
  }
  if (!async) {
    *started_inline = true;
    return b;
  }
  auto self = shared_from_this();
  if (!ctx_.pool->Submit([self, b] { self->Fetch(b); })) {
    // Shutting down: fail the block rather than leave waiters hanging.
    {
      std::lock_guard lock(b->mu);
      b->error = http::MakeError(http::ErrorKind::kCancelled, "globusfs is unmounting");
      b->done = true;
    }
    b->cv.notify_all();
    std::lock_guard lock(mu_);
    --in_flight_;
  }
  return b;
}

void FileReader::Fetch(const std::shared_ptr<Block>& b) {
  cache::BlockKey key{version_.collection_id, version_.path, version_.size, version_.mtime, b->index,
                      version_.id};
  std::string data;
  bool from_cache = ctx_.blocks && ctx_.blocks->Get(key, &data) && data.size() == b->length;
  std::optional<http::Error> error;
  if (!from_cache) {
    data.clear();
    auto r = ctx_.data->ReadRange(target_, version_.path, b->index * ctx_.block_size, b->length, &data);
    if (!r) error = r.error();
  }
  {
    std::lock_guard lock(b->mu);
    b->data = std::move(data);
    b->error = error;
    b->done = true;
  }
  b->cv.notify_all();
  // A whole block of this version goes to the disk cache (a short one
  // means the file changed under us: not worth keeping).
  if (!from_cache && !error && ctx_.blocks && b->data.size() == b->length) ctx_.blocks->Put(key, b->data);
  std::lock_guard lock(mu_);
  --in_flight_;
  if (!from_cache && !error) ++fetched_;
}

http::Result<void> FileReader::Read(uint64_t offset, size_t size, std::string* out) {
  out->clear();
  if (offset >= version_.size || size == 0) return {};
  const uint64_t bs = ctx_.block_size;
  const uint64_t end = std::min<uint64_t>(offset + size, version_.size);
  const uint64_t first = offset / bs, last = (end - 1) / bs;

  bool sequential;
  uint32_t window;
  {
    std::lock_guard lock(mu_);
    // Sequential: at or a little around where the last read ended (the
    // kernel's own readahead may run a few requests out of order).
    sequential = offset + bs >= next_expected_ && offset <= next_expected_ + uint64_t{window_} * bs;
    window_ = sequential ? std::min(window_ * 2, ctx_.max_window_blocks) : 1;
    window = window_;
    next_expected_ = sequential ? std::max(next_expected_, end) : end;
    // Blocks behind the reader (or, for a random read, any other finished
    // block but the ones it touches) are no longer needed.
    for (auto it = blocks_.begin(); it != blocks_.end();) {
      uint64_t i = it->first;
      bool keep = (i >= first && i <= last) || (sequential && i + 1 >= first && i <= last + window);
      it = keep ? std::next(it) : blocks_.erase(it);
    }
  }

  std::vector<std::shared_ptr<Block>> needed;
  for (uint64_t i = first; i <= last; ++i) {
    bool inline_fetch = false;
    auto b = Obtain(i, /*async=*/i != last, &inline_fetch);
    if (!b) b = Obtain(i, false, &inline_fetch);  // no budget for async: fetch it here
    if (inline_fetch) Fetch(b);
    needed.push_back(b);
  }
  if (sequential) {
    for (uint64_t i = last + 1; i < BlockCount() && i <= last + window; ++i) {
      bool unused = false;
      if (!Obtain(i, true, &unused)) break;
    }
  }

  out->reserve(end - offset);
  for (const auto& b : needed) {
    {
      std::unique_lock lock(b->mu);
      b->cv.wait(lock, [&] { return b->done; });
      if (b->error) {
        http::Error e = *b->error;
        lock.unlock();
        std::lock_guard mlock(mu_);
        auto it = blocks_.find(b->index);
        if (it != blocks_.end() && it->second == b) blocks_.erase(it);  // the next read tries again
        return e;
      }
    }
    uint64_t block_start = b->index * bs;
    uint64_t from = std::max(offset, block_start) - block_start;
    uint64_t to = std::min<uint64_t>(end - block_start, b->data.size());
    if (from < to) out->append(b->data, from, to - from);
    if (b->data.size() < b->length) break;  // the file is shorter than listed: stop here
  }
  return {};
}

}  // namespace globusfs::fs
