#include "fs/file_reader.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace globusfs::fs {

// One block (or a piece of one) being fetched or held: `range` is the part
// of the file it fetches. `data` is written once, before `done`; after that
// it is only read, so readers copy from it without the lock.
struct FileReader::Block {
  Block(uint64_t i, ByteRange r, MemoryBudget* b) : index(i), range(r), budget(b) {}
  ~Block() {
    if (budget) budget->Release(range.size());
  }
  const uint64_t index;
  const ByteRange range;
  MemoryBudget* budget;  // set while the block's bytes count against it

  std::mutex mu;  // guards done, error
  std::condition_variable cv;
  bool done = false;
  std::optional<http::Error> error;
  std::string data;  // the bytes of `range` (shorter only if the file is)
};

namespace {

FetchPolicyOptions PolicyOptions(const ReadContext& ctx) {
  return FetchPolicyOptions{ctx.block_size, ctx.piece_size, ctx.max_window_blocks};
}

}  // namespace

std::shared_ptr<FileReader> FileReader::Make(const ReadContext& ctx, DataTarget target, FileVersion version) {
  return std::shared_ptr<FileReader>(new FileReader(ctx, std::move(target), std::move(version)));
}

FileReader::FileReader(const ReadContext& ctx, DataTarget target, FileVersion version)
    : ctx_(ctx), target_(std::move(target)), version_(std::move(version)), policy_(PolicyOptions(ctx)) {}

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

std::shared_ptr<FileReader::Block> FileReader::Obtain(uint64_t index, const ByteRange& need, const ByteRange& want,
                                                      bool async, bool* started_inline) {
  *started_inline = false;
  std::shared_ptr<Block> b;
  {
    std::lock_guard lock(mu_);
    auto it = blocks_.find(index);
    if (it != blocks_.end() && it->second->range.Contains(need)) return it->second;
    if (async) {
      if (!ctx_.budget->TryAcquire(want.size())) return nullptr;  // readahead gives way
    } else {
      ctx_.budget->ForceAcquire(want.size());
    }
    b = std::make_shared<Block>(index, want, ctx_.budget);
    blocks_[index] = b;  // a piece that did not cover is replaced (its waiters keep it)
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

bool FileReader::CachedBlock(const cache::BlockKey& key, std::string* out) {
  if (ctx_.writer) return ctx_.writer->Get(key, out);
  return ctx_.blocks && ctx_.blocks->Get(key, out);
}

void FileReader::Fetch(const std::shared_ptr<Block>& b) {
  cache::BlockKey key{version_.collection_id, version_.path, version_.size, version_.mtime, b->index,
                      version_.id};
  const uint64_t block_start = b->index * ctx_.block_size;
  const uint64_t block_length = BlockLength(b->index);
  const bool whole = b->range.begin == block_start && b->range.size() == block_length;
  std::string data;
  bool from_cache = CachedBlock(key, &data) && data.size() == block_length;
  if (from_cache && !whole) data = data.substr(b->range.begin - block_start, b->range.size());
  std::optional<http::Error> error;
  if (!from_cache) {
    data.clear();
    auto r = ctx_.data->ReadRange(target_, version_.path, b->range.begin, b->range.size(), &data);
    if (!r) error = r.error();
  }
  {
    std::lock_guard lock(b->mu);
    b->data = std::move(data);
    b->error = error;
    b->done = true;
  }
  b->cv.notify_all();
  // A whole block of this version goes to the disk cache, after the reader
  // has its bytes (a short one means the file changed under us: not kept).
  if (whole && !from_cache && !error && ctx_.blocks && b->data.size() == block_length &&
      version_.size <= ctx_.cache_file_limit) {
    if (ctx_.writer) {
      ctx_.writer->Put(key, b, b->data);
    } else {
      ctx_.blocks->Put(key, b->data);
    }
  }
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
  const ByteRange read{offset, end};

  FetchPolicy::Decision d;
  {
    std::lock_guard lock(mu_);
    d = policy_.Note(read);
    // Blocks behind the reader (or, for a random read, any other finished
    // block but the ones it touches) are no longer needed.
    for (auto it = blocks_.begin(); it != blocks_.end();) {
      uint64_t i = it->first;
      bool keep = (i >= first && i <= last) || (d.sequential && i + 1 >= first && i <= last + d.window_blocks);
      it = keep ? std::next(it) : blocks_.erase(it);
    }
  }

  std::vector<std::shared_ptr<Block>> needed;
  for (uint64_t i = first; i <= last; ++i) {
    const ByteRange whole = policy_.Block(i, version_.size);
    const ByteRange need{std::max(offset, whole.begin), std::min(end, whole.end)};
    const ByteRange want = d.sequential ? whole : policy_.Piece(i, read, version_.size);
    bool inline_fetch = false;
    auto b = Obtain(i, need, want, /*async=*/i != last, &inline_fetch);
    if (!b) b = Obtain(i, need, want, false, &inline_fetch);  // no budget for async: fetch it here
    if (inline_fetch) Fetch(b);
    needed.push_back(b);
  }
  if (d.sequential) {
    for (uint64_t i = last + 1; i < BlockCount() && i <= last + d.window_blocks; ++i) {
      const ByteRange whole = policy_.Block(i, version_.size);
      bool unused = false;
      if (!Obtain(i, whole, whole, true, &unused)) break;
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
    const uint64_t from = std::max(offset, b->range.begin) - b->range.begin;
    const uint64_t to = std::min<uint64_t>(end - b->range.begin, b->data.size());
    if (from < to) out->append(b->data, from, to - from);
    if (b->data.size() < b->range.size()) break;  // the file is shorter than listed: stop here
  }
  return {};
}

}  // namespace globusfs::fs
