// `globusfs wait`, `globusfs status --watch` and `globusfs search` against
// a real mount and globus-emulator: wait returns 0 only once a copy has
// landed on the server (the emulator holds tasks back), 1 listing a failed
// copy, 1 at --timeout; watch shows a progress line and ends when the work
// is done (1 when some failed); search finds collections by part of their
// display name, without a mount, and says how to log in when nobody has.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "tests/support/child_process.h"
#include "tests/support/emulator_process.h"
#include "tests/support/mount_fixture.h"
#include "tests/support/mounted_fs.h"
#include "tests/support/test_files.h"

namespace globusfs {
namespace {

using testing::ChildProcess;
using testing::EmulatorProcess;
using testing::Pattern;
using testing::ReadFile;
using testing::RunResult;
using testing::WriteFile;
using json = nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Progress : public testing::MountFixture {
 protected:
  // Tasks wait `task_delay_ms` at the emulator before they run.
  void Start(int64_t task_delay_ms) {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta"};
    opts.task_delay_ms = task_delay_ms;
    emu_ = EmulatorProcess::Start(opts);
    a_ = emu_->root("alpha");
    b_ = emu_->root("beta");
  }
  RunResult Globusfs(std::vector<std::string> args, std::chrono::seconds timeout = 30s) {
    args.insert(args.begin(), GLOBUSFS_BIN);
    return testing::Run(args, {}, "", timeout);
  }
  std::string Mnt() const { return mount_->mountpoint().string(); }
  fs::path a_, b_;
};

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST_F(Progress, WaitReturnsOnceTheCopyHasLandedOnTheServer) {
  Start(1500);
  WriteFile(a_ / "data.bin", Pattern(300000, 3));
  WriteFile(a_ / "other.bin", "elsewhere");
  MountOrDie();
  ASSERT_EQ(Sh("cp alpha/data.bin beta/data.bin && cp alpha/other.bin alpha/other2.bin").exit_code, 0);
  ASSERT_FALSE(fs::exists(b_ / "data.bin")) << "held back by the emulator: there is work to wait for";
  RunResult w = Globusfs({"wait", Mnt(), (mount_->mountpoint() / "beta" / "data.bin").string()});
  ASSERT_EQ(w.exit_code, 0) << w.all() << LogTail(3000);
  EXPECT_EQ(ReadFile(b_ / "data.bin"), Pattern(300000, 3)) << "on the server when wait returned";
  EXPECT_NE(w.out.find("has landed"), std::string::npos) << w.all();
  // The whole mount, as JSON: the other copy lands too.
  w = Globusfs({"wait", Mnt(), "--json"});
  ASSERT_EQ(w.exit_code, 0) << w.all();
  EXPECT_EQ(json::parse(w.out)["result"], "done");
  EXPECT_EQ(ReadFile(a_ / "other2.bin"), "elsewhere");
  // Nothing left: at once.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Globusfs({"wait", Mnt(), "--timeout", "5"}).exit_code, 0);
  EXPECT_LT(SecondsSince(t0), 2.0);
}

TEST_F(Progress, WaitListsAFailedCopyAndWatchEndsWithIt) {
  Start(1000);
  WriteFile(a_ / "f.txt", "refused\n");
  MountOrDie();
  emu_->AddFault({{"route", "task.transfer"}, {"code", "PERMISSION_DENIED"}, {"count", 1}});
  ASSERT_EQ(Sh("cp alpha/f.txt beta/f.txt").exit_code, 0);
  ChildProcess watch({GLOBUSFS_BIN, "status", Mnt(), "--watch", "--interval", "0.2"}, {});
  watch.CloseStdin();
  RunResult w = Globusfs({"wait", Mnt(), (mount_->mountpoint() / "beta").string(), "--json"});
  EXPECT_EQ(w.exit_code, 1) << w.all();
  EXPECT_NE(w.err.find("FAILED"), std::string::npos) << w.all();
  EXPECT_NE(w.err.find("/beta/f.txt"), std::string::npos) << w.all();
  EXPECT_NE(w.err.find("PERMISSION_DENIED"), std::string::npos) << w.all();
  json j = json::parse(w.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << w.out;
  EXPECT_EQ(j["result"], "failed");
  EXPECT_EQ(j["failed"].size(), 1u);
  EXPECT_EQ(watch.Wait(20s), 1) << watch.all();
  EXPECT_NE(watch.err().find("failed during the watch"), std::string::npos) << watch.all();
  EXPECT_NE(watch.out().find("/beta/f.txt"), std::string::npos) << watch.all();
  // Work elsewhere in the mount is not what a wait on /alpha is for.
  EXPECT_EQ(Globusfs({"wait", Mnt(), (mount_->mountpoint() / "alpha").string()}).exit_code, 0);
  // fsync reports it too (once); else the daemon's exit status says it at unmount.
  EXPECT_NE(Sh("sync beta").exit_code, 0);
}

TEST_F(Progress, WaitRespectsItsTimeoutAndAnInactiveTaskIsNamed) {
  Start(50);
  WriteFile(a_ / "held.txt", "held up\n");
  MountOrDie();
  // Globus suspends the task (expired credentials) for 4 s, then runs it.
  emu_->AddFault({{"route", "task.transfer"}, {"inactive_ms", 4000}, {"count", 1}});
  ASSERT_EQ(Sh("cp alpha/held.txt beta/held.txt").exit_code, 0);
  auto t0 = std::chrono::steady_clock::now();
  RunResult w = Globusfs({"wait", Mnt(), "--timeout", "1.5"});
  EXPECT_EQ(w.exit_code, 1) << w.all();
  EXPECT_GE(SecondsSince(t0), 1.4);
  EXPECT_LT(SecondsSince(t0), 4.0) << "bounded by --timeout";
  EXPECT_NE(w.err.find("timed out after 1.5 s"), std::string::npos) << w.all();
  EXPECT_FALSE(fs::exists(b_ / "held.txt"));
  // Without a timeout it waits for the suspended task, says why, and
  // returns once Globus has run it.
  w = Globusfs({"wait", Mnt(), (mount_->mountpoint() / "beta" / "held.txt").string()});
  EXPECT_EQ(w.exit_code, 0) << w.all() << LogTail(3000);
  EXPECT_EQ(ReadFile(b_ / "held.txt"), "held up\n");
  EXPECT_NE(w.err.find("is INACTIVE"), std::string::npos) << w.all();
}

TEST_F(Progress, WatchShowsProgressAndEndsWhenTheWorkIsDone) {
  Start(1500);
  WriteFile(a_ / "big.bin", Pattern(1 << 20, 5));
  MountOrDie();
  ASSERT_EQ(Sh("cp alpha/big.bin beta/big.bin").exit_code, 0);
  RunResult w = Globusfs({"status", Mnt(), "--watch", "--interval", "0.2"});
  ASSERT_EQ(w.exit_code, 0) << w.all();
  EXPECT_NE(w.out.find("TRANSFER  "), std::string::npos) << w.out;
  EXPECT_NE(w.out.find("/1 files  "), std::string::npos) << "a progress line: " << w.out;
  EXPECT_NE(w.out.find("/1.00 MiB"), std::string::npos) << "bytes of the total: " << w.out;
  EXPECT_NE(w.out.find("/beta/big.bin"), std::string::npos) << w.out;
  EXPECT_EQ(w.out.find("\x1b["), std::string::npos) << "no escapes when stdout is no terminal";
  EXPECT_NE(w.out.rfind("nothing pending or active\n"), std::string::npos) << w.out;
  EXPECT_EQ(ReadFile(b_ / "big.bin").size(), 1u << 20) << "ended once it landed";

  // --json: one document per line per refresh; the last shows nothing left.
  ASSERT_EQ(Sh("cp alpha/big.bin beta/again.bin").exit_code, 0);
  w = Globusfs({"status", Mnt(), "--watch", "--json", "--interval", "0.2"});
  ASSERT_EQ(w.exit_code, 0) << w.all();
  std::istringstream lines(w.out);
  json last;
  int count = 0, with_work = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    last = json::parse(line, nullptr, false);
    ASSERT_TRUE(last.is_object()) << line;
    if (!last["active"].empty() || !last["pending"].empty()) ++with_work;
  }
  EXPECT_GE(with_work, 1) << w.out;
  EXPECT_TRUE(last["active"].empty() && last["pending"].empty()) << last.dump();
  EXPECT_TRUE(last["failed_during_watch"].empty());
  EXPECT_TRUE(fs::exists(b_ / "again.bin"));
}

TEST_F(Progress, UsageErrorsExitTwo) {
  Start(50);
  MountOrDie();
  EXPECT_EQ(Globusfs({"wait"}).exit_code, 2);
  EXPECT_EQ(Globusfs({"wait", Mnt(), "/somewhere/else"}).exit_code, 2);
  EXPECT_EQ(Globusfs({"wait", Mnt(), "--timeout", "soon"}).exit_code, 2);
  EXPECT_EQ(Globusfs({"status", Mnt(), "--interval", "1"}).exit_code, 2) << "--interval goes with --watch";
  EXPECT_EQ(Globusfs({"status", Mnt(), "--watch", "--interval", "0"}).exit_code, 2);
  EXPECT_EQ(Globusfs({"wait", "/tmp"}).exit_code, 1) << "not a mount";
  RunResult help = Globusfs({"--help"});
  EXPECT_NE(help.out.find("globusfs wait MOUNTPOINT"), std::string::npos);
  EXPECT_NE(help.out.find("--watch"), std::string::npos);
  EXPECT_NE(help.out.find("globusfs search TEXT"), std::string::npos);
}

// Search needs no mount (and no FUSE): only a login.
TEST(Search, FindsCollectionsByPartOfTheirNameWithoutAMount) {
  testing::EmulatorOptions opts;
  opts.collections = {"alpha", "beta"};
  opts.personal_collections = {"laptop"};
  auto emu = EmulatorProcess::Start(opts);
  testing::MountedFs never_mounted(*emu);  // for its login environment
  auto env = never_mounted.Env();
  auto search = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {GLOBUSFS_BIN, "search"});
    return testing::Run(args, env, "", 30s);
  };
  RunResult r = search({"alp"});
  EXPECT_EQ(r.exit_code, 4) << "not logged in (as globusfs-auth: 4): " << r.all();
  EXPECT_NE(r.err.find("globusfs-auth login"), std::string::npos) << r.all();

