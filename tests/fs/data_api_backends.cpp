#include "tests/fs/data_api_backends.h"

#include <openssl/evp.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace globusfs::fs::contract {
namespace {

namespace stdfs = std::filesystem;

struct SharedEmulator {
  std::unique_ptr<testing::EmulatorProcess> emu;
  testing::LoginResult login;
};

std::unique_ptr<SharedEmulator>& Shared() {
  static std::unique_ptr<SharedEmulator> shared;
  return shared;
}

SharedEmulator& EnsureEmulator() {
  auto& shared = Shared();
  if (!shared) {
    auto fresh = std::make_unique<SharedEmulator>();
    fresh->emu = testing::EmulatorProcess::Start();
    fresh->login = testing::Login(*fresh->emu, testing::FullScopes(*fresh->emu, {"alpha", "beta"}));
    shared = std::move(fresh);
  }
  return *shared;
}

// globus-emulator bug (reported, not fixed here): an error answer to a HEAD
// (404, 401, 400) carries its JSON body although a HEAD answer has none, and
// the connection is kept alive. curl reads no body for a HEAD, so the next
// request on that pooled connection reads the stale JSON as its status line
// ("Received HTTP/0.9 when not allowed"). Until the emulator is fixed, the
// contract suite sends each Head on a connection of its own;
// DataClientEmulator.AMissingHeadDoesNotSpoilTheConnection shows the bug.
class HeadOnFreshConnection final : public DataApi {
 public:
  HeadOnFreshConnection(DataApi& inner, testing::EmulatorProcess& emu,
                        DataClient::AuthorizerFor authorizer_for)
      : inner_(inner), emu_(emu), authorizer_for_(std::move(authorizer_for)) {}

  http::Result<void> ReadRange(const DataTarget& target, const std::string& path, uint64_t offset,
                               uint64_t length, std::string* out) override {
    return inner_.ReadRange(target, path, offset, length, out);
  }
  http::Result<DataObjectInfo> Head(const DataTarget& target, const std::string& path) override {
    auto http = EmulatorHttp(emu_);
    return DataClient(*http, authorizer_for_).Head(target, path);
  }
  http::Result<void> Upload(const DataTarget& target, const std::string& path,
                            const std::filesystem::path& local_file, uint64_t size) override {
    return inner_.Upload(target, path, local_file, size);
  }

 private:
  DataApi& inner_;
  testing::EmulatorProcess& emu_;
  const DataClient::AuthorizerFor authorizer_for_;
};

}  // namespace

// --- FakeDataBackend -----------------------------------------------------------

FakeDataBackend::FakeDataBackend() {
  for (const char* name : {"alpha", "beta"}) {
    ids_[name] = testing::RandomUuid();
    fake_.AddCollection(ids_[name]);
  }
}

DataTarget FakeDataBackend::Target(const std::string& coll) {
  return DataTarget{ids_.at(coll), "https://fake.invalid/" + ids_.at(coll)};
}

void FakeDataBackend::MakeFile(const std::string& coll, const std::string& path,
                               const std::string& content, std::optional<int64_t> mtime) {
  fake_.SetFile(ids_.at(coll), path, content, mtime.value_or(std::time(nullptr)));
}

void FakeDataBackend::MakeDir(const std::string& coll, const std::string& path) {
  fake_.MakeDir(ids_.at(coll), path);
}

std::optional<std::string> FakeDataBackend::Contents(const std::string& coll,
                                                     const std::string& path) {
  auto f = fake_.GetFile(ids_.at(coll), path);
  if (!f) return std::nullopt;
  return f->bytes;
}

void FakeDataBackend::DenyAccess(const std::string& coll) {
  fake_.SetAuthorized(ids_.at(coll), false);
}

// --- DataEmulatorBackend -------------------------------------------------------

DataEmulatorBackend::DataEmulatorBackend() : emu_(*EnsureEmulator().emu) {
  for (const char* name : {"alpha", "beta"}) {  // every test starts from empty collections
    for (const auto& child : stdfs::directory_iterator(emu_.root(name))) {
      stdfs::remove_all(child.path());
    }
    const std::string id = emu_.collection_id(name);
    by_collection_[id] = std::make_unique<StaticAuthorizer>(Shared()->login.access_tokens.at(id));
  }
  http_ = EmulatorHttp(emu_);
  client_ = MakeClient({});
  api_ = std::make_unique<HeadOnFreshConnection>(
      *client_, emu_, [this](const std::string& id) { return AuthorizerFor(id); });
  emu_.ResetStats();  // also clears faults
}

DataEmulatorBackend::~DataEmulatorBackend() = default;

http::Authorizer* DataEmulatorBackend::AuthorizerFor(const std::string& collection_id) {
  if (denied_.count(collection_id) != 0) return &garbage_;
  auto it = by_collection_.find(collection_id);
  return it == by_collection_.end() ? nullptr : it->second.get();
}

std::unique_ptr<DataClient> DataEmulatorBackend::MakeClient(DataClientOptions options) {
  return std::make_unique<DataClient>(
      *http_, [this](const std::string& id) { return AuthorizerFor(id); }, options);
}

std::unique_ptr<DataClient> DataEmulatorBackend::MakeClientWith(http::Authorizer* authorizer) {
  return std::make_unique<DataClient>(*http_,
                                      [authorizer](const std::string&) { return authorizer; });
}

DataTarget DataEmulatorBackend::Target(const std::string& coll) {
  const std::string id = emu_.collection_id(coll);
  return DataTarget{id, emu_.base_url() + "/c/" + id};
}

stdfs::path DataEmulatorBackend::Local(const std::string& coll, const std::string& path) {
  std::string rel = path;  // from the root: '~' is an ordinary name to HTTPS
  while (rel.starts_with("/")) rel = rel.substr(1);
  return emu_.root(coll) / rel;
}

void DataEmulatorBackend::MakeFile(const std::string& coll, const std::string& path,
                                   const std::string& content, std::optional<int64_t> mtime) {
  const stdfs::path p = Local(coll, path);
  stdfs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  if (mtime) {
    struct timeval times[2] = {{*mtime, 0}, {*mtime, 0}};
    ::utimes(p.c_str(), times);
  }
}

void DataEmulatorBackend::MakeDir(const std::string& coll, const std::string& path) {
  stdfs::create_directories(Local(coll, path));
}

std::optional<std::string> DataEmulatorBackend::Contents(const std::string& coll,
                                                         const std::string& path) {
  const stdfs::path p = Local(coll, path);
  if (!stdfs::is_regular_file(p)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void DataEmulatorBackend::DenyAccess(const std::string& coll) {
  denied_.insert(emu_.collection_id(coll));
}

void StopSharedDataEmulator() { Shared().reset(); }

http::Result<std::string> ReadBytes(DataApi& api, const DataTarget& target, const std::string& path,
                                    uint64_t offset, uint64_t length) {
  std::string out;
  auto r = api.ReadRange(target, path, offset, length, &out);
  if (!r.ok()) return std::move(r).error();
  return out;
}

TempFile::TempFile(const std::string& content) : size_(content.size()) {
  static std::atomic<uint64_t> counter{0};
  path_ = stdfs::path(::testing::TempDir()) /
          ("globusfs-data-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << content;
}

TempFile::~TempFile() {
  std::error_code ec;
  stdfs::remove(path_, ec);
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

std::string Pattern(uint64_t size, uint64_t seed) {
  std::string s(size, '\0');
  for (uint64_t i = 0; i < size; ++i) s[i] = static_cast<char>((i + seed) % 251);
  return s;
}

}  // namespace globusfs::fs::contract
