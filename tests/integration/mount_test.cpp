// globusfs mounted for real against globus-emulator, exercised with
// ordinary tools (ls, stat, find, mkdir, mv, rm, getfattr), each result
// checked against the emulator's own folders.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "tests/support/emulator_process.h"
#include "tests/support/mounted_fs.h"

namespace globusfs {
namespace {

using testing::EmulatorProcess;
using testing::MountedFs;
using testing::RunResult;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

void Write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

class Mount : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::FuseUnavailableReason(); !why.empty()) GTEST_SKIP() << "needs FUSE: " << why;
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta"};
    opts.extra_args = ExtraEmulatorArgs();
    emu_ = EmulatorProcess::Start(opts);
    a_ = emu_->root("alpha");
    b_ = emu_->root("beta");
    Write(a_ / "hello.txt", "hello\n");
    Write(a_ / "docs" / "readme.md", "# readme\n");
    Write(a_ / "docs" / "deep" / "x.bin", std::string(5000, 'x'));
    Write(b_ / "b.txt", "bee\n");
  }

  virtual std::vector<std::string> ExtraEmulatorArgs() { return {}; }

  MountedFs& MountOrDie(testing::MountOptions options = {}) {
    mount_ = std::make_unique<MountedFs>(*emu_, options);
    std::string why;
    EXPECT_TRUE(mount_->Mount(&why)) << why;
    return *mount_;
  }

  RunResult Sh(const std::string& cmd) { return mount_->Sh(cmd); }

  void TearDown() override {
    if (mount_) {
      bool clean = mount_->Unmount();
      EXPECT_TRUE(clean) << "unmount was not clean; log:\n" << mount_->Log();
    }
  }

  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<MountedFs> mount_;
  fs::path a_, b_;
};

TEST_F(Mount, RootListsTheCollections) {
  MountOrDie();
  RunResult r = Sh("ls -la");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find(" alpha\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" beta\n"), std::string::npos);
  EXPECT_NE(r.out.find(" .\n"), std::string::npos);
}

TEST_F(Mount, LsStatAndFindMatchTheCollection) {
  MountOrDie();
  RunResult r = Sh("ls -la alpha");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("hello.txt"), std::string::npos);
  EXPECT_NE(r.out.find("docs"), std::string::npos);
  r = Sh("stat -c '%s %F %U' alpha/hello.txt alpha/docs");
  EXPECT_EQ(r.out, "6 regular file root\n4096 directory root\n") << r.all();
  r = Sh("stat -c %Y alpha/hello.txt");
  struct stat st {};
  ASSERT_EQ(::stat((a_ / "hello.txt").c_str(), &st), 0);
  EXPECT_EQ(std::stoll(r.out), st.st_mtime) << "mtime as the listing says";
  r = Sh("find alpha | sort");
  EXPECT_EQ(r.out, "alpha\nalpha/docs\nalpha/docs/deep\nalpha/docs/deep/x.bin\nalpha/docs/readme.md\nalpha/hello.txt\n");
  r = Sh("find . -name '*.txt' | sort");
  EXPECT_EQ(r.out, "./alpha/hello.txt\n./beta/b.txt\n");
  r = Sh("stat alpha/nope");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos);
}

// Globus reports a valid link as its target's type and real, absolute path.
// Inside the mounted folder, it is a relative link that resolves in the
// mount; outside, it is shown as what it points to.
TEST_F(Mount, ServerLinksAndSpecialFiles) {
  fs::create_directories(a_ / "docs" / "links");
  fs::create_symlink("../readme.md", a_ / "docs" / "links" / "up");
  fs::create_symlink("../deep", a_ / "docs" / "links" / "deepdir");
  fs::create_symlink("../../hello.txt", a_ / "docs" / "links" / "out");
  fs::create_symlink("gone", a_ / "docs" / "links" / "broken");
  ASSERT_EQ(::mkfifo((a_ / "docs" / "links" / "fifo").c_str(), 0600), 0);
  testing::MountOptions o;
  o.collections = {"alpha:/docs", "beta"};
  MountOrDie(o);
  RunResult r = Sh("readlink alpha/links/up alpha/links/deepdir alpha/links/broken");
  EXPECT_EQ(r.out, "../readme.md\n../deep\ngone\n") << r.all();
  EXPECT_EQ(Sh("cat alpha/links/up").out, "# readme\n") << "the link resolves inside the mount";
  EXPECT_EQ(Sh("ls alpha/links/deepdir/").out, "x.bin\n");
  // /hello.txt is outside the mounted folder /docs: a file, the target in an xattr.
  EXPECT_EQ(Sh("stat -c %F alpha/links/out").out, "regular file\n");
  EXPECT_EQ(Sh("cat alpha/links/out").out, "hello\n");
  r = Sh("getfattr --only-values -n user.globus.link_target alpha/links/out");
  EXPECT_EQ(r.out, "/hello.txt") << r.all();
  EXPECT_EQ(Sh("stat -c %F alpha/links/fifo").out, "fifo\n");
  EXPECT_EQ(Sh("ls alpha/links").out, "broken\ndeepdir\nfifo\nout\nup\n");
}

