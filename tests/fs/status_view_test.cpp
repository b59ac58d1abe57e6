// The status document's reader side (fs/status_view.h): the figures of
// the watch view (bytes, rate, time left, progress bars), the progress of
// a task from its document, and which work a path waits for.
#include "fs/status_view.h"

#include <gtest/gtest.h>

#include <cmath>

namespace globusfs::fs {
namespace {

using json = nlohmann::json;

TEST(StatusView, FormatBytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.00 KiB");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(12.5 * 1024 * 1024), "12.5 MiB");
  EXPECT_EQ(FormatBytes(300.0 * (1 << 30)), "300 GiB");
  EXPECT_EQ(FormatBytes(-1), "?");
  EXPECT_EQ(FormatBytes(std::nan("")), "?");
}

TEST(StatusView, FormatRate) {
  EXPECT_EQ(FormatRate(512 * 1024), "512 KiB/s");
  EXPECT_EQ(FormatRate(2.5 * 1024 * 1024), "2.50 MiB/s");
  EXPECT_EQ(FormatRate(0), "?") << "Transfer says 0 until it knows";
  EXPECT_EQ(FormatRate(-5), "?");
  EXPECT_EQ(FormatRate(INFINITY), "?");
}

TEST(StatusView, FormatDuration) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(59.4), "59s");
  EXPECT_EQ(FormatDuration(65), "1m05s");
  EXPECT_EQ(FormatDuration(3600 * 2 + 60 * 3 + 7), "2h03m");
  EXPECT_EQ(FormatDuration(86400 * 3 + 3600 * 4), "3d04h");
  EXPECT_EQ(FormatDuration(-1), "?");
  EXPECT_EQ(FormatDuration(std::nan("")), "?");
}

TEST(StatusView, ProgressBar) {
  EXPECT_EQ(ProgressBar(0, 10), "[----------]");
  EXPECT_EQ(ProgressBar(0.5, 10), "[#####-----]");
  EXPECT_EQ(ProgressBar(0.999, 10), "[#########-]") << "full only when done";
  EXPECT_EQ(ProgressBar(1, 10), "[##########]");
  EXPECT_EQ(ProgressBar(7, 4), "[####]") << "clamped";
  EXPECT_EQ(ProgressBar(-1, 4), "[----]");
  EXPECT_EQ(ProgressBar(std::nan(""), 4), "[????]") << "unknown";
}

TEST(StatusView, TimeLeft) {
  EXPECT_DOUBLE_EQ(*TimeLeft(1000, 100), 10);
  EXPECT_DOUBLE_EQ(*TimeLeft(0, 100), 0);
  EXPECT_FALSE(TimeLeft(std::nullopt, 100)) << "unknown total";
  EXPECT_FALSE(TimeLeft(1000, 0)) << "unknown rate";
}

TEST(StatusView, ProgressOfATransferUsesTheTasksFiguresAndTheQueuedTotals) {
  json t = {{"type", "TRANSFER"}, {"status", "ACTIVE"}, {"task_id", "t1"},
            {"files", 0},  // Transfer has not expanded the task yet
            {"files_expected", 4}, {"files_transferred", 1}, {"files_skipped", 1},
            {"bytes_transferred", 1 << 20}, {"bytes_total", 4 << 20},
            {"effective_bytes_per_second", 1 << 20}};
  TaskProgress p = ProgressOf(t);
  EXPECT_EQ(p.files_done, 2);
  EXPECT_EQ(p.files_total, 4);
  EXPECT_EQ(p.bytes_total, 4 << 20);
  EXPECT_EQ(ProgressLine(p, 8),
            "TRANSFER  ACTIVE  [##------]  2/4 files  1.00 MiB/4.00 MiB  1.00 MiB/s  3s left");
  // Transfer's own count wins once it is larger (a folder expanded).
  t["files"] = 10;
  EXPECT_EQ(ProgressOf(t).files_total, 10);
}

TEST(StatusView, ProgressWithUnknownTotalsSaysSo) {
  json t = {{"type", "TRANSFER"}, {"status", "ACTIVE"}, {"files", 0}, {"bytes_total", nullptr},
            {"bytes_transferred", 0}, {"effective_bytes_per_second", 0}};
  EXPECT_EQ(ProgressLine(ProgressOf(t), 4), "TRANSFER  ACTIVE  [????]  0/? files  0 B/?  ?  ? left");
}

TEST(StatusView, ProgressOfADeleteCountsSubtasks) {
  json t = {{"type", "DELETE"}, {"status", "ACTIVE"}, {"subtasks_total", 4}, {"subtasks_succeeded", 1}};
  EXPECT_EQ(ProgressLine(ProgressOf(t), 4), "DELETE  ACTIVE  [#---]  1/4 files");
}

TEST(StatusView, PathsOverlap) {
  EXPECT_TRUE(PathsOverlap("/beta/x", "/beta"));
  EXPECT_TRUE(PathsOverlap("/beta", "/beta/x"));
  EXPECT_TRUE(PathsOverlap("/beta/x", "/beta/x"));
  EXPECT_TRUE(PathsOverlap("/beta/x", "/"));
  EXPECT_FALSE(PathsOverlap("/beta/x", "/beta/xy"));
  EXPECT_FALSE(PathsOverlap("/alpha/x", "/beta"));
}

