// The TransferApi contract: ONE suite, run against FakeTransfer and against
// TransferClient talking to a real globus-emulator process over TLS, so the
// fake cannot drift from what Transfer (as emulated) answers: the same
// entries, the same HTTP status and Globus code for each failure, the same
// task outcomes. Each test is written once against a Backend
// (transfer_api_backends.h) and runs for both. The fake's own test hooks
// are tested at the end; what only the real client does (paging, the
// Duplicate answer, polling) is in transfer_client_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "fs/remote/fake_transfer.h"
#include "fs/remote/remote_error.h"
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
  }
  static void TearDownTestSuite() { StopSharedEmulator(); }

  TransferApi& api() { return backend_->Api(); }
  http::Result<TaskOutcome> Delete(std::vector<std::string> paths, bool recursive,
                                   bool ignore_missing = true) {
    return api().DeleteAndWait(DeleteRequest{a_, std::move(paths), recursive, ignore_missing, ""});
  }

  std::unique_ptr<Backend> backend_;
  std::string a_;  // the id of collection "alpha"
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
  EXPECT_EQ(Find(*list, "link-to-file").type, EntryType::kSymlink);
  EXPECT_EQ(Find(*list, "link-to-file").link_target, "file.txt");
  EXPECT_EQ(Find(*list, "link-to-dir").type, EntryType::kSymlink);
  EXPECT_EQ(Find(*list, "link-to-dir").link_target, "sub");
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
  EXPECT_EQ(l->link_target, "f");
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

}  // namespace
}  // namespace globusfs::fs::contract
