#include "fs/status_command.h"

#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "fs/filesystem.h"
#include "fs/status_view.h"

namespace globusfs::fs {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kStatusUsage =
    "usage: globusfs status MOUNTPOINT [--json] [--watch [--interval SECONDS]]\n";
constexpr const char* kWaitUsage = "usage: globusfs wait MOUNTPOINT [PATH] [--timeout SECONDS] [--json]\n";
constexpr auto kWaitPollFirst = std::chrono::milliseconds(100);
constexpr auto kWaitPollMax = std::chrono::seconds(2);

int UsageError(const char* cmd, const std::string& message, const char* usage) {
  std::cerr << "globusfs " << cmd << ": " << message << "\n" << usage;
  return 2;
}

// Seconds from text: a finite number in [min, max].
std::optional<double> ParseSeconds(const char* text, double min, double max) {
  if (!text) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text || *end || !(v >= min && v <= max)) return std::nullopt;
  return v;
}

// The status document, or false with the reason in *why.
bool ReadStatus(const std::string& mountpoint, json* out, std::string* why) {
  std::string value(Filesystem::kMaxStatusBytes, '\0');
  ssize_t n = ::getxattr(mountpoint.c_str(), Filesystem::kStatusXattr, value.data(), value.size());
  if (n < 0) {
    const int err = errno;
    *why = mountpoint + " is not a globusfs mount (or it is no longer mounted): " + std::strerror(err);
    if (err == E2BIG || err == ERANGE) *why = "the daemon's status document is too large to read";
    return false;
  }
  value.resize(static_cast<size_t>(n));
  *out = json::parse(value, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    *why = "unreadable answer from the daemon";
    return false;
  }
  return true;
}

// Now, as Transfer writes times, to the second (the status document's
// finished_at has the same form, so the two compare as text).
std::string IsoNow() {
  const std::time_t secs = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return text;
}

bool NothingLeft(const json& work) { return work["pending"].empty() && work["active"].empty(); }

// Failures seen while following the mount, by submission id: a failed task
// stays listed after it leaves the document's bounded "failed" list.
class FailureLog {
 public:
  void Add(const json& failures) {
    for (const json& f : failures) {
      std::string key = f.value("submission_id", f.value("task_id", std::string()));
      if (seen_.insert(key).second) list_.push_back(f);
    }
  }
  const json& list() const { return list_; }

 private:
  std::set<std::string> seen_;
  json list_ = json::array();
};

// `globusfs status --watch`.
int Watch(const std::string& mountpoint, double interval_s, bool as_json) {
  const bool tty = !as_json && ::isatty(STDOUT_FILENO);
  const std::string since = IsoNow();
  FailureLog failures;
  std::string last;
  size_t last_lines = 0;
  while (true) {
    json doc;
    std::string why;
    if (!ReadStatus(mountpoint, &doc, &why)) {
      std::cerr << "globusfs status: " << why << "\n";
      return 1;
    }
    failures.Add(FailuresUnder(doc, "/", since));
    const bool done = NothingLeft(WorkUnder(doc, "/"));
    if (as_json) {
      doc["failed_during_watch"] = failures.list();
      std::cout << doc.dump() << std::endl;
    } else {
      std::string view = RenderWatch(doc, failures.list());
      if (tty) {
        // Redraw in place: up over the last view, clear to the end.
        if (last_lines > 0) std::cout << "\x1b[" << last_lines << "A\x1b[J";
        std::cout << view << std::flush;
        last_lines = static_cast<size_t>(std::count(view.begin(), view.end(), '\n'));
      } else if (view != last) {
        std::cout << "--- " << IsoNow() << "\n" << view << std::flush;
      }
      last = std::move(view);
    }
    if (!std::cout.good()) return 1;  // the reader went away (SIGPIPE is ignored)
    if (done) {
      if (!failures.list().empty()) {
        std::cerr << "globusfs status: " << failures.list().size() << " task(s) failed during the watch:\n"
                  << DescribeFailures(failures.list());
        return 1;
      }
      if (!as_json) std::cout << "nothing pending or active\n";
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(interval_s));
  }
}

