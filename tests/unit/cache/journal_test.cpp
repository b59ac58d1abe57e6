// Journal: round trips of every field, remove, order, reopen, undecodable
// records, refusing to wipe, threads, and durability across a killed process,
// for both kinds of record (uploads, and the tasks of batched copies and
// deletes).
#include "cache/journal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cache/lmdb.h"
#include "temp_dir.h"

namespace globusfs::cache {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

StagedUpload Upload(std::string id, int64_t staged_at_ms = 1000) {
  StagedUpload u;
  u.id = std::move(id);
  u.collection_id = "6fa2b9d4-1f0e-4c8a-9d3b-2f5e8a7c1b90";
  u.path = "/home/user/" + u.id + ".txt";
  u.staged_file = "/var/cache/globusfs/staging/" + u.id;
  u.size = 12345;
  u.base_exists = true;
  u.base_size = 100;
  u.base_mtime = 1700000000;
  u.staged_at_ms = staged_at_ms;
  return u;
}

std::unique_ptr<Journal> OpenJournal(const fs::path& dir) {
  std::string error;
  auto journal = Journal::Open(dir, &error);
  EXPECT_NE(journal, nullptr) << error;
  return journal;
}

std::vector<std::string> Ids(const std::vector<StagedUpload>& uploads) {
  std::vector<std::string> ids;
  for (const StagedUpload& u : uploads) ids.push_back(u.id);
  return ids;
}

TEST(JournalTest, RoundTripsEveryFieldAndOddStrings) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path() / "journal");
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(fs::status(tmp.path() / "journal").permissions() & fs::perms::all,
            fs::perms::owner_all);

  StagedUpload odd;
  odd.id = "a1b2c3";
  odd.collection_id = "coll with spaces";
  odd.path = "/dir with spaces/ünïcødé 日本語 😀/new\nline\ttab \"quote\" back\\slash";
  odd.path += std::string("\0nul", 4);
  odd.staged_file = "/staging/not utf-8 \xff\xfe\xc3(";
  odd.size = std::numeric_limits<uint64_t>::max();
  odd.base_exists = false;
  odd.base_size = 0;
  odd.base_mtime = std::numeric_limits<int64_t>::min();
  odd.staged_at_ms = -5;
  ASSERT_TRUE(journal->PutUpload(odd));

  StagedUpload plain = Upload("plain");
  plain.base_mtime = std::numeric_limits<int64_t>::max();
  ASSERT_TRUE(journal->PutUpload(plain));

  EXPECT_EQ(journal->GetUpload("a1b2c3"), odd);
  EXPECT_EQ(journal->GetUpload("plain"), plain);
  EXPECT_EQ(journal->GetUpload("missing"), std::nullopt);
  EXPECT_EQ(journal->GetUpload(""), std::nullopt);
  const std::vector<StagedUpload> pending = journal->PendingUploads();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0], odd);  // staged_at_ms -5 < 1000
  EXPECT_EQ(pending[1], plain);
  EXPECT_EQ(journal->CorruptRecords(), 0u);
}

TEST(JournalTest, PutReplacesAndRejectsBadIds) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  ASSERT_TRUE(journal->PutUpload(Upload("x")));
  StagedUpload changed = Upload("x");
  changed.size = 7;
  ASSERT_TRUE(journal->PutUpload(changed));
  EXPECT_EQ(journal->GetUpload("x"), changed);
  EXPECT_EQ(journal->PendingUploads().size(), 1u);
  EXPECT_FALSE(journal->PutUpload(Upload("")));
  EXPECT_FALSE(journal->PutUpload(Upload(std::string(600, 'k'))));  // over LMDB's key limit
  EXPECT_EQ(journal->PendingUploads().size(), 1u);
}

TEST(JournalTest, Remove) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  ASSERT_TRUE(journal->PutUpload(Upload("a")));
  ASSERT_TRUE(journal->PutUpload(Upload("b")));
  EXPECT_TRUE(journal->RemoveUpload("a"));
  EXPECT_EQ(journal->GetUpload("a"), std::nullopt);
  EXPECT_EQ(Ids(journal->PendingUploads()), std::vector<std::string>{"b"});
  EXPECT_TRUE(journal->RemoveUpload("a"));  // already gone: still true
  EXPECT_TRUE(journal->RemoveUpload(""));
  EXPECT_TRUE(journal->RemoveUpload(std::string(600, 'k')));
  EXPECT_TRUE(journal->RemoveUpload("b"));
  EXPECT_TRUE(journal->PendingUploads().empty());
}

