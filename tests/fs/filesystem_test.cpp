// The filesystem core (fs/filesystem.h) driven directly, without a kernel,
// on FakeTransfer and a real (temporary) LMDB metadata cache.
#include "fs/filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/fakes/fake_transfer.h"

namespace globusfs::fs {
namespace {

using namespace std::chrono_literals;

constexpr const char* kA = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kB = "bbbbbbbb-0000-4000-8000-000000000002";

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "globusfs-fs-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

http::Error ErrorDoc(int status, const std::string& body) { return http::ParseErrorDocument(status, body); }

class FsCore : public ::testing::Test {
 protected:
  void SetUp() override { Build(std::make_shared<http::FakeClock>()); }

  void Build(std::shared_ptr<http::Clock> clock, bool single = false, double ttl_s = 60) {
    clock_ = clock;
    fs_.reset();
    ns_.reset();
    store_.reset();
    fake_ = std::make_unique<FakeTransfer>(clock);
    for (const char* id : {kA, kB}) {
      auth::CollectionInfo info;
      info.id = id;
      info.entity_type = "GCSv5_mapped_collection";
      info.https_server = std::string("https://data.example.org/") + id;
      fake_->AddCollection(id, info);
    }
    fake_->AddDir(kA, "/data", 100);
    fake_->AddFile(kA, "/data/one.txt", 11, 1000, 0640);
    fake_->AddDir(kA, "/data/sub", 200);
    fake_->AddFile(kA, "/data/sub/deep.bin", 5, 300);
    fake_->AddSymlink(kA, "/data/link", "one.txt", EntryType::kFile);
    fake_->AddDir(kB, "/", 0);
    fake_->AddFile(kB, "/b.txt", 3, 400);

    cache::MetadataStoreOptions mo{dir_.path() / ("meta" + std::to_string(builds_++))};
    mo.ttl_ms = static_cast<int64_t>(ttl_s * 1000);
    std::string why;
    store_ = cache::MetadataStore::Open(mo, &why);
    ASSERT_TRUE(store_) << why;
    ns_ = std::make_unique<Namespace>(*fake_, *store_, clock_);
    std::vector<MountedCollection> mounts(2);
    mounts[0].entry = MountEntry{"alpha", kA, "/data"};
    mounts[0].info.id = kA;
    mounts[0].info.https_server = std::string("https://data.example.org/") + kA;
    mounts[0].root_path = "/data";
    mounts[0].abs_root = "/data";
    mounts[1].entry = MountEntry{"beta", kB, ""};
    mounts[1].info.id = kB;
    mounts[1].root_path = "/";
    mounts[1].abs_root = "/";
    if (single) mounts.resize(1);
    FsOptions o;
    o.uid = 1234;
    o.gid = 5678;
    o.ttl_s = ttl_s;
    o.single = single;
    o.start_time = 42;
    log_stream_ = std::make_unique<std::ostringstream>();
    log_file_ = dir_.path() / ("log" + std::to_string(builds_));
    log_ = std::make_unique<Logger>(nullptr, LogLevel::kDebug);
    ASSERT_TRUE(log_->OpenFile(log_file_.string()));
    fs_ = std::make_unique<Filesystem>(o, mounts, *ns_, *log_);
  }