// One text block per status (the plain `globusfs status`).
void PrintStatus(const json& j) {
  std::cout << "pending: " << j.value("pending_total", j["pending"].size()) << " item(s) not yet sent\n";
  auto table = [](const char* title, const json& tasks) {
    std::cout << title << ":\n";
    if (tasks.empty()) std::cout << "  (none)\n";
    for (const auto& t : tasks) {
      std::cout << "  " << t.value("task_id", std::string("-")) << "  " << t.value("type", std::string()) << "  "
                << t.value("status", std::string()) << "  items " << t.value("items", 0) << "  files "
                << t.value("files_transferred", 0) << "  bytes " << t.value("bytes_transferred", 0);
      if (t.contains("detail") && t.value("status", std::string()) != "SUCCEEDED") {
        std::cout << "  " << t["detail"].get<std::string>();
      }
      std::cout << "\n";
      if (t.contains("reason")) {  // INACTIVE: suspended at Globus, not failed
        std::cout << "      INACTIVE since " << t.value("inactive_since", std::string("?")) << ": "
                  << t.value("reason", std::string()) << "\n"
                  << "      to resume it: " << t.value("remedy", std::string()) << "\n";
      }
    }
  };
  table("active", j["active"]);
  table("failed", j["failed"]);
  table("recent", j["recent"]);
}

// PATH as a mount path ("/" + its place under the mount point), or nullopt
// when it is not inside the mount. Symbolic links in the part that exists
// are followed; the rest (a path being deleted) is taken as written.
std::optional<std::string> MountPathOf(const std::string& mountpoint, const std::string& path) {
  namespace stdfs = std::filesystem;
  std::error_code ec;
  stdfs::path root = stdfs::weakly_canonical(mountpoint, ec);
  if (ec) return std::nullopt;
  stdfs::path p = stdfs::weakly_canonical(stdfs::absolute(path, ec), ec);
  if (ec) return std::nullopt;
  stdfs::path rel = p.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") return std::nullopt;
  std::string out = "/" + rel.lexically_normal().generic_string();
  if (out == "/.") return "/";
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// Tells once per task (on stderr) why work is held up, so a job's log says.
class HoldNotes {
 public:
  void Note(const json& work) {
    for (const json& item : work["pending"]) {
      // A batch waiting for a retry (Globus unreachable, a login missing).
      if (item.contains("detail") && told_.insert("pending\n" + item.value("detail", std::string())).second) {
        std::cerr << "globusfs wait: a " << item.value("type", std::string("copy"))
                  << " not yet sent waits to be retried: " << item.value("detail", std::string()) << "\n";
      }
    }
    for (const json& t : work["active"]) {
      std::string id = t.value("task_id", std::string());
      std::string key = t.value("submission_id", id);
      if (t.contains("reason") && told_.insert(key + "\ninactive").second) {
        std::cerr << "globusfs wait: Globus task " << id << " is INACTIVE (" << t.value("reason", std::string())
                  << "); to resume it: " << t.value("remedy", std::string()) << "\n";
      } else if (t.contains("detail") && !t.contains("reason") && told_.insert(key + "\nretry").second) {
        std::cerr << "globusfs wait: a " << t.value("type", std::string("task"))
                  << " waits to be retried: " << t.value("detail", std::string()) << "\n";
      }
    }
  }

 private:
  std::set<std::string> told_;
};

}  // namespace

