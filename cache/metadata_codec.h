// The binary encoding of MetadataStore's keys and records (internal to
// cache/; tested directly).
//
// Key: collection id + '\0' + normalised path. All keys below "/a/b" start
// with coll + '\0' + "/a/b/", so one cursor range finds a subtree without
// touching "/a/bc". (These are logical keys: MetadataStore stores long
// ones hashed, see cache/metadata_keys.h.)
//
// Record (little-endian fixed-width fields, LEB128 varints):
//   u8 format version (kFormatVersion), u8 kind (RecordKind),
//   u64 put sequence (the record's key in the age index),
//   i64 fetched_at_ms, then per kind:
//   listing:  u32 count, u32 subdirs (entries of type kDir),
//             u32 offset[count] (of entry i, from the first entry), entries
//             sorted by name - so one name is found by binary search, and
//             the counts read, without decoding the rest;
//   attr:     one entry;  negative: nothing;
//   dir change: nothing (fetched_at_ms is when the folder was changed);
//   version:  u64 id, u64 size, i64 mtime, u8 settled (0/1), u64 session;
//   times:    i64 atime_s, u32 atime_ns, i64 mtime_s, u32 mtime_ns, u64 server_size, i64 server_mtime
//             (versions and times do not expire: fetched_at_ms is 0);
//   entry:    varint name length, name, u8 type, varint size,
//             varint zigzag(mtime), varint mode, varint link length, link.
// Decoders check every length against the buffer and fail (false/kCorrupt)
// on anything malformed; they never read out of bounds.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/file_entry.h"
#include "cache/metadata_store.h"

namespace globusfs::cache::codec {

inline constexpr uint8_t kFormatVersion = 2;  // 2: listings count subdirectories
inline constexpr size_t kHeaderSize = 18;
inline constexpr size_t kListingHeaderSize = kHeaderSize + 8;  // + count, subdirs

enum class RecordKind : uint8_t {
  kListing = 1,
  kAttr = 2,
  kNegative = 3,
  kDirChange = 4,
  kVersion = 5,
  kTimes = 6,
};

struct RecordHeader {
  RecordKind kind = RecordKind::kNegative;
  uint64_t seq = 0;
  int64_t fetched_at_ms = 0;
};

std::string MakeKey(std::string_view coll, std::string_view path);
// The key prefix shared by every strict descendant of `path`; for "/" it is
// coll + '\0' + "/", which also matches the root's own key.
std::string DescendantPrefix(std::string_view coll, std::string_view path);
// "/a/b" → "/a", "/a" → "/", "/" → "" (no parent).
std::string_view ParentPath(std::string_view path);
// "/a/b" → "b", "/" → "".
std::string_view BaseName(std::string_view path);
// True if `path` is strictly below `dir` ("/a/b/c" is below "/a/b"; "/a/bc" is not).
bool IsBelow(std::string_view path, std::string_view dir);

bool DecodeHeader(std::string_view record, RecordHeader* out);
// Overwrites the put sequence of an encoded record (size >= kHeaderSize).
void SetSeq(std::string* record, uint64_t seq);

// `entries` must be sorted by name. The sequence is written as 0 (see SetSeq).
std::string EncodeListing(int64_t fetched_at_ms, const std::vector<FileEntry>& entries);
bool DecodeListing(std::string_view record, Listing* out);
// The entry and subdirectory counts of an encoded listing, from its header.
bool ListingCounts(std::string_view record, uint32_t* entries, uint32_t* subdirs);
enum class Find { kFound, kAbsent, kCorrupt };
// Binary search for `name` in an encoded listing; decodes only that entry.
Find FindInListing(std::string_view record, std::string_view name, FileEntry* out);

std::string EncodeAttr(int64_t fetched_at_ms, const FileEntry& entry);
std::string EncodeNegative(int64_t fetched_at_ms);
bool DecodeAttr(std::string_view record, FileEntry* out);

std::string EncodeDirChange(int64_t changed_at_ms);
bool DecodeDirChange(std::string_view record, int64_t* changed_at_ms);
std::string EncodeVersion(const ContentVersion& version);
bool DecodeVersion(std::string_view record, ContentVersion* out);
std::string EncodeTimes(const UserTimes& times);
bool DecodeTimes(std::string_view record, UserTimes* out);

}  // namespace globusfs::cache::codec