  std::string LogText() {
    std::ifstream in(log_file_);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

  uint64_t LookupIno(uint64_t parent, const std::string& name) {
    Entry e;
    int rc = fs_->Lookup(parent, name, &e);
    EXPECT_EQ(rc, 0) << name;
    return rc == 0 ? e.attr.ino : 0;
  }

  std::vector<DirItem> ReadAll(uint64_t ino, bool plus) {
    uint64_t h = 0;
    EXPECT_EQ(fs_->OpenDir(ino, &h), 0);
    std::vector<DirItem> items;
    fs_->ReadDir(h, 0, plus, [&](const DirItem& item, uint64_t) {
      items.push_back(item);
      return true;
    });
    fs_->ReleaseDir(h);
    return items;
  }

  TempDir dir_;
  int builds_ = 0;
  std::shared_ptr<http::Clock> clock_;
  std::unique_ptr<FakeTransfer> fake_;
  std::unique_ptr<cache::MetadataStore> store_;
  std::unique_ptr<Namespace> ns_;
  std::unique_ptr<std::ostringstream> log_stream_;
  std::filesystem::path log_file_;
  std::unique_ptr<Logger> log_;
  std::unique_ptr<Filesystem> fs_;
};

TEST_F(FsCore, TheRootListsTheCollections) {
  auto items = ReadAll(kRootIno, false);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].name, ".");
  EXPECT_EQ(items[2].name, "alpha");
  EXPECT_EQ(items[3].name, "beta");
  Entry e;
  EXPECT_EQ(fs_->Lookup(kRootIno, "alpha", &e), 0);
  EXPECT_TRUE(S_ISDIR(e.attr.mode));
  EXPECT_EQ(fs_->Lookup(kRootIno, "gamma", &e), ENOENT);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 0u) << "the root needs no Transfer call";
}

TEST_F(FsCore, AttributesComeFromTheListing) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  Entry e;
  ASSERT_EQ(fs_->Lookup(alpha, "one.txt", &e), 0);
  EXPECT_TRUE(S_ISREG(e.attr.mode));
  EXPECT_EQ(e.attr.mode & 07777, 0640u);
  EXPECT_EQ(e.attr.size, 11u);
  EXPECT_EQ(e.attr.mtime, 1000);
  EXPECT_EQ(e.attr.uid, 1234u) << "owned by the mounting user";
  EXPECT_EQ(e.attr.gid, 5678u);
  EXPECT_EQ(e.timeout_s, 60);
  ASSERT_EQ(fs_->Lookup(alpha, "link", &e), 0);
  EXPECT_TRUE(S_ISLNK(e.attr.mode));
  std::string target;
  EXPECT_EQ(fs_->ReadLink(e.attr.ino, &target), 0);
  EXPECT_EQ(target, "one.txt");
  EXPECT_EQ(fs_->Lookup(alpha, "missing", &e), ENOENT);
  // One listing of /data answered all of that.
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 1u);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpStat), 0u);
}

TEST_F(FsCore, ReadDirPlusCountsLookupsOnlyForWhatItReturns) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  uint64_t h = 0;
  ASSERT_EQ(fs_->OpenDir(alpha, &h), 0);
  std::vector<DirItem> got;
  // A buffer that takes ".", "..", and one entry.
  fs_->ReadDir(h, 0, true, [&](const DirItem& item, uint64_t) {
    if (got.size() == 3) return false;
    got.push_back(item);
    return true;
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].name, "link");
  EXPECT_TRUE(got[2].counted);
  // The refused entry ("one.txt") holds no reference: after the kernel
  // forgets "link", only the pinned and looked-up nodes remain.
  std::vector<DirItem> rest;
  fs_->ReadDir(h, 3, true, [&](const DirItem& item, uint64_t) {
    rest.push_back(item);
    return true;
  });
  fs_->ReleaseDir(h);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].name, "one.txt");
  EXPECT_EQ(rest[1].name, "sub");
  Attr a;
  EXPECT_EQ(fs_->GetAttr(rest[0].attr.ino, &a), 0);
  fs_->Forget(rest[0].attr.ino, 1);
  EXPECT_EQ(fs_->GetAttr(rest[0].attr.ino, &a), ESTALE) << "forgotten inodes are stale, not a crash";
}

TEST_F(FsCore, UnknownInodesAreStale) {
  Attr a;
  EXPECT_EQ(fs_->GetAttr(999999, &a), ESTALE);
  Entry e;
  EXPECT_EQ(fs_->Lookup(999999, "x", &e), ESTALE);
  uint64_t h;
  EXPECT_EQ(fs_->OpenDir(999999, &h), ESTALE);
}

