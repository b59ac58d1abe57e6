// The TransferApi contract: ONE suite, run against FakeTransfer and against
// TransferClient talking to a real globus-emulator process over TLS, so the
// fake cannot drift from what Transfer (as emulated) answers: the same
// entries, the same HTTP status and Globus code for each failure, the same
// task outcomes, task documents and events (batched transfers and deletes,
// submission-id deduplication, a missing source left ACTIVE with an error
// event, cancel). Each test is written once against a Backend
// (transfer_api_backends.h) and runs for both; task polls are bounded. The
// fake's own test hooks are tested at the end, then the Duplicate answer of
// a lost transfer submission; what else only the real client does (paging,
// the Duplicate answer of DeleteAndWait, polling) is in
// transfer_client_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "tests/fakes/fake_transfer.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_json.h"
#include "tests/fs/transfer_api_backends.h"

namespace globusfs::fs::contract {
namespace {

using http::ErrorKind;

// --- the contract -------------------------------------------------------------

class TransferApiContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "fake") {
      backend_ = MakeFakeBackend();
    } else {
      backend_ = std::make_unique<EmulatorBackend>();
    }
    a_ = backend_->CollectionId("alpha");
    b_ = backend_->CollectionId("beta");
  }
  static void TearDownTestSuite() { StopSharedEmulator(); }

  TransferApi& api() { return backend_->Api(); }
  http::Result<TaskOutcome> Delete(std::vector<std::string> paths, bool recursive,
                                   bool ignore_missing = true) {
    return api().DeleteAndWait(DeleteRequest{a_, std::move(paths), recursive, ignore_missing, ""});
  }

  std::string NewId() {
    auto id = api().NewSubmissionId();
    EXPECT_TRUE(id.ok()) << id.error().Summary();
    return id.ok() ? *id : "";
  }
  // A transfer from "alpha" to "beta" with a fresh submission id.
  TransferRequest Copy(std::vector<TransferItem> items) {
    TransferRequest r;
    r.submission_id = NewId();
    r.source_collection = a_;
    r.destination_collection = b_;
    r.items = std::move(items);
    r.label = "contract test";
    return r;
  }
  // Polls GetTask until the task is done (the last answer after 20 s).
  http::Result<TaskStatus> WaitDone(const std::string& task_id) {
    const auto give_up = std::chrono::steady_clock::now() + kTaskWait;
    while (true) {
      backend_->LetTasksRun();
      auto st = api().GetTask(task_id);
      if (!st.ok() || st->done() || std::chrono::steady_clock::now() > give_up) return st;
    }
  }
  // Polls the events until one is an error; nullopt after 20 s.
  std::optional<TaskEvent> WaitForErrorEvent(const std::string& task_id) {
    const auto give_up = std::chrono::steady_clock::now() + kTaskWait;
    while (std::chrono::steady_clock::now() < give_up) {
      backend_->LetTasksRun();
      auto events = api().GetTaskEvents(task_id, 100);
      if (!events.ok()) {
        ADD_FAILURE() << events.error().Summary();
        return std::nullopt;
      }
      for (const TaskEvent& e : *events) {
        if (e.is_error) return e;
      }
    }
    return std::nullopt;
  }

  static constexpr std::chrono::seconds kTaskWait{20};
  std::unique_ptr<Backend> backend_;
  std::string a_;  // the id of collection "alpha"
  std::string b_;  // the id of collection "beta"
};

TEST_P(TransferApiContract, ListsEveryKindOfEntrySortedByName) {
  backend_->MakeFile("alpha", "/d/file.txt", "hello");
  backend_->MakeFile("alpha", "/d/.hidden", "");
  backend_->MakeDir("alpha", "/d/sub");
  backend_->MakeSymlink("alpha", "/d/link-to-file", "file.txt", EntryType::kFile);
  backend_->MakeSymlink("alpha", "/d/link-to-dir", "sub", EntryType::kDir);
  backend_->MakeSymlink("alpha", "/d/broken", "nowhere", EntryType::kInvalidSymlink);
  auto list = api().List(a_, "/d");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  EXPECT_EQ(Names(*list), (std::vector<std::string>{".hidden", "broken", "file.txt", "link-to-dir",
                                                    "link-to-file", "sub"}));
  EXPECT_EQ(Find(*list, "file.txt").type, EntryType::kFile);
  EXPECT_EQ(Find(*list, "file.txt").size, 5u);
  EXPECT_EQ(Find(*list, "sub").type, EntryType::kDir);
  // A valid link reports its target's type and real, absolute path
  // (globus-api.md §2.2: GCS realpath()s it); a broken one what it holds.
  EXPECT_EQ(Find(*list, "link-to-file").type, EntryType::kSymlink);
  EXPECT_EQ(Find(*list, "link-to-file").link_target, "/d/file.txt");
  EXPECT_EQ(Find(*list, "link-to-file").size, 5u) << "the target's size";
  EXPECT_EQ(Find(*list, "link-to-dir").type, EntryType::kSymlinkDir);
  EXPECT_EQ(Find(*list, "link-to-dir").link_target, "/d/sub");
  EXPECT_EQ(Find(*list, "broken").type, EntryType::kInvalidSymlink);
  EXPECT_EQ(Find(*list, "broken").link_target, "nowhere");
  // The default directory is the root; the other collection is untouched.
  auto root = api().List(a_, "/~/");
  ASSERT_TRUE(root.ok()) << root.error().Summary();
  EXPECT_EQ(Names(*root), std::vector<std::string>{"d"});
  auto beta = api().List(backend_->CollectionId("beta"), "/");
  ASSERT_TRUE(beta.ok()) << beta.error().Summary();
  EXPECT_TRUE(beta->empty());
}