TEST_F(Mount, MkdirMvRmAndRmdir) {
  MountOrDie();
  ASSERT_EQ(Sh("mkdir alpha/new").exit_code, 0);
  EXPECT_TRUE(fs::is_directory(a_ / "new"));
  RunResult r = Sh("mkdir alpha/new");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("File exists"), std::string::npos);
  r = Sh("mkdir alpha/no/such");
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos);

  ASSERT_EQ(Sh("mv alpha/hello.txt alpha/new/hi.txt").exit_code, 0);
  EXPECT_FALSE(fs::exists(a_ / "hello.txt"));
  EXPECT_TRUE(fs::exists(a_ / "new" / "hi.txt"));
  EXPECT_EQ(Sh("ls alpha/new").out, "hi.txt\n") << "list-after-write";
  ASSERT_EQ(Sh("mv alpha/docs alpha/new/").exit_code, 0);
  EXPECT_TRUE(fs::exists(a_ / "new" / "docs" / "deep" / "x.bin"));
  EXPECT_EQ(Sh("ls alpha/new/docs/deep").out, "x.bin\n");

  r = Sh("rmdir alpha/new/docs");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Directory not empty"), std::string::npos);
  ASSERT_EQ(Sh("sync alpha").exit_code, 0);
  uint64_t deletes = emu_->Stats()["tasks"]["delete"];
  EXPECT_EQ(deletes, 0u) << "ENOTEMPTY is decided without a delete task";

  // Deletes are batched: the entries go at once, the server follows (sync
  // of the folder waits for it).
  ASSERT_EQ(Sh("rm alpha/new/hi.txt").exit_code, 0);
  EXPECT_EQ(Sh("ls alpha/new").out, "docs\n");
  ASSERT_EQ(Sh("sync alpha").exit_code, 0);
  EXPECT_FALSE(fs::exists(a_ / "new" / "hi.txt"));
  ASSERT_EQ(Sh("rm -r alpha/new/docs && sync alpha").exit_code, 0);
  EXPECT_FALSE(fs::exists(a_ / "new" / "docs"));
  ASSERT_EQ(Sh("rmdir alpha/new && sync alpha").exit_code, 0);
  EXPECT_FALSE(fs::exists(a_ / "new"));
  EXPECT_EQ(Sh("ls alpha").out, "") << "everything gone, and the listing says so";
}

TEST_F(Mount, RenameOntoAnExistingFileReplacesIt) {
  MountOrDie();
  Write(a_ / "old.txt", "old");
  Write(a_ / "keep.txt", "keep");
  ASSERT_EQ(Sh("mv alpha/keep.txt alpha/old.txt").exit_code, 0) << Sh("true").all();
  std::ifstream in(a_ / "old.txt");
  std::string got((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(got, "keep");
  EXPECT_FALSE(fs::exists(a_ / "keep.txt"));
  // RENAME_NOREPLACE is honoured (mv -n asks for it; perl's rename cannot, so use mv).
  Write(a_ / "one", "1");
  Write(a_ / "two", "2");
  RunResult r = Sh("mv --no-clobber alpha/one alpha/two; cat alpha/../alpha/two 2>/dev/null; true");
  std::ifstream two(a_ / "two");
  std::string t((std::istreambuf_iterator<char>(two)), {});
  EXPECT_EQ(t, "2") << "no clobber";
  EXPECT_TRUE(fs::exists(a_ / "one"));
}

TEST_F(Mount, RenameAcrossCollectionsIsExdevAndMvCopiesThenDeletes) {
  MountOrDie();
  RunResult r = Sh("perl -e 'rename(\"alpha/hello.txt\", \"beta/hello.txt\") or print $!'");
  EXPECT_EQ(r.out, "Invalid cross-device link") << r.all();
  // mv falls back to copy + delete (a Globus transfer, then a delete task),
  // and gets there whole.
  r = Sh("mv alpha/hello.txt beta/ && sync beta alpha");
  EXPECT_EQ(r.exit_code, 0) << r.all() << "\ndaemon log:\n" << mount_->Log();
  EXPECT_FALSE(fs::exists(a_ / "hello.txt"));
  std::ifstream moved(b_ / "hello.txt");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(moved)), {}), "hello\n");
}

