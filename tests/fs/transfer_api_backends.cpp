#include "tests/fs/transfer_api_backends.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>
#include <sys/time.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "tests/fakes/fake_transfer.h"

namespace globusfs::fs::contract {
namespace {

namespace stdfs = std::filesystem;

class FakeBackend final : public Backend {
 public:
  FakeBackend() {
    for (const char* name : {"alpha", "beta"}) {
      ids_[name] = testing::RandomUuid();
      auth::CollectionInfo info;
      info.display_name = name;
      info.entity_type = "GCSv5_mapped_collection";
      fake_.AddCollection(ids_[name], info);
    }
  }
  TransferApi& Api() override { return fake_; }
  TransferApi& PagedApi(int64_t) override { return fake_; }
  std::string CollectionId(const std::string& name) override { return ids_.at(name); }
  void MakeFile(const std::string& coll, const std::string& path, const std::string& content,
                std::optional<int64_t> mtime, uint32_t mode) override {
    fake_.AddFile(ids_.at(coll), path, content.size(), mtime.value_or(std::time(nullptr)), mode);
  }
  void MakeDir(const std::string& coll, const std::string& path, std::optional<int64_t> mtime,
               uint32_t mode) override {
    fake_.AddDir(ids_.at(coll), path, mtime.value_or(std::time(nullptr)), mode);
  }
  void MakeSymlink(const std::string& coll, const std::string& path, const std::string& target,
                   EntryType reported) override {
    fake_.AddSymlink(ids_.at(coll), path, target, reported);
  }
  void MakeSpecial(const std::string& coll, const std::string& path, EntryType type) override {
    fake_.AddSpecial(ids_.at(coll), path, type);
  }
  bool Exists(const std::string& coll, const std::string& path) override {
    return fake_.Exists(ids_.at(coll), path);
  }
  uint64_t LsRequests() override { return fake_.calls(FakeTransfer::kOpList); }
  bool pages() const override { return false; }
  void LetTasksRun() override { fake_.RunPendingTasks(); }
  uint64_t TasksSubmitted(const std::string& kind) override { return fake_.tasks_submitted(kind); }
  uint64_t SubmitRequests() override {
    return fake_.tasks_submitted(FakeTransfer::kTransfer) +
           fake_.tasks_submitted(FakeTransfer::kDelete);
  }
  void HoldNextTaskInactive(const std::string& kind, const std::string& nice_status,
                            std::chrono::milliseconds hold) override {
    fake_.InactivateNextTask(kind, nice_status, hold);
  }

