#include "auth/token_store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

namespace globusfs::auth {

using http::ErrorKind;
using http::MakeError;
using json = nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

json ToJson(const StoredLogin& l) {
  json tokens = json::object();
  for (const auto& [rs, t] : l.tokens) {
    tokens[rs] = {{"access_token", t.access_token}, {"refresh_token", t.refresh_token},
                  {"expires_at", t.expires_at},     {"scope", t.scope},
                  {"token_type", t.token_type}};
  }
  json j = {{"version", kFormatVersion}, {"client_id", l.client_id}, {"sub", l.sub},
            {"username", l.username},    {"id_token", l.id_token},   {"tokens", tokens}};
  if (l.templated_client) {
    j["templated_client"] = {{"client_id", l.templated_client->client_id},
                             {"client_secret", l.templated_client->client_secret}};
  }
  return j;
}

StoredLogin FromJson(const json& j) {
  StoredLogin l;
  l.client_id = j.value("client_id", "");
  l.sub = j.value("sub", "");
  l.username = j.value("username", "");
  l.id_token = j.value("id_token", "");
  for (const auto& [rs, t] : j.at("tokens").items()) {
    TokenRecord r;
    r.resource_server = rs;
    r.access_token = t.value("access_token", "");
    r.refresh_token = t.value("refresh_token", "");
    r.expires_at = t.value("expires_at", int64_t{0});
    r.scope = t.value("scope", "");
    r.token_type = t.value("token_type", "Bearer");
    l.tokens[rs] = r;
  }
  if (j.contains("templated_client") && j["templated_client"].is_object()) {
    l.templated_client = ClientCredentials{j["templated_client"].value("client_id", ""),
                                           j["templated_client"].value("client_secret", "")};
  }
  return l;
}

http::Error SysError(const std::string& what, const std::filesystem::path& p) {
  return MakeError(ErrorKind::kConfig, what + " " + p.string() + ": " + std::strerror(errno));
}

}  // namespace

const TokenRecord* StoredLogin::Find(const std::string& resource_server) const {
  auto it = tokens.find(resource_server);
  return it == tokens.end() ? nullptr : &it->second;
}

std::filesystem::path HomeDir() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  // mount.fuse3 with setuid=USER starts globusfs as USER without HOME.
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_dir &&
      *found->pw_dir) {
    return found->pw_dir;
  }
  return "/tmp";
}

std::filesystem::path DefaultConfigDir() {
  if (const char* d = std::getenv("GLOBUSFS_CONFIG_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) {
    return std::filesystem::path(x) / "globusfs";
  }
  return HomeDir() / ".config" / "globusfs";
}

TokenStore::TokenStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

http::Result<StoredLogin> TokenStore::Load() const { return LoadUnlocked(); }

http::Result<StoredLogin> TokenStore::LoadUnlocked() const {
  int fd = ::open(file().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return StoredLogin{};
    return SysError("cannot read", file());
  }
  FdCloser closer(fd);
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) return SysError("cannot read", file());
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("tokens") || !j["tokens"].is_object()) {
    return MakeError(ErrorKind::kConfig,
                     "the token store " + file().string() +
                         " is corrupt; remove it and run 'globusfs-auth login'");
  }
  if (j.value("version", 0) != kFormatVersion) {
    return MakeError(ErrorKind::kConfig, "the token store " + file().string() +
                                             " has an unknown format version; run "
                                             "'globusfs-auth logout --ignore-errors' and log in again");
  }
  try {
    return FromJson(j);
  } catch (const json::exception&) {
    return MakeError(ErrorKind::kConfig, "the token store " + file().string() + " is corrupt");
  }
}

http::Result<int> TokenStore::LockFile() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return MakeError(ErrorKind::kConfig, "cannot create " + dir_.string() + ": " + ec.message());
  ::chmod(dir_.c_str(), 0700);
  auto lock = dir_ / "tokens.lock";
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return SysError("cannot open", lock);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      return SysError("cannot lock", lock);
    }
  }
  return fd;
}

http::Result<void> TokenStore::Update(const std::function<bool(StoredLogin&)>& fn) {
  auto lock = LockFile();
  if (!lock) return lock.error();
  FdCloser closer(*lock);  // closing the descriptor releases the flock
  auto login = LoadUnlocked();
  if (!login) return login.error();
  if (!fn(*login)) return {};
  return WriteLocked(*login);
}

http::Result<void> TokenStore::Remove() {
  auto lock = LockFile();
  if (!lock) return lock.error();
  FdCloser closer(*lock);
  if (::unlink(file().c_str()) != 0 && errno != ENOENT) return SysError("cannot remove", file());
  return {};
}

int64_t TokenStore::Stamp() const {
  struct stat st {};
  if (::stat(file().c_str(), &st) != 0) return 0;
  // A replace (rename) changes the inode even within one mtime tick.
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return mtime_ns ^ (static_cast<int64_t>(st.st_ino) << 20);
}

http::Result<void> TokenStore::WriteLocked(const StoredLogin& login) {
  std::string text = ToJson(login).dump(2) + "\n";
  auto tmp = dir_ / ("tokens.json.tmp." + std::to_string(::getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SysError("cannot write", tmp);
  ::fchmod(fd, 0600);  // whatever the umask
  size_t off = 0;
  while (off < text.size()) {
    ssize_t w = ::write(fd, text.data() + off, text.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return SysError("cannot write", tmp);
    }
    off += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return SysError("cannot sync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file().c_str()) != 0) {
    ::unlink(tmp.c_str());
    return SysError("cannot replace", file());
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace globusfs::auth