TEST_P(TransferApiContract, OddNamesRoundTrip) {
  const std::vector<std::string> names = {"with space",   "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
                                          "100%",         "%2F",
                                          "a#b",          "what?",
                                          "line\nbreak",  std::string(200, 'x'),
                                          "plus+and&eq=", "back\\slash",
                                          "-dash",        "quote\"s",
                                          "semi;colon",   "tab\there"};
  const std::string dir = "/odd dir #?%&+";
  for (const auto& n : names) backend_->MakeFile("alpha", dir + "/" + n, n);
  auto list = api().List(a_, dir);
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Names(*list), sorted);
  for (const auto& n : names) {
    auto st = api().Stat(a_, dir + "/" + n);
    ASSERT_TRUE(st.ok()) << st.error().Summary();
    EXPECT_EQ(st->name, n);
    EXPECT_EQ(st->size, n.size());
  }
}

TEST_P(TransferApiContract, SizeModeAndMtimeRoundTrip) {
  backend_->MakeFile("alpha", "/d/f.bin", std::string(12345, 'z'), 1600000000, 0640);
  backend_->MakeFile("alpha", "/d/x.sh", "#!", 1234567890, 0755);
  backend_->MakeDir("alpha", "/d", 1500000000, 0750);
  auto list = api().List(a_, "/d");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].size, 12345u);
  EXPECT_EQ((*list)[0].mode, 0640u);
  EXPECT_EQ((*list)[0].mtime, 1600000000);
  EXPECT_EQ((*list)[1].mode, 0755u);
  EXPECT_EQ((*list)[1].mtime, 1234567890);
  auto dir = api().Stat(a_, "/d");
  ASSERT_TRUE(dir.ok()) << dir.error().Summary();
  EXPECT_EQ(dir->type, EntryType::kDir);
  EXPECT_EQ(dir->mode, 0750u);
  EXPECT_EQ(dir->mtime, 1500000000);
  auto file = api().Stat(a_, "/d/f.bin");
  ASSERT_TRUE(file.ok()) << file.error().Summary();
  EXPECT_EQ(*file, (*list)[0]);
}

TEST_P(TransferApiContract, ListFailures) {
  backend_->MakeFile("alpha", "/file", "x");
  EXPECT_TRUE(Fails(api().List(a_, "/nope"), RemoteErrc::kNotFound, 404, "ClientError.NotFound"));
  EXPECT_TRUE(Fails(api().List(a_, "/nope/deeper"), RemoteErrc::kNotFound, 404));
  EXPECT_TRUE(Fails(api().List(a_, "/file/below"), RemoteErrc::kNotFound, 404));
  EXPECT_TRUE(Fails(api().List(a_, "/file"), RemoteErrc::kNotDirectory, 502,
                    "ExternalError.DirListingFailed.NotDirectory"));
  EXPECT_TRUE(Fails(api().List(testing::RandomUuid(), "/"), RemoteErrc::kNotFound, 404,
                    "EndpointNotFound"));
  EXPECT_TRUE(Fails(api().List(a_, "relative"), RemoteErrc::kInvalid, 400));
}

TEST_P(TransferApiContract, ListsSpecialFilesWithTheirKind) {
  backend_->MakeFile("alpha", "/s/plain", "x");
  backend_->MakeSpecial("alpha", "/s/fifo", EntryType::kPipe);
  backend_->MakeSpecial("alpha", "/s/sock", EntryType::kOther);
  if (::geteuid() == 0) backend_->MakeSpecial("alpha", "/s/null", EntryType::kCharDevice);
  auto list = api().List(a_, "/s");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  EXPECT_EQ(Find(*list, "fifo").type, EntryType::kPipe);
  EXPECT_EQ(Find(*list, "sock").type, EntryType::kOther);
  if (::geteuid() == 0) {
    EXPECT_EQ(Find(*list, "null").type, EntryType::kCharDevice);
  }
  EXPECT_EQ(Find(*list, "plain").type, EntryType::kFile);
}

TEST_P(TransferApiContract, ListFollowsALinkToADirectory) {
  backend_->MakeFile("alpha", "/real/inside", "1");
  backend_->MakeSymlink("alpha", "/link", "real", EntryType::kDir);
  backend_->MakeSymlink("alpha", "/broken", "gone", EntryType::kInvalidSymlink);
  auto list = api().List(a_, "/link");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  EXPECT_EQ(Names(*list), std::vector<std::string>{"inside"});
  auto through = api().Stat(a_, "/link/inside");
  ASSERT_TRUE(through.ok()) << through.error().Summary();
  EXPECT_EQ(through->type, EntryType::kFile);
  EXPECT_TRUE(Fails(api().List(a_, "/broken"), RemoteErrc::kNotFound, 404));
}

TEST_P(TransferApiContract, Stat) {
  backend_->MakeFile("alpha", "/d/f", "abc");
  backend_->MakeSymlink("alpha", "/d/l", "f", EntryType::kFile);
  backend_->MakeSymlink("alpha", "/d/b", "gone", EntryType::kInvalidSymlink);
  auto f = api().Stat(a_, "/d/f");
  ASSERT_TRUE(f.ok()) << f.error().Summary();
  EXPECT_EQ(f->name, "f");
  EXPECT_EQ(f->type, EntryType::kFile);
  EXPECT_EQ(f->size, 3u);
  auto via_home = api().Stat(a_, "/~/d/./f");
  ASSERT_TRUE(via_home.ok()) << via_home.error().Summary();
  EXPECT_EQ(*via_home, *f);
  auto d = api().Stat(a_, "/d");
  ASSERT_TRUE(d.ok()) << d.error().Summary();
  EXPECT_EQ(d->name, "d");
  EXPECT_EQ(d->type, EntryType::kDir);
  auto root = api().Stat(a_, "/");
  ASSERT_TRUE(root.ok()) << root.error().Summary();
  EXPECT_EQ(root->name, "/");
  EXPECT_EQ(root->type, EntryType::kDir);
  auto l = api().Stat(a_, "/d/l");
  ASSERT_TRUE(l.ok()) << l.error().Summary();
  EXPECT_EQ(l->type, EntryType::kSymlink);
  EXPECT_EQ(l->link_target, "/d/f");
  auto b = api().Stat(a_, "/d/b");
  ASSERT_TRUE(b.ok()) << b.error().Summary();
  EXPECT_EQ(b->type, EntryType::kInvalidSymlink);
  EXPECT_EQ(b->link_target, "gone");
  EXPECT_TRUE(Fails(api().Stat(a_, "/d/missing"), RemoteErrc::kNotFound, 404, "NotFound"));
  EXPECT_TRUE(Fails(api().Stat(a_, "/d/f/below"), RemoteErrc::kNotFound, 404, "NotFound"));
  EXPECT_TRUE(Fails(api().Stat(testing::RandomUuid(), "/"), RemoteErrc::kNotFound, 404,
                    "EndpointNotFound"));
}

