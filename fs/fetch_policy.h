// FetchPolicy: how much of a file one read fetches over HTTPS — pure logic,
// no I/O, no locks (the FileReader holds one per handle under its mutex).
//
//  - A read is sequential when it starts at, or a little around, where the
//    previous one ended (the kernel's readahead may run a few requests out
//    of order); the first read at offset 0 counts as the start of a stream.
//  - Sequential reads grow a readahead window, in whole blocks: 1, doubling
//    per read to `max_window_blocks`; whole blocks go to the disk cache.
//  - Any other read resets the window, and a block it needs that is held
//    nowhere is fetched as a *piece*: the bytes asked for, widened to
//    `piece_size` alignment (clamped to the block), so a random 4 KiB read
//    costs one small GET — one round trip — rather than a whole block.
//
// Thread-safety: none (a plain value; callers serialise).
#pragma once

#include <cstdint>

namespace globusfs::fs {

struct FetchPolicyOptions {
  uint32_t block_size = 1 << 20;    // the disk cache's block
  uint32_t piece_size = 64 << 10;   // the smallest fetch of a random read, and its alignment
  uint32_t max_window_blocks = 16;  // readahead, in blocks
};

// Byte range [begin, end) of a file.
struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t size() const { return end - begin; }
  bool Contains(const ByteRange& r) const { return begin <= r.begin && r.end <= end; }
  bool operator==(const ByteRange&) const = default;
};

class FetchPolicy {
 public:
  explicit FetchPolicy(FetchPolicyOptions options);

  struct Decision {
    bool sequential = false;
    uint32_t window_blocks = 1;  // blocks to hold ahead of the read (sequential only)
  };
  // Notes a read of `read` and says how to serve it.
  Decision Note(const ByteRange& read);

  // What a random read of `read` fetches of block `index` of a file of
  // `file_size` bytes: the part of the block it touches, widened to
  // piece_size boundaries and clamped to the block (and the file).
  ByteRange Piece(uint64_t index, const ByteRange& read, uint64_t file_size) const;
  // The whole of block `index` of a file of `file_size` bytes.
  ByteRange Block(uint64_t index, uint64_t file_size) const;

  const FetchPolicyOptions& options() const { return options_; }

 private:
  FetchPolicyOptions options_;
  uint64_t next_expected_ = 0;
  uint32_t window_ = 1;
};

}  // namespace globusfs::fs
