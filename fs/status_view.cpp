#include "fs/status_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "fs/mount_table.h"

namespace globusfs::fs {

using json = nlohmann::json;

namespace {

constexpr size_t kPendingShown = 10;  // pending items the watch view lists
constexpr size_t kPathsShown = 3;     // paths per task in the watch view

int64_t Count(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

std::optional<int64_t> OptCount(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& s : *it) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

const json& ArrayAt(const json& j, const char* key) {
  static const json kEmpty = json::array();
  auto it = j.is_object() ? j.find(key) : j.end();
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

// "/beta/x, /beta/y (+3 more)"; "" when there are none.
std::string PathList(const json& entry, size_t shown) {
  std::vector<std::string> paths = Strings(entry, entry.contains("paths") ? "paths" : "mount_paths");
  const int64_t total = std::max<int64_t>(Count(entry, "paths_total"), static_cast<int64_t>(paths.size()));
  std::string out;
  for (size_t i = 0; i < paths.size() && i < shown; ++i) out += (i ? ", " : "") + paths[i];
  const int64_t more = total - static_cast<int64_t>(std::min(shown, paths.size()));
  if (more > 0) out += " (+" + std::to_string(more) + " more)";
  return out;
}

std::string ShortId(const std::string& id) { return id.empty() ? "(not yet accepted)" : id; }

}  // namespace

std::string FormatBytes(double bytes) {
  if (!std::isfinite(bytes) || bytes < 0) return "?";
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 6) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%.0f B", bytes);
  } else {
    // Three significant digits: 1.23, 12.3, 123 (rounding up to 1024 is rare and harmless).
    std::snprintf(text, sizeof text, bytes < 10 ? "%.2f %s" : bytes < 100 ? "%.1f %s" : "%.0f %s", bytes,
                  kUnits[unit]);
  }
  return text;
}

std::string FormatRate(double bytes_per_second) {
  if (!std::isfinite(bytes_per_second) || bytes_per_second <= 0) return "?";
  return FormatBytes(bytes_per_second) + "/s";
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e12) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  char text[40];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  } else {
    std::snprintf(text, sizeof text, "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s / 3600 % 24));
  }
  return text;
}

std::string ProgressBar(double fraction, int width) {
  width = std::max(width, 1);
  if (std::isnan(fraction)) return "[" + std::string(static_cast<size_t>(width), '?') + "]";
  fraction = std::clamp(fraction, 0.0, 1.0);
  // Full only when done: 99.9 % still shows a cell left.
  auto full = static_cast<int>(std::floor(fraction * width));
  if (fraction < 1.0) full = std::min(full, width - 1);
  return "[" + std::string(static_cast<size_t>(full), '#') + std::string(static_cast<size_t>(width - full), '-') +
         "]";
}

std::optional<double> TimeLeft(std::optional<int64_t> remaining, double rate) {
  if (!remaining || *remaining < 0 || !std::isfinite(rate) || rate <= 0) return std::nullopt;
  return static_cast<double>(*remaining) / rate;
}

TaskProgress ProgressOf(const json& task) {
  TaskProgress p;
  p.type = Text(task, "type");
  p.status = Text(task, "status");
  p.task_id = Text(task, "task_id");
  if (p.type == "DELETE") {
    // A delete moves no bytes: its subtasks are what gets done.
    p.files_done = Count(task, "subtasks_succeeded");
    if (int64_t total = Count(task, "subtasks_total"); total > 0) p.files_total = total;
    p.bytes_total = 0;
  } else {
    p.files_done = Count(task, "files_transferred") + Count(task, "files_skipped");
    // Transfer counts files as it expands the task: the daemon's own count
    // of the files it queued (null for a folder) is the total until then.
    const int64_t files = Count(task, "files");
    const std::optional<int64_t> expected = OptCount(task, "files_expected");
    if (files > 0 || expected) p.files_total = std::max(files, expected.value_or(0));
    p.bytes_done = Count(task, "bytes_transferred");
    p.bytes_total = OptCount(task, "bytes_total");
  }
  auto rate = task.find("effective_bytes_per_second");
  if (rate != task.end() && rate->is_number()) p.rate = rate->get<double>();
  return p;
}