TEST_F(FsCore, MkdirUnlinkRmdir) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  EXPECT_EQ(ReadAll(alpha, false).size(), 5u);  // the listing is cached from here on
  Entry e;
  ASSERT_EQ(fs_->Mkdir(alpha, "new", &e), 0);
  EXPECT_TRUE(S_ISDIR(e.attr.mode));
  EXPECT_TRUE(fake_->Exists(kA, "/data/new"));
  size_t lists = fake_->calls(FakeTransfer::kOpList);
  EXPECT_EQ(ReadAll(e.attr.ino, false).size(), 2u) << "a new folder is known to be empty";
  EXPECT_EQ(ReadAll(alpha, false).size(), 6u) << "list-after-write from the cache";
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), lists);
  // The kernel looks a name up before mkdir, so an EEXIST from Transfer
  // means the cache was stale: the folder is listed afresh next time.
  EXPECT_EQ(fs_->Mkdir(alpha, "new", &e), EEXIST);

  EXPECT_EQ(fs_->Unlink(alpha, "sub"), EISDIR);
  EXPECT_EQ(fs_->Rmdir(alpha, "one.txt"), ENOTDIR);
  size_t deletes = fake_->calls(FakeTransfer::kOpDelete);
  EXPECT_EQ(fs_->Rmdir(alpha, "sub"), ENOTEMPTY);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpDelete), deletes) << "no delete task for a non-empty folder";
  EXPECT_EQ(fs_->Unlink(alpha, "one.txt"), 0);
  EXPECT_FALSE(fake_->Exists(kA, "/data/one.txt"));
  EXPECT_EQ(fs_->Lookup(alpha, "one.txt", &e), ENOENT);
  EXPECT_EQ(fs_->Rmdir(alpha, "new"), 0);
  EXPECT_FALSE(fake_->Exists(kA, "/data/new"));
  EXPECT_EQ(fs_->Unlink(alpha, "one.txt"), ENOENT);
  EXPECT_EQ(fs_->Mkdir(kRootIno, "x", &e), EPERM);
  EXPECT_EQ(fs_->Unlink(kRootIno, "alpha"), EPERM);
}

TEST_F(FsCore, Rename) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  uint64_t beta = LookupIno(kRootIno, "beta");
  uint64_t sub = LookupIno(alpha, "sub");
  uint64_t deep = LookupIno(sub, "deep.bin");
  EXPECT_EQ(fs_->Rename(alpha, "one.txt", beta, "one.txt", 0), EXDEV);
  EXPECT_EQ(fs_->Rename(alpha, "sub", alpha, "moved", 0), 0);
  EXPECT_TRUE(fake_->Exists(kA, "/data/moved/deep.bin"));
  // Inodes under the moved folder follow it.
  std::string value;
  ASSERT_EQ(fs_->GetXattr(deep, "user.globus.path", &value), 0);
  EXPECT_EQ(value, "/data/moved/deep.bin");
  // Onto an existing file: replaced; with RENAME_NOREPLACE: EEXIST.
  fake_->AddFile(kA, "/data/two.txt", 2, 5);
  EXPECT_EQ(fs_->Rename(alpha, "one.txt", alpha, "two.txt", 1 /*RENAME_NOREPLACE*/), EEXIST);
  EXPECT_EQ(fs_->Rename(alpha, "one.txt", alpha, "two.txt", 0), 0);
  EXPECT_EQ(fake_->Lookup(kA, "/data/two.txt")->size, 11u);
  EXPECT_FALSE(fake_->Exists(kA, "/data/one.txt"));
  // A folder onto a file, a file onto a non-empty folder, exchange.
  EXPECT_EQ(fs_->Rename(alpha, "moved", alpha, "two.txt", 0), ENOTDIR);
  EXPECT_EQ(fs_->Rename(alpha, "two.txt", alpha, "moved", 0), EISDIR);
  EXPECT_EQ(fs_->Rename(alpha, "two.txt", alpha, "x", 2 /*RENAME_EXCHANGE*/), EINVAL);
  EXPECT_EQ(fs_->Rename(alpha, "moved", sub, "inside", 0), EINVAL) << "into itself";
  EXPECT_EQ(fs_->Rename(alpha, "nope", alpha, "x", 0), ENOENT);
}

