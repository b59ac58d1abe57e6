// The reliability suite (issue 7): real globusfs mounts against
// globus-emulator, driven with ordinary tools, under injected faults,
// expiring tokens, a daemon killed mid-write, an emulator restart, 64
// parallel readers and garbled answers. Every test compares the bytes on
// the emulator's folders (sha256) with what the tools were told.
//
// Every command runs with a timeout (a hang is a failure, never a stuck
// suite) and every loop is bounded. The daemon is killed at a seeded
// random moment: RELIABILITY_SEED=<n> replays a run (the seed is printed).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/emulator_process.h"
#include "tests/support/mounted_fs.h"
#include "tests/support/test_files.h"

namespace globusfs {
namespace {

using testing::EmulatorProcess;
using testing::MountedFs;
using testing::Pattern;
using testing::ReadFile;
using testing::RunResult;
using testing::Sha256;
using testing::WriteFile;
using json = nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;
const std::string kAbsent = "(absent)";

// --- helpers ------------------------------------------------------------------

// Runs a shell command in `cwd` with a timeout (thread-safe: no shared state).
RunResult ShIn(const fs::path& cwd, const std::string& cmd, std::chrono::seconds timeout = 120s) {
  return testing::Run({"/bin/sh", "-c", "cd '" + cwd.string() + "' && " + cmd}, {}, "", timeout);
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// The errno text of a tool's message ("cp: cannot open 'x': Input/output error").
std::string ErrnoText(const std::string& err) {
  std::string line = FirstLine(err);
  size_t colon = line.rfind(": ");
  return colon == std::string::npos ? line : line.substr(colon + 2);
}

// True while the process exists and is not a zombie.
bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  size_t paren = all.rfind(')');
  if (paren == std::string::npos || paren + 2 >= all.size()) return false;
  char state = all[paren + 2];
  return state != 'Z' && state != 'X';
}

// A field of /proc/<pid>/status in KiB (VmHWM, VmRSS), or 0.
uint64_t StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return 0;
}

// Every regular file under data/<collection> for the given collections, as
// "<collection>/<path>" -> sha256, without the emulator's hidden temporary
// files (".globus-emulator-upload-*").
std::map<std::string, std::string> ServerTree(const fs::path& data, const std::vector<std::string>& colls) {
  std::map<std::string, std::string> out;
  for (const auto& c : colls) {
    std::error_code ec;
    if (!fs::exists(data / c, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(data / c, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      if (it->path().filename().string().rfind(".globus-emulator", 0) == 0) continue;
      out[fs::relative(it->path(), data).string()] = Sha256(ReadFile(it->path()));
    }
  }
  return out;
}

// Every folder under data/<collection> (relative, "<collection>/<path>").
std::set<std::string> ServerDirs(const fs::path& data, const std::vector<std::string>& colls) {
  std::set<std::string> out;
  for (const auto& c : colls) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(data / c, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec)) out.insert(fs::relative(it->path(), data).string());
    }
  }
  return out;
}

// Parses `sha256sum` output ("<sha>  <path>" lines).
std::map<std::string, std::string> ParseSums(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 66) m[line.substr(66)] = line.substr(0, 64);
  }
  return m;
}