TEST_P(TransferApiContract, Mkdir) {
  backend_->MakeFile("alpha", "/file", "x");
  auto made = api().Mkdir(a_, "/new");
  ASSERT_TRUE(made.ok()) << made.error().Summary();
  EXPECT_TRUE(backend_->Exists("alpha", "/new"));
  auto st = api().Stat(a_, "/new");
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->type, EntryType::kDir);
  ASSERT_TRUE(api().Mkdir(a_, "/new/odd name #?%").ok());
  EXPECT_TRUE(backend_->Exists("alpha", "/new/odd name #?%"));
  EXPECT_TRUE(
      Fails(api().Mkdir(a_, "/new"), RemoteErrc::kExists, 502, "ExternalError.MkdirFailed.Exists"));
  EXPECT_TRUE(Fails(api().Mkdir(a_, "/file"), RemoteErrc::kExists, 502,
                    "ExternalError.MkdirFailed.Exists"));
  EXPECT_TRUE(Fails(api().Mkdir(a_, "/"), RemoteErrc::kExists, 502));
  EXPECT_TRUE(Fails(api().Mkdir(a_, "/missing/child"), RemoteErrc::kNotFound, 502,
                    "ExternalError.MkdirFailed"));
  EXPECT_TRUE(Fails(api().Mkdir(a_, "/file/child"), RemoteErrc::kNotDirectory, 502,
                    "ExternalError.MkdirFailed"));
  EXPECT_FALSE(backend_->Exists("alpha", "/missing"));
}

TEST_P(TransferApiContract, Rename) {
  backend_->MakeFile("alpha", "/a.txt", "aaa");
  backend_->MakeFile("alpha", "/dir/inner/deep.txt", "d");
  backend_->MakeFile("alpha", "/taken.txt", "t");
  auto r = api().Rename(a_, "/a.txt", "/b #?%.txt");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_FALSE(backend_->Exists("alpha", "/a.txt"));
  EXPECT_TRUE(backend_->Exists("alpha", "/b #?%.txt"));
  r = api().Rename(a_, "/dir", "/moved");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_TRUE(backend_->Exists("alpha", "/moved/inner/deep.txt"));
  EXPECT_FALSE(backend_->Exists("alpha", "/dir"));
  EXPECT_TRUE(Fails(api().Rename(a_, "/b #?%.txt", "/taken.txt"), RemoteErrc::kExists, 502,
                    "ExternalError.RenameFailed.Exists"));
  EXPECT_TRUE(Fails(api().Rename(a_, "/moved", "/b #?%.txt"), RemoteErrc::kExists, 502));
  EXPECT_TRUE(Fails(api().Rename(a_, "/nope", "/other"), RemoteErrc::kNotFound, 404,
                    "ClientError.NotFound"));
  EXPECT_TRUE(Fails(api().Rename(a_, "/taken.txt", "/no/such/dir.txt"), RemoteErrc::kNotFound, 502,
                    "ExternalError.RenameFailed"));
  EXPECT_TRUE(Fails(api().Rename(a_, "/moved", "/moved/inner/again"), RemoteErrc::kInvalid, 502,
                    "ExternalError.RenameFailed"));
  EXPECT_TRUE(backend_->Exists("alpha", "/taken.txt"));
  EXPECT_TRUE(backend_->Exists("alpha", "/moved/inner/deep.txt"));
}

TEST_P(TransferApiContract, DeleteFileAndNonEmptyDirectory) {
  backend_->MakeFile("alpha", "/f.txt", "x");
  backend_->MakeFile("alpha", "/tree/a/b/c.txt", "c");
  backend_->MakeSymlink("alpha", "/tree/link", "a", EntryType::kDir);
  auto out = Delete({"/f.txt"}, false);
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_EQ(out->status, "SUCCEEDED");
  EXPECT_FALSE(out->task_id.empty());
  EXPECT_FALSE(backend_->Exists("alpha", "/f.txt"));
  out = Delete({"/tree"}, true);
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_TRUE(out->succeeded()) << out->fatal_code;
  EXPECT_FALSE(backend_->Exists("alpha", "/tree"));
}

TEST_P(TransferApiContract, DeleteSeveralPathsAndALinkToADirectory) {
  backend_->MakeFile("alpha", "/keep/inside", "k");
  backend_->MakeSymlink("alpha", "/link", "keep", EntryType::kDir);
  backend_->MakeFile("alpha", "/one", "1");
  backend_->MakeFile("alpha", "/two #?%", "2");
  auto out = Delete({"/link", "/one", "/two #?%"}, false);
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_TRUE(out->succeeded()) << out->fatal_code;
  EXPECT_FALSE(backend_->Exists("alpha", "/link"));
  EXPECT_FALSE(backend_->Exists("alpha", "/one"));
  EXPECT_FALSE(backend_->Exists("alpha", "/two #?%"));
  EXPECT_TRUE(backend_->Exists("alpha", "/keep/inside")) << "a link is unlinked, never followed";
}