TEST(JournalTest, PendingIsOrderedByStagedAtThenId) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  for (auto [id, at] : std::vector<std::pair<std::string, int64_t>>{
           {"a", 300}, {"b", 100}, {"c", 200}, {"d", 100}, {"e", -1}}) {
    ASSERT_TRUE(journal->PutUpload(Upload(id, at)));
  }
  EXPECT_EQ(Ids(journal->PendingUploads()), (std::vector<std::string>{"e", "b", "d", "c", "a"}));
}

TEST(JournalTest, ReopenKeepsRecordsAndOnlyOneOwner) {
  TempDir tmp;
  {
    auto journal = OpenJournal(tmp.path());
    ASSERT_TRUE(journal->PutUpload(Upload("kept", 1)));
    ASSERT_TRUE(journal->PutUpload(Upload("removed", 2)));
    ASSERT_TRUE(journal->RemoveUpload("removed"));
    std::string error;
    EXPECT_EQ(Journal::Open(tmp.path(), &error), nullptr);
    EXPECT_FALSE(error.empty());
  }
  auto journal = OpenJournal(tmp.path());
  EXPECT_EQ(Ids(journal->PendingUploads()), std::vector<std::string>{"kept"});
  EXPECT_EQ(journal->GetUpload("kept"), Upload("kept", 1));
}

TEST(JournalTest, UndecodableRecordsAreSkippedAndCounted) {
  TempDir tmp;
  const StagedUpload good = Upload("good");
  {
    auto journal = OpenJournal(tmp.path());
    ASSERT_TRUE(journal->PutUpload(good));
  }
  {
    auto env = Env::Open(tmp.path(), EnvOptions{});
    env->Write([](Txn& txn) {
      Dbi uploads = Dbi::Open(txn, "uploads");
      uploads.Put(txn, "garbage", std::string("\x00\xff not json", 12));
      uploads.Put(txn, "array", "[1,2,3]");
      uploads.Put(
          txn, "wrong-type",
          R"({"v":1,"id":"wrong-type","collection_id":"c","path":"/p","staged_file":"/s",)"
          R"("size":-1,"base_exists":false,"base_size":0,"base_mtime":0,"staged_at_ms":0})");
      uploads.Put(txn, "missing-field", R"({"v":1,"id":"missing-field"})");
      uploads.Put(txn, "future",
                  R"({"v":2,"id":"future","collection_id":"c","path":"/p","staged_file":"/s",)"
                  R"("size":1,"base_exists":false,"base_size":0,"base_mtime":0,"staged_at_ms":0})");
      uploads.Put(txn, "other-id",
                  R"({"v":1,"id":"good","collection_id":"c","path":"/p","staged_file":"/s",)"
                  R"("size":1,"base_exists":false,"base_size":0,"base_mtime":0,"staged_at_ms":0})");
      uploads.Put(
          txn, "bad-hex",
          R"({"v":1,"id":"bad-hex","collection_id":"c","path":{"hex":"zz"},"staged_file":"/s",)"
          R"("size":1,"base_exists":false,"base_size":0,"base_mtime":0,"staged_at_ms":0})");
    });
  }
  auto journal = OpenJournal(tmp.path());
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(Ids(journal->PendingUploads()), std::vector<std::string>{"good"});
  EXPECT_EQ(journal->CorruptRecords(), 7u);
  EXPECT_EQ(journal->GetUpload("garbage"), std::nullopt);
  EXPECT_EQ(journal->GetUpload("future"), std::nullopt);
  EXPECT_EQ(journal->GetUpload("good"), good);
  EXPECT_TRUE(journal->RemoveUpload("garbage"));  // the caller may clear one
  EXPECT_EQ(journal->CorruptRecords(), 6u);
}

TEST(JournalTest, RefusesToWipeAnUnreadableJournal) {
  TempDir tmp;
  { OpenJournal(tmp.path()); }
  const std::string junk(16384, 'j');
  { std::ofstream(tmp.path() / "data.mdb", std::ios::trunc) << junk; }
  std::string error;
  EXPECT_EQ(Journal::Open(tmp.path(), &error), nullptr);
  EXPECT_NE(error.find(tmp.path().string()), std::string::npos) << error;
  EXPECT_EQ(fs::file_size(tmp.path() / "data.mdb"), junk.size());  // left for the user
}