TEST_F(FsCore, ChmodChownAreAcceptedWithoutEffectTruncateIsNot) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  uint64_t one = LookupIno(alpha, "one.txt");
  SetAttrRequest r;
  r.set_mode = r.set_owner = true;
  Attr a;
  EXPECT_EQ(fs_->SetAttr(one, r, &a), 0);
  EXPECT_EQ(a.mode & 07777, 0640u);
  r = {};
  r.set_size = true;
  r.size = 0;
  EXPECT_EQ(fs_->SetAttr(one, r, &a), EOPNOTSUPP) << "no FileContents: contents cannot change";
  r.size = 11;
  EXPECT_EQ(fs_->SetAttr(one, r, &a), 0) << "a no-op truncate is fine";
  OpenReply reply;
  EXPECT_EQ(fs_->Open(one, O_RDONLY, &reply), EOPNOTSUPP) << "no FileContents: the namespace alone";
}

TEST_F(FsCore, UtimensKeepsTimesWhileTheServersCopyIsUnchanged) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  uint64_t one = LookupIno(alpha, "one.txt");
  SetAttrRequest r;
  r.mtime = TimeSpec{-86400, 5};               // before 1970
  r.atime = TimeSpec{int64_t{1} << 40, 999999999};  // far past 2038
  Attr a;
  ASSERT_EQ(fs_->SetAttr(one, r, &a), 0);
  EXPECT_EQ(a.mtime, -86400);
  EXPECT_EQ(a.mtime_nsec, 5u);
  EXPECT_EQ(a.atime, (TimeSpec{int64_t{1} << 40, 999999999}));
  // UTIME_OMIT: only the mtime changes; the atime set before stays.
  r = {};
  r.mtime = TimeSpec{7, 0};
  ASSERT_EQ(fs_->SetAttr(one, r, &a), 0);
  EXPECT_EQ(a.mtime, 7);
  EXPECT_EQ(a.atime, (TimeSpec{int64_t{1} << 40, 999999999})) << "mtime earlier than atime is allowed";
  ASSERT_EQ(fs_->GetAttr(one, &a), 0);
  EXPECT_EQ(a.mtime, 7);
  // The server's copy changes (another machine): once the listing is
  // fetched again, the server's time shows.
  fake_->AddFile(kA, "/data/one.txt", 12, 2000, 0640);
  std::static_pointer_cast<http::FakeClock>(clock_)->Advance(std::chrono::seconds(61));
  ASSERT_EQ(fs_->GetAttr(one, &a), 0);
  EXPECT_EQ(a.size, 12u);
  EXPECT_EQ(a.mtime, 2000);
}

TEST_F(FsCore, AFoldersTimeAndLinkCountFollowChangesMadeHere) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  (void)LookupIno(alpha, "one.txt");  // lists /data: one subfolder
  Attr before;
  ASSERT_EQ(fs_->GetAttr(alpha, &before), 0);
  EXPECT_EQ(before.nlink, 3u);
  Entry e;
  ASSERT_EQ(fs_->Mkdir(alpha, "newdir", &e), 0);
  Attr after;
  ASSERT_EQ(fs_->GetAttr(alpha, &after), 0);
  EXPECT_GE(after.mtime, before.mtime);
  EXPECT_EQ(after.nlink, before.nlink + 1) << "2 + its subfolders";
  EXPECT_EQ(e.attr.nlink, 2u) << "a new folder is empty";
}