// What the tools saw: every command, its failures and their errno texts, and
// the problems that fail a test (a hang, a crash, a failure without a
// message, a wrong byte).
class OpLog {
 public:
  // Records one command's result; true when it succeeded.
  bool Record(const std::string& what, const RunResult& r) {
    std::lock_guard lock(mu_);
    ++ops_;
    if (r.exit_code == 0) return true;
    ++failed_;
    if (r.exit_code >= 128) {
      problems_.push_back(what + ": hung or killed (exit " + std::to_string(r.exit_code) + ", timed out?)");
    } else if (r.err.empty()) {
      problems_.push_back(what + ": failed (exit " + std::to_string(r.exit_code) + ") without an error message");
    } else if (r.err.find("Transport endpoint is not connected") != std::string::npos ||
               r.err.find("Software caused connection abort") != std::string::npos) {
      problems_.push_back(what + ": the daemon is gone: " + FirstLine(r.err));
    }
    std::string e = ErrnoText(r.err);
    ++errnos_[e];
    if (examples_.size() < 12) examples_.push_back(what + " -> " + FirstLine(r.err));
    return false;
  }
  void Problem(const std::string& p) {
    std::lock_guard lock(mu_);
    problems_.push_back(p);
  }
  int ops() const { return ops_; }
  int failed() const { return failed_; }
  std::vector<std::string> problems() const {
    std::lock_guard lock(mu_);
    return problems_;
  }
  std::map<std::string, int> errnos() const {
    std::lock_guard lock(mu_);
    return errnos_;
  }
  std::string Summary() const {
    std::lock_guard lock(mu_);
    std::string s = std::to_string(ops_) + " operations, " + std::to_string(failed_) + " failed";
    for (const auto& [e, n] : errnos_) s += "\n    " + std::to_string(n) + " x " + e;
    for (const auto& x : examples_) s += "\n    e.g. " + x;
    return s;
  }

 private:
  mutable std::mutex mu_;
  int ops_ = 0, failed_ = 0;
  std::vector<std::string> problems_;
  std::map<std::string, int> errnos_;
  std::vector<std::string> examples_;
};

std::string Join(const std::vector<std::string>& v, const std::string& sep = "\n  ") {
  std::string s;
  for (const auto& x : v) s += sep + x;
  return s;
}

// Allowed states of each file: "<collection>/<path>" -> the sha256 values it
// may have, kAbsent meaning "not there".
using Allowed = std::map<std::string, std::set<std::string>>;

