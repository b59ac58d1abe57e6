#include "cache/metadata_codec.h"

#include <cstring>
#include <limits>

namespace globusfs::cache::codec {
namespace {

constexpr uint8_t kMaxEntryType = static_cast<uint8_t>(EntryType::kOther);

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Appends to a string whose capacity was reserved by the caller.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void Fixed(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_->push_back(static_cast<char>(v >> (8 * i)));
  }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_->append(s);
  }

 private:
  std::string* out_;
};

// Reads from a view; every read checks bounds and sets ok() false on failure.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* pos() const { return p_; }

  uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(*p_++);
  }
  uint64_t Fixed(int bytes) {
    if (!Need(bytes)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(p_[i])} << (8 * i);
    p_ += bytes;
    return v;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Need(1)) return 0;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;  // more than 10 bytes
    return 0;
  }
  std::string_view Bytes() {
    const uint64_t n = Varint();
    if (!ok_ || !Need(n)) return {};
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }

 private:
  bool Need(uint64_t n) {
    if (!ok_ || n > remaining()) ok_ = false;
    return ok_;
  }

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

size_t EntrySize(const FileEntry& e) {
  return VarintSize(e.name.size()) + e.name.size() + 1 + VarintSize(e.size) +
         VarintSize(ZigZag(e.mtime)) + VarintSize(e.mode) + VarintSize(e.link_target.size()) +
         e.link_target.size();
}

void WriteEntry(Writer& w, const FileEntry& e) {
  w.Bytes(e.name);
  w.U8(static_cast<uint8_t>(e.type));
  w.Varint(e.size);
  w.Varint(ZigZag(e.mtime));
  w.Varint(e.mode);
  w.Bytes(e.link_target);
}

bool ReadEntry(Reader& r, FileEntry* e) {
  const std::string_view name = r.Bytes();
  const uint8_t type = r.U8();
  const uint64_t size = r.Varint();
  const int64_t mtime = UnZigZag(r.Varint());
  const uint64_t mode = r.Varint();
  const std::string_view link = r.Bytes();
  if (!r.ok() || type > kMaxEntryType || mode > std::numeric_limits<uint32_t>::max()) return false;
  e->name.assign(name);
  e->type = static_cast<EntryType>(type);
  e->size = size;
  e->mtime = mtime;
  e->mode = static_cast<uint32_t>(mode);
  e->link_target.assign(link);
  return true;
}

void WriteHeader(Writer& w, RecordKind kind, int64_t fetched_at_ms) {
  w.U8(kFormatVersion);
  w.U8(static_cast<uint8_t>(kind));
  w.Fixed(0, 8);  // put sequence, set by SetSeq
  w.Fixed(static_cast<uint64_t>(fetched_at_ms), 8);
}

// Reads the header and checks its kind; leaves `r` at the payload.
bool ReadHeader(Reader& r, RecordKind want, RecordHeader* header) {
  RecordHeader h;
  const uint8_t version = r.U8();
  const uint8_t kind = r.U8();
  h.seq = r.Fixed(8);
  h.fetched_at_ms = static_cast<int64_t>(r.Fixed(8));
  if (!r.ok() || version != kFormatVersion || kind != static_cast<uint8_t>(want)) return false;
  h.kind = want;
  if (header != nullptr) *header = h;
  return true;
}

}  // namespace

std::string MakeKey(std::string_view coll, std::string_view path) {
  std::string key;
  key.reserve(coll.size() + 1 + path.size());
  key.append(coll);
  key.push_back('\0');
  key.append(path);
  return key;
}

std::string DescendantPrefix(std::string_view coll, std::string_view path) {
  std::string prefix = MakeKey(coll, path);
  if (path != "/") prefix.push_back('/');
  return prefix;
}