TEST(JournalTest, RefusesAnotherFormat) {
  TempDir tmp;
  {
    auto env = Env::Open(tmp.path(), EnvOptions{});
    env->Write([](Txn& txn) {
      Dbi::Open(txn, "meta", MDB_CREATE).Put(txn, "format", "globusfs-journal/99");
    });
  }
  std::string error;
  EXPECT_EQ(Journal::Open(tmp.path(), &error), nullptr);
  EXPECT_NE(error.find("globusfs-journal/99"), std::string::npos) << error;
}

TEST(JournalTest, ConcurrentWriters) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  constexpr int kThreads = 4;
  constexpr int kEach = 15;
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(journal->PutUpload(Upload(id, t * 100 + i)));
        if (i % 3 == 0) {
          EXPECT_TRUE(journal->RemoveUpload(id));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int writes = kThreads * (kEach + kEach / 3);
  std::printf("[ perf     ] journal: %d synced writes from %d threads, %.2f ms each\n", writes,
              kThreads, s / writes * 1e3);
  EXPECT_EQ(journal->PendingUploads().size(), static_cast<size_t>(kThreads * (kEach - kEach / 3)));
}

// The child opens the journal, puts records and reports on `fd` each id
// whose PutUpload returned true; it never closes the journal.
[[noreturn]] void ChildPutsUploads(const fs::path& dir, int fd, int count) {
  std::string error;
  auto journal = Journal::Open(dir, &error);
  if (journal == nullptr) _exit(2);
  for (int i = 0; i < count; ++i) {
    const std::string id = "u" + std::to_string(i);
    if (journal->PutUpload(Upload(id, i))) {
      const std::string line = id + "\n";
      if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
    }
  }
  _exit(0);
}

std::vector<std::string> ReadLines(int fd, size_t at_least, pid_t kill_when_reached) {
  std::vector<std::string> lines;
  std::string buffer;
  char chunk[256];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      lines.push_back(buffer.substr(0, nl));
    }
    if (kill_when_reached > 0 && lines.size() >= at_least) {
      kill(kill_when_reached, SIGKILL);  // keep reading what it wrote before dying
      kill_when_reached = 0;
    }
  }
  return lines;
}

void ExpectEveryReportedIdSurvives(const fs::path& dir, const std::vector<std::string>& ids) {
  auto journal = OpenJournal(dir);
  ASSERT_NE(journal, nullptr);
  const std::vector<StagedUpload> pending = journal->PendingUploads();
  std::set<std::string> have;
  for (const StagedUpload& u : pending) have.insert(u.id);
  for (const std::string& id : ids) {
    EXPECT_TRUE(have.count(id)) << id << " was acknowledged but is lost";
    EXPECT_EQ(journal->GetUpload(id), Upload(id, std::stoi(id.substr(1))));
  }
  EXPECT_EQ(journal->CorruptRecords(), 0u);
}

// What a forked child reported (one line per acknowledged record) and how
// it ended.
struct ChildRun {
  std::vector<std::string> lines;
  int status = -1;
};

