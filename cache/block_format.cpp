#include "cache/block_format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

namespace globusfs::cache::block_format {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr uint8_t kRecordVersion = 1;
constexpr size_t kRecordSize = 1 + 8 + 4 + 8 + 16;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void PutLe(std::string* s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetLe(std::string_view s, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes && pos + i < s.size(); ++i) {
    v |= uint64_t{static_cast<uint8_t>(s[pos + i])} << (8 * i);
  }
  return v;
}

// An owned file descriptor.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting an error that a deferred write may surface here.
  bool Close() { return ::close(std::exchange(fd_, -1)) == 0; }

 private:
  int fd_;
};

}  // namespace

std::string Hex(const Hash& h) {
  std::string s;
  s.reserve(2 * h.size());
  for (char c : h) {
    s.push_back(kHexDigits[static_cast<uint8_t>(c) >> 4]);
    s.push_back(kHexDigits[static_cast<uint8_t>(c) & 0xF]);
  }
  return s;
}

bool ParseHex(std::string_view s, Hash* h) {
  if (s.size() != 2 * h->size()) return false;
  for (size_t i = 0; i < h->size(); ++i) {
    const int hi = HexValue(s[2 * i]);
    const int lo = HexValue(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*h)[i] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

std::string ShardName(int shard) {
  return {kHexDigits[(shard >> 4) & 0xF], kHexDigits[shard & 0xF]};
}

std::string EncodeRecord(const Record& r) {
  std::string s(1, static_cast<char>(kRecordVersion));
  s.reserve(kRecordSize);
  PutLe(&s, r.length, 8);
  PutLe(&s, r.crc, 4);
  PutLe(&s, r.seq, 8);
  s.append(View(r.file));
  return s;
}

bool DecodeRecord(std::string_view v, Record* r) {
  if (v.size() != kRecordSize || static_cast<uint8_t>(v[0]) != kRecordVersion) return false;
  r->length = GetLe(v, 1, 8);
  r->crc = static_cast<uint32_t>(GetLe(v, 9, 4));
  r->seq = GetLe(v, 13, 8);
  std::memcpy(r->file.data(), v.data() + 21, r->file.size());
  return true;
}

std::string SeqKey(uint64_t seq) {
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(seq >> (8 * (7 - i)));
  return key;
}

uint64_t ParseSeqKey(std::string_view key) {
  uint64_t seq = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) seq = (seq << 8) | static_cast<uint8_t>(key[i]);
  return seq;
}

std::string FilesKey(const Hash& file, const Hash& block) {
  std::string key(View(file));
  key.append(View(block));
  return key;
}

std::string Le64(uint64_t v) {
  std::string s;
  PutLe(&s, v, 8);
  return s;
}

uint64_t ParseLe64(std::string_view s) { return GetLe(s, 0, 8); }

bool ReadBlockFile(const std::filesystem::path& path, uint64_t length, std::string* out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) != length) {
    return false;
  }
  out->resize(length);
  for (size_t done = 0; done < length;) {
    const ssize_t n =
        ::pread(fd.get(), out->data() + done, length - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool WriteNewFile(const std::filesystem::path& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return false;
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return fd.Close();
}

Sha256::Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
  if (md_ == nullptr) throw std::runtime_error("SHA-256 is not available from OpenSSL");
}

Hash Sha256::Truncated(std::string_view input) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, md_.get(), nullptr) != 1 ||
      len < sizeof(Hash)) {
    throw std::runtime_error("SHA-256 failed");
  }
  Hash h;
  std::memcpy(h.data(), digest, h.size());
  return h;
}

}  // namespace globusfs::cache::block_format