TEST_P(TransferApiContract, DeleteFailuresAreFailedOutcomes) {
  backend_->MakeFile("alpha", "/dir/f", "x");
  auto out = Delete({"/dir"}, /*recursive=*/false);
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_EQ(out->status, "FAILED");
  EXPECT_EQ(out->fatal_code, "IS_A_DIRECTORY");
  EXPECT_EQ(ClassifyTaskFailure(out->fatal_code), RemoteErrc::kIsDirectory);
  EXPECT_TRUE(backend_->Exists("alpha", "/dir/f"));

  out = Delete({"/missing"}, false, /*ignore_missing=*/true);
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_EQ(out->status, "SUCCEEDED");
  out = Delete({"/missing"}, false, /*ignore_missing=*/false);
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_EQ(out->status, "FAILED");
  EXPECT_EQ(out->fatal_code, "FILE_NOT_FOUND");
  EXPECT_EQ(ClassifyTaskFailure(out->fatal_code), RemoteErrc::kNotFound);

  EXPECT_TRUE(
      Fails(Delete({}, false), RemoteErrc::kInvalid, 400, "ClientError.BadRequest.NoDeleteItems"));
  EXPECT_TRUE(Fails(api().DeleteAndWait(DeleteRequest{testing::RandomUuid(), {"/x"}}),
                    RemoteErrc::kNotFound, 404, "EndpointNotFound"));
}

TEST_P(TransferApiContract, GetCollection) {
  auto info = api().GetCollection(a_);
  ASSERT_TRUE(info.ok()) << info.error().Summary();
  EXPECT_EQ(info->id, a_);
  EXPECT_EQ(info->display_name, "alpha");
  EXPECT_TRUE(info->IsCollection());
  EXPECT_TRUE(Fails(api().GetCollection(testing::RandomUuid()), RemoteErrc::kNotFound, 404,
                    "EndpointNotFound"));
}

TEST_P(TransferApiContract, InvalidUtf8PathsAreRefusedBeforeAnyRequest) {
  const std::string bad = "/bad\xff\xfe name";
  const auto refused = [](const auto& r) {
    return !r.ok() && r.error().kind == ErrorKind::kConfig && r.error().code == "InvalidName" &&
           Classify(r.error()) == RemoteErrc::kInvalid;
  };
  EXPECT_TRUE(refused(api().List(a_, bad)));
  EXPECT_TRUE(refused(api().Stat(a_, bad)));
  EXPECT_TRUE(refused(api().Mkdir(a_, bad)));
  EXPECT_TRUE(refused(api().Rename(a_, bad, "/ok")));
  EXPECT_TRUE(refused(api().Rename(a_, "/ok", bad)));
  EXPECT_TRUE(refused(Delete({"/ok", bad}, true)));
  EXPECT_TRUE(refused(api().GetCollection("\xc0\xaf")));
  backend_->MakeFile("alpha", "/ok", "still here");
  EXPECT_TRUE(refused(Delete({"/ok", bad}, true)));
  EXPECT_TRUE(backend_->Exists("alpha", "/ok")) << "nothing of a refused delete may run";
}

TEST_P(TransferApiContract, ListsThousandsOfEntriesAcrossPages) {
  for (int i = 0; i < 2500; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/big/f%04d", 2499 - i);
    backend_->MakeFile("alpha", name, "");
  }
  const uint64_t before = backend_->LsRequests();
  auto list = backend_->PagedApi(1000).List(a_, "/big");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  ASSERT_EQ(list->size(), 2500u);
  EXPECT_EQ(list->front().name, "f0000");
  EXPECT_EQ(list->back().name, "f2499");
  EXPECT_TRUE(std::is_sorted(list->begin(), list->end(),
                             [](const auto& x, const auto& y) { return x.name < y.name; }));
  EXPECT_EQ(backend_->LsRequests() - before, backend_->pages() ? 3u : 1u);
}

TEST_P(TransferApiContract, ConcurrentCalls) {
  for (int i = 0; i < 8; ++i) backend_->MakeFile("alpha", "/c/f" + std::to_string(i), "x");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 10; ++k) {
        if (!api().List(a_, "/c").ok()) ++failures;
        if (!api().Stat(a_, "/c/f" + std::to_string(t)).ok()) ++failures;
      }
      if (!api().Mkdir(a_, "/c/d" + std::to_string(t)).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = api().List(a_, "/c");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 16u);
}

// --- tasks: batched copies and deletes -----------------------------------------

TEST_P(TransferApiContract, TransfersAFileBetweenCollections) {
  backend_->MakeFile("alpha", "/src/f.txt", "hello", 1600000000, 0640);
  auto task = api().SubmitTransfer(Copy({{"/src/f.txt", "/dst/new/g.txt", false}}));
  ASSERT_TRUE(task.ok()) << task.error().Summary();
  EXPECT_FALSE(task->empty());
  auto st = WaitDone(*task);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "SUCCEEDED") << st->fatal_code;
  EXPECT_EQ(st->task_id, *task);
  EXPECT_EQ(st->type, "TRANSFER");
  EXPECT_EQ(st->faults, 0);
  EXPECT_EQ(st->files, 1);
  EXPECT_EQ(st->files_transferred, 1);
  EXPECT_EQ(st->bytes_transferred, 5);
  EXPECT_EQ(st->subtasks_pending, 0);
  EXPECT_EQ(st->subtasks_failed, 0);
  auto copy = api().Stat(b_, "/dst/new/g.txt");  // missing parents were created
  ASSERT_TRUE(copy.ok()) << copy.error().Summary();
  EXPECT_EQ(copy->type, EntryType::kFile);
  EXPECT_EQ(copy->size, 5u);
  EXPECT_EQ(copy->mtime, 1600000000) << "preserve_timestamp";
  EXPECT_TRUE(backend_->Exists("alpha", "/src/f.txt")) << "a copy leaves its source";
}