// Runs child(fd) in a forked process (it must not return), reading its
// lines; with kill_after > 0, SIGKILLs it once that many have arrived.
ChildRun RunChild(const std::function<void(int fd)>& child, size_t kill_after) {
  ChildRun run;
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return run;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return run;
  }
  if (pid == 0) {
    close(fds[0]);
    child(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  run.lines = ReadLines(fds[0], kill_after, kill_after > 0 ? pid : 0);
  close(fds[0]);
  EXPECT_EQ(waitpid(pid, &run.status, 0), pid);
  return run;
}

bool KilledBySigkill(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

TEST(JournalTest, AcknowledgedUploadsSurviveSigkill) {
  TempDir tmp;
  // The child would write 100,000 records: it is killed long before the end.
  ChildRun run = RunChild([&](int fd) { ChildPutsUploads(tmp.path(), fd, 100000); }, 25);
  ASSERT_TRUE(KilledBySigkill(run.status)) << run.status;
  ASSERT_GE(run.lines.size(), 25u);
  ExpectEveryReportedIdSurvives(tmp.path(), run.lines);
}

TEST(JournalTest, AcknowledgedUploadsSurviveExitWithoutClose) {
  TempDir tmp;
  ChildRun run = RunChild([&](int fd) { ChildPutsUploads(tmp.path(), fd, 20); }, 0);
  ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.status;
  ASSERT_EQ(run.lines.size(), 20u);
  ExpectEveryReportedIdSurvives(tmp.path(), run.lines);
}


// ---- tasks (batched copies and deletes) ---------------------------------------

PendingTask Task(std::string submission_id, int64_t created_at_ms = 1000,
                 std::string kind = "transfer") {
  PendingTask t;
  t.submission_id = std::move(submission_id);
  t.kind = std::move(kind);
  t.source_collection = "6fa2b9d4-1f0e-4c8a-9d3b-2f5e8a7c1b90";
  if (t.kind == "transfer") t.destination_collection = "0b7c3d2e-5f4a-4b1c-8d9e-1a2b3c4d5e6f";
  t.items.push_back({"/home/user/" + t.submission_id, t.kind == "transfer" ? "/copy/x" : "", false});
  t.items.push_back({"/home/user/dir", t.kind == "transfer" ? "/copy/dir" : "", true});
  t.created_at_ms = created_at_ms;
  return t;
}

std::vector<std::string> SubmissionIds(const std::vector<PendingTask>& tasks) {
  std::vector<std::string> ids;
  for (const PendingTask& t : tasks) ids.push_back(t.submission_id);
  return ids;
}

TEST(JournalTest, TasksRoundTripWithAThousandItemsAndOddPaths) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  ASSERT_NE(journal, nullptr);
  PendingTask big;
  big.submission_id = "2b5b6a1c-8c1e-4a52-9c6d-0f7f3c1e2a4b";
  big.kind = "transfer";
  big.source_collection = "src";
  big.destination_collection = "dst";
  big.created_at_ms = std::numeric_limits<int64_t>::max();
  const std::vector<std::string> odd = {
      "/dir with spaces/ünïcødé 日本語 😀",
      "/new\nline\ttab \"quote\" back\\slash",
      std::string("/nul\0inside", 11),
      "/not utf-8 \xff\xfe\xc3(",
      "/" + std::string(4000, 'x'),
      "/{\"hex\": \"00\"}",
      "",
  };
  for (int i = 0; i < 1000; ++i) {
    const std::string& o = odd[static_cast<size_t>(i) % odd.size()];
    big.items.push_back({o + "/" + std::to_string(i), "/dst/" + std::to_string(i) + o, i % 3 == 0});
  }
  ASSERT_TRUE(journal->PutTask(big));

  PendingTask del = Task("del-1", -7, "delete");
  del.task_id = "6b0aed60-575c-11eb-87bb-02187389bd35";
  ASSERT_TRUE(journal->PutTask(del));

  EXPECT_EQ(journal->GetTask(big.submission_id), big);
  EXPECT_EQ(journal->GetTask("del-1"), del);
  EXPECT_EQ(journal->GetTask("missing"), std::nullopt);
  EXPECT_EQ(journal->GetTask(""), std::nullopt);
  EXPECT_EQ(journal->GetTask(std::string(600, 'k')), std::nullopt);
  const std::vector<PendingTask> pending = journal->PendingTasks();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0], del);  // -7 < max
  EXPECT_EQ(pending[1], big);
  EXPECT_EQ(journal->CorruptRecords(), 0u);
  // The kinds do not mix.
  EXPECT_TRUE(journal->PendingUploads().empty());
  ASSERT_TRUE(journal->PutUpload(Upload("del-1")));
  EXPECT_EQ(journal->PendingTasks().size(), 2u);
  EXPECT_TRUE(journal->RemoveUpload("del-1"));
  EXPECT_EQ(journal->GetTask("del-1"), del);
}

TEST(JournalTest, TaskIdIsAddedByReplacingTheRecord) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  PendingTask t = Task("s1");
  ASSERT_TRUE(journal->PutTask(t));
  EXPECT_EQ(journal->GetTask("s1")->task_id, "");
  t.task_id = "task-42";  // Globus accepted it
  ASSERT_TRUE(journal->PutTask(t));
  EXPECT_EQ(journal->GetTask("s1"), t);
  EXPECT_EQ(journal->PendingTasks().size(), 1u);
}

