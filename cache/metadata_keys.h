// How MetadataStore stores a logical key (codec::MakeKey: collection id +
// '\0' + path, up to ~4 KiB) under LMDB's key limit (511 bytes), and how a
// subtree scan finds records by logical key prefix (internal to cache/;
// tested directly).
//
// - A logical key of at most kInlineMax bytes is stored as is; its value is
//   the record.
// - A longer one is stored as its first kInlineMax bytes + kHashMarker +
//   SHA-256(logical key), exactly kHashedSize bytes; its value is the record
//   followed by the logical key and that key's length (u32 little-endian), so
//   every read checks that the record is the one asked for (Unwrap).
//
// Invariants: the two forms never collide (an inline key is at most
// kInlineMax bytes, a hashed one exactly kHashedSize). A stored key starts
// with the first kInlineMax bytes of its logical key, so every record whose
// logical key starts with P has a stored key starting with ScanPrefix(P); a
// scan checks each candidate's logical key (Split). The marker is '\0', which
// no path contains: a hashed key sorts right after the inline key equal to
// its truncated prefix and before any other key extending that prefix, so
// records stay in logical-prefix order and every prefix range is contiguous.
// The record sits at the start of the value: its header (codec::DecodeHeader,
// codec::SetSeq) is read and written in place.
//
// Thread-safety: pure functions (Get reads through the caller's Txn).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cache/lmdb.h"

namespace globusfs::cache::keys {

inline constexpr size_t kInlineMax = 448;
inline constexpr char kHashMarker = '\0';
inline constexpr size_t kHashedSize = kInlineMax + 1 + 32;

// The LMDB key of a logical key.
std::string StoredKey(std::string_view logical_key);
bool IsHashed(std::string_view stored_key);
// The stored prefix that every record below the logical prefix starts with.
std::string_view ScanPrefix(std::string_view logical_prefix);

// The LMDB value holding `record` under `logical_key`.
std::string Wrap(std::string_view logical_key, std::string record);
// The size of Wrap(logical_key, record) for a record of `record_size` bytes.
size_t WrappedSize(std::string_view logical_key, size_t record_size);
// Splits a stored value into its logical key and record; false if malformed.
// The views point into `stored_key` and `value`.
bool Split(std::string_view stored_key, std::string_view value, std::string_view* logical_key,
           std::string_view* record);
// The record in `value` if it is `logical_key`'s (stored under
// StoredKey(logical_key)); nullopt if malformed or another key's.
std::optional<std::string_view> Unwrap(std::string_view stored_key, std::string_view value,
                                       std::string_view logical_key);

// The record of `logical_key` in `dbi`, viewing the map (valid as for Dbi::Get).
std::optional<std::string_view> Get(Txn& txn, const Dbi& dbi, std::string_view logical_key);

}  // namespace globusfs::cache::keys