TEST_F(FsCore, ServerLinksAreShownSoTheyWorkInsideTheMount) {
  // Globus names a valid link's target by its absolute real path.
  fake_->AddSymlink(kA, "/data/sub/up", "/data/one.txt", EntryType::kFile, 11);
  fake_->AddFile(kA, "/outside/f", 3, 500);
  fake_->AddSymlink(kA, "/data/out", "/outside/f", EntryType::kFile, 3, 500, 0600);
  fake_->AddDir(kA, "/outside/d");
  fake_->AddFile(kA, "/outside/d/inner", 1);
  fake_->AddSymlink(kA, "/data/outdir", "/outside/d", EntryType::kDir);
  fake_->AddSymlink(kA, "/data/broken", "/data/nowhere", EntryType::kInvalidSymlink);
  fake_->AddSpecial(kA, "/data/fifo", EntryType::kPipe, 0, 0, 0600);
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  uint64_t sub = LookupIno(alpha, "sub");
  Entry e;
  std::string target, v;
  // Inside the mounted folder: a link relative to its own folder.
  ASSERT_EQ(fs_->Lookup(sub, "up", &e), 0);
  ASSERT_TRUE(S_ISLNK(e.attr.mode));
  ASSERT_EQ(fs_->ReadLink(e.attr.ino, &target), 0);
  EXPECT_EQ(target, "../one.txt");
  EXPECT_EQ(e.attr.size, target.size());
  ASSERT_EQ(fs_->GetXattr(e.attr.ino, Filesystem::kLinkXattr, &v), 0);
  EXPECT_EQ(v, "/data/one.txt");
  // Outside it: shown as what it points to, the target in an xattr.
  ASSERT_EQ(fs_->Lookup(alpha, "out", &e), 0);
  EXPECT_TRUE(S_ISREG(e.attr.mode));
  EXPECT_EQ(e.attr.size, 3u);
  EXPECT_EQ(fs_->ReadLink(e.attr.ino, &target), EINVAL);
  ASSERT_EQ(fs_->GetXattr(e.attr.ino, Filesystem::kLinkXattr, &v), 0);
  EXPECT_EQ(v, "/outside/f");
  std::vector<std::string> names;
  ASSERT_EQ(fs_->ListXattr(e.attr.ino, &names), 0);
  EXPECT_NE(std::find(names.begin(), names.end(), Filesystem::kLinkXattr), names.end());
  ASSERT_EQ(fs_->Lookup(alpha, "outdir", &e), 0);
  EXPECT_TRUE(S_ISDIR(e.attr.mode));
  uint64_t h = 0;
  ASSERT_EQ(fs_->OpenDir(e.attr.ino, &h), 0) << "a folder shown as a folder can be listed";
  fs_->ReleaseDir(h);
  // A broken link naming a path inside: relative too.
  ASSERT_EQ(fs_->Lookup(alpha, "broken", &e), 0);
  ASSERT_TRUE(S_ISLNK(e.attr.mode));
  ASSERT_EQ(fs_->ReadLink(e.attr.ino, &target), 0);
  EXPECT_EQ(target, "nowhere");
  // Special files are listed with their kind.
  ASSERT_EQ(fs_->Lookup(alpha, "fifo", &e), 0);
  EXPECT_TRUE(S_ISFIFO(e.attr.mode));
  EXPECT_EQ(e.attr.mode & 07777, 0600u);
  // Where the mounted folder's real path is unknown, links show as targets.
  EXPECT_EQ(Filesystem::RelativeLink("/a/b", "/a/c/d"), "../c/d");
  EXPECT_EQ(Filesystem::RelativeLink("/a/b", "/a/b"), ".");
  EXPECT_EQ(Filesystem::RelativeLink("/a/b", "/a/b/c"), "c");
  EXPECT_EQ(Filesystem::RelativeLink("/", "/x"), "x");
  EXPECT_EQ(Filesystem::RelativeLink("/a/b/c", "/"), "../../..");
}

TEST_F(FsCore, Xattrs) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  uint64_t one = LookupIno(alpha, "one.txt");
  std::string v;
  ASSERT_EQ(fs_->GetXattr(one, "user.globus.collection_id", &v), 0);
  EXPECT_EQ(v, kA);
  ASSERT_EQ(fs_->GetXattr(one, "user.globus.url", &v), 0);
  EXPECT_EQ(v, std::string("https://data.example.org/") + kA + "/data/one.txt");
  EXPECT_EQ(fs_->GetXattr(one, "user.other", &v), ENODATA);
  // No SELinux labels or ACLs: "not supported", so ls -l stops asking.
  EXPECT_EQ(fs_->GetXattr(one, "security.selinux", &v), EOPNOTSUPP);
  EXPECT_EQ(fs_->GetXattr(one, "system.posix_acl_access", &v), EOPNOTSUPP);
  EXPECT_EQ(fs_->GetXattr(kRootIno, "user.globus.path", &v), ENODATA);
  uint64_t beta = LookupIno(kRootIno, "beta");
  uint64_t b = LookupIno(beta, "b.txt");
  ASSERT_EQ(fs_->GetXattr(b, "user.globus.url", &v), 0);
  EXPECT_EQ(v, std::string("https://app.globus.org/file-manager?origin_id=") + kB + "&origin_path=%2Fb.txt")
      << "no HTTPS server: a web app link";
  std::vector<std::string> names;
  EXPECT_EQ(fs_->ListXattr(one, &names), 0);
  EXPECT_EQ(names.size(), 3u);
}