TEST_P(TransferApiContract, TransfersAFolderRecursively) {
  backend_->MakeFile("alpha", "/tree/a.txt", "aa");
  backend_->MakeFile("alpha", "/tree/.hidden", "h");
  backend_->MakeFile("alpha", "/tree/sub/b.txt", "bbb");
  backend_->MakeDir("alpha", "/tree/sub/empty");
  backend_->MakeSymlink("alpha", "/tree/link", "a.txt", EntryType::kFile);
  backend_->MakeFile("beta", "/copy/old.txt", "kept");  // a folder copy merges
  auto task = api().SubmitTransfer(Copy({{"/tree", "/copy", true}}));
  ASSERT_TRUE(task.ok()) << task.error().Summary();
  auto st = WaitDone(*task);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "SUCCEEDED") << st->fatal_code;
  EXPECT_EQ(st->files, 3);
  EXPECT_EQ(st->files_transferred, 3);
  EXPECT_EQ(st->bytes_transferred, 6);
  auto top = api().List(b_, "/copy");
  ASSERT_TRUE(top.ok()) << top.error().Summary();
  // Links are not copied (recursive_symlinks "ignore").
  EXPECT_EQ(Names(*top), (std::vector<std::string>{".hidden", "a.txt", "old.txt", "sub"}));
  EXPECT_EQ(Find(*top, "a.txt").size, 2u);
  auto sub = api().List(b_, "/copy/sub");
  ASSERT_TRUE(sub.ok()) << sub.error().Summary();
  EXPECT_EQ(Names(*sub), (std::vector<std::string>{"b.txt", "empty"}));
  EXPECT_EQ(Find(*sub, "b.txt").size, 3u);
  EXPECT_EQ(Find(*sub, "empty").type, EntryType::kDir);
}

TEST_P(TransferApiContract, TheSameSubmissionIdIsOneTask) {
  backend_->MakeFile("alpha", "/f", "abc");
  TransferRequest request = Copy({{"/f", "/f", false}});
  auto first = api().SubmitTransfer(request);
  ASSERT_TRUE(first.ok()) << first.error().Summary();
  auto again = api().SubmitTransfer(request);
  ASSERT_TRUE(again.ok()) << again.error().Summary();
  EXPECT_EQ(*again, *first);
  // Whatever a replay holds, the id names the original task.
  request.items[0].destination_path = "/elsewhere";
  auto changed = api().SubmitTransfer(request);
  ASSERT_TRUE(changed.ok()) << changed.error().Summary();
  EXPECT_EQ(*changed, *first);
  EXPECT_EQ(backend_->TasksSubmitted("transfer"), 1u);
  auto st = WaitDone(*first);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "SUCCEEDED") << st->fatal_code;
  EXPECT_TRUE(backend_->Exists("beta", "/f"));
  EXPECT_FALSE(backend_->Exists("beta", "/elsewhere"));
  // A new id is a new task.
  auto other = api().SubmitTransfer(Copy({{"/f", "/f2", false}}));
  ASSERT_TRUE(other.ok()) << other.error().Summary();
  EXPECT_NE(*other, *first);
  EXPECT_EQ(backend_->TasksSubmitted("transfer"), 2u);
  ASSERT_TRUE(WaitDone(*other).ok());
}

TEST_P(TransferApiContract, SubmitDeleteAndPoll) {
  backend_->MakeFile("alpha", "/gone.txt", "x");
  backend_->MakeFile("alpha", "/tree/a/b.txt", "b");
  backend_->MakeFile("alpha", "/stays", "s");
  const DeleteRequest request{a_, {"/gone.txt", "/tree"}, true, false, "", NewId()};
  auto task = api().SubmitDelete(request);
  ASSERT_TRUE(task.ok()) << task.error().Summary();
  auto again = api().SubmitDelete(request);
  ASSERT_TRUE(again.ok()) << again.error().Summary();
  EXPECT_EQ(*again, *task);
  EXPECT_EQ(backend_->TasksSubmitted("delete"), 1u);
  auto st = WaitDone(*task);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "SUCCEEDED") << st->fatal_code;
  EXPECT_EQ(st->type, "DELETE");
  EXPECT_EQ(st->task_id, *task);
  EXPECT_FALSE(backend_->Exists("alpha", "/gone.txt"));
  EXPECT_FALSE(backend_->Exists("alpha", "/tree"));
  EXPECT_TRUE(backend_->Exists("alpha", "/stays"));

  // A delete fails at its first error (unlike a transfer).
  auto missing = api().SubmitDelete(DeleteRequest{a_, {"/missing"}, false, false, "", NewId()});
  ASSERT_TRUE(missing.ok()) << missing.error().Summary();
  st = WaitDone(*missing);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "FAILED");
  EXPECT_EQ(st->fatal_code, "FILE_NOT_FOUND");
  EXPECT_EQ(backend_->TasksSubmitted("delete"), 2u);
}

TEST_P(TransferApiContract, AMissingSourceStaysActiveWithAnErrorEventUntilCanceled) {
  auto task = api().SubmitTransfer(Copy({{"/nope.txt", "/nope.txt", false}}));
  ASSERT_TRUE(task.ok()) << task.error().Summary();
  std::optional<TaskEvent> error = WaitForErrorEvent(*task);
  ASSERT_TRUE(error.has_value()) << "no error event within the time limit";
  EXPECT_EQ(error->code, "FILE_NOT_FOUND");
  EXPECT_EQ(error->description, "file not found");
  EXPECT_NE(error->details.find("/nope.txt"), std::string::npos) << error->details;
  EXPECT_FALSE(error->time.empty());
  auto st = api().GetTask(*task);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "ACTIVE") << "a missing source is retried, not failed (§2.9)";
  EXPECT_FALSE(st->done());
  EXPECT_GE(st->faults, 1);
  EXPECT_EQ(st->fatal_code, "");

  auto cancel = api().CancelTask(*task);
  ASSERT_TRUE(cancel.ok()) << cancel.error().Summary();
  st = api().GetTask(*task);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "FAILED");
  EXPECT_EQ(st->fatal_code, "CANCELED");
  EXPECT_EQ(st->subtasks_pending, 0);
  auto events = api().GetTaskEvents(*task, 10);
  ASSERT_TRUE(events.ok()) << events.error().Summary();
  ASSERT_GE(events->size(), 3u);  // STARTED, FILE_NOT_FOUND, ..., CANCELED
  EXPECT_EQ(events->front().code, "CANCELED");
  EXPECT_TRUE(events->front().is_error);
  EXPECT_EQ(events->back().code, "STARTED");
  auto newest = api().GetTaskEvents(*task, 1);
  ASSERT_TRUE(newest.ok()) << newest.error().Summary();
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ(newest->front().code, "CANCELED");
  // Cancelling again: the task is complete, which is not an error.
  EXPECT_TRUE(api().CancelTask(*task).ok());
  EXPECT_FALSE(backend_->Exists("beta", "/nope.txt"));
}

