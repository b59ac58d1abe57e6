// globusfs-fsx: an fsx-style exerciser for one file. It performs random
// operations on FILE through ordinary syscalls (pwrite, O_APPEND writes,
// ftruncate, truncate, pread, read, fstat, fsync, close and reopen, and an
// editor's copy-then-rename-over that changes one byte and is read back at
// once), mirrors each one in an in-memory model of the file's bytes, and
// checks every read and size against the model.
//
// Deterministic for a seed: the same seed gives the same operations and
// bytes. On the first mismatch it prints the seed, the op number, the last
// --log-tail ops and a hexdump window of expected vs actual, and exits 1; a
// failed syscall exits 2; a usage error exits 64. At the end it closes the
// file, reopens it and checks it whole once more, prints the model's SHA-256
// and, with --dump PATH, writes the model's bytes there (so a test can
// compare the server's copy).
//
// Single-threaded; written for globusfs's integration tests, not installed.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <utility>

namespace {

struct Options {
  uint64_t seed = 1;
  uint64_t ops = 1000;
  uint64_t max_size = 256 * 1024;
  size_t log_tail = 20;
  std::string dump;
  std::string file;
};

constexpr uint64_t kMaxOpLen = 64 * 1024;
constexpr uint64_t kBlock = 1 << 20;  // globusfs's cache block: edges are worth hitting

// splitmix64: tiny, and the same sequence on every platform and library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }  // [0, n)
  bool OneIn(uint64_t n) { return Below(n) == 0; }

 private:
  uint64_t state_;
};

std::string Hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof(b), "0x%" PRIx64, v);
  return b;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof(b), "%02x", d[i]);
    out += b;
  }
  return out;
}

class Fsx {
 public:
  explicit Fsx(Options o) : o_(std::move(o)), rng_(o_.seed), tmp_(o_.file + ".tmp") {}

  int Run() {
    std::printf("globusfs-fsx: seed %" PRIu64 ", %" PRIu64 " ops, max size %" PRIu64 ", file %s\n", o_.seed, o_.ops,
                o_.max_size, o_.file.c_str());
    Open(O_CREAT | O_TRUNC);
    for (op_ = 1; op_ <= o_.ops; ++op_) Step();
    // Close-to-open: the bytes after the last close are the model's.
    if (::close(fd_) != 0) SysFail("close", o_.file);
    fd_ = -1;
    int fd = ::open(o_.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) SysFail("open (final check)", o_.file);
    Compare("final read after close", 0, ReadAt(fd, 0, model_.size() + 1), model_);
    ::close(fd);
    if (!o_.dump.empty()) {
      int d = ::open(o_.dump.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (d < 0) SysFail("open (--dump)", o_.dump);
      WriteAt(d, 0, model_, o_.dump);
      ::close(d);
    }
    std::printf("globusfs-fsx: %" PRIu64 " ops passed; size %zu sha256 %s\n", o_.ops, model_.size(),
                Sha256Hex(model_).c_str());
    return 0;
  }

 private:
  // ---- the operations ---------------------------------------------------

  void Step() {
    // Weights: writes and reads dominate; the rarer steps change how the
    // file is held (reopen, rename over, sync).
    uint64_t r = rng_.Below(100);
    if (r < 22) return PWrite();
    if (r < 30) return Append();
    if (r < 38) return FTruncate();
    if (r < 42) return TruncatePath();
    if (r < 56) return PRead();
    if (r < 62) return SeekRead();
    if (r < 71) return ReadWhole();
    if (r < 78) return FStat();
    if (r < 83) return FSync();
    if (r < 93) return Reopen();
    return CopyRename();
  }

  void PWrite() {
    uint64_t off = PickOffset();
    uint64_t len = 1 + rng_.Below(std::min(kMaxOpLen, o_.max_size - off));
    std::string data = Bytes(off, len);
    Note("pwrite off=" + Hex(off) + " len=" + Hex(len) + Grow(std::max<uint64_t>(off + len, model_.size())));
    WriteAt(fd_, off, data, o_.file);
    Apply(off, data);
  }

  void Append() {
    if (model_.size() >= o_.max_size) return FTruncate();
    uint64_t len = 1 + rng_.Below(std::min(kMaxOpLen, o_.max_size - model_.size()));
    std::string data = Bytes(model_.size(), len);
    Note("append (own O_APPEND descriptor) len=" + Hex(len) + Grow(model_.size() + len));
    int fd = ::open(o_.file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) SysFail("open O_APPEND", o_.file);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w = ::write(fd, data.data() + done, data.size() - done);
      if (w <= 0) SysFail("write O_APPEND", o_.file);
      done += static_cast<size_t>(w);
    }
    if (::close(fd) != 0) SysFail("close O_APPEND", o_.file);
    Apply(model_.size(), data);
  }