TEST(JournalTest, PutTaskReplacingSwapsRecordsInOneWrite) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  ASSERT_TRUE(journal->PutTask(Task("queued-1", 1)));
  ASSERT_TRUE(journal->PutTask(Task("queued-2", 2)));
  ASSERT_TRUE(journal->PutTask(Task("other", 3)));
  PendingTask batch = Task("sid", 4);
  ASSERT_TRUE(journal->PutTaskReplacing(batch, {"queued-1", "queued-2", "missing", ""}));
  EXPECT_EQ(SubmissionIds(journal->PendingTasks()), (std::vector<std::string>{"other", "sid"}));
  // A refused record removes nothing.
  EXPECT_FALSE(journal->PutTaskReplacing(Task("k", 5, "copy"), {"other"}));
  EXPECT_EQ(SubmissionIds(journal->PendingTasks()), (std::vector<std::string>{"other", "sid"}));
}

TEST(JournalTest, TaskPutRejectsBadKeysAndKinds) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  EXPECT_FALSE(journal->PutTask(Task("")));
  EXPECT_FALSE(journal->PutTask(Task(std::string(600, 'k'))));  // over LMDB's key limit
  EXPECT_FALSE(journal->PutTask(Task("k", 1, "copy")));
  EXPECT_FALSE(journal->PutTask(Task("k", 1, "")));
  EXPECT_TRUE(journal->PendingTasks().empty());
  EXPECT_TRUE(journal->PutTask(Task("k", 1, "delete")));
  EXPECT_EQ(journal->CorruptRecords(), 0u);
}

TEST(JournalTest, RemoveTaskAndOrder) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path());
  for (auto [id, at] : std::vector<std::pair<std::string, int64_t>>{
           {"a", 300}, {"b", 100}, {"c", 200}, {"d", 100}, {"e", -1}}) {
    ASSERT_TRUE(journal->PutTask(Task(id, at)));
  }
  EXPECT_EQ(SubmissionIds(journal->PendingTasks()),
            (std::vector<std::string>{"e", "b", "d", "c", "a"}));
  EXPECT_TRUE(journal->RemoveTask("b"));
  EXPECT_EQ(journal->GetTask("b"), std::nullopt);
  EXPECT_TRUE(journal->RemoveTask("b"));  // already gone: still true
  EXPECT_TRUE(journal->RemoveTask(""));
  EXPECT_TRUE(journal->RemoveTask(std::string(600, 'k')));
  EXPECT_EQ(SubmissionIds(journal->PendingTasks()), (std::vector<std::string>{"e", "d", "c", "a"}));
}

TEST(JournalTest, TasksSurviveReopen) {
  TempDir tmp;
  PendingTask kept = Task("kept", 1);
  kept.task_id = "t-1";
  {
    auto journal = OpenJournal(tmp.path());
    ASSERT_TRUE(journal->PutTask(kept));
    ASSERT_TRUE(journal->PutTask(Task("removed", 2, "delete")));
    ASSERT_TRUE(journal->RemoveTask("removed"));
    ASSERT_TRUE(journal->PutUpload(Upload("u")));
  }
  auto journal = OpenJournal(tmp.path());
  EXPECT_EQ(SubmissionIds(journal->PendingTasks()), std::vector<std::string>{"kept"});
  EXPECT_EQ(journal->GetTask("kept"), kept);
  EXPECT_EQ(Ids(journal->PendingUploads()), std::vector<std::string>{"u"});
}

TEST(JournalTest, AJournalFromBeforeTasksGainsThem) {
  TempDir tmp;
  {  // what an older globusfs left: the format tag and uploads only
    auto env = Env::Open(tmp.path(), EnvOptions{});
    env->Write([](Txn& txn) {
      Dbi::Open(txn, "meta", MDB_CREATE).Put(txn, "format", "globusfs-journal/1");
      Dbi::Open(txn, "uploads", MDB_CREATE);
    });
  }
  {
    auto journal = OpenJournal(tmp.path());
    ASSERT_NE(journal, nullptr);
    EXPECT_TRUE(journal->PendingTasks().empty());
    ASSERT_TRUE(journal->PutTask(Task("new")));
  }
  auto journal = OpenJournal(tmp.path());
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->GetTask("new"), Task("new"));
}