TEST_F(FsCore, TheCacheHonoursItsTtl) {
  auto clock = std::make_shared<http::FakeClock>();
  Build(clock, false, 10);
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  ReadAll(alpha, true);
  ReadAll(alpha, true);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 1u);
  fake_->AddFile(kA, "/data/later.txt", 1, 1);
  Entry e;
  EXPECT_EQ(fs_->Lookup(alpha, "later.txt", &e), ENOENT) << "within the TTL the cache answers";
  clock->Advance(11s);
  EXPECT_EQ(fs_->Lookup(alpha, "later.txt", &e), 0) << "after it, Transfer does";
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 2u);
}

TEST_F(FsCore, ConcurrentLookupsShareOneListing) {
  Build(std::make_shared<http::RealClock>());
  fake_->SetLatency(100ms);
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (const char* name : {"one.txt", "sub", "link", "one.txt", "sub", "nope"}) {
    threads.emplace_back([&, name] {
      Entry e;
      int rc = fs_->Lookup(alpha, name, &e);
      if (rc == 0 || (rc == ENOENT && std::string(name) == "nope")) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 1u);
}

TEST_F(FsCore, AWalkListsTheRemainingSubfoldersAhead) {
  for (int i = 0; i < 10; ++i) fake_->AddDir(kA, "/data/w/s" + std::to_string(i));
  Namespace walker(*fake_, *store_, clock_, /*walk_ahead_threads=*/2);
  ASSERT_TRUE(walker.List(kA, "/data/w"));
  fake_->ResetCalls();
  // One folder opened: not a walk, nothing ahead.
  ASSERT_TRUE(walker.List(kA, "/data/w/s0"));
  walker.NoteOpened(kA, "/data/w/s0");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 1u);
  // A second sibling: the other eight are listed ahead.
  ASSERT_TRUE(walker.List(kA, "/data/w/s1"));
  walker.NoteOpened(kA, "/data/w/s1");
  for (int i = 0; i < 500 && fake_->calls(FakeTransfer::kOpList) < 10; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 10u);
  for (int i = 2; i < 10; ++i) ASSERT_TRUE(walker.List(kA, "/data/w/s" + std::to_string(i)));
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 10u) << "the walk found them cached";
  // Once per TTL: walking the same folder again asks for nothing more.
  walker.NoteOpened(kA, "/data/w/s2");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), 10u);
}

TEST_F(FsCore, AuthRequirementsAreEaccesWithOneLogLineNamingTheCommand) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  std::string scope = std::string("urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/") + kA + "/data_access]";
  http::Error consent = ErrorDoc(403, R"({"code":"ConsentRequired","message":"Missing required data_access consent","required_scopes":[")" + scope + R"("]})");
  fake_->FailNext(FakeTransfer::kOpList, consent, 2);
  Entry e;
  EXPECT_EQ(fs_->Lookup(alpha, "one.txt", &e), EACCES);
  EXPECT_EQ(fs_->Lookup(alpha, "sub", &e), EACCES);
  std::string log = LogText();
  EXPECT_NE(log.find("globusfs-auth session consent '" + scope + "'"), std::string::npos) << log;
  size_t first = log.find("session consent");
  EXPECT_EQ(log.find("session consent", first + 1), std::string::npos) << "logged once, not per request";

  http::Error session = ErrorDoc(502, R"({"code":"ExternalError.DirListingFailed.LoginFailed","message":"Login Failed","authorization_parameters":{"session_required_identities":["id-123"]}})");
  fake_->AddDir(kA, "/data/other");
  uint64_t other = LookupIno(alpha, "other");
  fake_->FailNext(FakeTransfer::kOpList, session, 1);
  uint64_t h;
  EXPECT_EQ(fs_->OpenDir(other, &h), EACCES);
  EXPECT_NE(LogText().find("globusfs-auth session update id-123"), std::string::npos);
}