TEST_P(TransferApiContract, CancelingAFinishedTaskIsNotAnError) {
  backend_->MakeFile("alpha", "/f", "x");
  auto task = api().SubmitTransfer(Copy({{"/f", "/f", false}}));
  ASSERT_TRUE(task.ok()) << task.error().Summary();
  auto st = WaitDone(*task);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  ASSERT_EQ(st->status, "SUCCEEDED") << st->fatal_code;
  auto cancel = api().CancelTask(*task);
  EXPECT_TRUE(cancel.ok()) << cancel.error().Summary();
  st = api().GetTask(*task);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "SUCCEEDED");
  auto events = api().GetTaskEvents(*task, 100);
  ASSERT_TRUE(events.ok()) << events.error().Summary();
  ASSERT_GE(events->size(), 2u);
  EXPECT_EQ(events->front().code, "SUCCEEDED");  // newest first
  EXPECT_EQ(events->back().code, "STARTED");
  for (const TaskEvent& e : *events) EXPECT_FALSE(e.is_error) << e.code;
}

TEST_P(TransferApiContract, TaskFailures) {
  const std::string unknown = testing::RandomUuid();
  EXPECT_TRUE(Fails(api().GetTask(unknown), RemoteErrc::kNotFound, 404, "ClientError.NotFound"));
  EXPECT_TRUE(
      Fails(api().GetTaskEvents(unknown, 10), RemoteErrc::kNotFound, 404, "ClientError.NotFound"));
  EXPECT_TRUE(Fails(api().CancelTask(unknown), RemoteErrc::kNotFound, 404, "ClientError.NotFound"));
  EXPECT_TRUE(Fails(api().SubmitTransfer(Copy({})), RemoteErrc::kInvalid, 400,
                    "ClientError.BadRequest.NoTransferItems"));
  TransferRequest elsewhere = Copy({{"/f", "/f", false}});
  elsewhere.destination_collection = testing::RandomUuid();
  EXPECT_TRUE(
      Fails(api().SubmitTransfer(elsewhere), RemoteErrc::kNotFound, 404, "EndpointNotFound"));
  EXPECT_TRUE(Fails(api().SubmitTransfer(Copy({{"relative", "/f", false}})), RemoteErrc::kInvalid,
                    400, "ClientError.BadRequest"));
  TransferRequest made_up = Copy({{"/f", "/f", false}});
  made_up.submission_id = "not-from-submission-id";
  EXPECT_TRUE(Fails(api().SubmitTransfer(made_up), RemoteErrc::kInvalid, 400,
                    "ClientError.BadRequest"));
  EXPECT_TRUE(Fails(api().SubmitDelete(DeleteRequest{a_, {}, false, true, "", NewId()}),
                    RemoteErrc::kInvalid, 400, "ClientError.BadRequest.NoDeleteItems"));
  EXPECT_EQ(backend_->TasksSubmitted("transfer"), 0u);
  EXPECT_EQ(backend_->TasksSubmitted("delete"), 0u);
}

TEST_P(TransferApiContract, TaskRequestsWithInvalidUtf8AreRefusedBeforeAnyRequest) {
  const std::string bad = "/bad\xff\xfe name";
  backend_->MakeFile("alpha", "/ok", "still here");
  const auto refused = [](const auto& r) {
    return !r.ok() && r.error().kind == ErrorKind::kConfig && r.error().code == "InvalidName" &&
           Classify(r.error()) == RemoteErrc::kInvalid;
  };
  EXPECT_TRUE(refused(api().SubmitTransfer(Copy({{bad, "/x", false}}))));
  EXPECT_TRUE(refused(api().SubmitTransfer(Copy({{"/ok", bad, false}}))));
  EXPECT_TRUE(refused(api().SubmitTransfer(Copy({{"/ok", "/ok", false}, {bad, "/y", true}}))));
  TransferRequest bad_collection = Copy({{"/ok", "/ok", false}});
  bad_collection.source_collection = "\xc0\xaf";
  EXPECT_TRUE(refused(api().SubmitTransfer(bad_collection)));
  EXPECT_TRUE(refused(api().SubmitDelete(DeleteRequest{a_, {"/ok", bad}, true, true, "", NewId()})));
  EXPECT_TRUE(refused(api().GetTask(bad)));
  EXPECT_TRUE(refused(api().GetTaskEvents(bad, 10)));
  EXPECT_TRUE(refused(api().CancelTask(bad)));
  EXPECT_TRUE(refused(api().GetTask("")));
  // No submission id: a bug of the caller, refused as well.
  TransferRequest no_id = Copy({{"/ok", "/ok", false}});
  no_id.submission_id.clear();
  auto r = api().SubmitTransfer(no_id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConfig);
  EXPECT_EQ(r.error().code, kMissingSubmissionIdCode);
  auto d = api().SubmitDelete(DeleteRequest{a_, {"/ok"}, false, true, "", ""});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, kMissingSubmissionIdCode);

  EXPECT_EQ(backend_->SubmitRequests(), 0u) << "nothing of a refused submission may be sent";
  EXPECT_EQ(backend_->TasksSubmitted("transfer"), 0u);
  EXPECT_EQ(backend_->TasksSubmitted("delete"), 0u);
  EXPECT_TRUE(backend_->Exists("alpha", "/ok"));
}