// mv across collections unlinks the source right after queuing its copy;
// should the source still be open then (another process holds it, or the
// kernel's release of mv's own descriptor comes late), the unlink moves the
// server's copy aside: only after the copy has read it.
TEST_F(Mount, MvOfAFileHeldOpenCopiesItBeforeItIsMovedAside) {
  MountOrDie();
  RunResult r = Sh("exec 3< alpha/hello.txt && mv alpha/hello.txt beta/ && cat <&3 && exec 3<&- && sync beta alpha");
  EXPECT_EQ(r.exit_code, 0) << r.all() << "\ndaemon log:\n" << mount_->Log();
  EXPECT_EQ(r.out, "hello\n") << "the open descriptor still reads it";
  std::ifstream moved(b_ / "hello.txt");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(moved)), {}), "hello\n");
  EXPECT_FALSE(fs::exists(a_ / "hello.txt"));
}

TEST_F(Mount, OddNames) {
  MountOrDie();
  std::vector<std::string> names = {"with space", "caf\xc3\xa9", "100%", "#hash", "what?", "a'quote",
                                    "new\nline", std::string(255, 'n')};
  for (const auto& n : names) {
    Write(b_ / ("f-" + n.substr(0, 253)), n);
  }
  for (const auto& n : names) {
    std::string dir = "beta/d-" + n.substr(0, 253);
    RunResult r = testing::Run({"/bin/mkdir", (mount_->mountpoint() / dir).string()}, {});
    EXPECT_EQ(r.exit_code, 0) << n << ": " << r.all();
    EXPECT_TRUE(fs::is_directory(b_ / ("d-" + n.substr(0, 253)))) << n;
    EXPECT_TRUE(fs::exists(mount_->path("beta/f-" + n.substr(0, 253)))) << n;
  }
  RunResult r = Sh("find beta -mindepth 1 -maxdepth 1 -print0 | tr -cd '\\0' | wc -c");
  EXPECT_EQ(r.out, std::to_string(1 + 2 * names.size()) + "\n") << "b.txt, then a file and a folder per name";
  r = Sh("mkdir beta/" + std::string(256, 'x'));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("File name too long"), std::string::npos);
  ASSERT_EQ(testing::Run({"/bin/mv", mount_->path("beta/d-100%").string(), mount_->path("beta/d-100% moved").string()}, {})
                .exit_code,
            0);
  EXPECT_TRUE(fs::is_directory(b_ / "d-100% moved"));
}

TEST_F(Mount, AttributeChangesAreAcceptedWithoutEffectAndLinksAreNotSupported) {
  MountOrDie();
  EXPECT_EQ(Sh("chmod 600 alpha/hello.txt && chown root alpha/hello.txt && touch -d 2001-01-01 alpha/hello.txt").exit_code, 0);
  RunResult r = Sh("ln -s hello.txt alpha/link");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Operation not supported"), std::string::npos);
  r = Sh("ln alpha/hello.txt alpha/hard");
  EXPECT_NE(r.err.find("Operation not supported"), std::string::npos);
  r = Sh("mkfifo alpha/fifo");
  EXPECT_NE(r.err.find("Operation not supported"), std::string::npos);
  EXPECT_EQ(Sh("df -h . | tail -1 | awk '{print $1}'").out, "globusfs\n");
}

TEST_F(Mount, ServerSymlinksAreShownAsLinks) {
  fs::create_symlink("hello.txt", a_ / "good-link");
  fs::create_symlink("missing", a_ / "broken-link");
  testing::MountOptions o;
  o.collections = {"alpha:/", "beta"};  // a folder whose real path is known
  MountOrDie(o);
  EXPECT_EQ(Sh("readlink alpha/good-link").out, "hello.txt\n");
  EXPECT_EQ(Sh("stat -c %F alpha/good-link alpha/broken-link").out, "symbolic link\nsymbolic link\n");
}

TEST_F(Mount, XattrsNameTheGlobusFile) {
  MountOrDie();
  RunResult r = Sh("getfattr --only-values -n user.globus.collection_id alpha/docs/readme.md");
  EXPECT_EQ(r.out, emu_->collection_id("alpha")) << r.all();
  r = Sh("getfattr --only-values -n user.globus.path alpha/docs/readme.md");
  EXPECT_EQ(r.out, "/~/docs/readme.md");
  r = Sh("getfattr --only-values -n user.globus.url alpha/docs/readme.md");
  // The HTTPS server knows no '~': "/~/" is the root here (no home folder).
  EXPECT_EQ(r.out, emu_->base_url() + "/c/" + emu_->collection_id("alpha") + "/docs/readme.md");
  r = Sh("getfattr -d alpha/hello.txt");
  EXPECT_NE(r.out.find("user.globus.collection_id"), std::string::npos);
}

