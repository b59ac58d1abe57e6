#include "cache/metadata_write_ops.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "cache/metadata_keys.h"

namespace globusfs::cache {
namespace {

std::string SeqKey(uint64_t seq) {  // big-endian, so the age index sorts by seq
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(seq >> (8 * (7 - i)));
  return key;
}

uint64_t ParseSeqKey(std::string_view key) {
  uint64_t seq = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) seq = (seq << 8) | static_cast<uint8_t>(key[i]);
  return seq;
}

}  // namespace

std::string Le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

uint64_t ParseLe64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) {
    v |= uint64_t{static_cast<uint8_t>(s[i])} << (8 * i);
  }
  return v;
}

bool Fresh(int64_t at_ms, int64_t now_ms, int64_t ttl_ms) {
  if (ttl_ms <= 0) return false;
  // Distance in unsigned arithmetic: no overflow for any pair of int64.
  const uint64_t distance = now_ms >= at_ms
                                ? static_cast<uint64_t>(now_ms) - static_cast<uint64_t>(at_ms)
                                : static_cast<uint64_t>(at_ms) - static_cast<uint64_t>(now_ms);
  return distance < static_cast<uint64_t>(ttl_ms);
}

MetadataStore::WriteOps::WriteOps(Txn& txn, const Dbis& dbis) : txn_(txn), dbis_(dbis) {
  if (auto v = dbis_.meta.Get(txn_, kBytesKey)) bytes_ = ParseLe64(*v);
  Cursor c = Cursor::Open(txn_, dbis_.age);
  next_seq_ = c.Last() ? ParseSeqKey(c.key()) + 1 : 1;
}

void MetadataStore::WriteOps::Finish() { dbis_.meta.Put(txn_, kBytesKey, Le64(bytes_)); }

std::optional<std::string_view> MetadataStore::WriteOps::Get(Table t, std::string_view key) {
  return keys::Get(txn_, Db(t), key);
}

void MetadataStore::WriteOps::Put(Table t, std::string_view key, std::string record) {
  const std::string stored = keys::StoredKey(key);
  DeleteStored(t, stored);
  codec::SetSeq(&record, next_seq_);
  const std::string value = keys::Wrap(key, std::move(record));
  Db(t).Put(txn_, stored, value);
  std::string age_value(1, static_cast<char>(t));
  age_value += stored;
  dbis_.age.Put(txn_, SeqKey(next_seq_), age_value);
  ++next_seq_;
  bytes_ += Cost(stored.size(), value.size());
}

bool MetadataStore::WriteOps::Delete(Table t, std::string_view key) {
  // Whatever record holds this stored key goes: a put would replace it too.
  return DeleteStored(t, keys::StoredKey(key));
}

bool MetadataStore::WriteOps::DeleteStored(Table t, std::string_view stored_key) {
  const std::optional<std::string_view> old = Db(t).Get(txn_, stored_key);
  if (!old) return false;
  codec::RecordHeader h;
  if (codec::DecodeHeader(*old, &h)) dbis_.age.Del(txn_, SeqKey(h.seq));
  bytes_ -= std::min(bytes_, Cost(stored_key.size(), old->size()));
  Db(t).Del(txn_, stored_key);
  return true;
}

void MetadataStore::WriteOps::DeleteTree(std::span<const Table> tables, std::string_view coll,
                                         std::string_view path, bool include_self) {
  const std::string self = codec::MakeKey(coll, path);
  for (Table t : tables) {
    for (const Found& f : Collect(t, coll, path, /*with_records=*/false)) {
      if (include_self || f.logical_key != self) DeleteStored(t, f.stored_key);
    }
  }
}

void MetadataStore::WriteOps::MoveTree(std::span<const Table> tables, std::string_view coll,
                                       std::string_view from, std::string_view to) {
  const std::string from_key = codec::MakeKey(coll, from);
  const std::string to_key = codec::MakeKey(coll, to);
  for (Table t : tables) {
    std::vector<Found> records = Collect(t, coll, from, /*with_records=*/true);
    for (const Found& f : records) DeleteStored(t, f.stored_key);
    for (Found& f : records) {
      if (f.logical_key.empty()) continue;  // malformed: only deleted
      Put(t, to_key + f.logical_key.substr(from_key.size()), std::move(f.record));
    }
  }
}