TEST(JournalTest, UndecodableTasksAreSkippedAndCounted) {
  TempDir tmp;
  const PendingTask good = Task("good");
  {
    auto journal = OpenJournal(tmp.path());
    ASSERT_TRUE(journal->PutTask(good));
  }
  const std::string head = R"({"v":1,"task_id":"","source_collection":"s",)"
                           R"("destination_collection":"d","created_at_ms":0,)";
  {
    auto env = Env::Open(tmp.path(), EnvOptions{});
    env->Write([&](Txn& txn) {
      Dbi tasks = Dbi::Open(txn, "tasks");
      tasks.Put(txn, "garbage", std::string("\x00\xff not json", 12));
      tasks.Put(txn, "other-id", head + R"("submission_id":"good","kind":"transfer","items":[]})");
      tasks.Put(txn, "bad-kind", head + R"("submission_id":"bad-kind","kind":"copy","items":[]})");
      tasks.Put(txn, "no-items", head + R"("submission_id":"no-items","kind":"delete"})");
      tasks.Put(txn, "bad-item",
                head + R"("submission_id":"bad-item","kind":"delete","items":[{"source_path":"/a"}]})");
      tasks.Put(txn, "future",
                R"({"v":2,"submission_id":"future","kind":"delete","task_id":"","source_collection":"s",)"
                R"("destination_collection":"","created_at_ms":0,"items":[]})");
      tasks.Put(txn, "fine", head + R"("submission_id":"fine","kind":"delete","items":[]})");
    });
  }
  auto journal = OpenJournal(tmp.path());
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(SubmissionIds(journal->PendingTasks()), (std::vector<std::string>{"fine", "good"}));
  EXPECT_EQ(journal->CorruptRecords(), 6u);
  EXPECT_EQ(journal->GetTask("bad-item"), std::nullopt);
  EXPECT_EQ(journal->GetTask("good"), good);
  EXPECT_TRUE(journal->RemoveTask("garbage"));
  EXPECT_EQ(journal->CorruptRecords(), 5u);
}

// The child opens the journal, puts task records (with 100 items each) and
// reports on `fd` each submission id whose PutTask returned true, then the
// same id again with ":accepted" once a second PutTask added the task id;
// it never closes the journal.
[[noreturn]] void ChildPutsTasks(const fs::path& dir, int fd, int count) {
  std::string error;
  auto journal = Journal::Open(dir, &error);
  if (journal == nullptr) _exit(2);
  const auto report = [&](const std::string& line) {
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
  };
  for (int i = 0; i < count; ++i) {
    PendingTask t = Task("s" + std::to_string(i), i);
    for (int k = 0; k < 100; ++k) t.items.push_back({"/src/" + std::to_string(k), "/dst", false});
    if (!journal->PutTask(t)) continue;
    report(t.submission_id + "\n");
    t.task_id = "task-" + std::to_string(i);
    if (journal->PutTask(t)) report(t.submission_id + ":accepted\n");
  }
  _exit(0);
}

TEST(JournalTest, AcknowledgedTasksSurviveSigkill) {
  TempDir tmp;
  ChildRun run = RunChild([&](int fd) { ChildPutsTasks(tmp.path(), fd, 100000); }, 40);
  ASSERT_TRUE(KilledBySigkill(run.status)) << run.status;
  ASSERT_GE(run.lines.size(), 40u);
  const std::vector<std::string>& lines = run.lines;

  auto journal = OpenJournal(tmp.path());
  ASSERT_NE(journal, nullptr);
  for (const std::string& line : lines) {
    const size_t colon = line.find(':');
    const std::string id = line.substr(0, colon);
    const auto t = journal->GetTask(id);
    ASSERT_TRUE(t.has_value()) << id << " was acknowledged but is lost";
    EXPECT_EQ(t->items.size(), 102u);
    EXPECT_EQ(t->created_at_ms, std::stoi(id.substr(1)));
    if (colon != std::string::npos) {
      EXPECT_EQ(t->task_id, "task-" + id.substr(1)) << "an acknowledged task id is lost";
    }
  }
  EXPECT_EQ(journal->CorruptRecords(), 0u);
}

}  // namespace
}  // namespace globusfs::cache