  void FTruncate() {
    uint64_t size = PickSize();
    Note("ftruncate " + Hex(size) + Grow(size));
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) SysFail("ftruncate", o_.file);
    model_.resize(size, '\0');
  }

  void TruncatePath() {
    uint64_t size = PickSize();
    Note("truncate(path) " + Hex(size) + Grow(size));
    if (::truncate(o_.file.c_str(), static_cast<off_t>(size)) != 0) SysFail("truncate", o_.file);
    model_.resize(size, '\0');
  }

  void PRead() {
    uint64_t off = rng_.OneIn(8) ? model_.size() + rng_.Below(64) : rng_.Below(model_.size() + 1);
    uint64_t len = 1 + rng_.Below(kMaxOpLen);
    Note("pread off=" + Hex(off) + " len=" + Hex(len));
    Compare("pread", off, ReadAt(fd_, off, len), Expected(off, len));
  }

  void SeekRead() {
    uint64_t off = rng_.Below(model_.size() + 1);
    uint64_t len = 1 + rng_.Below(kMaxOpLen);
    Note("lseek+read off=" + Hex(off) + " len=" + Hex(len));
    if (::lseek(fd_, static_cast<off_t>(off), SEEK_SET) != static_cast<off_t>(off)) SysFail("lseek", o_.file);
    std::string got;
    char buf[16384];
    while (got.size() < len) {
      ssize_t r = ::read(fd_, buf, std::min<size_t>(sizeof(buf), len - got.size()));
      if (r < 0) SysFail("read", o_.file);
      if (r == 0) break;
      got.append(buf, static_cast<size_t>(r));
    }
    Compare("read", off, got, Expected(off, len));
  }

  void ReadWhole() {
    bool fresh = rng_.OneIn(2);  // a second descriptor, as another program would
    Note(std::string("read whole file through ") + (fresh ? "a new descriptor" : "the open descriptor"));
    int fd = fd_;
    if (fresh && (fd = ::open(o_.file.c_str(), O_RDONLY | O_CLOEXEC)) < 0) SysFail("open O_RDONLY", o_.file);
    std::string got = ReadAt(fd, 0, model_.size() + 4096);
    if (fresh) ::close(fd);
    Compare("whole-file read", 0, got, model_);
  }

  void FStat() {
    Note("fstat");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) SysFail("fstat", o_.file);
    if (static_cast<uint64_t>(st.st_size) != model_.size()) {
      Report("fstat size " + Hex(static_cast<uint64_t>(st.st_size)) + ", expected " + Hex(model_.size()));
      std::exit(1);
    }
  }

  void FSync() {
    Note("fsync");
    if (::fsync(fd_) != 0) SysFail("fsync", o_.file);
  }

  void Reopen() {
    bool trunc = rng_.OneIn(4);
    Note(std::string("close and reopen") + (trunc ? " O_TRUNC" + Grow(0) : ""));
    if (::close(fd_) != 0) SysFail("close", o_.file);
    Open(trunc ? O_TRUNC : 0);
    if (trunc) model_.clear();
  }

  // An editor's save: write the whole new text to FILE.tmp, then rename it
  // over FILE. The new text differs from the old by one byte (same size,
  // same second: the case a size+mtime check cannot see).
  void CopyRename() {
    std::string next = model_;
    if (!next.empty()) {
      uint64_t at = rng_.Below(next.size());
      next[at] = static_cast<char>(static_cast<unsigned char>(next[at]) ^ (1 + rng_.Below(255)));
      Note("copy to .tmp with the byte at " + Hex(at) + " changed, rename over, reopen");
    } else {
      Note("copy (empty) to .tmp, rename over, reopen");
    }
    if (::close(fd_) != 0) SysFail("close", o_.file);
    fd_ = -1;
    int t = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (t < 0) SysFail("open", tmp_);
    WriteAt(t, 0, next, tmp_);
    if (rng_.OneIn(2) && ::fsync(t) != 0) SysFail("fsync", tmp_);
    if (::close(t) != 0) SysFail("close", tmp_);
    if (::rename(tmp_.c_str(), o_.file.c_str()) != 0) SysFail("rename over", o_.file);
    model_ = std::move(next);
    Open(0);
    // As an editor reloading the file: the new text, at once.
    Compare("read right after the rename over", 0, ReadAt(fd_, 0, model_.size() + 4096), model_);
  }

  // ---- helpers ----------------------------------------------------------

  void Open(int extra) {
    fd_ = ::open(o_.file.c_str(), O_RDWR | O_CLOEXEC | extra, 0644);
    if (fd_ < 0) SysFail("open", o_.file);
  }

  // Offsets: often at or just past the end (appends, holes), sometimes at
  // a 1 MiB block edge, mostly inside the data, else anywhere below max_size.
  uint64_t PickOffset() {
    uint64_t off;
    uint64_t kind = rng_.Below(8);
    if (kind < 2) {
      off = model_.size() + rng_.Below(4096);
    } else if (kind == 2 && o_.max_size > kBlock) {
      uint64_t edge = kBlock * (1 + rng_.Below(o_.max_size / kBlock));
      off = edge - 64 + rng_.Below(128);
    } else if (kind < 6 && !model_.empty()) {
      off = rng_.Below(model_.size());
    } else {
      off = rng_.Below(o_.max_size);
    }
    return std::min(off, o_.max_size - 1);
  }

  uint64_t PickSize() {
    if (rng_.OneIn(8)) return 0;
    if (rng_.OneIn(3) && !model_.empty()) return rng_.Below(model_.size());  // shrink
    return rng_.Below(o_.max_size + 1);
  }

  // The bytes an op writes: never zero (so holes stand out), and telling
  // which op wrote them.
  std::string Bytes(uint64_t off, uint64_t len) const {
    std::string s(len, '\0');
    for (uint64_t i = 0; i < len; ++i) s[i] = static_cast<char>(1 + ((op_ * 37 + off + i) % 251));
    return s;
  }

  // " (size OLD -> NEW)" when an op changes the size.
  std::string Grow(uint64_t new_size) const {
    if (new_size == model_.size()) return "";
    return " (size " + Hex(model_.size()) + " -> " + Hex(new_size) + ")";
  }

  void Apply(uint64_t off, const std::string& data) {
    if (model_.size() < off + data.size()) model_.resize(off + data.size(), '\0');
    model_.replace(off, data.size(), data);
  }

  std::string Expected(uint64_t off, uint64_t len) const {
    return off >= model_.size() ? std::string() : model_.substr(off, len);
  }

  void WriteAt(int fd, uint64_t off, const std::string& data, const std::string& path) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(off + done));
      if (w <= 0) SysFail("pwrite", path);
      done += static_cast<size_t>(w);
    }
  }

  std::string ReadAt(int fd, uint64_t off, uint64_t len) {
    std::string out;
    char buf[65536];
    while (out.size() < len) {
      ssize_t r = ::pread(fd, buf, std::min<size_t>(sizeof(buf), len - out.size()),
                          static_cast<off_t>(off + out.size()));
      if (r < 0) SysFail("pread", o_.file);
      if (r == 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }

  void Note(std::string what) {
    log_.push_back("op " + std::to_string(op_) + ": " + what);
    while (log_.size() > std::max<size_t>(o_.log_tail, 1)) log_.pop_front();
  }

  void Report(const std::string& what) {
    std::fprintf(stderr, "globusfs-fsx: FAILED at op %" PRIu64 " (seed %" PRIu64 ", file %s): %s\n", op_, o_.seed,
                 o_.file.c_str(), what.c_str());
    std::fprintf(stderr, "last %zu ops:\n", log_.size());
    for (const auto& l : log_) std::fprintf(stderr, "  %s\n", l.c_str());
    std::fprintf(stderr, "rerun: globusfs-fsx --seed %" PRIu64 " --ops %" PRIu64 " --max-size %" PRIu64 " FILE\n",
                 o_.seed, o_.ops, o_.max_size);
  }

  [[noreturn]] void SysFail(const char* call, const std::string& path) {
    int e = errno;
    Report(std::string(call) + " " + path + ": " + std::strerror(e) + " (errno " + std::to_string(e) + ")");
    std::exit(2);
  }

  // `got` read at file offset `off` must equal `want`.
  void Compare(const char* what, uint64_t off, const std::string& got, const std::string& want) {
    if (got == want) return;
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    Report(std::string(what) + " at " + Hex(off) + ": expected " + Hex(want.size()) + " bytes, got " +
           Hex(got.size()) + "; first difference at file offset " + Hex(off + i) +
           (i < want.size() && i < got.size() ? "" : " (a length difference)"));
    HexWindow(off, i, want, got);
    std::exit(1);
  }

  // 16 bytes a line around the first difference; "--" where a side has no
  // byte; a '!' marks the lines that differ.
  static void HexWindow(uint64_t base, size_t diff, const std::string& want, const std::string& got) {
    size_t start = diff >= 48 ? (diff - 48) / 16 * 16 : 0;
    size_t end = std::min(std::max(want.size(), got.size()), start + 128);
    std::fprintf(stderr, "%-10s  %-47s   %-47s\n", "offset", "expected", "actual");
    for (size_t line = start; line < end; line += 16) {
      std::string e, a;
      bool differs = false;
      for (size_t j = line; j < line + 16; ++j) {
        char b[4];
        if (j < want.size()) std::snprintf(b, sizeof(b), "%02x ", static_cast<unsigned char>(want[j]));
        e += j < want.size() ? b : "-- ";
        if (j < got.size()) std::snprintf(b, sizeof(b), "%02x ", static_cast<unsigned char>(got[j]));
        a += j < got.size() ? b : "-- ";
        differs |= (j < want.size()) != (j < got.size()) || (j < want.size() && want[j] != got[j]);
      }
      std::fprintf(stderr, "%010" PRIx64 "  %s %c %s\n", base + line, e.c_str(), differs ? '!' : ' ', a.c_str());
    }
  }

  Options o_;
  Rng rng_;
  std::string tmp_;
  std::string model_;
  int fd_ = -1;
  uint64_t op_ = 0;
  std::deque<std::string> log_;
};

bool ParseU64(const char* s, uint64_t* out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 0);
  if (errno || *end) return false;
  *out = v;
  return true;
}

int Usage(const char* why) {
  std::fprintf(stderr,
               "globusfs-fsx: %s\nusage: globusfs-fsx [--seed N] [--ops N] [--max-size BYTES] [--log-tail N] "
               "[--dump PATH] FILE\n",
               why);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    uint64_t n = 0;
    if (a == "--seed" || a == "--ops" || a == "--max-size" || a == "--log-tail") {
      if (!ParseU64(v, &n)) return Usage((a + " wants a number").c_str());
      ++i;
      if (a == "--seed") o.seed = n;
      if (a == "--ops") o.ops = n;
      if (a == "--max-size") o.max_size = n;
      if (a == "--log-tail") o.log_tail = static_cast<size_t>(n);
    } else if (a == "--dump") {
      if (!v) return Usage("--dump wants a path");
      o.dump = v;
      ++i;
    } else if (a == "-h" || a == "--help") {
      Usage("an fsx-style file exerciser");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return Usage(("unknown option " + a).c_str());
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      return Usage("give exactly one FILE");
    }
  }
  if (o.file.empty()) return Usage("give a FILE");
  if (o.max_size < 2) return Usage("--max-size must be at least 2");
  return Fsx(std::move(o)).Run();
}