INSTANTIATE_TEST_SUITE_P(Backends, TransferApiContract, ::testing::Values("fake", "emulator"),
                         [](const auto& info) { return info.param; });

// --- the fake's own hooks ----------------------------------------------------

TEST(TransferApiFake, CountsCallsInjectsFaultsAndSleepsOnTheClock) {
  auto clock = std::make_shared<http::FakeClock>();
  FakeTransfer fake(clock);
  fake.AddCollection("c");
  fake.AddFile("c", "/f", 3);
  fake.FailNext(FakeTransfer::kOpStat,
                http::ParseErrorDocument(503, R"({"code": "ServiceUnavailable", "message": "m"})"),
                2);
  EXPECT_TRUE(Fails(fake.Stat("c", "/f"), RemoteErrc::kUnavailable, 503));
  EXPECT_TRUE(Fails(fake.Stat("c", "/f"), RemoteErrc::kUnavailable, 503));
  EXPECT_TRUE(fake.Stat("c", "/f").ok());
  EXPECT_EQ(fake.calls(FakeTransfer::kOpStat), 3u);
  EXPECT_EQ(fake.calls(FakeTransfer::kOpList), 0u);
  fake.SetLatency(std::chrono::milliseconds(7));
  EXPECT_TRUE(fake.List("c", "/").ok());
  EXPECT_EQ(clock->Sleeps(), std::vector<std::chrono::nanoseconds>{std::chrono::milliseconds(7)});
  EXPECT_TRUE(fake.Remove("c", "/f"));
  EXPECT_FALSE(fake.Exists("c", "/f"));
  EXPECT_FALSE(fake.Remove("c", "/f"));
  fake.ResetCalls();
  EXPECT_EQ(fake.calls(FakeTransfer::kOpStat), 0u);
}

namespace fake_tasks {

TransferRequest CopyRequest(FakeTransfer& fake, std::vector<TransferItem> items) {
  TransferRequest r;
  r.submission_id = *fake.NewSubmissionId();
  r.source_collection = "src";
  r.destination_collection = "dst";
  r.items = std::move(items);
  return r;
}

FakeTransfer& Setup(FakeTransfer& fake) {
  fake.AddCollection("src");
  fake.AddCollection("dst");
  return fake;
}

}  // namespace fake_tasks

TEST(TransferApiFake, TasksRunOnlyWhenTheTestSaysSo) {
  FakeTransfer fake;
  fake_tasks::Setup(fake);
  fake.AddFile("src", "/f", 4, 1500000000);
  auto id = fake.SubmitTransfer(fake_tasks::CopyRequest(fake, {{"/f", "/g", false}}));
  ASSERT_TRUE(id.ok()) << id.error().Summary();
  auto st = fake.GetTask(*id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "ACTIVE");
  EXPECT_EQ(st->subtasks_pending, 1);
  EXPECT_TRUE(fake.GetTaskEvents(*id, 10)->empty()) << "not started";
  EXPECT_FALSE(fake.Exists("dst", "/g"));
  EXPECT_EQ(fake.RunPendingTasks(), 1);
  EXPECT_EQ(fake.GetTask(*id)->status, "SUCCEEDED");
  EXPECT_EQ(fake.Lookup("dst", "/g")->mtime, 1500000000);
  EXPECT_EQ(fake.Lookup("dst", "/g")->mode, 0644u);
  EXPECT_EQ(fake.RunPendingTasks(), 0);
  EXPECT_EQ(fake.tasks_submitted(FakeTransfer::kTransfer), 1u);
  EXPECT_EQ(fake.tasks_submitted(FakeTransfer::kDelete), 0u);
  EXPECT_EQ(fake.calls(FakeTransfer::kOpSubmitTransfer), 1u);
  EXPECT_EQ(fake.calls(FakeTransfer::kOpGetTask), 2u);
}

TEST(TransferApiFake, RunTasksImmediately) {
  auto clock = std::make_shared<http::FakeClock>(std::chrono::system_clock::from_time_t(1700000000));
  FakeTransfer fake(clock);
  fake_tasks::Setup(fake);
  fake.set_run_tasks_immediately(true);
  fake.AddFile("src", "/f", 4, 1500000000);
  auto request = fake_tasks::CopyRequest(fake, {{"/f", "/g", false}});
  request.preserve_timestamp = false;
  auto id = fake.SubmitTransfer(request);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(fake.GetTask(*id)->status, "SUCCEEDED");
  EXPECT_EQ(fake.Lookup("dst", "/g")->mtime, 1700000000) << "not preserved: the clock's now";
  auto del = fake.SubmitDelete(DeleteRequest{"src", {"/f"}, false, false, "", *fake.NewSubmissionId()});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(fake.GetTask(*del)->status, "SUCCEEDED");
  EXPECT_FALSE(fake.Exists("src", "/f"));
  EXPECT_EQ(fake.RunPendingTasks(), 0);
}

TEST(TransferApiFake, AFaultedTransferIsRetriedAndCountsEachFileOnce) {
  FakeTransfer fake;
  fake_tasks::Setup(fake);
  fake.AddFile("src", "/tree/a", 1);
  fake.AddFile("src", "/tree/b", 2);
  fake.AddDir("dst", "/copy/b");  // a folder where file b must go
  auto id = fake.SubmitTransfer(fake_tasks::CopyRequest(
      fake, {{"/tree", "/copy", true}, {"/late", "/late", false}}));
  ASSERT_TRUE(id.ok());
  fake.RunPendingTasks();
  fake.RunPendingTasks();
  auto st = fake.GetTask(*id);
  EXPECT_EQ(st->status, "ACTIVE");
  EXPECT_EQ(st->faults, 4) << "one fault per item and attempt";
  EXPECT_EQ(st->files_transferred, 1) << "a, once";
  auto events = fake.GetTaskEvents(*id, 100);
  ASSERT_EQ(events->size(), 5u);  // STARTED, then two faults per attempt
  EXPECT_EQ((*events)[0].code, "FILE_NOT_FOUND");
  EXPECT_EQ((*events)[1].code, "IS_A_DIRECTORY");
  EXPECT_EQ(events->back().code, "STARTED");
  // Fix both and the next attempt finishes the task.
  ASSERT_TRUE(fake.Remove("dst", "/copy/b"));
  fake.AddFile("src", "/late", 7);
  fake.RunPendingTasks();
  st = fake.GetTask(*id);
  EXPECT_EQ(st->status, "SUCCEEDED");
  EXPECT_EQ(st->files, 3);
  EXPECT_EQ(st->files_transferred, 3);
  EXPECT_EQ(st->bytes_transferred, 10);
  EXPECT_EQ(st->subtasks_pending, 0);
  EXPECT_EQ(fake.Lookup("dst", "/copy/b")->size, 2u);
}

