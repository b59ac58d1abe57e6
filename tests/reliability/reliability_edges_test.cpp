// Reliability at the edges: 64 parallel readers within the memory budget,
// garbled and truncated answers, uploads retried after rm/mv, and listings
// read across a write. Fixture and helpers: reliability_fixture.h.
#include "tests/reliability/reliability_fixture.h"

namespace globusfs::reliability {
namespace {

// --- 5. 64 parallel readers ------------------------------------------------------

TEST_F(Reliability, SixtyFourParallelReadersStayWithinTheMemoryBudget) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "under ASan: its shadow memory and quarantine are not the daemon's budget";
#endif
  StartEmulator();
  std::vector<std::string> shas;
  for (int i = 0; i < 16; ++i) shas.push_back(Put("alpha/par/f" + std::to_string(i), Pattern(6 * kMiB + 4097 * i, 1500 + i), "f"));
  MountOrDie();
  pid_t pid = mount_->daemon_pid();
  ASSERT_GT(pid, 0);
  uint64_t before = StatusKiB(pid, "VmHWM");
  fs::path out = emu_->dir() / "sums";
  fs::create_directories(out);
  auto t = std::chrono::steady_clock::now();
  RunResult r = Sh("cd alpha/par && for i in $(seq 0 63); do sha256sum f$((i % 16)) > '" + out.string() +
                       "'/s$i 2>&1 & done; wait",
                   240s);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  ASSERT_EQ(r.exit_code, 0) << r.all();
  int right = 0;
  std::vector<std::string> wrong;
  for (int i = 0; i < 64; ++i) {
    std::string got = ReadFile(out / ("s" + std::to_string(i)));
    if (got.substr(0, 64) == shas[i % 16]) ++right;
    else wrong.push_back("reader " + std::to_string(i) + " (f" + std::to_string(i % 16) + "): " + FirstLine(got));
  }
  uint64_t hwm = StatusKiB(pid, "VmHWM");
  std::printf("[ readers  ] 64 readers of 16 x 6 MiB in %.1f s; daemon VmHWM %.1f MiB (%.1f MiB before)\n", secs,
              hwm / 1024.0, before / 1024.0);
  EXPECT_EQ(right, 64) << Join(wrong);
  EXPECT_GT(hwm, 0u);
  EXPECT_LT(hwm, (256 + 64) * 1024u) << "the daemon's peak RSS passed the 256 MiB budget + 64 MiB";
  ExpectDaemonAlive("after the readers");
}

// --- 6. malformed JSON, garbled file bodies and truncated answers ----------------

TEST_F(Reliability, MalformedAndTruncatedAnswersAreEioAndNeverCached) {
  StartEmulator();
  const int kDirs = 40;
  for (int k = 0; k < kDirs; ++k) {
    Put("alpha/m/d" + std::to_string(k) + "/x", "x" + std::to_string(k), "x");
    Put("alpha/m/d" + std::to_string(k) + "/y", "y" + std::to_string(k), "y");
  }
  std::vector<std::string> g_sha, t_sha;
  for (int k = 0; k < 12; ++k) g_sha.push_back(Put("alpha/m/g" + std::to_string(k), Pattern(2 * kMiB + 12345, 1600 + k), "g" + std::to_string(k)));
  for (int k = 0; k < 20; ++k) t_sha.push_back(Put("alpha/m/t" + std::to_string(k), Pattern(10 * kKiB + k, 1700 + k), "t" + std::to_string(k)));
  std::string u_sha = Local("u", Pattern(50 * kKiB, 1800), "u");
  testing::MountOptions o;
  o.extra_args = {"--metadata-ttl", "1"};
  MountOrDie(o);
  const fs::path mnt = mount_->mountpoint();

  OpLog log;
  std::vector<std::string> wrong;  // answers that were neither right nor EIO
  int ls_k = 0, up_k = 0, g_k = 0, t_k = 0, mk_k = 0, mv_k = 20;
  // Each op: one command, and what a success must show (empty: anything).
  struct Verdict {
    RunResult r;
    std::string bad;  // why a success was wrong
  };
  std::map<std::string, std::function<Verdict()>> ops;
  ops["ls"] = [&] {
    std::string d = "alpha/m/d" + std::to_string(ls_k++ % 20);
    RunResult r = ShIn(mnt, "ls " + d);
    return Verdict{r, r.exit_code == 0 && r.out != "x\ny\n" ? "`ls " + d + "` listed '" + r.out + "'" : ""};
  };
  ops["stat"] = [&] {
    std::string d = "alpha/m/up" + std::to_string(up_k++);
    RunResult r = ShIn(mnt, "mkdir " + d + " && cp '" + (local_ / "u").string() + "' " + d + "/u && ls " + d);
    return Verdict{r, r.exit_code == 0 && r.out != "u\n" ? "just written, `ls " + d + "` listed '" + r.out + "'" : ""};
  };
  ops["get"] = [&] {
    int k = g_k++ % 12;
    RunResult r = ShIn(mnt, "sha256sum alpha/m/g" + std::to_string(k));
    return Verdict{r, r.exit_code == 0 && r.out.substr(0, 64) != g_sha[k]
                          ? "alpha/m/g" + std::to_string(k) + " read as " + Label(r.out.substr(0, 64)) + " (" +
                                std::to_string(k) + ")"
                          : ""};
  };
  ops["task"] = [&] {
    int k = t_k++ % 20;
    std::string n = std::to_string(k);
    RunResult r = ShIn(mnt, "cp alpha/m/t" + n + " beta/t" + n + " && sync beta/t" + n);
    std::string bad;
    if (r.exit_code == 0 && (!fs::exists(data_ / "beta" / ("t" + n)) || Sha256(ReadFile(data_ / "beta" / ("t" + n))) != t_sha[k])) {
      bad = "cp + sync of beta/t" + n + " succeeded but the server does not have it";
    }
    return Verdict{r, bad};
  };
  ops["mkdir"] = [&] {
    std::string d = "alpha/m/mk" + std::to_string(mk_k++);
    RunResult r = ShIn(mnt, "mkdir " + d + " && ls -d " + d);
    return Verdict{r, ""};
  };
  ops["rename"] = [&] {
    std::string d = "alpha/m/d" + std::to_string(mv_k++);
    RunResult r = ShIn(mnt, "mv " + d + "/x " + d + "/x2 && ls " + d);
    return Verdict{r, r.exit_code == 0 && r.out != "x2\ny\n" ? "after mv, `ls " + d + "` listed '" + r.out + "'" : ""};
  };

  // Adds one fault (count 1), runs the op until the fault is used up (at
  // most 4 times), and records what the tools saw.
  std::vector<std::string> summary;
  auto phase = [&](const std::string& route, const json& how, const std::string& op_name) {
    json fault = how;
    fault["route"] = route;
    fault["count"] = 1;
    emu_->AddFault(fault);
    std::string name = route + " " + how.dump() + " / " + op_name;
    std::string outcome;
    for (int attempt = 0; attempt < 4; ++attempt) {
      Verdict v = ops[op_name]();
      log.Record(name, v.r);
      bool used = FaultsLeft() == 0;
      if (v.r.exit_code == 0) {
        outcome += v.bad.empty() ? "ok " : "WRONG ";
        if (!v.bad.empty()) wrong.push_back(name + ": " + v.bad);
      } else {
        std::string e = ErrnoText(v.r.err);
        outcome += "[" + e + "] ";
        if (e != "Input/output error") wrong.push_back(name + ": failed with '" + FirstLine(v.r.err) + "' (not EIO)");
      }
      if (used) break;
    }
    if (FaultsLeft() != 0) {
      outcome += "(fault never hit)";
      emu_->ClearFaults();
    }
    summary.push_back(name + ": " + outcome);
    if (!ProcessAlive(mount_->daemon_pid())) log.Problem("the daemon died during " + name);
  };

  for (const char* v : {"cut", "wrong_types", "unterminated", "retyped", "not_object"}) {
    phase("transfer.ls", {{"malformed", v}}, "ls");
    phase("transfer.stat", {{"malformed", v}}, "stat");
    phase("transfer.task", {{"malformed", v}}, "task");
  }
  for (const char* v : {"bad_range", "short_body"}) phase("https.get", {{"malformed", v}}, "get");
  phase("https.get", {{"malformed", true}}, "get");
  for (const auto& [route, op] : std::vector<std::pair<std::string, std::string>>{
           {"transfer.ls", "ls"}, {"transfer.stat", "stat"}, {"transfer.task", "task"},
           {"transfer.transfer", "task"}, {"transfer.submission_id", "task"}, {"https.get", "get"},
           {"transfer.mkdir", "mkdir"}, {"transfer.rename", "rename"}}) {
    phase(route, {{"truncate", true}}, op);
  }
  ASSERT_TRUE(ProcessAlive(mount_->daemon_pid())) << "the daemon died; log tail:\n" << LogTail(6000);
  std::printf("[ phases   ]%s\n", Join(summary, "\n    ").c_str());

  // Nothing wrong stays: once the faults are gone and the TTL has passed,
  // the mount shows exactly the server's folders, files and bytes.
  emu_->ClearFaults();
  Sh("sync alpha beta");  // a copy that failed during the faults is reported here once
  RunResult synced = Sh("sync alpha beta");
  EXPECT_EQ(synced.exit_code, 0) << synced.all();
  std::this_thread::sleep_for(1500ms);
  RunResult dirs = ShIn(mnt, "find alpha beta -mindepth 1 -type d | sort");
  EXPECT_EQ(dirs.exit_code, 0) << dirs.all();
  std::string server_dirs;
  for (const auto& d : ServerDirs(data_, {"alpha", "beta"})) server_dirs += d + "\n";
  std::string sorted_dirs;
  {
    std::set<std::string> s;
    std::istringstream in(dirs.out);
    for (std::string l; std::getline(in, l);) s.insert(l);
    for (const auto& d : s) sorted_dirs += d + "\n";
  }
  EXPECT_EQ(sorted_dirs, server_dirs) << "the folders the mount shows";
  RunResult view = ShIn(mnt, "find alpha beta -type f -print0 | sort -z | xargs -0 sha256sum");
  EXPECT_EQ(view.exit_code, 0) << view.all();
  auto seen = ParseSums(view.out);
  auto server = ServerTree(data_, {"alpha", "beta"});
  std::vector<std::string> stale;
  for (const auto& [path, sha] : server) {
    auto it = seen.find(path);
    if (it == seen.end()) stale.push_back(path + " is on the server but not in the mount");
    else if (it->second != sha) stale.push_back(path + " reads as " + Label(it->second) + ", the server has " + Label(sha));
  }
  for (const auto& [path, sha] : seen) {
    if (!server.count(path)) stale.push_back(path + " is shown but not on the server");
  }
  for (int k = 0; k < mk_k; ++k) {
    if (!fs::is_directory(data_ / "alpha/m" / ("mk" + std::to_string(k)))) stale.push_back("alpha/m/mk" + std::to_string(k) + " was not made");
  }
  EXPECT_TRUE(stale.empty()) << "after the faults and the TTL:" << Join(stale);
  ExpectDaemonAlive("after the garbled answers");
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " answer(s) neither right nor EIO:" << Join(wrong) << "\nlog tail:\n"
                             << LogTail(6000);
  EXPECT_TRUE(log.problems().empty()) << Join(log.problems());
}

// --- 7. an upload retried after a failed close, and rm / mv of the file -----------

// docs/SEMANTICS.md: a failed upload "stays journaled and is uploaded again
// later". What the user did to the file meanwhile must still hold: a file
// removed stays removed, a file renamed does not come back at its old name.
TEST_F(Reliability, AnUploadRetriedAfterAFailedCloseDoesNotUndoRmOrMv) {
  StartEmulator();
  std::string old_f = Put("alpha/k/f", "old f\n", "f (old)"), old_g = Put("alpha/k/g", "old g\n", "g (old)");
  std::string new_f = Local("f", "new f\n", "f (new)"), new_g = Local("g", "new g\n", "g (new)");
  MountOrDie();
  ASSERT_EQ(Sh("ls alpha/k").out, "f\ng\n");
  // Every attempt of both writes' uploads fails: 1 + 5 retries at close
  // (flush) and as many again at release, for each of the two files.
  emu_->AddFault({{"route", "https.put"}, {"status", 503}, {"retry_after", 0}, {"count", 100}});
  RunResult wf = Sh("cp '" + (local_ / "f").string() + "' alpha/k/f");
  RunResult wg = Sh("cp '" + (local_ / "g").string() + "' alpha/k/g");
  EXPECT_NE(wf.exit_code, 0) << "the upload failed at close: " << wf.all();
  EXPECT_NE(wg.exit_code, 0) << wg.all();
  // Release (after close, asynchronous) tries once more, and fails too.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (mount_->Log().find("upload at close /~/k/g") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  emu_->ClearFaults();
  RunResult r = Sh("rm alpha/k/f && mv alpha/k/g alpha/k/moved && sync alpha && ls alpha/k");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "moved\n");
  // The background uploader retries journaled uploads every 10 s.
  std::this_thread::sleep_for(12s);
  Allowed allowed = {{"alpha/k/f", {kAbsent}}, {"alpha/k/g", {kAbsent}}, {"alpha/k/moved", {old_g, new_g}}};
  auto problems = CheckServer(allowed, {"alpha"});
  EXPECT_TRUE(problems.empty()) << "after rm alpha/k/f and mv alpha/k/g alpha/k/moved:" << Join(problems)
                                << "\nlog:\n" << LogTail(6000);
  std::this_thread::sleep_for(1500ms);
  RunResult view = Sh("ls alpha/k");
  EXPECT_EQ(view.out, "moved\n") << "the mount's view after the TTL";
  ExpectDaemonAlive("after the retried uploads");
}