 private:
  FakeTransfer fake_;
  std::map<std::string, std::string> ids_;
};

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

void SetAttributes(const stdfs::path& p, std::optional<int64_t> mtime, uint32_t mode) {
  ::chmod(p.c_str(), mode);
  if (mtime) {
    struct timeval times[2] = {{*mtime, 0}, {*mtime, 0}};
    ::utimes(p.c_str(), times);
  }
}

stdfs::path Local(testing::EmulatorProcess& emu, const std::string& coll, const std::string& path) {
  return emu.root(coll) / path.substr(1);
}

}  // namespace

std::unique_ptr<Backend> MakeFakeBackend() { return std::make_unique<FakeBackend>(); }

std::unique_ptr<http::HttpClient> EmulatorHttp(testing::EmulatorProcess& emu) {
  http::HttpConfig cfg;
  cfg.ca_file = emu.ca_file().string();
  cfg.timeout_s = 10;
  http::RetryOptions retry;
  retry.max_sleep = std::chrono::milliseconds(20);
  return std::make_unique<http::HttpClient>(cfg, std::make_shared<http::RealClock>(),
                                            http::RetryPolicy(retry));
}

TransferClientOptions FastPolling() {
  TransferClientOptions o;
  o.task_poll_initial = std::chrono::milliseconds(20);
  o.task_poll_max = std::chrono::milliseconds(100);
  o.task_wait_timeout = std::chrono::seconds(30);
  return o;
}

void StopSharedEmulator() { Shared().reset(); }

EmulatorBackend::EmulatorBackend() : emu_(*EnsureEmulator().emu) {
  for (const char* name : {"alpha", "beta"}) {  // every test starts from empty collections
    for (const auto& child : stdfs::directory_iterator(emu_.root(name))) {
      stdfs::remove_all(child.path());
    }
  }
  http_ = EmulatorHttp(emu_);
  authorizer_ = std::make_unique<StaticAuthorizer>(Shared()->login.access_tokens.at(kTransferRs));
  client_ = MakeClient(FastPolling());
  emu_.ResetStats();
}

EmulatorBackend::~EmulatorBackend() = default;

std::unique_ptr<TransferClient> EmulatorBackend::MakeClient(const TransferClientOptions& options) {
  return std::make_unique<TransferClient>(*http_, authorizer_.get(), emu_.base_url() + "/",
                                          std::make_shared<http::RealClock>(), options);
}

TransferApi& EmulatorBackend::PagedApi(int64_t page_size) {
  auto options = FastPolling();
  options.ls_page_size = page_size;
  paged_ = MakeClient(options);
  return *paged_;
}

std::string EmulatorBackend::CollectionId(const std::string& name) {
  return emu_.collection_id(name);
}

void EmulatorBackend::MakeFile(const std::string& coll, const std::string& path,
                               const std::string& content, std::optional<int64_t> mtime,
                               uint32_t mode) {
  const stdfs::path p = Local(emu_, coll, path);
  stdfs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  SetAttributes(p, mtime, mode);
}

void EmulatorBackend::MakeDir(const std::string& coll, const std::string& path,
                              std::optional<int64_t> mtime, uint32_t mode) {
  const stdfs::path p = Local(emu_, coll, path);
  stdfs::create_directories(p);
  SetAttributes(p, mtime, mode);
}

void EmulatorBackend::MakeSymlink(const std::string& coll, const std::string& path,
                                  const std::string& target, EntryType) {
  const stdfs::path p = Local(emu_, coll, path);
  stdfs::create_directories(p.parent_path());
  stdfs::create_symlink(target, p);
}

void EmulatorBackend::MakeSpecial(const std::string& coll, const std::string& path, EntryType type) {
  const stdfs::path p = Local(emu_, coll, path);
  stdfs::create_directories(p.parent_path());
  if (type == EntryType::kPipe) {
    ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0) << p;
  } else if (type == EntryType::kCharDevice) {
    ASSERT_EQ(::mknod(p.c_str(), S_IFCHR | 0644, makedev(1, 3)), 0) << p;
  } else {
    // A socket: Transfer's "other".
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(p.native().size(), sizeof(addr.sun_path)) << "socket path too long: " << p;
    std::memcpy(addr.sun_path, p.c_str(), p.native().size() + 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << p;
    ::close(fd);
  }
}

bool EmulatorBackend::Exists(const std::string& coll, const std::string& path) {
  return stdfs::symlink_status(Local(emu_, coll, path)).type() != stdfs::file_type::not_found;
}

uint64_t EmulatorBackend::LsRequests() { return emu_.RequestCount("transfer.ls"); }

void EmulatorBackend::LetTasksRun() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

uint64_t EmulatorBackend::TasksSubmitted(const std::string& kind) {
  return emu_.Stats()["tasks"].value(kind, uint64_t{0});
}

uint64_t EmulatorBackend::SubmitRequests() {
  return emu_.RequestCount("transfer.transfer") + emu_.RequestCount("transfer.delete");
}

void EmulatorBackend::HoldNextTaskInactive(const std::string& kind, const std::string& nice_status,
                                           std::chrono::milliseconds hold) {
  emu_.AddFault({{"route", "task." + kind},
                 {"inactive_ms", hold.count()},
                 {"nice_status", nice_status},
                 {"count", 1}});
}

std::vector<std::string> Names(const std::vector<FileEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.name);
  return out;
}

const FileEntry& Find(const std::vector<FileEntry>& entries, const std::string& name) {
  for (const auto& e : entries) {
    if (e.name == name) return e;
  }
  ADD_FAILURE() << "no entry named '" << name << "'";
  static const FileEntry kNone;
  return kNone;
}

}  // namespace globusfs::fs::contract