json Status() {
  return {
      {"pending",
       json::array({{{"type", "copy"}, {"path", "/src/a"}, {"destination", "/dst/a"}, {"mount_paths", {"/beta/a"}}},
                    {{"type", "delete"}, {"path", "/old"}, {"mount_paths", {"/alpha/old"}}}})},
      {"pending_total", 2},
      {"pending_batches", json::array({{{"type", "copy"}, {"items", 1}, {"listed", 1}, {"paths", {"/beta/a"}},
                                        {"paths_total", 1}, {"paths_common", "/beta/a"}}})},
      {"active", json::array({{{"type", "TRANSFER"},
                               {"status", "ACTIVE"},
                               {"submission_id", "s1"},
                               {"paths", {"/beta/d/1", "/beta/d/2"}},
                               {"paths_total", 9},
                               {"paths_common", "/beta/d"}}})},
      {"failed", json::array({{{"type", "TRANSFER"},
                               {"task_id", "t9"},
                               {"submission_id", "s9"},
                               {"status", "FAILED"},
                               {"detail", "FILE_NOT_FOUND"},
                               {"finished_at", "2026-12-07T10:00:05+00:00"},
                               {"paths", {"/beta/gone"}},
                               {"paths_total", 1}}})},
      {"recent", json::array()}};
}

TEST(StatusView, WorkUnderMatchesDestinationsAndTheCommonFolderOfCutLists) {
  json all = WorkUnder(Status(), "/");
  EXPECT_EQ(all["pending"].size(), 2u);
  EXPECT_EQ(all["active"].size(), 1u);
  json beta = WorkUnder(Status(), "/beta");
  EXPECT_EQ(beta["pending"].size(), 1u);
  EXPECT_EQ(beta["active"].size(), 1u);
  EXPECT_EQ(WorkUnder(Status(), "/beta/a")["active"].size(), 0u);
  // /beta/d/7 is not listed, but the task has 9 paths under /beta/d.
  EXPECT_EQ(WorkUnder(Status(), "/beta/d/7")["active"].size(), 1u);
  EXPECT_EQ(WorkUnder(Status(), "/beta/d")["active"].size(), 1u);
  json alpha = WorkUnder(Status(), "/alpha");
  EXPECT_EQ(alpha["pending"].size(), 1u);
  EXPECT_EQ(alpha["active"].size(), 0u);
  EXPECT_TRUE(WorkUnder(Status(), "/gamma")["pending"].empty());
}

TEST(StatusView, WorkUnderCountsPendingItemsTheDocumentDidNotList) {
  json s = Status();
  s["pending"] = json::array();
  s["pending_batches"][0]["items"] = 500;
  s["pending_batches"][0]["listed"] = 0;
  s["pending_batches"][0]["paths_total"] = 500;
  s["pending_batches"][0]["paths_common"] = "/beta/many";
  EXPECT_EQ(WorkUnder(s, "/beta/many/x")["pending"].size(), 1u);
  EXPECT_TRUE(WorkUnder(s, "/alpha")["pending"].empty());
}

TEST(StatusView, FailuresUnderOnlyThoseSinceAndUnderThePath) {
  EXPECT_EQ(FailuresUnder(Status(), "/beta", "2026-12-07T10:00:00+00:00").size(), 1u);
  EXPECT_EQ(FailuresUnder(Status(), "/beta/gone", "2026-12-07T10:00:05+00:00").size(), 1u);
  EXPECT_TRUE(FailuresUnder(Status(), "/beta", "2026-12-07T10:00:06+00:00").empty()) << "before the wait";
  EXPECT_TRUE(FailuresUnder(Status(), "/alpha", "2026-12-07T10:00:00+00:00").empty());
  std::string text = DescribeFailures(FailuresUnder(Status(), "/", ""));
  EXPECT_EQ(text, "  TRANSFER t9 FAILED: FILE_NOT_FOUND; /beta/gone\n");
}

TEST(StatusView, RenderWatchShowsPendingActiveAndFailures) {
  json s = Status();
  s["active"][0]["task_id"] = "t1";
  s["active"][0]["files"] = 9;
  s["active"][0]["files_transferred"] = 3;
  std::string view = RenderWatch(s, s["failed"]);
  EXPECT_NE(view.find("pending: 2 item(s) not yet sent\n  copy /beta/a\n  delete /alpha/old\n"), std::string::npos)
      << view;
  EXPECT_NE(view.find("active: 1 task(s)\n  TRANSFER  ACTIVE  [######--------------]  3/9 files"), std::string::npos)
      << view;
  EXPECT_NE(view.find("task t1: /beta/d/1, /beta/d/2 (+7 more)"), std::string::npos) << view;
  EXPECT_NE(view.find("failed: 1 task(s)\n  TRANSFER t9 FAILED"), std::string::npos) << view;
}

}  // namespace
}  // namespace globusfs::fs
