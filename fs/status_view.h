// The status document's reader side: pure functions over the JSON the
// daemon serves in the mount root's "user.globusfs.status" xattr
// (TaskBatcher::Status, fs/task_batcher.h), used by `globusfs status`,
// `status --watch` and `globusfs wait` (fs/status_command.h).
//
// Figures come from the tasks' own documents (files, files_transferred,
// bytes_transferred, effective_bytes_per_second, subtasks_*) plus what the
// daemon knows of the copies it queued (bytes_total: the sources' sizes,
// null when one is unknown). Nothing here guesses a figure the document
// does not give: an unknown total, rate or time left prints as "?".
//
// Paths: every pending item, active task and finished task carries the
// paths it changes as mount paths ("/NAME/dir/file", "/" being the mount
// point): "mount_paths" (items), "paths" (tasks: at most a few, with
// "paths_total" and, when cut short, "paths_common", their deepest common
// folder). Matching a path against a task that lists only some of its
// paths uses paths_common, so a wait never misses work; it may wait for a
// sibling in the same task.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace globusfs::fs {

// "0 B", "999 B", "1.0 KiB", "12.3 MiB", "4.00 GiB" (3 significant digits).
std::string FormatBytes(double bytes);
// "1.2 MiB/s"; "?" when the rate is unknown (<= 0 or not finite).
std::string FormatRate(double bytes_per_second);
// "0s", "59s", "1m05s", "2h03m", "3d04h"; "?" when unknown (< 0, not finite).
std::string FormatDuration(double seconds);
// "[######----]" with `width` cells between the brackets; `fraction` is
// clamped to [0, 1]; a NaN (unknown) gives a bar of '?'.
std::string ProgressBar(double fraction, int width);
// Seconds left at `rate` for `remaining` bytes; nullopt if either is unknown.
std::optional<double> TimeLeft(std::optional<int64_t> remaining, double rate);

// One active task's figures, as the status document gives them.
struct TaskProgress {
  std::string type, status, task_id;
  int64_t files_done = 0;
  std::optional<int64_t> files_total;  // unknown until Globus (or the daemon) says
  int64_t bytes_done = 0;
  std::optional<int64_t> bytes_total;
  double rate = 0;  // bytes per second, 0 when Globus has not said
};
TaskProgress ProgressOf(const nlohmann::json& task);
// "TRANSFER  ACTIVE  [#####-----]  3/10 files  1.2 MiB/4.0 MiB  512 KiB/s  1m05s left"
std::string ProgressLine(const TaskProgress& p, int bar_width = 20);

// The watch view: pending items, active tasks with progress lines, and
// `failures` (finished FAILED tasks seen during the watch). Ends with '\n'.
std::string RenderWatch(const nlohmann::json& status, const nlohmann::json& failures);

// Whether `path` (a mount path, "/" for the whole mount) and an entry's
// paths overlap: one is the other or under it.
bool PathsOverlap(const std::string& a, const std::string& b);
// The entry (item or task) changes something at or under `path`, or above
// it; an entry with no mount paths matches only "/".
bool EntryMatches(const nlohmann::json& entry, const std::string& path);

// The work under `path` still in progress: {"pending": [...], "active": [...]}.
nlohmann::json WorkUnder(const nlohmann::json& status, const std::string& path);
// The failed tasks under `path` that finished at or after `since` (an ISO
// time as Transfer writes them, "2026-12-07T10:00:00+00:00"; compared as
// text, which orders such times).
nlohmann::json FailuresUnder(const nlohmann::json& status, const std::string& path,
                             const std::string& since);
// One line per failure: "TRANSFER <task id> FAILED: <detail>; /beta/x, /beta/y".
std::string DescribeFailures(const nlohmann::json& failures);

}  // namespace globusfs::fs