int RunStatus(int argc, char** argv) {
  std::string mountpoint;
  bool as_json = false, watch = false;
  std::optional<double> interval;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      as_json = true;
    } else if (a == "--watch" || a == "-w") {
      watch = true;
    } else if (a == "--interval") {
      interval = ParseSeconds(i + 1 < argc ? argv[++i] : nullptr, 0.1, 3600);
      if (!interval) return UsageError("status", "--interval wants seconds from 0.1 to 3600", kStatusUsage);
    } else if (a == "-h" || a == "--help") {
      std::cout << kStatusUsage;
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return UsageError("status", "unknown option " + a, kStatusUsage);
    } else if (mountpoint.empty()) {
      mountpoint = a;
    } else {
      return UsageError("status", "unexpected argument " + a, kStatusUsage);
    }
  }
  if (mountpoint.empty()) return UsageError("status", "give the MOUNTPOINT", kStatusUsage);
  if (interval && !watch) return UsageError("status", "--interval goes with --watch", kStatusUsage);
  if (watch) return Watch(mountpoint, interval.value_or(1.0), as_json);
  json j;
  std::string why;
  if (!ReadStatus(mountpoint, &j, &why)) {
    std::cerr << "globusfs status: " << why << "\n";
    return 1;
  }
  if (as_json) {
    std::cout << j.dump(2) << "\n";
  } else {
    PrintStatus(j);
  }
  return 0;
}

int RunWait(int argc, char** argv) {
  std::string mountpoint, path;
  bool as_json = false;
  std::optional<double> timeout;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      as_json = true;
    } else if (a == "--timeout") {
      timeout = ParseSeconds(i + 1 < argc ? argv[++i] : nullptr, 0, 1e9);
      if (!timeout) return UsageError("wait", "--timeout wants seconds (0 or more)", kWaitUsage);
    } else if (a == "-h" || a == "--help") {
      std::cout << kWaitUsage;
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return UsageError("wait", "unknown option " + a, kWaitUsage);
    } else if (mountpoint.empty()) {
      mountpoint = a;
    } else if (path.empty()) {
      path = a;
    } else {
      return UsageError("wait", "unexpected argument " + a, kWaitUsage);
    }
  }
  if (mountpoint.empty()) return UsageError("wait", "give the MOUNTPOINT", kWaitUsage);
  std::string under = "/";
  if (!path.empty()) {
    auto p = MountPathOf(mountpoint, path);
    if (!p) return UsageError("wait", path + " is not inside " + mountpoint, kWaitUsage);
    under = *p;
  }
  const std::string since = IsoNow();
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*timeout));
  FailureLog failures;
  HoldNotes notes;
  auto poll = std::chrono::duration_cast<Clock::duration>(kWaitPollFirst);
  const auto report = [&](const char* result, const json& work) {
    if (as_json) {
      std::cout << json{{"result", result},
                        {"path", under},
                        {"failed", failures.list()},
                        {"pending", work["pending"]},
                        {"active", work["active"]}}
                       .dump()
                << "\n";
    }
  };
  while (true) {
    json doc;
    std::string why;
    if (!ReadStatus(mountpoint, &doc, &why)) {
      std::cerr << "globusfs wait: " << why << "\n";
      return 1;
    }
    failures.Add(FailuresUnder(doc, under, since));
    json work = WorkUnder(doc, under);
    notes.Note(work);
    if (NothingLeft(work)) {
      if (!failures.list().empty()) {
        report("failed", work);
        std::cerr << "globusfs wait: " << failures.list().size() << " task(s) under " << under << " failed:\n"
                  << DescribeFailures(failures.list());
        return 1;
      }
      report("done", work);
      if (!as_json) std::cout << "globusfs wait: everything under " << under << " has landed\n";
      return 0;
    }
    const auto now = Clock::now();
    if (deadline && now >= *deadline) {
      report("timeout", work);
      std::cerr << "globusfs wait: timed out after " << *timeout << " s; still in progress under " << under
                << ": " << work["pending"].size() << " pending item(s) or batch(es), " << work["active"].size()
                << " active task(s)\n";
      for (const json& t : work["active"]) std::cerr << "  " << ProgressLine(ProgressOf(t)) << "\n";
      if (!failures.list().empty()) std::cerr << "and failed:\n" << DescribeFailures(failures.list());
      return 1;
    }
    auto sleep = poll;
    if (deadline) sleep = std::min<Clock::duration>(sleep, *deadline - now);
    std::this_thread::sleep_for(sleep);
    poll = std::min<Clock::duration>(poll * 2, std::chrono::duration_cast<Clock::duration>(kWaitPollMax));
  }
}

}  // namespace globusfs::fs
