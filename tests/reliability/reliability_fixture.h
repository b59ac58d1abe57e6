// The reliability suite's fixture and helpers (issue 7): real globusfs
// mounts against globus-emulator, driven with ordinary tools; every test
// compares the bytes on the emulator's folders (sha256) with what the
// tools were told. Every command runs with a timeout (a hang is a failure,
// never a stuck suite) and every loop is bounded.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/emulator_process.h"
#include "tests/support/mount_fixture.h"
#include "tests/support/mounted_fs.h"
#include "tests/support/test_files.h"

namespace globusfs::reliability {

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
inline const std::string kAbsent = "(absent)";

// --- helpers ------------------------------------------------------------------

// Runs a shell command in `cwd` with a timeout (thread-safe: no shared state).
inline RunResult ShIn(const fs::path& cwd, const std::string& cmd, std::chrono::seconds timeout = 120s) {
  return testing::Run({"/bin/sh", "-c", "cd '" + cwd.string() + "' && " + cmd}, {}, "", timeout);
}

inline std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// The errno text of a tool's message ("cp: cannot open 'x': Input/output error").
inline std::string ErrnoText(const std::string& err) {
  std::string line = FirstLine(err);
  size_t colon = line.rfind(": ");
  return colon == std::string::npos ? line : line.substr(colon + 2);
}

// True while the process exists and is not a zombie.
inline bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  size_t paren = all.rfind(')');
  if (paren == std::string::npos || paren + 2 >= all.size()) return false;
  char state = all[paren + 2];
  return state != 'Z' && state != 'X';
}

// A field of /proc/<pid>/status in KiB (VmHWM, VmRSS), or 0.
inline uint64_t StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return 0;
}

// Every regular file under data/<collection> for the given collections, as
// "<collection>/<path>" -> sha256, without the emulator's hidden temporary
// files (".globus-emulator-upload-*").
inline std::map<std::string, std::string> ServerTree(const fs::path& data, const std::vector<std::string>& colls) {
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
inline std::set<std::string> ServerDirs(const fs::path& data, const std::vector<std::string>& colls) {
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
inline std::map<std::string, std::string> ParseSums(const std::string& out) {
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

inline std::string Join(const std::vector<std::string>& v, const std::string& sep = "\n  ") {
  std::string s;
  for (const auto& x : v) s += sep + x;
  return s;
}

// Allowed states of each file: "<collection>/<path>" -> the sha256 values it
// may have, kAbsent meaning "not there".
using Allowed = std::map<std::string, std::set<std::string>>;

class Reliability : public testing::MountFixture {
 protected:
  void SetUp() override {
    MountFixture::SetUp();
    t0_ = std::chrono::steady_clock::now();
  }

  void TearDown() override {
    MountFixture::TearDown();
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

  // Remounts on the same cache folder without logging in again.
  MountedFs& Remount(const fs::path& cache, std::vector<std::string> extra_args = {}) {
    testing::MountOptions o;
    o.login = false;
    o.cache_dir = cache.string();
    o.extra_args = std::move(extra_args);
    return MountOrDie(o);
  }


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
  fs::path data_, local_;
  std::map<std::string, std::string> labels_;  // sha256 -> a name for messages
};

}  // namespace globusfs::reliability