std::string ProgressLine(const TaskProgress& p, int bar_width) {
  double fraction = std::nan("");
  if (p.bytes_total && *p.bytes_total > 0) {
    fraction = static_cast<double>(p.bytes_done) / static_cast<double>(*p.bytes_total);
  } else if (p.files_total && *p.files_total > 0) {
    fraction = static_cast<double>(p.files_done) / static_cast<double>(*p.files_total);
  }
  std::string line = p.type + "  " + p.status + "  " + ProgressBar(fraction, bar_width) + "  " +
                     std::to_string(p.files_done) + "/" +
                     (p.files_total ? std::to_string(*p.files_total) : std::string("?")) + " files";
  if (p.type != "DELETE") {
    line += "  " + FormatBytes(static_cast<double>(p.bytes_done)) + "/" +
            (p.bytes_total ? FormatBytes(static_cast<double>(*p.bytes_total)) : std::string("?"));
    std::optional<int64_t> remaining;
    if (p.bytes_total) remaining = std::max<int64_t>(0, *p.bytes_total - p.bytes_done);
    line += "  " + FormatRate(p.rate) + "  " + FormatDuration(TimeLeft(remaining, p.rate).value_or(-1)) + " left";
  }
  return line;
}

std::string RenderWatch(const json& status, const json& failures) {
  const json& pending = ArrayAt(status, "pending");
  const json& active = ArrayAt(status, "active");
  const int64_t pending_total =
      std::max<int64_t>(Count(status, "pending_total"), static_cast<int64_t>(pending.size()));
  std::string out = "pending: " + std::to_string(pending_total) + " item(s) not yet sent\n";
  for (size_t i = 0; i < pending.size() && i < kPendingShown; ++i) {
    const json& item = pending[i];
    std::string where = PathList(item, 1);
    if (where.empty()) where = Text(item, Text(item, "type") == "copy" ? "destination" : "path");
    out += "  " + Text(item, "type") + " " + where;
    if (item.contains("detail")) out += "  (" + Text(item, "detail") + ")";
    out += "\n";
  }
  if (pending_total > static_cast<int64_t>(std::min(pending.size(), kPendingShown))) {
    out += "  ... and " + std::to_string(pending_total - static_cast<int64_t>(std::min(pending.size(), kPendingShown))) +
           " more\n";
  }
  out += "active: " + std::to_string(active.size()) + " task(s)\n";
  for (const json& t : active) {
    out += "  " + ProgressLine(ProgressOf(t)) + "\n";
    out += "      task " + ShortId(Text(t, "task_id"));
    if (std::string paths = PathList(t, kPathsShown); !paths.empty()) out += ": " + paths;
    out += "\n";
    if (t.contains("reason")) {
      out += "      INACTIVE: " + Text(t, "reason") + "; to resume it: " + Text(t, "remedy") + "\n";
    } else if (t.contains("detail")) {
      out += "      waiting to retry: " + Text(t, "detail") + "\n";
    }
  }
  if (failures.is_array() && !failures.empty()) {
    out += "failed: " + std::to_string(failures.size()) + " task(s)\n" + DescribeFailures(failures);
  }
  return out;
}

bool PathsOverlap(const std::string& a, const std::string& b) {
  return IsUnder(a, b) || IsUnder(b, a);
}

bool EntryMatches(const json& entry, const std::string& path) {
  if (path == "/") return true;
  const bool is_task = entry.contains("paths");
  for (const auto& p : Strings(entry, is_task ? "paths" : "mount_paths")) {
    if (PathsOverlap(p, path)) return true;
  }
  if (is_task) {
    const auto listed = static_cast<int64_t>(Strings(entry, "paths").size());
    const std::string common = Text(entry, "paths_common");
    if (Count(entry, "paths_total") > listed && !common.empty() && PathsOverlap(common, path)) return true;
  }
  return false;
}

json WorkUnder(const json& status, const std::string& path) {
  json out = {{"pending", json::array()}, {"active", json::array()}};
  for (const char* key : {"pending", "active"}) {
    for (const json& e : ArrayAt(status, key)) {
      if (EntryMatches(e, path)) out[key].push_back(e);
    }
  }
  // Items the daemon did not list (pending_total beyond the list) are
  // summarised per batch in "pending_batches": matched by their common folder.
  for (const json& b : ArrayAt(status, "pending_batches")) {
    if (Count(b, "items") > Count(b, "listed") && EntryMatches(b, path)) out["pending"].push_back(b);
  }
  return out;
}

json FailuresUnder(const json& status, const std::string& path, const std::string& since) {
  json out = json::array();
  for (const json& f : ArrayAt(status, "failed")) {
    if (Text(f, "finished_at") >= since && EntryMatches(f, path)) out.push_back(f);
  }
  return out;
}

std::string DescribeFailures(const json& failures) {
  std::string out;
  for (const json& f : failures) {
    out += "  " + Text(f, "type") + " " + ShortId(Text(f, "task_id")) + " FAILED";
    if (std::string detail = Text(f, "detail"); !detail.empty()) out += ": " + detail;
    if (std::string paths = PathList(f, kPathsShown); !paths.empty()) out += "; " + paths;
    out += "\n";
  }
  return out;
}

}  // namespace globusfs::fs