TEST(TransferApiFake, FailNextTaskAndInjectedErrors) {
  FakeTransfer fake;
  fake_tasks::Setup(fake);
  fake.AddFile("src", "/f", 1);
  fake.FailNextTask(FakeTransfer::kTransfer, "PERMISSION_DENIED");
  auto failed = fake.SubmitTransfer(fake_tasks::CopyRequest(fake, {{"/f", "/f", false}}));
  auto fine = fake.SubmitTransfer(fake_tasks::CopyRequest(fake, {{"/f", "/g", false}}));
  fake.RunPendingTasks();
  auto st = fake.GetTask(*failed);
  EXPECT_EQ(st->status, "FAILED");
  EXPECT_EQ(st->fatal_code, "PERMISSION_DENIED");
  EXPECT_EQ(st->fatal_description, "permission denied");
  EXPECT_FALSE(fake.Exists("dst", "/f"));
  EXPECT_EQ(fake.GetTask(*fine)->status, "SUCCEEDED");
  // DeleteAndWait's tasks are delete tasks too.
  fake.FailNextTask(FakeTransfer::kDelete, "FILE_NOT_FOUND");
  auto out = fake.DeleteAndWait(DeleteRequest{"src", {"/f"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->fatal_code, "FILE_NOT_FOUND");
  EXPECT_TRUE(fake.Exists("src", "/f"));
  EXPECT_EQ(fake.tasks_submitted(FakeTransfer::kDelete), 1u);
  // FailNext fails the call itself: no task.
  fake.FailNext(FakeTransfer::kOpSubmitTransfer,
                http::ParseErrorDocument(503, R"({"code": "ServiceUnavailable", "message": "m"})"));
  EXPECT_TRUE(Fails(fake.SubmitTransfer(fake_tasks::CopyRequest(fake, {{"/f", "/h", false}})),
                    RemoteErrc::kUnavailable, 503));
  EXPECT_EQ(fake.tasks_submitted(FakeTransfer::kTransfer), 2u);
}

TEST(TransferApiFake, DeadlinesExpireOnTheClock) {
  auto clock = std::make_shared<http::FakeClock>(std::chrono::system_clock::from_time_t(1609459200));
  FakeTransfer fake(clock);
  fake_tasks::Setup(fake);
  auto request = fake_tasks::CopyRequest(fake, {{"/missing", "/x", false}});
  request.deadline = "2021-01-01 00:01:00+00:00";  // in a minute
  auto id = fake.SubmitTransfer(request);
  ASSERT_TRUE(id.ok()) << id.error().Summary();
  auto defaulted = fake.SubmitTransfer(fake_tasks::CopyRequest(fake, {{"/missing", "/y", false}}));
  fake.RunPendingTasks();
  EXPECT_EQ(fake.GetTask(*id)->status, "ACTIVE");
  clock->Advance(std::chrono::minutes(2));
  fake.RunPendingTasks();
  EXPECT_EQ(fake.GetTask(*id)->status, "FAILED");
  EXPECT_EQ(fake.GetTask(*id)->fatal_code, "EXPIRED");
  EXPECT_EQ(fake.GetTaskEvents(*id, 1)->front().code, "EXPIRED");
  EXPECT_EQ(fake.GetTask(*defaulted)->status, "ACTIVE");
  clock->Advance(std::chrono::hours(24));  // the default deadline: submission + 24 h
  fake.RunPendingTasks();
  EXPECT_EQ(fake.GetTask(*defaulted)->fatal_code, "EXPIRED");
  request = fake_tasks::CopyRequest(fake, {{"/missing", "/x", false}});
  request.deadline = "tomorrow";
  EXPECT_TRUE(Fails(fake.SubmitTransfer(request), RemoteErrc::kInvalid, 400));
}

// --- what only the real client does with tasks ---------------------------------

class TransferApiClientTasks : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { StopSharedEmulator(); }
  EmulatorBackend backend_;
};

TEST_F(TransferApiClientTasks, ALostTransferAnswerIsRetriedAndTheDuplicateIsSuccess) {
  backend_.MakeFile("alpha", "/f", "x");
  TransferApi& api = backend_.Api();
  TransferRequest request;
  request.submission_id = *api.NewSubmissionId();
  request.source_collection = backend_.CollectionId("alpha");
  request.destination_collection = backend_.CollectionId("beta");
  request.items = {{"/f", "/f", false}};
  // The emulator accepts the transfer but cuts the answer short: the HTTP
  // core resends the same document, and Transfer answers "Duplicate".
  backend_.emu().AddFault({{"route", "transfer.transfer"}, {"truncate", true}, {"count", 1}});
  auto id = api.SubmitTransfer(request);
  ASSERT_TRUE(id.ok()) << id.error().Summary();
  EXPECT_EQ(backend_.emu().RequestCount("transfer.transfer"), 2u);
  EXPECT_EQ(backend_.emu().Stats()["tasks"]["transfer"], 1) << "one task, not two";
  auto st = api.GetTask(*id);
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->label, "globusfs cp _f") << "the default label, sanitised";
}

}  // namespace
}  // namespace globusfs::fs::contract
