// Reliability under load: a mixed workload under ~5% faults, tokens
// expiring mid-workload, the daemon SIGKILLed during writes and copies
// (seeded: RELIABILITY_SEED=<n> replays a run), the emulator restarted.
// Fixture and helpers: reliability_fixture.h.
#include "tests/reliability/reliability_fixture.h"

namespace globusfs::reliability {
namespace {

// --- 1. a mixed workload under ~5% faults ---------------------------------------

TEST_F(Reliability, MixedWorkloadUnderFivePercentFaults) {
  StartEmulator();
  // Five lanes run the same workload at once on their own folders
  // (alpha/L<n>, beta/L<n>), each with a writer, a lister, a reader and a
  // mover.
  const int kLanes = 5, kRead = 10, kOver = 8, kMv = 6, kSrc = 10, kTree = 30, kJunk = 24;
  std::map<std::string, std::string> orig;     // "alpha/L0/read/r0" -> sha of what the server started with
  std::map<std::string, std::string> written;  // "alpha/L0/tree/d0/f0" -> sha of the new bytes
  for (int l = 0; l < kLanes; ++l) {
    std::string L = "L" + std::to_string(l), a = "alpha/" + L;
    uint32_t seed = 10000 * (l + 1);
    auto put = [&](const std::string& rel, uint64_t size, uint32_t sd) {
      orig[rel] = Put(rel, Pattern(size, sd), rel + " (original)");
    };
    for (int i = 0; i < kRead; ++i) put(a + "/read/r" + std::to_string(i), 150 * kKiB * (i + 1) + 777 * i, seed + 100 + i);
    for (int i = 0; i < kOver; ++i) put(a + "/over/o" + std::to_string(i), 100 * kKiB + 50 * kKiB * i, seed + 200 + i);
    for (int i = 0; i < kMv; ++i) put(a + "/mv/m" + std::to_string(i), 20 * kKiB + 999 * i, seed + 300 + i);
    for (int i = 0; i < kSrc; ++i) put(a + "/src/c" + std::to_string(i), 30 * kKiB * (i + 1) + 13, seed + 400 + i);
    for (int i = 0; i < kJunk; ++i) put(a + "/junk/d" + std::to_string(i % 3) + "/j" + std::to_string(i), 1000 + i, seed + 500 + i);
    for (int i = 0; i < kTree; ++i) {
      std::string rel = L + "/tree/d" + std::to_string(i % 3) + "/f" + std::to_string(i);
      written["alpha/" + rel] = Local(rel, Pattern(1 * kKiB + 7 * kKiB * i, seed + 600 + i), "alpha/" + rel + " (new)");
    }
    for (int i = 0; i < kOver; ++i) {
      std::string rel = a + "/over/o" + std::to_string(i);
      written[rel] = Local(L + "/new/o" + std::to_string(i), Pattern(80 * kKiB + 70 * kKiB * i, seed + 700 + i), rel + " (new)");
    }
  }
  testing::MountOptions o;
  o.extra_args = {"--metadata-ttl", "2"};
  MountOrDie(o);
  const fs::path mnt = mount_->mountpoint();
  std::string lanes;
  for (int l = 0; l < kLanes; ++l) lanes += " beta/L" + std::to_string(l);
  ASSERT_EQ(Sh("mkdir" + lanes).exit_code, 0);

  emu_->AddFault({{"route", "*"}, {"status", 503}, {"fraction", 0.03}});
  emu_->AddFault({{"route", "https.*"}, {"drop", true}, {"fraction", 0.01}});
  emu_->AddFault({{"route", "transfer.*"}, {"status", 429}, {"retry_after", 0}, {"fraction", 0.01}});
  emu_->AddFault({{"route", "https.get"}, {"truncate", true}, {"fraction", 0.01}});

  OpLog log;
  auto run = [&](const std::string& cmd) {
    RunResult r = ShIn(mnt, cmd);
    log.Record(cmd, r);
    return r;
  };
  // A read through the mount: a success must give one of the right versions.
  auto read_check = [&](const std::string& rel, const std::set<std::string>& right) {
    RunResult r = run("sha256sum '" + rel + "'");
    if (r.exit_code != 0) return;
    std::string got = r.out.substr(0, 64);
    if (right.count(got)) return;
    // What the reader saw, against the server's file now.
    RunResult size = ShIn(mnt, "stat -c %s '" + rel + "'; wc -c < '" + rel + "'");
    std::error_code ec;
    auto on_server = fs::file_size(data_ / rel, ec);
    std::string server_sha = ec ? kAbsent : Sha256(ReadFile(data_ / rel));
    log.Problem("wrong bytes: " + rel + " read as " + Label(got) + "; the mount now says size " +
                FirstLine(size.out) + " and reads " + std::to_string(std::atoll(size.out.substr(size.out.find('\n') + 1).c_str())) +
                " bytes; the server has " + (ec ? kAbsent : std::to_string(on_server) + " bytes, " + Label(server_sha)));
  };

  // What succeeded, per lane ("tree", "over3", "copy5", "mv2", "rm", "srccopy").
  std::mutex ok_mu;
  std::set<std::string> ok;
  auto note = [&](int l, const std::string& what, const RunResult& r) {
    std::lock_guard lock(ok_mu);
    if (r.exit_code == 0) ok.insert("L" + std::to_string(l) + "/" + what);
  };
  std::vector<std::thread> threads;
  std::atomic<int> writers_done{0};
  for (int l = 0; l < kLanes; ++l) {
    std::string L = "L" + std::to_string(l), a = "alpha/" + L, b = "beta/" + L;
    threads.emplace_back([&, a] {  // lister: `ls -lR` while files are being written
      for (int i = 0; i < 100 && writers_done < kLanes; ++i) run("ls -lR " + a + " >/dev/null");
    });
    threads.emplace_back([&, l, L, a] {  // writer
      note(l, "tree", run("cp -r '" + (local_ / L / "tree").string() + "' " + a + "/tree"));
      for (int i = 0; i < kOver; ++i) {
        std::string n = std::to_string(i);
        note(l, "over" + n, run("cp '" + (local_ / L / "new" / ("o" + n)).string() + "' " + a + "/over/o" + n));
      }
      // Reads of what was just written: the new bytes (or, after a failed
      // write, the old ones).
      for (int i = 0; i < kTree; i += 3) {
        std::string rel = a + "/tree/d" + std::to_string(i % 3) + "/f" + std::to_string(i);
        read_check(rel, {written[rel]});
      }
      for (int i = 0; i < kOver; ++i) {
        std::string rel = a + "/over/o" + std::to_string(i);
        read_check(rel, {written[rel], orig[rel]});
      }
      ++writers_done;
    });
    threads.emplace_back([&, a, b] {  // reader
      run("ls -R " + a + " " + b + " >/dev/null");
      for (int pass = 0; pass < 2; ++pass) {
        for (int i = 0; i < kRead; ++i) {
          std::string rel = a + "/read/r" + std::to_string(i);
          read_check(rel, {orig[rel]});
        }
        run("ls -lR " + a + " >/dev/null");
      }
      run("find " + a + " " + b + " -type f | wc -l");
    });
    threads.emplace_back([&, l, a, b] {  // mover
      run("mkdir " + b + "/copies");
      for (int i = 0; i < kSrc; ++i) {
        std::string n = std::to_string(i);
        note(l, "copy" + n, run("cp " + a + "/src/c" + n + " " + b + "/copies/c" + n));
      }
      for (int i = 0; i < kMv; ++i) {
        std::string n = std::to_string(i);
        note(l, "mv" + n, run("mv " + a + "/mv/m" + n + " " + a + "/mv/moved-m" + n));
      }
      note(l, "rm", run("rm -r " + a + "/junk"));
      note(l, "srccopy", run("cp -r " + a + "/src " + b + "/srccopy"));
    });
  }
  for (auto& t : threads) t.join();

  emu_->ClearFaults();
  // Waits for every copy and delete. A failure since the last wait is
  // reported once (EIO); the second sync must be clean.
  RunResult s1 = ShIn(mnt, "sync alpha beta");
  RunResult s2 = ShIn(mnt, "sync alpha beta");
  EXPECT_EQ(s2.exit_code, 0) << s2.all();
  bool synced = s1.exit_code == 0;
  if (log.failed() > 0) std::this_thread::sleep_for(11s);  // failed uploads are retried every 10 s
  uint64_t requests = 0;
  json stats = emu_->Stats();
  for (const auto& [route, n] : stats["requests"].items()) requests += n.get<uint64_t>();
  std::printf("[ workload ] %s\n[ requests ] %llu requests to the emulator (about 5%% of them faulted)\n"
              "[ sync     ] first sync: exit %d %s\n",
              log.Summary().c_str(), static_cast<unsigned long long>(requests), s1.exit_code, FirstLine(s1.err).c_str());

  // What the server may hold now.
  Allowed allowed;
  auto either = [](bool sure, const std::string& x, const std::string& y) {
    return sure ? std::set<std::string>{x} : std::set<std::string>{x, y};
  };
  for (int l = 0; l < kLanes; ++l) {
    std::string L = "L" + std::to_string(l), a = "alpha/" + L, b = "beta/" + L;
    auto did = [&](const std::string& what) { return ok.count(L + "/" + what) > 0; };
    for (int i = 0; i < kRead; ++i) allowed[a + "/read/r" + std::to_string(i)] = {orig[a + "/read/r" + std::to_string(i)]};
    for (int i = 0; i < kTree; ++i) {
      std::string rel = a + "/tree/d" + std::to_string(i % 3) + "/f" + std::to_string(i);
      allowed[rel] = either(did("tree"), written[rel], kAbsent);
    }
    for (int i = 0; i < kOver; ++i) {
      std::string rel = a + "/over/o" + std::to_string(i);
      allowed[rel] = either(did("over" + std::to_string(i)), written[rel], orig[rel]);
    }
    for (int i = 0; i < kMv; ++i) {
      std::string n = std::to_string(i), from = a + "/mv/m" + n, to = a + "/mv/moved-m" + n;
      allowed[from] = either(did("mv" + n), kAbsent, orig[from]);
      allowed[to] = either(did("mv" + n), orig[from], kAbsent);
      bool at_from = fs::exists(data_ / from), at_to = fs::exists(data_ / to);
      if (at_from == at_to) log.Problem(from + " -> " + to + ": the file is " + (at_from ? "at both names" : "lost"));
    }
    for (int i = 0; i < kSrc; ++i) {
      std::string n = std::to_string(i), src = a + "/src/c" + n;
      allowed[src] = {orig[src]};
      allowed[b + "/copies/c" + n] = either(did("copy" + n) && synced, orig[src], kAbsent);
      allowed[b + "/srccopy/c" + n] = either(did("srccopy") && synced, orig[src], kAbsent);
    }
    for (const auto& [rel, sha] : orig) {
      if (rel.rfind(a + "/junk/", 0) == 0) allowed[rel] = either(did("rm") && synced, kAbsent, sha);
    }
  }
  for (const auto& p : CheckServer(allowed, {"alpha", "beta"})) log.Problem("server: " + p);

  // The mount shows exactly the server's files and bytes (after the TTL).
  std::this_thread::sleep_for(2500ms);
  RunResult view = ShIn(mnt, "find alpha beta -type f -print0 | sort -z | xargs -0 sha256sum");
  EXPECT_EQ(view.exit_code, 0) << view.all();
  auto seen = ParseSums(view.out);
  auto server = ServerTree(data_, {"alpha", "beta"});
  for (const auto& [path, sha] : server) {
    auto it = seen.find(path);
    if (it == seen.end()) log.Problem("mount: " + path + " is on the server but not in the mount");
    else if (it->second != sha) log.Problem("mount: " + path + " reads as " + Label(it->second) + ", server has " + Label(sha));
  }
  for (const auto& [path, sha] : seen) {
    if (!server.count(path)) log.Problem("mount: " + path + " is shown but not on the server");
  }
  ExpectDaemonAlive("after the workload");
  EXPECT_TRUE(log.problems().empty()) << log.problems().size() << " problem(s):" << Join(log.problems())
                                      << "\nworkload: " << log.Summary() << "\nlog tail:\n" << LogTail(6000);
  EXPECT_GE(log.ops(), 300);
}

// --- 2. tokens expired while files are read and written -------------------------

TEST_F(Reliability, TokensExpiredMidWorkloadAreRefreshed) {
  StartEmulator();
  const int kIter = 40;
  std::vector<std::string> read_sha, write_sha;
  for (int i = 0; i < kIter; ++i) {
    read_sha.push_back(Put("alpha/r/r" + std::to_string(i), Pattern(300 * kKiB + 1000 * i, 800 + i), "r"));
    write_sha.push_back(Local("w" + std::to_string(i), Pattern(200 * kKiB + 3000 * i, 900 + i), "w"));
  }
  MountOrDie();
  const fs::path mnt = mount_->mountpoint();
  ASSERT_EQ(Sh("mkdir alpha/w beta/c").exit_code, 0);
  uint64_t refreshes_before = emu_->RequestCount("auth.token");

  OpLog log;
  std::atomic<int> iteration{0};
  std::atomic<bool> stop{false};
  std::vector<bool> copied(kIter);
  std::thread worker([&] {
    for (int i = 0; i < kIter && !stop; ++i, ++iteration) {
      std::string n = std::to_string(i);
      auto ok = [&](const std::string& cmd) {
        RunResult r = ShIn(mnt, cmd);
        log.Record(cmd, r);
        return r;
      };
      ok("cp '" + (local_ / ("w" + n)).string() + "' alpha/w/w" + n);
      RunResult back = ok("sha256sum alpha/w/w" + n);
      if (back.exit_code == 0 && back.out.substr(0, 64) != write_sha[i]) log.Problem("wrong bytes reading back alpha/w/w" + n);
      RunResult rd = ok("sha256sum alpha/r/r" + n);
      if (rd.exit_code == 0 && rd.out.substr(0, 64) != read_sha[i]) log.Problem("wrong bytes reading alpha/r/r" + n);
      ok("ls -l alpha/w >/dev/null");
      if (i % 4 == 0) copied[i] = ok("cp alpha/r/r" + n + " beta/c/r" + n).exit_code == 0;
    }
  });
  // Expire every access token five times while the loop runs.
  int expiries = 0;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (iteration < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  for (; expiries < 5 && iteration < kIter - 2 && std::chrono::steady_clock::now() < deadline; ++expiries) {
    emu_->ExpireTokens();
    int at = iteration;
    while (iteration < at + 2 && iteration < kIter && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
  }
  // Two more iterations after the last expiry, then stop.
  int last = iteration;
  while (iteration < std::min(kIter, last + 2) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  worker.join();
  RunResult s = Sh("sync beta");
  EXPECT_EQ(s.exit_code, 0) << s.all();

  std::printf("[ workload ] %d iterations, %d token expiries, %llu token requests; %s\n", iteration.load(), expiries,
              static_cast<unsigned long long>(emu_->RequestCount("auth.token") - refreshes_before),
              log.Summary().c_str());
  EXPECT_GE(expiries, 3) << "the loop was too quick to expire tokens under it";
  EXPECT_EQ(log.failed(), 0) << "every operation succeeds across a token expiry: " << log.Summary() << "\nlog tail:\n"
                             << LogTail(4000);
  EXPECT_GE(emu_->RequestCount("auth.token") - refreshes_before, static_cast<uint64_t>(expiries)) << "refreshed";
  Allowed allowed;
  for (int i = 0; i < kIter; ++i) {
    std::string n = std::to_string(i);
    allowed["alpha/r/r" + n] = {read_sha[i]};
    allowed["alpha/w/w" + n] = i < iteration ? std::set<std::string>{write_sha[i]} : std::set<std::string>{kAbsent};
    if (i % 4 == 0) allowed["beta/c/r" + n] = copied[i] ? std::set<std::string>{read_sha[i]} : std::set{kAbsent};
  }
  for (const auto& p : CheckServer(allowed, {"alpha", "beta"})) log.Problem("server: " + p);
  ExpectDaemonAlive("after the workload");
  EXPECT_TRUE(log.problems().empty()) << Join(log.problems());
  // The refreshed tokens never reach the log.
  std::string mlog = mount_->Log();
  json tokens = json::parse(ReadFile(mount_->config_dir() / "tokens.json"), nullptr, false);
  int checked = 0;
  std::function<void(const json&)> walk = [&](const json& j) {
    if (!j.is_object() && !j.is_array()) return;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (j.is_object() && (it.key() == "access_token" || it.key() == "refresh_token") && it->is_string() &&
          it->get<std::string>().size() >= 16) {
        ++checked;
        EXPECT_EQ(mlog.find(it->get<std::string>()), std::string::npos) << "a token is in the daemon's log";
      }
      walk(*it);
    }
  };
  walk(tokens);
  EXPECT_GT(checked, 0) << "tokens.json holds the refreshed tokens";
}

// --- 3. SIGKILL during writes and copies -----------------------------------------

TEST_F(Reliability, SigkillDuringWritesAndCopiesLosesNothing) {
  StartEmulator(/*task_delay_ms=*/1500);  // copies are still pending when the daemon dies
  uint32_t seed = 20261123;
  if (const char* s = std::getenv("RELIABILITY_SEED")) seed = static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
  std::printf("[ seed     ] RELIABILITY_SEED=%u\n", seed);
  std::mt19937 rng(seed);
  const int kRounds = 3, kPerRound = 24, kN = kRounds * kPerRound;
  std::vector<std::string> src_sha, old_sha, new_sha;
  for (int i = 0; i < kN; ++i) {
    std::string n = std::to_string(i);
    src_sha.push_back(Put("alpha/src/s" + n, Pattern(20 * kKiB + 9 * kKiB * i, 1000 + i), "alpha/src/s" + n));
    // Every other target exists with old contents; the rest are new files.
    old_sha.push_back(i % 2 ? kAbsent : Put("alpha/w/w" + n, Pattern(64 * kKiB + 777 * i, 1100 + i), "w" + n + " (old)"));
    new_sha.push_back(Local("v" + n, Pattern(256 * kKiB + 23 * kKiB * i, 1200 + i), "w" + n + " (new)"));
  }
  MountOrDie();
  fs::path cache = mount_->cache_dir();
  ASSERT_EQ(Sh("mkdir -p beta/c && ls alpha/w alpha/src >/dev/null").exit_code, 0);
  // Uploads take a while, so the kill can land in the middle of one.
  emu_->AddFault({{"route", "https.put"}, {"delay_ms", 150}});

  std::set<int> written, copied;  // close() returned 0 before the kill (logged by the driver)
  fs::path driver_log = emu_->dir() / "driver.log";
  for (int round = 0; round < kRounds; ++round) {
    int from = round * kPerRound, to = from + kPerRound;
    std::string script = "cd '" + mount_->mountpoint().string() + "' && for i in $(seq " + std::to_string(from) +
                         " " + std::to_string(to - 1) + "); do cp '" + local_.string() +
                         "'/v$i alpha/w/w$i && echo W $i >> '" + driver_log.string() +
                         "'; cp alpha/src/s$i beta/c/s$i && echo C $i >> '" + driver_log.string() +
                         // A pause now and then lets a batch of copies go out (and be
                         // journaled) before the next ones arrive.
                         "'; [ $((i % 4)) = 3 ] && sleep 0.6; done";
    testing::ChildProcess driver({"/bin/sh", "-c", script}, {});
    driver.CloseStdin();
    auto kill_after = std::chrono::milliseconds(std::uniform_int_distribution<int>(800, 4000)(rng));
    std::this_thread::sleep_for(kill_after);
    uint64_t tasks_before_kill = Tasks("transfer");
    mount_->KillDaemon();
    driver.Wait(15s);
    mount_.reset();
    uint64_t tasks_at_kill = Tasks("transfer"), submits_at_kill = emu_->RequestCount("transfer.transfer");
    std::ifstream in(driver_log);
    std::string kind;
    int i;
    int w_round = 0, c_round = 0;
    while (in >> kind >> i) {
      if (i < from || i >= to) continue;
      if (kind == "W") w_round += written.insert(i).second;
      if (kind == "C") c_round += copied.insert(i).second;
    }
    Remount(cache);
    RunResult s = Sh("sync alpha beta");
    EXPECT_EQ(s.exit_code, 0) << "round " << round << ": " << s.all() << "\n" << LogTail(4000);
    // The journal's uploads go out in the background after the remount.
    auto deadline = std::chrono::steady_clock::now() + 40s;
    auto all_landed = [&] {
      for (int w : written) {
        if (!fs::exists(data_ / "alpha/w" / ("w" + std::to_string(w))) ||
            Sha256(ReadFile(data_ / "alpha/w" / ("w" + std::to_string(w)))) != new_sha[w]) {
          return false;
        }
      }
      return true;
    };
    while (!all_landed() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(200ms);
    std::printf("[ round %d  ] killed after %lld ms: %d writes and %d copies had returned; transfer tasks %llu "
                "before the kill, %llu at it, %llu after the remount; transfer submissions %llu at the kill, %llu now\n",
                round, static_cast<long long>(kill_after.count()), w_round, c_round,
                static_cast<unsigned long long>(tasks_before_kill), static_cast<unsigned long long>(tasks_at_kill),
                static_cast<unsigned long long>(Tasks("transfer")), static_cast<unsigned long long>(submits_at_kill),
                static_cast<unsigned long long>(emu_->RequestCount("transfer.transfer")));
    if (round + 1 < kRounds) {
      ASSERT_TRUE(mount_->Unmount()) << LogTail(4000);
      Remount(cache);
    }
  }
  emu_->ClearFaults();

  Allowed allowed;
  std::vector<std::string> lost;
  for (int i = 0; i < kN; ++i) {
    std::string n = std::to_string(i);
    allowed["alpha/src/s" + n] = {src_sha[i]};
    allowed["alpha/w/w" + n] = written.count(i) ? std::set<std::string>{new_sha[i]} : std::set{new_sha[i], old_sha[i]};
    allowed["beta/c/s" + n] = copied.count(i) ? std::set<std::string>{src_sha[i]} : std::set{src_sha[i], kAbsent};
    if (copied.count(i) && !fs::exists(data_ / "beta/c" / ("s" + n))) lost.push_back("beta/c/s" + n);
    if (written.count(i) && !fs::exists(data_ / "alpha/w" / ("w" + n))) lost.push_back("alpha/w/w" + n);
  }
  // A conflict copy (an upload that had landed but was still journaled)
  // must hold the file's new bytes; anything else is unexpected.
  std::vector<std::string> conflicts;
  auto is_conflict = [&](const std::string& path) {
    size_t at = path.find(".globusfs-conflict-");
    if (at == std::string::npos) return false;
    conflicts.push_back(path);
    std::string base = path.substr(0, at);
    std::string sha = Sha256(ReadFile(data_ / path));
    int idx = std::atoi(base.substr(base.rfind('w') + 1).c_str());
    EXPECT_EQ(Label(sha), Label(new_sha[idx])) << path << " is not a whole version of " << base;
    return true;
  };
  std::vector<std::string> problems;
  for (const auto& p : CheckServer(allowed, {"alpha", "beta"}, is_conflict)) {
    if (std::none_of(lost.begin(), lost.end(), [&](const std::string& l) { return p.rfind(l + ":", 0) == 0; })) {
      problems.push_back(p);
    }
  }
  int tasks = 0;
  auto dests = CopiedDestinations(&tasks);
  for (const auto& [dest, n] : dests) {
    if (n != 1) problems.push_back(dest + " was copied " + std::to_string(n) + " times by Globus");
  }
  std::printf("[ result   ] %zu accepted writes, %zu accepted copies, %d transfer tasks, %zu files copied by "
              "Globus, %zu conflict copies\n",
              written.size(), copied.size(), tasks, dests.size(), conflicts.size());
  EXPECT_TRUE(lost.empty()) << "close() (cp) returned 0 before the kill, but the file never reached the server:"
                            << Join(lost) << "\nlog tail:\n" << LogTail(6000);
  EXPECT_TRUE(problems.empty()) << problems.size() << " problem(s):" << Join(problems) << "\nlog tail:\n" << LogTail(6000);
  EXPECT_EQ(static_cast<uint64_t>(tasks), Tasks("transfer"));
  ExpectDaemonAlive("after the remounts");
}

// --- 4. the emulator restarts under a workload ------------------------------------

TEST_F(Reliability, EmulatorRestartMidWorkload) {
  StartEmulator();
  const int kIter = 60;
  std::vector<std::string> pre_sha, l_sha;
  for (int i = 0; i < kIter; ++i) pre_sha.push_back(Put("alpha/pre/p" + std::to_string(i), Pattern(256 * kKiB + 11 * i, 1300 + i), "p"));
  for (int i = 0; i < 4; ++i) l_sha.push_back(Local("l" + std::to_string(i), Pattern(300 * kKiB + 5000 * i, 1400 + i), "l" + std::to_string(i)));
  MountOrDie();
  const fs::path mnt = mount_->mountpoint();
  ASSERT_EQ(Sh("mkdir alpha/out beta/c && ls alpha/pre >/dev/null").exit_code, 0);

  OpLog log;
  std::atomic<int> iteration{0};
  std::atomic<bool> stop{false};
  std::vector<int> wrote(kIter, -1);  // 1 written, 0 failed, -1 not tried
  std::vector<int> copied(kIter, -1);
  std::thread worker([&] {
    for (int i = 0; i < kIter && !stop; ++i, ++iteration) {
      std::string n = std::to_string(i);
      auto run = [&](const std::string& cmd) {
        RunResult r = ShIn(mnt, cmd);
        log.Record(cmd, r);
        return r;
      };
      wrote[i] = run("cp '" + (local_ / ("l" + std::to_string(i % 4))).string() + "' alpha/out/o" + n).exit_code == 0;
      RunResult back = run("sha256sum alpha/out/o" + n);
      if (back.exit_code == 0 && back.out.substr(0, 64) != l_sha[i % 4]) log.Problem("wrong bytes: alpha/out/o" + n);
      RunResult rd = run("sha256sum alpha/pre/p" + n);
      if (rd.exit_code == 0 && rd.out.substr(0, 64) != pre_sha[i]) log.Problem("wrong bytes: alpha/pre/p" + n);
      run("ls -l alpha/out >/dev/null");
      if (i % 5 == 0) copied[i] = run("cp alpha/pre/p" + n + " beta/c/p" + n).exit_code == 0;
    }
  });
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (iteration < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  auto wait_for = [&](int n) {
    while (iteration < std::min(kIter, n) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
  };
  // A quick restart, then one with the emulator away for 3 s (the same
  // state folder and port both times).
  auto r0 = std::chrono::steady_clock::now();
  int restarted_at = iteration;
  emu_->Restart();
  auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - r0);
  wait_for(restarted_at + 3);
  int stopped_at = iteration;
  emu_->Stop();
  std::this_thread::sleep_for(3s);
  emu_->Restart();
  int back_at = iteration;
  // A few more iterations against the restarted emulator, then stop.
  wait_for(back_at + 6);
  stop = true;
  worker.join();
  std::printf("[ workload ] restarted at iteration %d (down %lld ms); stopped at iteration %d for 3 s, back at %d; "
              "%d iterations; %s\n",
              restarted_at, static_cast<long long>(gap.count()), stopped_at, back_at, iteration.load(),
              log.Summary().c_str());

  // Back: everything works without a remount.
  RunResult after = Sh("cp '" + (local_ / "l0").string() + "' alpha/out/final && sha256sum alpha/out/final && "
                       "ls alpha/out >/dev/null && cp alpha/pre/p1 beta/c/final && sync beta && cat beta/c/final | sha256sum");
  ASSERT_EQ(after.exit_code, 0) << after.all() << "\nlog tail:\n" << LogTail(4000);
  EXPECT_EQ(after.out.substr(0, 64), l_sha[0]);
  EXPECT_NE(after.out.find(pre_sha[1]), std::string::npos) << after.out;

  Allowed allowed;
  for (int i = 0; i < kIter; ++i) {
    std::string n = std::to_string(i);
    allowed["alpha/pre/p" + n] = {pre_sha[i]};
    if (wrote[i] >= 0) allowed["alpha/out/o" + n] = wrote[i] ? std::set<std::string>{l_sha[i % 4]} : std::set{l_sha[i % 4], kAbsent};
    if (copied[i] >= 0) allowed["beta/c/p" + n] = copied[i] ? std::set<std::string>{pre_sha[i]} : std::set{pre_sha[i], kAbsent};
  }
  allowed["alpha/out/final"] = {l_sha[0]};
  allowed["beta/c/final"] = {pre_sha[1]};
  for (const auto& p : CheckServer(allowed, {"alpha", "beta"})) log.Problem("server: " + p);
  ExpectDaemonAlive("after the restart");
  EXPECT_TRUE(log.problems().empty()) << log.problems().size() << " problem(s):" << Join(log.problems())
                                      << "\nlog tail:\n" << LogTail(6000);
}


}  // namespace
}  // namespace globusfs::reliability