class Reliability : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::FuseUnavailableReason(); !why.empty()) GTEST_SKIP() << "needs FUSE: " << why;
    t0_ = std::chrono::steady_clock::now();
  }

  void TearDown() override {
    if (mount_) {
      bool clean = mount_->Unmount();
      EXPECT_TRUE(clean) << "unmount was not clean (exit " << mount_->exit_code() << "); log tail:\n"
                         << LogTail(4000);
    }
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    std::printf("[ time     ] %.1f s\n", secs);
  }

  void StartEmulator(int64_t task_delay_ms = 50) {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta"};
    opts.task_delay_ms = task_delay_ms;
    emu_ = EmulatorProcess::Start(opts);
    data_ = emu_->dir() / "data";
    local_ = emu_->dir() / "local";
    fs::create_directories(local_);
  }

  MountedFs& MountOrDie(testing::MountOptions o = {}) {
    mount_ = std::make_unique<MountedFs>(*emu_, o);
    std::string why;
    EXPECT_TRUE(mount_->Mount(&why)) << why;
    return *mount_;
  }

  // Remounts on the same cache folder without logging in again.
  MountedFs& Remount(const fs::path& cache, std::vector<std::string> extra_args = {}) {
    testing::MountOptions o;
    o.login = false;
    o.cache_dir = cache.string();
    o.extra_args = std::move(extra_args);
    return MountOrDie(o);
  }

  RunResult Sh(const std::string& cmd, std::chrono::seconds t = 120s) { return mount_->Sh(cmd, t); }

  // A file on the emulator's side ("alpha/x/y"), remembered with a label.
  std::string Put(const std::string& rel, const std::string& data, const std::string& label) {
    WriteFile(data_ / rel, data);
    return Remember(data, label);
  }
  std::string Local(const std::string& name, const std::string& data, const std::string& label) {
    WriteFile(local_ / name, data);
    return Remember(data, label);
  }
  std::string Remember(const std::string& data, const std::string& label) {
    std::string sha = Sha256(data);
    labels_[sha] = label;
    return sha;
  }
  std::string Label(const std::string& sha) const {
    if (sha == kAbsent) return kAbsent;
    auto it = labels_.find(sha);
    return it == labels_.end() ? "unknown bytes " + sha.substr(0, 12) : it->second;
  }

  // Compares the emulator's folders with what is allowed: every listed path
  // must be in one of its allowed states, and no other file may exist.
  std::vector<std::string> CheckServer(const Allowed& allowed, const std::vector<std::string>& colls,
                                       const std::function<bool(const std::string&)>& ignore = {}) {
    std::vector<std::string> problems;
    auto server = ServerTree(data_, colls);
    for (const auto& [path, states] : allowed) {
      auto it = server.find(path);
      std::string now = it == server.end() ? kAbsent : it->second;
      if (states.count(now)) continue;
      std::string want;
      for (const auto& s : states) want += (want.empty() ? "" : " or ") + Label(s);
      problems.push_back(path + ": the server has " + Label(now) + ", expected " + want);
    }
    for (const auto& [path, sha] : server) {
      if (!allowed.count(path) && !(ignore && ignore(path))) {
        problems.push_back(path + ": unexpected file on the server (" + Label(sha) + ")");
      }
    }
    return problems;
  }

  // The daemon answers and its process is alive.
  void ExpectDaemonAlive(const std::string& when) {
    ASSERT_TRUE(mount_);
    EXPECT_TRUE(ProcessAlive(mount_->daemon_pid())) << "the daemon died " << when << "; log tail:\n" << LogTail(4000);
    RunResult r = Sh("ls alpha beta >/dev/null", 60s);
    EXPECT_EQ(r.exit_code, 0) << "the mount does not answer ls " << when << ": " << r.all() << "\nlog tail:\n"
                              << LogTail(4000);
  }

  std::string LogTail(size_t n) const {
    if (!mount_) return "";
    std::string log = mount_->Log();
    return log.size() > n ? log.substr(log.size() - n) : log;
  }

  uint64_t Tasks(const char* type) { return emu_->Stats()["tasks"][type].get<uint64_t>(); }

  size_t FaultsLeft() {
    auto r = emu_->http().GetJson(emu_->base_url() + "/_emulator/faults");
    return r ? (*r)["faults"].size() : 0;
  }

  // A GET on the Transfer API with a token of our own login.
  json TransferGet(const std::string& token, const std::string& path) {
    http::HttpRequest req;
    req.url = emu_->base_url() + path;
    req.retry = false;
    req.headers.emplace_back("Authorization", "Bearer " + token);
    auto r = emu_->http().SendJson(req);
    if (!r) {
      ADD_FAILURE() << "GET " << path << ": " << r.error().Summary();
      return json::object();
    }
    return *r;
  }

  // How many times Globus copied each destination path, over every
  // transfer task (task_list + successful_transfers).
  std::map<std::string, int> CopiedDestinations(int* tasks) {
    auto login = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha", "beta"}));
    std::string token = login.access_tokens["transfer.api.globus.org"];
    std::map<std::string, int> out;
    json list = TransferGet(token, "/v0.10/task_list?limit=1000");
    *tasks = 0;
    for (const auto& t : list.value("DATA", json::array())) {
      if (t.value("type", "") != "TRANSFER") continue;
      ++*tasks;
      std::string id = t.value("task_id", "");
      if (t.value("status", "") == "ACTIVE") {
        ADD_FAILURE() << "transfer task " << id << " is still ACTIVE";
        continue;
      }
      json done = TransferGet(token, "/v0.10/task/" + id + "/successful_transfers");
      for (const auto& d : done.value("DATA", json::array())) ++out[d.value("destination_path", "")];
    }
    return out;
  }

  std::chrono::steady_clock::time_point t0_;
  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<MountedFs> mount_;
  fs::path data_, local_;
  std::map<std::string, std::string> labels_;  // sha256 -> a name for messages
};

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
}  // namespace globusfs