  ASSERT_EQ(never_mounted.Auth({"login"}).exit_code, 0);
  r = search({"lph"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find(emu->collection_id("alpha")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GCSv5_mapped_collection"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(emu->collection_id("beta")), std::string::npos) << r.out;

  r = search({"a", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  json hits = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(hits.is_array()) << r.out;
  std::map<std::string, json> by_name;
  for (const auto& h : hits) by_name[h["display_name"]] = h;
  ASSERT_EQ(by_name.size(), 3u) << r.out;
  EXPECT_EQ(by_name["alpha"]["id"], emu->collection_id("alpha"));
  EXPECT_EQ(by_name["alpha"]["has_https"], true);
  EXPECT_EQ(by_name["laptop"]["has_https"], false) << "Globus Connect Personal: no HTTPS server";
  EXPECT_EQ(by_name["laptop"]["https_server"], nullptr);
  EXPECT_EQ(by_name["laptop"]["entity_type"], "GCP_mapped_collection");
  EXPECT_FALSE(by_name["beta"]["owner_string"].get<std::string>().empty());

  r = search({"a", "--json", "--limit", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(json::parse(r.out).size(), 2u);
  r = search({"zzz"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("No collection"), std::string::npos);
  EXPECT_EQ(search({}).exit_code, 2);
  EXPECT_EQ(search({"a", "--limit", "0"}).exit_code, 2);
  EXPECT_EQ(search({"a", "--bogus"}).exit_code, 2);
  // No token ever reaches the output.
  std::ifstream in(never_mounted.config_dir() / "tokens.json");
  json store = json::parse(in, nullptr, false);
  ASSERT_FALSE(store.is_discarded());
  std::vector<std::string> secrets;
  std::function<void(const json&)> collect = [&](const json& j) {
    if (!j.is_structured()) return;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (j.is_object() && (it.key() == "access_token" || it.key() == "refresh_token") && it->is_string()) {
        secrets.push_back(it->get<std::string>());
      }
      collect(*it);
    }
  };
  collect(store);
  ASSERT_FALSE(secrets.empty()) << "the store holds the login's tokens";
  r = search({"a"});
  for (const auto& s : secrets) EXPECT_EQ(r.all().find(s), std::string::npos) << "a token was printed";
}

}  // namespace
}  // namespace globusfs
