#include "transfer_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

#include "transfer_listing.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = 1 << 20;
constexpr int kMaxLinkHops = 8;  // recursive_symlinks=copy: linked directories followed in a row

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string HexDigest(EVP_MD_CTX* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(md, digest, &n);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}


int Walk(const fs::path& root, const fs::path& dir, const std::string& prefix, const json& rules,
         const std::string& links, int hops, Tree* t, std::string* bad) {
  int err = 0;
  auto names = SortedNames(dir, &err);
  if (err) {
    *bad = prefix;
    return err;
  }
  for (const auto& name : names) {
    fs::path p = dir / name;
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;  // vanished
    bool link = S_ISLNK(st.st_mode);
    if (link && links == "keep") {
      std::string target(4096, '\0');
      ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
      if (n < 0 || ExcludedByRules(rules, name, false)) continue;
      target.resize(static_cast<size_t>(n));
      t->entries.push_back(TreeEntry{rel, 'l', p, target});
      ++t->symlinks;
      continue;
    }
    if (link && (links == "ignore" || ::stat(p.c_str(), &st) != 0 || !InsideRoot(root, p) ||
                 hops >= kMaxLinkHops)) {
      ++t->symlinks;  // ignored, broken, or leaving the root: not copied
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (ExcludedByRules(rules, name, true)) continue;
      t->entries.push_back(TreeEntry{rel, 'd', p, ""});
      ++t->dirs;
      if (int e = Walk(root, p, rel, rules, links, hops + (link ? 1 : 0), t, bad)) return e;
    } else if (S_ISREG(st.st_mode)) {
      if (ExcludedByRules(rules, name, false)) continue;
      t->entries.push_back(TreeEntry{rel, 'f', p, ""});
      ++t->files;
    }
  }
  return 0;
}

void DeleteExtraUnder(const fs::path& dir, const std::string& prefix, const std::set<std::string>& keep,
                 const json& rules) {
  int err = 0;
  for (const auto& name : SortedNames(dir, &err)) {
    fs::path p = dir / name;
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    bool is_dir = S_ISDIR(st.st_mode);
    if (keep.count(rel)) {
      if (is_dir) DeleteExtraUnder(p, rel, keep, rules);
      continue;
    }
    if (ExcludedByRules(rules, name, is_dir)) continue;
    std::error_code ec;
    fs::remove_all(p, ec);  // never follows symlinks
  }
}

}  // namespace

std::string Sha256File(const fs::path& p, const AbortFn& aborted) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  MdCtx md(EVP_MD_CTX_new());
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(kChunk);
  while (true) {
    if (aborted()) return "";
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "";
    if (n == 0) break;
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
  }
  return HexDigest(md.get());
}


CopyResult CopyIntoPlace(const fs::path& src, const fs::path& dst, bool preserve, bool verify,
                         const AbortFn& aborted) {
  CopyResult r;
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!in || ::fstat(in.get(), &st) != 0) {
    r.err = errno;
    r.source_side = true;
    return r;
  }
  std::string tmp = dst.string() + ".tmp-" + NewToken("", 6);
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!out) {
    r.err = errno;
    return r;
  }
  auto fail = [&](int err, bool source) {
    ::unlink(tmp.c_str());
    r.err = err;
    r.source_side = source;
    return r;
  };
  MdCtx md(verify ? EVP_MD_CTX_new() : nullptr);
  if (md) EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(kChunk);
  while (true) {
    if (aborted()) {
      ::unlink(tmp.c_str());
      r.stopped = true;
      return r;
    }
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno, true);
    if (n == 0) break;
    if (md) EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out.get(), buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return fail(errno, false);
      off += w;
    }
    r.bytes += n;
  }
  if (preserve) {
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ::futimens(out.get(), times);
  }
  if (::close(out.release()) != 0) return fail(errno, false);
  if (md) {
    std::string want = HexDigest(md.get());
    std::string got = Sha256File(tmp, aborted);
    if (aborted()) {
      ::unlink(tmp.c_str());
      r.stopped = true;
      return r;
    }
    r.checksummed = r.bytes;
    if (want != got) {
      ::unlink(tmp.c_str());
      r.mismatch = true;
      return r;
    }
  }
  if (::rename(tmp.c_str(), dst.c_str()) != 0) return fail(errno, false);
  return r;
}

bool ExcludedByRules(const json& rules, const std::string& name, bool is_dir) {
  if (!rules.is_array()) return false;
  for (const auto& rule : rules) {
    json type = rule.value("type", json());
    if (type.is_string() && type != (is_dir ? "dir" : "file")) continue;
    if (!FullGlobMatch(rule.value("name", ""), name)) continue;
    return rule.value("method", "") == "exclude";
  }
  return false;
}

std::vector<std::string> SortedNames(const fs::path& dir, int* err) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  *err = d ? 0 : errno;
  if (!d) return names;
  while (struct dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}





int DeleteTree(const fs::path& dir, DeleteCounts* n, const AbortFn& aborted,
               fs::path* bad) {
  int err = 0;
  for (const auto& name : SortedNames(dir, &err)) {
    if (aborted()) return -1;
    fs::path p = dir / name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (int e = DeleteTree(p, n, aborted, bad)) return e;
    } else if (::unlink(p.c_str()) != 0) {
      *bad = p;
      return errno;
    } else {
      ++(S_ISLNK(st.st_mode) ? n->symlinks : n->files);
    }
  }
  if (err || ::rmdir(dir.c_str()) != 0) {
    *bad = dir;
    return err ? err : errno;
  }
  ++n->dirs;
  return 0;
}

bool HasGlob(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '*' || s[i] == '?' || s[i] == '[') {
      return true;
    }
  }
  return false;
}

std::string UnescapeGlob(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i]);
  }
  return out;
}

int WalkTree(const fs::path& root, const fs::path& dir, const json& rules, const std::string& links,
             Tree* out, std::string* bad) {
  return Walk(root, dir, "", rules, links, 0, out, bad);
}

void DeleteExtra(const fs::path& dir, const std::set<std::string>& keep, const json& rules) {
  DeleteExtraUnder(dir, "", keep, rules);
}

}  // namespace emu
