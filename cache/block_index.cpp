#include "cache/block_index.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <system_error>

namespace globusfs::cache::block_index {

using namespace block_format;  // NOLINT: the index is made of its records

std::vector<LruEntry> OldestBlocks(Txn& txn, const Dbis& dbis, std::string_view after, size_t max) {
  std::vector<LruEntry> out;
  Cursor c = Cursor::Open(txn, dbis.lru);
  bool ok = after.empty() ? c.First() : c.SeekAtLeast(after);
  if (ok && !after.empty() && c.key() == after) ok = c.Next();
  for (; ok && out.size() < max; ok = c.Next()) {
    LruEntry e;
    e.seq_key = c.key();
    if (c.value().size() != e.hash.size()) continue;
    std::memcpy(e.hash.data(), c.value().data(), e.hash.size());
    Record r;
    const std::optional<std::string_view> v = dbis.blocks.Get(txn, View(e.hash));
    if (!v || !DecodeRecord(*v, &r) || SeqKey(r.seq) != e.seq_key) continue;  // stray
    e.cost = Cost(r.length);
    out.push_back(std::move(e));
  }
  return out;
}

IndexOps::IndexOps(Txn& txn, const Dbis& dbis) : txn_(txn), dbis_(dbis) {
  if (auto v = dbis_.meta.Get(txn_, kBytesKey)) bytes_ = ParseLe64(*v);
}

void IndexOps::Finish() { dbis_.meta.Put(txn_, kBytesKey, Le64(bytes_)); }

std::optional<Record> IndexOps::Find(const Hash& h, bool* present) {
  const std::optional<std::string_view> v = dbis_.blocks.Get(txn_, View(h));
  if (present != nullptr) *present = v.has_value();
  Record r;
  if (!v || !DecodeRecord(*v, &r)) return std::nullopt;
  return r;
}

void IndexOps::Insert(const Hash& h, const Record& r) {
  Remove(h);
  dbis_.blocks.Put(txn_, View(h), EncodeRecord(r));
  dbis_.lru.Put(txn_, SeqKey(r.seq), View(h));
  dbis_.files.Put(txn_, FilesKey(r.file, h), {});
  bytes_ += Cost(r.length);
}

bool IndexOps::Remove(const Hash& h) {
  bool present = false;
  if (const std::optional<Record> r = Find(h, &present)) {
    dbis_.lru.Del(txn_, SeqKey(r->seq));
    dbis_.files.Del(txn_, FilesKey(r->file, h));
    bytes_ -= std::min(bytes_, Cost(r->length));
  }
  // An undecodable record leaves stray lru/files entries: EvictTo and
  // BlocksOf skip those.
  return present && dbis_.blocks.Del(txn_, View(h));
}

void IndexOps::ApplyTouches(const Touches& touches) {
  for (const auto& [h, seq] : touches) {
    std::optional<Record> r = Find(h);
    if (!r || r->seq >= seq) continue;  // gone, or put again since the read
    dbis_.lru.Del(txn_, SeqKey(r->seq));
    r->seq = seq;
    dbis_.blocks.Put(txn_, View(h), EncodeRecord(*r));
    dbis_.lru.Put(txn_, SeqKey(seq), View(h));
  }
}

void IndexOps::EvictTo(uint64_t limit, std::vector<LruEntry>* victims) {
  while (bytes_ > limit) {
    std::string seq_key;
    Hash h{};
    {
      Cursor c = Cursor::Open(txn_, dbis_.lru);
      if (!c.First()) {
        bytes_ = 0;  // nothing left: the count had drifted
        break;
      }
      seq_key = c.key();
      if (c.value().size() == h.size()) std::memcpy(h.data(), c.value().data(), h.size());
    }
    const std::optional<Record> r = Find(h);
    if (r && SeqKey(r->seq) == seq_key) {
      Remove(h);  // also deletes seq_key
      victims->push_back(LruEntry{h, Cost(r->length), std::move(seq_key)});
    } else {
      dbis_.lru.Del(txn_, seq_key);  // stray entry
    }
  }
}

std::vector<Hash> IndexOps::BlocksOf(const Hash& file) {
  std::vector<Hash> out;
  std::vector<std::string> stray;
  {
    Cursor c = Cursor::Open(txn_, dbis_.files);
    for (bool ok = c.SeekAtLeast(View(file)); ok && c.key().starts_with(View(file));
         ok = c.Next()) {
      Hash h{};
      if (c.key().size() == 2 * h.size()) {
        std::memcpy(h.data(), c.key().data() + h.size(), h.size());
        out.push_back(h);
      } else {
        stray.emplace_back(c.key());
      }
    }
  }
  for (const std::string& key : stray) dbis_.files.Del(txn_, key);
  return out;
}

void SweepOrphans(Env& env, const Dbis& dbis, const std::filesystem::path& blocks_dir,
                  uint64_t budget) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> temps;
  for (fs::directory_iterator it(blocks_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(kTempPrefix)) temps.push_back(it->path());
  }
  for (const fs::path& p : temps) fs::remove(p, ec);

  std::optional<int> start;
  {
    Txn txn = env.BeginRead();
    if (auto v = dbis.meta.Get(txn, kSweepKey)) {
      start = static_cast<int>(std::min<uint64_t>(ParseLe64(*v), kShards));
    }
  }
  if (!start) return;
  uint64_t examined = 0;
  int shard = *start;
  for (; shard < kShards && (shard == *start || examined < budget); ++shard) {
    const std::string name = ShardName(shard);
    const fs::path dir = blocks_dir / name;
    std::vector<std::string> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      files.push_back(it->path().filename().string());
    }
    examined += files.size();
    std::vector<std::string> orphans;
    {
      Txn txn = env.BeginRead();
      for (const std::string& f : files) {
        Hash h;
        if (!f.starts_with(name) || !ParseHex(f, &h) || !dbis.blocks.Get(txn, View(h))) {
          orphans.push_back(f);
        }
      }
    }
    for (const std::string& f : orphans) fs::remove(dir / f, ec);
  }
  env.Write([&](Txn& txn) {
    if (shard >= kShards) {
      dbis.meta.Del(txn, kSweepKey);
    } else {
      dbis.meta.Put(txn, kSweepKey, Le64(static_cast<uint64_t>(shard)));
    }
  });
}

}  // namespace globusfs::cache::block_index