std::string_view ParentPath(std::string_view path) {
  if (path.empty() || path == "/") return {};
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsBelow(std::string_view path, std::string_view dir) {
  if (dir == "/") return path.size() > 1 && path.front() == '/';
  return path.size() > dir.size() + 1 && path.starts_with(dir) && path[dir.size()] == '/';
}

bool DecodeHeader(std::string_view record, RecordHeader* out) {
  Reader r(record);
  const uint8_t version = r.U8();
  const uint8_t kind = r.U8();
  out->seq = r.Fixed(8);
  out->fetched_at_ms = static_cast<int64_t>(r.Fixed(8));
  if (!r.ok() || version != kFormatVersion || kind < 1 ||
      kind > static_cast<uint8_t>(RecordKind::kTimes)) {
    return false;
  }
  out->kind = static_cast<RecordKind>(kind);
  return true;
}

void SetSeq(std::string* record, uint64_t seq) {
  for (int i = 0; i < 8; ++i) (*record)[2 + i] = static_cast<char>(seq >> (8 * i));
}

std::string EncodeListing(int64_t fetched_at_ms, const std::vector<FileEntry>& entries) {
  size_t body = 0;
  uint64_t subdirs = 0;
  for (const FileEntry& e : entries) {
    body += EntrySize(e);
    if (e.type == EntryType::kDir) ++subdirs;
  }
  std::string out;
  out.reserve(kListingHeaderSize + 4 * entries.size() + body);
  Writer w(&out);
  WriteHeader(w, RecordKind::kListing, fetched_at_ms);
  w.Fixed(entries.size(), 4);
  w.Fixed(subdirs, 4);
  uint64_t offset = 0;
  for (const FileEntry& e : entries) {
    w.Fixed(offset, 4);
    offset += EntrySize(e);
  }
  for (const FileEntry& e : entries) WriteEntry(w, e);
  return out;
}

bool DecodeListing(std::string_view record, Listing* out) {
  Reader r(record);
  RecordHeader h;
  if (!ReadHeader(r, RecordKind::kListing, &h)) return false;
  const uint64_t count = r.Fixed(4);
  const uint64_t subdirs = r.Fixed(4);
  if (!r.ok() || count * 4 > r.remaining()) return false;
  Reader entries(record.substr(kListingHeaderSize + 4 * count));
  out->fetched_at_ms = h.fetched_at_ms;
  out->entries.clear();
  out->entries.resize(count);
  uint64_t dirs = 0;
  for (FileEntry& e : out->entries) {
    if (!ReadEntry(entries, &e)) return false;
    if (e.type == EntryType::kDir) ++dirs;
  }
  return entries.remaining() == 0 && dirs == subdirs;
}

bool ListingCounts(std::string_view record, uint32_t* entries, uint32_t* subdirs) {
  Reader r(record);
  if (!ReadHeader(r, RecordKind::kListing, nullptr)) return false;
  const uint64_t count = r.Fixed(4);
  const uint64_t dirs = r.Fixed(4);
  if (!r.ok() || count * 4 > r.remaining() || dirs > count) return false;
  *entries = static_cast<uint32_t>(count);
  *subdirs = static_cast<uint32_t>(dirs);
  return true;
}

Find FindInListing(std::string_view record, std::string_view name, FileEntry* out) {
  Reader r(record);
  if (!ReadHeader(r, RecordKind::kListing, nullptr)) return Find::kCorrupt;
  const uint64_t count = r.Fixed(4);
  r.Fixed(4);  // subdirectories
  if (!r.ok() || count * 4 > r.remaining()) return Find::kCorrupt;
  const std::string_view offsets = record.substr(kListingHeaderSize, 4 * count);
  const std::string_view area = record.substr(kListingHeaderSize + 4 * count);
  auto entry_at = [&](uint64_t i) -> std::string_view {
    Reader o(offsets.substr(4 * i, 4));
    const uint64_t offset = o.Fixed(4);
    return offset <= area.size() ? area.substr(offset) : std::string_view();
  };
  uint64_t lo = 0;
  uint64_t hi = count;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    Reader e(entry_at(mid));
    const std::string_view mid_name = e.Bytes();
    if (!e.ok()) return Find::kCorrupt;
    const int cmp = mid_name.compare(name);
    if (cmp == 0) {
      Reader full(entry_at(mid));
      return ReadEntry(full, out) ? Find::kFound : Find::kCorrupt;
    }
    if (cmp < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return Find::kAbsent;
}

std::string EncodeAttr(int64_t fetched_at_ms, const FileEntry& entry) {
  std::string out;
  out.reserve(kHeaderSize + EntrySize(entry));
  Writer w(&out);
  WriteHeader(w, RecordKind::kAttr, fetched_at_ms);
  WriteEntry(w, entry);
  return out;
}

std::string EncodeNegative(int64_t fetched_at_ms) {
  std::string out;
  out.reserve(kHeaderSize);
  Writer w(&out);
  WriteHeader(w, RecordKind::kNegative, fetched_at_ms);
  return out;
}

bool DecodeAttr(std::string_view record, FileEntry* out) {
  Reader r(record);
  if (!ReadHeader(r, RecordKind::kAttr, nullptr)) return false;
  return ReadEntry(r, out) && r.remaining() == 0;
}

std::string EncodeDirChange(int64_t changed_at_ms) {
  std::string out;
  out.reserve(kHeaderSize);
  Writer w(&out);
  WriteHeader(w, RecordKind::kDirChange, changed_at_ms);
  return out;
}

bool DecodeDirChange(std::string_view record, int64_t* changed_at_ms) {
  Reader r(record);
  RecordHeader h;
  if (!ReadHeader(r, RecordKind::kDirChange, &h) || r.remaining() != 0) return false;
  *changed_at_ms = h.fetched_at_ms;
  return true;
}

std::string EncodeVersion(const ContentVersion& version) {
  std::string out;
  out.reserve(kHeaderSize + 33);
  Writer w(&out);
  WriteHeader(w, RecordKind::kVersion, 0);
  w.Fixed(version.id, 8);
  w.Fixed(version.size, 8);
  w.Fixed(static_cast<uint64_t>(version.mtime), 8);
  w.U8(version.settled ? 1 : 0);
  w.Fixed(version.session, 8);
  return out;
}

bool DecodeVersion(std::string_view record, ContentVersion* out) {
  Reader r(record);
  if (!ReadHeader(r, RecordKind::kVersion, nullptr)) return false;
  ContentVersion v;
  v.id = r.Fixed(8);
  v.size = r.Fixed(8);
  v.mtime = static_cast<int64_t>(r.Fixed(8));
  const uint8_t settled = r.U8();
  v.session = r.Fixed(8);
  if (!r.ok() || r.remaining() != 0 || settled > 1) return false;
  v.settled = settled == 1;
  *out = v;
  return true;
}

std::string EncodeTimes(const UserTimes& times) {
  std::string out;
  out.reserve(kHeaderSize + 40);
  Writer w(&out);
  WriteHeader(w, RecordKind::kTimes, 0);
  w.Fixed(static_cast<uint64_t>(times.atime_s), 8);
  w.Fixed(times.atime_ns, 4);
  w.Fixed(static_cast<uint64_t>(times.mtime_s), 8);
  w.Fixed(times.mtime_ns, 4);
  w.Fixed(times.server_size, 8);
  w.Fixed(static_cast<uint64_t>(times.server_mtime), 8);
  return out;
}

bool DecodeTimes(std::string_view record, UserTimes* out) {
  Reader r(record);
  if (!ReadHeader(r, RecordKind::kTimes, nullptr)) return false;
  UserTimes t;
  t.atime_s = static_cast<int64_t>(r.Fixed(8));
  t.atime_ns = static_cast<uint32_t>(r.Fixed(4));
  t.mtime_s = static_cast<int64_t>(r.Fixed(8));
  t.mtime_ns = static_cast<uint32_t>(r.Fixed(4));
  t.server_size = r.Fixed(8);
  t.server_mtime = static_cast<int64_t>(r.Fixed(8));
  if (!r.ok() || r.remaining() != 0 || t.atime_ns > 999999999 || t.mtime_ns > 999999999) return false;
  *out = t;
  return true;
}

}  // namespace globusfs::cache::codec