TEST_F(FsCore, FailedDeleteTasksRestoreNothingAndSayWhy) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  http::Error unavailable = ErrorDoc(503, R"({"code":"ServiceUnavailable","message":"down"})");
  fake_->FailNext(FakeTransfer::kOpDelete, unavailable, 1);
  EXPECT_EQ(fs_->Unlink(alpha, "one.txt"), EIO);
  EXPECT_TRUE(fake_->Exists(kA, "/data/one.txt"));
  Entry e;
  EXPECT_EQ(fs_->Lookup(alpha, "one.txt", &e), 0) << "still listed";
}

TEST_F(FsCore, SingleCollectionAsTheRoot) {
  Build(std::make_shared<http::FakeClock>(), true);
  auto items = ReadAll(kRootIno, false);
  std::vector<std::string> names;
  for (const auto& i : items) names.push_back(i.name);
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "link", "one.txt", "sub"}));
  Entry e;
  EXPECT_EQ(fs_->Mkdir(kRootIno, "top", &e), 0);
  EXPECT_TRUE(fake_->Exists(kA, "/data/top"));
}

TEST_F(FsCore, BadNames) {
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  Entry e;
  EXPECT_EQ(fs_->Lookup(alpha, std::string(256, 'x'), &e), ENAMETOOLONG);
  EXPECT_EQ(fs_->Mkdir(alpha, "bad\xff", &e), EILSEQ) << "not UTF-8: Transfer cannot take it";
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpMkdir), 0u);
}

TEST_F(FsCore, AFolderTooLargeToListIsEfbigWithOneLogLineAndItsEntriesStillOpen) {
  fake_->AddDir(kA, "/data/big");
  for (int i = 0; i < 5; ++i) fake_->AddFile(kA, "/data/big/f" + std::to_string(i), 1, 10);
  fake_->AddDir(kA, "/data/big/sub");
  fake_->SetMaxListEntries(5);  // /data holds 4 entries, /data/big 6
  uint64_t alpha = LookupIno(kRootIno, "alpha");
  uint64_t big = LookupIno(alpha, "big");
  uint64_t h = 0;
  EXPECT_EQ(fs_->OpenDir(big, &h), EFBIG) << "ls prints \"File too large\"";
  EXPECT_EQ(fs_->OpenDir(big, &h), EFBIG);
  const std::string log = LogText();
  const std::string line = "readdir alpha:/data/big: this folder has more entries than Globus Transfer lists";
  EXPECT_NE(log.find(line), std::string::npos) << log;
  EXPECT_EQ(log.find(line, log.find(line) + 1), std::string::npos) << "one line, not one per ls";
  EXPECT_NE(log.find("ExternalError.DirListingFailed.SizeLimit"), std::string::npos) << log;
  EXPECT_NE(log.find("globus ls --filter"), std::string::npos) << log;
  // Its entries still open by path: Transfer's stat answers for each, and
  // the folder is not listed again for every name.
  const uint64_t lists = fake_->calls(FakeTransfer::kOpList);
  Entry e;
  ASSERT_EQ(fs_->Lookup(big, "f3", &e), 0);
  EXPECT_EQ(e.attr.size, 1u);
  ASSERT_EQ(fs_->Lookup(big, "sub", &e), 0);
  EXPECT_TRUE(S_ISDIR(e.attr.mode));
  EXPECT_EQ(fs_->Lookup(big, "missing", &e), ENOENT);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpList), lists);
  EXPECT_EQ(fake_->calls(FakeTransfer::kOpStat), 3u);
}

}  // namespace
}  // namespace globusfs::fs
