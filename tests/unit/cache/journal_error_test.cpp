// Journal: why a write failed (LastError, per thread and per journal) and
// what a full map or a full disk does to the journal: the write fails with
// the cause named, what was acknowledged stays, and a later write succeeds
// once there is room. The full-disk tests mount a tmpfs: they need root and
// skip, saying why, without it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cache/journal.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"

namespace globusfs::cache {
namespace {

using testing::TempDir;
using testing::TmpfsMount;
namespace fs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// EXPECT_TRUE(Has(text, part)): part occurs in text (which is shown if not).
::testing::AssertionResult Has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

StagedUpload Upload(std::string id, size_t padding = 0) {
  StagedUpload u;
  u.id = std::move(id);
  u.collection_id = "6fa2b9d4-1f0e-4c8a-9d3b-2f5e8a7c1b90";
  u.path = "/home/user/" + u.id + ".txt";
  u.staged_file = "/var/cache/globusfs/staging/" + u.id + std::string(padding, 'p');
  u.size = 12345;
  u.staged_at_ms = 1000;
  return u;
}

std::unique_ptr<Journal> OpenJournal(const fs::path& dir, const JournalOptions& options = {}) {
  std::string error;
  auto journal = Journal::Open(dir, options, &error);
  EXPECT_NE(journal, nullptr) << error;
  return journal;
}

// Puts padded uploads "fill-0", "fill-1", ... until one fails (at most
// `limit`); returns how many succeeded.
int PutUntilFailure(Journal* journal, size_t padding, int limit) {
  for (int i = 0; i < limit; ++i) {
    if (!journal->PutUpload(Upload("fill-" + std::to_string(i), padding))) return i;
  }
  return limit;
}

TEST(JournalErrorTest, InvalidRecordsSayWhy) {
  TempDir tmp;
  auto journal = OpenJournal(tmp.path() / "journal");
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->LastError(), "");
  EXPECT_FALSE(journal->PutUpload(Upload("")));
  EXPECT_TRUE(Has(journal->LastError(), "needs an id"));
  EXPECT_TRUE(Has(journal->LastError(), (tmp.path() / "journal").string()));

  PendingTask task;
  task.submission_id = "sub-1";
  task.kind = "rename";
  EXPECT_FALSE(journal->PutTask(task));
  EXPECT_TRUE(Has(journal->LastError(), "\"rename\""));
  EXPECT_FALSE(journal->PutTaskReplacing(PendingTask{}, {}));
  EXPECT_TRUE(Has(journal->LastError(), "submission_id"));

  EXPECT_TRUE(journal->PutUpload(Upload("ok")));  // a success does not clear it
  EXPECT_TRUE(Has(journal->LastError(), "submission_id"));
}

TEST(JournalErrorTest, LastErrorIsPerThreadAndPerJournal) {
  TempDir tmp;
  auto a = OpenJournal(tmp.path() / "a");
  auto b = OpenJournal(tmp.path() / "b");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->PutUpload(Upload("")));
  EXPECT_TRUE(Has(a->LastError(), (tmp.path() / "a").string()));
  EXPECT_EQ(b->LastError(), "");  // b has not failed
  std::string other_thread = "unset";
  std::thread([&] { other_thread = a->LastError(); }).join();
  EXPECT_EQ(other_thread, "");
}

TEST(JournalErrorTest, FullMapNamesMapFullAndKeepsWhatWasWritten) {
  TempDir tmp;
  JournalOptions options;
  options.map_size = 1 * kMiB;
  options.max_map_size = 1 * kMiB;
  auto journal = OpenJournal(tmp.path() / "journal", options);
  ASSERT_NE(journal, nullptr);
  const int written = PutUntilFailure(journal.get(), 64 * 1024, 64);
  ASSERT_LT(written, 64) << "a 1 MiB map never filled";
  ASSERT_GT(written, 0);
  EXPECT_TRUE(Has(journal->LastError(), "MDB_MAP_FULL"));
  EXPECT_TRUE(Has(journal->LastError(), (tmp.path() / "journal").string()));
  EXPECT_FALSE(journal->GetUpload("fill-" + std::to_string(written)));
  EXPECT_EQ(journal->PendingUploads().size(), static_cast<size_t>(written));

  // Removing records makes room again (their pages are reused).
  for (int i = 0; i < written; ++i) {
    ASSERT_TRUE(journal->RemoveUpload("fill-" + std::to_string(i))) << i << journal->LastError();
  }
  EXPECT_TRUE(journal->PutUpload(Upload("small"))) << journal->LastError();
  EXPECT_TRUE(journal->PutUpload(Upload("big", 64 * 1024))) << journal->LastError();
  EXPECT_EQ(journal->PendingUploads().size(), 2u);
}

// Fills the filesystem holding `dir` with dir/filler until ENOSPC; false if
// it could not.
bool FillDisk(const fs::path& dir) {
  const int fd = ::open((dir / "filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const std::string chunk(4096, 'f');
  ssize_t n;
  while ((n = ::write(fd, chunk.data(), chunk.size())) > 0) {
  }
  const bool full = n < 0 && errno == ENOSPC;
  return ::close(fd) == 0 && full;
}

// A journal alone on a 2 MiB tmpfs (its LMDB map, 4 MiB, is larger than the
// disk). The tmpfs is unmounted in TearDown whatever the test did.
class JournalDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmpfs_ = std::make_unique<TmpfsMount>(2 * kMiB);
    if (!tmpfs_->mounted()) GTEST_SKIP() << tmpfs_->why();
    dir_ = tmpfs_->path() / "journal";
  }
  void TearDown() override { tmpfs_.reset(); }

  std::unique_ptr<TmpfsMount> tmpfs_;
  fs::path dir_;
};

TEST_F(JournalDiskFullTest, FullDiskNamesTheCauseAndAWriteSucceedsOnceSpaceIsFreed) {
  auto journal = OpenJournal(dir_);
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(journal->PutUpload(Upload("before")));
  ASSERT_TRUE(FillDisk(tmpfs_->path()));

  const int written = PutUntilFailure(journal.get(), 16 * 1024, 256);
  ASSERT_LT(written, 256) << "the full disk never refused a write";
  EXPECT_TRUE(Has(journal->LastError(), "No space left on device"));
  EXPECT_TRUE(Has(journal->LastError(), dir_.string()));
  const std::string failed = "fill-" + std::to_string(written);
  EXPECT_FALSE(journal->GetUpload(failed));
  // Removal needs new pages too; on a full disk it may fail, and says why.
  if (!journal->RemoveUpload("before")) {
    EXPECT_TRUE(Has(journal->LastError(), "No space left on device"));
  }

  fs::remove(tmpfs_->path() / "filler");
  EXPECT_TRUE(journal->PutUpload(Upload("after"))) << journal->LastError();
  EXPECT_TRUE(journal->PutUpload(Upload(failed, 16 * 1024))) << journal->LastError();
  EXPECT_TRUE(journal->RemoveUpload("before")) << journal->LastError();
  EXPECT_TRUE(journal->GetUpload("after"));
  EXPECT_TRUE(journal->GetUpload(failed));
  EXPECT_FALSE(journal->GetUpload("before"));
  const size_t pending = journal->PendingUploads().size();

  journal.reset();  // and it all survives a reopen
  journal = OpenJournal(dir_);
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->PendingUploads().size(), pending);
  EXPECT_TRUE(journal->GetUpload("after"));
  EXPECT_EQ(journal->CorruptRecords(), 0u);
}

}  // namespace
}  // namespace globusfs::cache