// --- 8. what test 1 found under load, made deterministic ----------------------------

// A listing opened while a file is being written, read after the file was
// closed: `ls -l` during `cp -r` does this. The file must not then read as
// empty (a new file) or cut to its old size (an overwritten one). perl:
// readdir on a handle opened before the write.
TEST_F(Reliability, AListingOpenedDuringAWriteDoesNotShrinkTheFile) {
  StartEmulator();
  Put("alpha/det/old", std::string(1000, 'o'), "old");
  std::string data(64 * kKiB, 'z');
  MountOrDie();
  for (const std::string name : {"new", "old"}) {
    std::string f = "alpha/det/" + name;
    RunResult r = Sh("perl -e '"
                     "open(my $f, \">\", \"" + f + "\") or die \"open: $!\";"  // created or truncated
                     "opendir(my $d, \"alpha/det\") or die \"opendir: $!\";"     // the listing as it is now
                     "print $f \"z\" x 65536; close($f) or die \"close: $!\";"    // written and uploaded
                     "my @names = readdir($d); closedir($d);'"                  // read after the close
                     " && stat -c %s " + f + " && wc -c < " + f);
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(r.out, "65536\n65536\n") << "size and bytes of " << f << " through the mount";
    EXPECT_EQ(ReadFile(data_ / f), data) << "the server has " << f;
  }
}


}  // namespace
}  // namespace globusfs::reliability
