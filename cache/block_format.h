// The on-disk formats of BlockCache (cache/block_cache.h) and its file I/O:
// block and file identities (truncated SHA-256), the index record, the keys
// of the index databases, reading and writing block files. Internal to
// cache/; split out so block_cache.cpp holds only the cache's logic.
//
// Index record (value of the "blocks" database), all integers little-endian:
//   u8 version (1) | u64 length | u32 CRC-32C | u64 last access seq | 16-byte file hash
// A record of another size or version does not decode (the block is dropped).
//
// Thread-safety: free functions are stateless; a Sha256 may be shared by
// threads (it holds only an immutable algorithm handle).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace globusfs::cache::block_format {

// A block's or a file's identity: the first 16 bytes of a SHA-256.
using Hash = std::array<char, 16>;
struct HashHasher {
  size_t operator()(const Hash& h) const noexcept {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};
inline std::string_view View(const Hash& h) { return {h.data(), h.size()}; }

// Lower-case hex (32 characters), and back (false unless exactly that form).
std::string Hex(const Hash& h);
bool ParseHex(std::string_view s, Hash* h);
// Name of blocks/ subfolder `shard` (0..255): two lower-case hex digits.
std::string ShardName(int shard);

// What a block of `length` bytes is charged against max_bytes: its length
// rounded up to whole 4 KiB units, at least one unit.
inline constexpr uint64_t kUnit = 4096;
inline uint64_t Cost(uint64_t length) {
  return length <= kUnit ? kUnit : (length + kUnit - 1) / kUnit * kUnit;
}

struct Record {
  uint64_t length = 0;
  uint32_t crc = 0;
  uint64_t seq = 0;  // last access (put or read) sequence
  Hash file{};       // FileHash of the block's (collection, path)
};
std::string EncodeRecord(const Record& r);
bool DecodeRecord(std::string_view v, Record* r);

// Key of the "lru" database: big-endian, so keys sort by seq.
std::string SeqKey(uint64_t seq);
uint64_t ParseSeqKey(std::string_view key);
// Key of the "files" database: the file's hash, then the block's.
std::string FilesKey(const Hash& file, const Hash& block);
std::string Le64(uint64_t v);
uint64_t ParseLe64(std::string_view s);

// Exactly `length` bytes of `path` into *out; false when the file is missing,
// not exactly that long, or unreadable.
bool ReadBlockFile(const std::filesystem::path& path, uint64_t length, std::string* out);
// Creates `path` (which must not exist, mode 0600) holding `data`; not synced.
bool WriteNewFile(const std::filesystem::path& path, std::string_view data);

// SHA-256 with the algorithm fetched once (an implicit fetch per call costs
// more than hashing a short key).
class Sha256 {
 public:
  Sha256();  // throws std::runtime_error if OpenSSL has no SHA-256
  Hash Truncated(std::string_view input) const;  // throws std::runtime_error

 private:
  struct Free {
    void operator()(EVP_MD* md) const { EVP_MD_free(md); }
  };
  std::unique_ptr<EVP_MD, Free> md_;
};

}  // namespace globusfs::cache::block_format
