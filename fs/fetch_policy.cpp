#include "fs/fetch_policy.h"

#include <algorithm>

namespace globusfs::fs {

FetchPolicy::FetchPolicy(FetchPolicyOptions options) : options_(options) {
  options_.block_size = std::max<uint32_t>(options_.block_size, 1);
  options_.piece_size = std::clamp<uint32_t>(options_.piece_size, 1, options_.block_size);
  options_.max_window_blocks = std::max<uint32_t>(options_.max_window_blocks, 1);
}

FetchPolicy::Decision FetchPolicy::Note(const ByteRange& read) {
  const uint64_t bs = options_.block_size;
  // At or a little around where the last read ended.
  const bool sequential =
      read.begin + bs >= next_expected_ && read.begin <= next_expected_ + uint64_t{window_} * bs;
  window_ = sequential ? std::min(window_ * 2, options_.max_window_blocks) : 1;
  next_expected_ = sequential ? std::max(next_expected_, read.end) : read.end;
  return Decision{sequential, window_};
}

ByteRange FetchPolicy::Block(uint64_t index, uint64_t file_size) const {
  const uint64_t begin = index * options_.block_size;
  if (begin >= file_size) return ByteRange{file_size, file_size};
  return ByteRange{begin, std::min<uint64_t>(begin + options_.block_size, file_size)};
}

ByteRange FetchPolicy::Piece(uint64_t index, const ByteRange& read, uint64_t file_size) const {
  const ByteRange block = Block(index, file_size);
  const uint64_t p = options_.piece_size;
  const uint64_t from = std::max(read.begin, block.begin);
  const uint64_t to = std::min(read.end, block.end);
  if (from >= to) return ByteRange{block.begin, block.begin};
  const uint64_t begin = block.begin + (from - block.begin) / p * p;
  const uint64_t end = std::min(block.end, block.begin + (to - block.begin + p - 1) / p * p);
  return ByteRange{begin, end};
}

}  // namespace globusfs::fs