TEST_F(Mount, AWarmListingMakesNoTransferCallsEvenAfterARemount) {
  MountOrDie();
  ASSERT_EQ(Sh("ls -l alpha alpha/docs").exit_code, 0);
  emu_->ResetStats();
  ASSERT_EQ(Sh("ls -l alpha alpha/docs && stat alpha/hello.txt").exit_code, 0);
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 0u);
  EXPECT_EQ(emu_->RequestCount("transfer.stat"), 0u);
  // Remount within the TTL: the LMDB cache answers.
  auto first_cache = mount_->cache_dir();  // "mntN-cache": N counts mounts in this process
  ASSERT_TRUE(mount_->Unmount());
  // A new mount on the same cache folder (MountedFs would pick a fresh one).
  testing::MountOptions again;
  again.login = false;
  again.extra_args = {"--cache-dir", first_cache.string()};
  mount_ = std::make_unique<MountedFs>(*emu_, again);
  std::string why;
  ASSERT_TRUE(mount_->Mount(&why)) << why;
  emu_->ResetStats();
  RunResult r = Sh("ls -l alpha alpha/docs");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("hello.txt"), std::string::npos);
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 0u) << "served from the cache that survived the remount";
}

TEST_F(Mount, ChangesBehindTheMountsBackAppearAfterTheTtl) {
  testing::MountOptions o;
  o.extra_args = {"--metadata-ttl", "1"};
  MountOrDie(o);
  EXPECT_EQ(Sh("ls alpha").out, "docs\nhello.txt\n");
  Write(a_ / "later.txt", "x");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(Sh("ls alpha").out, "docs\nhello.txt\nlater.txt\n");
}

TEST_F(Mount, ConcurrentLookupsInOneFolderShareOneListing) {
  for (int i = 0; i < 50; ++i) Write(b_ / "many" / ("f" + std::to_string(i)), "x");
  MountOrDie();
  emu_->ResetStats();
  RunResult r = Sh("for i in $(seq 0 49); do stat beta/many/f$i >/dev/null & done; wait");
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 2u) << "beta (once) and beta/many (once), not once per file";
}

class HighAssuranceMount : public Mount {
 protected:
  std::vector<std::string> ExtraEmulatorArgs() override { return {"--high-assurance", "beta", "--auth-timeout", "60"}; }
};

TEST_F(HighAssuranceMount, AnAgedSessionIsEaccesWithGuidanceThenWorksAfterSessionUpdate) {
  testing::MountOptions o;
  o.extra_args = {"--metadata-ttl", "0"};
  MountOrDie(o);
  EXPECT_EQ(Sh("ls beta").out, "b.txt\n");
  emu_->AgeSession(120);
  RunResult r = Sh("ls beta");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.all();
  std::string log = mount_->Log();
  auto info = *emu_->http().GetJson(emu_->base_url() + "/_emulator/info");
  std::string primary = info["identities"][0]["id"];
  EXPECT_NE(log.find("globusfs-auth session update " + primary), std::string::npos) << log;
  // Fix it with the tool; no remount.
  RunResult u = mount_->Auth({"session", "update", primary});
  ASSERT_EQ(u.exit_code, 0) << u.all();
  EXPECT_EQ(Sh("ls beta").out, "b.txt\n");
}

class MfaRequiredMount : public Mount {
 protected:
  std::vector<std::string> ExtraEmulatorArgs() override { return {"--mfa-required", "beta"}; }
};

TEST_F(MfaRequiredMount, MissingMfaIsEaccesNamingSessionUpdateMfaWhichFixesIt) {
  testing::MountOptions o;
  o.extra_args = {"--metadata-ttl", "0"};
  MountOrDie(o);
  RunResult r = Sh("ls beta");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.all();
  std::string log = mount_->Log();
  EXPECT_NE(log.find("globusfs-auth session update --mfa"), std::string::npos) << log;
  RunResult u = mount_->Auth({"session", "update", "--mfa"});
  ASSERT_EQ(u.exit_code, 0) << u.all();
  EXPECT_EQ(Sh("ls beta").out, "b.txt\n") << "no remount needed";
}

TEST_F(Mount, StartupChecksNameTheFix) {
  // No login at all.
  testing::MountOptions o;
  o.login = false;
  MountedFs m(*emu_, o);
  std::string why;
  EXPECT_FALSE(m.Mount(&why));
  EXPECT_NE(why.find("globusfs-auth login"), std::string::npos) << why;
  EXPECT_NE(m.exit_code(), 0);
}

TEST_F(Mount, AWrongUuidIsRefusedAtStart) {
  MountedFs login(*emu_);
  ASSERT_TRUE(login.Auth({"login"}).exit_code == 0);
  std::string bogus = testing::RandomUuid();
  fs::create_directories(emu_->dir() / "nowhere");
  testing::RunResult r = testing::Run({GLOBUSFS_BIN, "-f", "--collection", "x=" + bogus, (emu_->dir() / "nowhere").string()},
                   login.Env(), "", 30s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no collection with this UUID"), std::string::npos) << r.all();
}

}  // namespace
}  // namespace globusfs