void MetadataStore::WriteOps::NoteDirChange(std::string_view coll, std::string_view dir,
                                            int64_t now_ms, int64_t ttl_ms) {
  if (dir.empty()) return;  // the root's parent
  const std::string key = codec::MakeKey(coll, dir);
  int64_t recorded = 0;
  if (auto v = Get(Table::kChanges, key); v && codec::DecodeDirChange(*v, &recorded) &&
                                          recorded > now_ms &&
                                          cache::Fresh(recorded, now_ms, ttl_ms)) {
    return;
  }
  Put(Table::kChanges, key, codec::EncodeDirChange(now_ms));
}

void MetadataStore::WriteOps::EvictTo(uint64_t limit) {
  while (bytes_ > limit) {
    std::string seq_key;
    std::string age_value;
    {
      Cursor c = Cursor::Open(txn_, dbis_.age);
      if (!c.First()) {
        bytes_ = 0;  // nothing left to evict: the count had drifted
        return;
      }
      seq_key = c.key();
      age_value = c.value();
    }
    const uint8_t tag = age_value.empty() ? 0xff : static_cast<uint8_t>(age_value[0]);
    const bool known = tag < std::size(kAllTables);
    const Table t = known ? static_cast<Table>(tag) : Table::kListings;
    const std::string stored = age_value.empty() ? std::string() : age_value.substr(1);
    const std::optional<std::string_view> v =
        known ? Db(t).Get(txn_, stored) : std::optional<std::string_view>();
    codec::RecordHeader h;
    if (v && codec::DecodeHeader(*v, &h) && h.seq == ParseSeqKey(seq_key)) {
      DeleteStored(t, stored);  // also deletes seq_key
    } else {
      dbis_.age.Del(txn_, seq_key);  // orphaned age entry
    }
  }
}

const Dbi& MetadataStore::WriteOps::Db(Table t) const {
  switch (t) {
    case Table::kListings:
      return dbis_.listings;
    case Table::kEntries:
      return dbis_.entries;
    case Table::kChanges:
      return dbis_.changes;
    case Table::kVersions:
      return dbis_.versions;
    case Table::kTimes:
      return dbis_.times;
  }
  return dbis_.entries;  // not reached: every Table is handled above
}

std::vector<MetadataStore::WriteOps::Found> MetadataStore::WriteOps::Collect(Table t,
                                                                             std::string_view coll,
                                                                             std::string_view path,
                                                                             bool with_records) {
  std::vector<Found> out;
  const std::string self = codec::MakeKey(coll, path);
  const std::string prefix = codec::DescendantPrefix(coll, path);
  if (self.size() < prefix.size()) {  // for "/" the prefix scan covers the root
    const std::string stored = keys::StoredKey(self);
    if (auto v = Db(t).Get(txn_, stored)) {
      if (auto record = keys::Unwrap(stored, *v, self)) {
        out.push_back({stored, self, with_records ? std::string(*record) : std::string()});
      }
    }
  }
  // Keys longer than keys::kInlineMax share only their first kInlineMax
  // bytes with the prefix: check each candidate's logical key.
  const std::string_view scan = keys::ScanPrefix(prefix);
  Cursor c = Cursor::Open(txn_, Db(t));
  for (bool ok = c.SeekAtLeast(scan); ok && c.key().starts_with(scan); ok = c.Next()) {
    std::string_view logical;
    std::string_view record;
    if (!keys::Split(c.key(), c.value(), &logical, &record)) {
      out.push_back({std::string(c.key()), std::string(), std::string()});
    } else if (logical.starts_with(prefix)) {
      out.push_back({std::string(c.key()), std::string(logical),
                     with_records ? std::string(record) : std::string()});
    }
  }
  return out;
}

}  // namespace globusfs::cache
